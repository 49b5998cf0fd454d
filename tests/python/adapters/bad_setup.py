"""Test adapter whose setup() fails, as when a model file is missing.

Used by the Python and C++ tests: the worker must answer with an
``ok: false`` readiness record (type RuntimeError, the message below) and
exit with status 3. Adapter spec: ``bad_setup:BadSetupAdapter``.
"""

from snakepit_worker import Adapter, command


class BadSetupAdapter(Adapter):
    def setup(self, preload: list) -> None:
        raise RuntimeError("model file missing: /nonexistent")

    @command
    def ping(self) -> dict:
        return {"pong": True}
