"""StreamFixtures: generator commands for the host's stream tests.

The C++ end-to-end stream tests (tests/cpp/stream_test.cc) load this
adapter (``host_streams:StreamFixtures``): numbered chunks, slow and endless
generators, a generator that reports how far it got through a file (so a
test can see it paused), one that dies mid-stream, and blocking commands
that do or do not heed a cancel.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any, Iterator

from snakepit_worker.adapter import Reply, command, concurrent_safe
from snakepit_worker.context import current_call

from fixtures import FixtureAdapter


def _note(path: str | None, value: int) -> None:
    """Writes `value` to `path` atomically (the test reads it meanwhile)."""
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(str(value))
    os.replace(tmp, path)


class StreamFixtures(FixtureAdapter):
    """Thread-safe: the commands share nothing."""

    @command
    @concurrent_safe
    def attachments(self, sizes: list[int]) -> Iterator[Reply]:
        """A chunk per size carrying one attachment of that many bytes (byte
        i is i % 251), then a chunk carrying the call's own attachments."""
        pattern = bytes(range(251))
        for n in sizes:
            yield Reply({"size": n}, attachments=[(pattern * (n // 251 + 1))[:n]])
        yield Reply({"echoed": len(current_call().attachments)},
                    attachments=list(current_call().attachments))

    @command
    @concurrent_safe
    def count(self, n: int, pad: int = 0) -> Iterator[Any]:
        """Yields 0..n-1 (as {"i": i, "pad": "x" * pad} when pad > 0)."""
        for i in range(n):
            yield {"i": i, "pad": "x" * pad} if pad else i

    @command
    @concurrent_safe
    def ticker(self, delay: float = 0.01, progress: str | None = None, pad: int = 0) -> Iterator[Any]:
        """Yields 0, 1, 2... for ever, `delay` apart, noting in `progress`
        how many it has yielded and, once stopped, -1."""
        i = 0
        try:
            while True:
                yield {"i": i, "pad": "x" * pad} if pad else i
                i += 1
                _note(progress, i)
                if delay > 0:
                    time.sleep(delay)
        finally:
            _note(progress, -1)

    @command
    @concurrent_safe
    def first_then_wait(self, wait: float = 30.0) -> Iterator[str]:
        """Yields "first", then waits `wait` seconds (stopping early when
        cancelled), then yields "last"."""
        yield "first"
        end = time.monotonic() + wait
        while time.monotonic() < end and not current_call().cancelled:
            time.sleep(0.01)
        yield "last"

    @command
    @concurrent_safe
    def chunks_then_die(self, n: int) -> Iterator[int]:
        """Yields n chunks, then the worker process is SIGKILLed."""
        for i in range(n):
            yield i
        time.sleep(0.2)  # lets the chunks leave the process
        os.kill(os.getpid(), signal.SIGKILL)
        yield n

    @command
    @concurrent_safe
    def wait_for_cancel(self, limit: float = 60.0) -> str:
        """Blocks until the call is cancelled (polling current_call().cancelled)."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if current_call().cancelled:
                return "cancelled"
            time.sleep(0.005)
        return "not cancelled"

    @command
    @concurrent_safe
    def ignore_cancel(self, seconds: float) -> str:
        """Sleeps `seconds`, deaf to any cancel."""
        time.sleep(seconds)
        return "slept"
