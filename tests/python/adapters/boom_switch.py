"""Test adapter whose import fails while a switch file exists.

The pool's env sets ``BOOM_SWITCH`` to a path. Workers started while that
file exists die on import (os._exit(3), like a C extension crashing), so
a test can turn a healthy pool into one whose restarts fail, and back.
Adapter spec: ``boom_switch:Adapter``; it otherwise offers the showcase
commands.
"""

import os

if os.path.exists(os.environ.get("BOOM_SWITCH", "/nonexistent")):
    os._exit(3)

from snakepit_worker.showcase import ShowcaseAdapter as Adapter  # noqa: E402,F401
