"""Test adapter whose command logs and prints, for the C++ test that the
host's logger gets each at its level (tests/cpp/worker_output_test.cc).
Adapter spec: ``log_levels:LogLevelsAdapter``."""

from __future__ import annotations

import logging
import os

from snakepit_worker import Adapter, command

log = logging.getLogger("log_levels_adapter")


class LogLevelsAdapter(Adapter):
    @command
    def speak(self, tag: str) -> dict[str, int]:
        log.warning("warned %s", tag)
        print(f"printed {tag}")
        try:
            raise ValueError(f"boom {tag}")
        except ValueError:
            log.exception("failed %s", tag)
        return {"pid": os.getpid()}
