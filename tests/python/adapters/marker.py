"""Test adapter that records its lifecycle hooks in a file.

``--preload '["/path/to/file"]'``: setup() writes one JSON line
``{"hook": "setup", "extra_args": [...]}`` to that file, teardown() appends
``{"hook": "teardown"}``. Used to check that setup sees the worker's unknown
command-line arguments and that a graceful stop runs teardown. Adapter
spec: ``marker:MarkerAdapter``.
"""

import json

from snakepit_worker import Adapter, command


class MarkerAdapter(Adapter):
    def setup(self, preload: list) -> None:
        self.path = preload[0]
        with open(self.path, "w") as f:
            f.write(json.dumps({"hook": "setup", "extra_args": self.extra_args}) + "\n")

    def teardown(self) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps({"hook": "teardown"}) + "\n")

    @command
    def ping(self) -> dict:
        return {"pong": True}
