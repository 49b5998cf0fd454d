"""StreamBench: the commands of the streaming benchmark scenario
(bench/scenarios/streaming.cc). Adapter spec: ``stream_bench:StreamBench``
with bench/python on the python_path."""

from __future__ import annotations

from typing import Iterator

from snakepit_worker.adapter import Adapter, command, concurrent_safe


class StreamBench(Adapter):
    """Stateless: every command is safe to run concurrently."""

    @command
    @concurrent_safe
    def chunks(self, n: int, size: int) -> Iterator[str]:
        """Yields n chunks of `size` characters."""
        text = "x" * size
        for _ in range(n):
            yield text

    @command
    @concurrent_safe
    def blob(self, size: int) -> str:
        """One reply of `size` characters: a chunk's payload, unary."""
        return "x" * size

    @command
    @concurrent_safe
    def spin(self) -> Iterator[int]:
        """Yields for ever, as fast as it is read (stopped by a cancel)."""
        i = 0
        while True:
            yield i
            i += 1
