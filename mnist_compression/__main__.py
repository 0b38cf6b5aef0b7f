"""`python -m mnist_compression COMMAND ...`: the package's command line (`cli.main`)."""

import sys

from .cli.main import main

sys.exit(main())
