"""`python -m mnist_compression COMMAND ...`: the package's command line (`cli.main`)."""

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
