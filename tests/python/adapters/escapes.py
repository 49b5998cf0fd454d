"""EscapesAdapter: commands that start processes meant to outlive their
worker, for the tests that check none does (tests/cpp/descendants_test.cc).

Adapter spec: ``escapes:EscapesAdapter`` (tests/python/adapters on the
python_path).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from snakepit_worker.adapter import command, concurrent_safe
from snakepit_worker.showcase import ShowcaseAdapter


class EscapesAdapter(ShowcaseAdapter):
    """Thread-safe: the commands share no state."""

    @command
    @concurrent_safe
    def spawn_sleeper(self) -> int:
        """Starts ``sleep 1000`` in a session of its own (so not in the
        worker's process group) and returns its pid without waiting."""
        child = subprocess.Popen(["sleep", "1000"], start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return child.pid

    @command
    @concurrent_safe
    def spawn_orphan(self) -> int:
        """Starts a process that starts ``sleep 1000`` in a new session and
        exits at once, so the sleeper is an orphan; returns the sleeper's pid."""
        code = ("import subprocess, sys\n"
                "p = subprocess.Popen(['sleep', '1000'], start_new_session=True,\n"
                "                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                "print(p.pid, flush=True)\n")
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                             text=True, timeout=20)
        return int(out.stdout.split()[0])

    @command
    @concurrent_safe
    def hang(self, seconds: float = 1000.0) -> None:
        """Sleeps; a call_kill_timeout kills the worker under it."""
        time.sleep(seconds)

    @command
    @concurrent_safe
    def worker_pid(self) -> int:
        return os.getpid()
