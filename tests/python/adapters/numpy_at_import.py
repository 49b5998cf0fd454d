"""An adapter whose module imports numpy (and so OpenBLAS) at import: in a
template, numpy is loaded before any worker is forked, so the BLAS thread
variables must already be set there."""

import numpy  # noqa: F401 - loaded at import on purpose

from snakepit_worker.showcase import ShowcaseAdapter


class NumpyAtImport(ShowcaseAdapter):
    pass
