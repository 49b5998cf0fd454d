"""An adapter that writes heavily to stdout and stderr, from Python and
from C level (os.write), during setup() and in a command: the worker's
readiness record and replies must not be disturbed, and a full pipe must
not block it (the host drains both)."""

from __future__ import annotations

import os
import sys

from snakepit_worker.adapter import Adapter, command

_SETUP_LINES = 20000  # about 1 MiB on each stream, far past a pipe's 64 KiB


def _noise(lines: int, label: str) -> None:
    for i in range(lines):
        print(f"{label} python stdout {i}")
        print(f"{label} python stderr {i}", file=sys.stderr)
        if i % 100 == 0:
            sys.stdout.flush()
            os.write(1, f"{label} C-level stdout {i}\n".encode())
            os.write(2, f"{label} C-level stderr {i}\n".encode())
    sys.stdout.flush()
    sys.stderr.flush()


class NoisyAdapter(Adapter):
    def setup(self, preload: list) -> None:
        _noise(_SETUP_LINES, "setup")

    @command
    def shout(self, lines: int) -> dict[str, int]:
        _noise(lines, "shout")
        return {"lines": lines}
