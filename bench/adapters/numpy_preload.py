"""The warm_start scenario's adapter: the showcase's commands, with numpy
imported when the module is, so that a template (start_method) holds numpy
before it forks, and a spawned worker loads it at start as well."""

import numpy  # noqa: F401 - the preload being measured

from snakepit_worker.showcase import ShowcaseAdapter


class NumpyPreload(ShowcaseAdapter):
    pass
