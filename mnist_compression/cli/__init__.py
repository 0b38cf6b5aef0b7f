"""The command lines, kept apart from the library: `mnist-compression` (`cli.main`) and one module
per command, each with `main(argv) -> int` (0, or 2 after one line on stderr for bad input), so
tests call them in-process; `run(argv)` of `train`, `sweep` and `release` returns their results.

    mnist-compression codec ...     (`cli.codec`: export, compress, decompress, info)
    mnist-compression train ...     (`cli.training`: train one model)
    mnist-compression sweep ...     (`cli.sweep`: the rate–distortion study)
    mnist-compression release ...   (`cli.release`: a release's pretrained models)

`python -m mnist_compression ...` is the same command line.
"""
