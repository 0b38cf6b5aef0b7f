"""The command lines, kept apart from the library: one module per command, each with
`main(argv)`, so tests call them in-process (`codec`'s returns an exit status, the others their
results; bad input exits with status 2 and one line).

    python -m mnist_compression codec ...      (`cli.codec`: export, compress, decompress, info)
    python -m mnist_compression train ...   (`cli.training`: train one model)
    python -m mnist_compression sweep ...      (`cli.sweep`: the rate–distortion study)

The library modules of the same names hand over to these when run with ``python -m``.
"""
