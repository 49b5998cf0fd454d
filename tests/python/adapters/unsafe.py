"""Test adapter that is not thread-safe (``thread_safe = False``).

Used by the Python and C++ tests: in process mode it works (``ping``); in
thread mode the worker must refuse it with an ``ok: false`` readiness record
that names the adapter, says it is not thread-safe, and how to fix that.
Adapter spec: ``unsafe:UnsafeAdapter``.
"""

import os

from snakepit_worker import Adapter, command


class UnsafeAdapter(Adapter):
    @command
    def ping(self) -> dict:
        return {"pong": True, "pid": os.getpid()}
