"""Test adapter whose setup() takes 30 s, longer than any start-up timeout
the tests set: the host must give up at its deadline and kill the worker.
Adapter spec: ``slow_setup:SlowSetupAdapter``.
"""

import time

from snakepit_worker import Adapter, command


class SlowSetupAdapter(Adapter):
    def setup(self, preload: list) -> None:
        time.sleep(30)

    @command
    def ping(self) -> dict:
        return {"pong": True}
