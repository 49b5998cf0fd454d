"""StreamAdapter: streaming, cancellable and async commands for the tests
of issue 15 (tests/python/test_streams.py). Adapter spec:
``streams:StreamAdapter``.

Commands that the tests watch from outside record what they did in a file
(``path``): one line per event ("yield N", "exit", "cancelled"), so a test
can tell from another process how far a generator got and whether it saw
GeneratorExit, whatever the worker's mode.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, AsyncIterator, Iterator

from snakepit_worker.adapter import Reply, ThreadSafeAdapter, command, concurrent_safe
from snakepit_worker.context import current_call


def _note(path: str, event: str) -> None:
    with open(path, "a") as f:
        f.write(event + "\n")


class StreamAdapter(ThreadSafeAdapter):
    """Thread-safe: the only shared state (the rendezvous of ``meet``) is
    touched on the event loop's one thread."""

    def __init__(self) -> None:
        super().__init__()
        self._arrived = 0
        self._all_arrived: asyncio.Event | None = None

    @command
    @concurrent_safe
    def count(self, n: int, pad: int = 0) -> Iterator[dict[str, Any]]:
        """Yields {"i": 0..n-1} (with ``pad`` bytes of text each)."""
        text = "x" * pad
        for i in range(n):
            yield {"i": i, "pad": text} if pad else {"i": i}

    @command
    @concurrent_safe
    def first_then_wait(self, path: str, seconds: float) -> Iterator[str]:
        """Yields "first", then waits for ``path`` to exist (at most
        ``seconds``), then yields "last"."""
        yield "first"
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                open(path).close()
                break
            except FileNotFoundError:
                time.sleep(0.01)
        yield "last"

    @command
    @concurrent_safe
    def ticks(self, path: str, delay: float = 0.0, pad: int = 0) -> Iterator[dict[str, Any]]:
        """Yields for ever, noting each yield; notes "exit" on GeneratorExit."""
        text = "x" * pad
        i = 0
        try:
            while True:
                _note(path, f"yield {i}")
                yield {"i": i, "pad": text}
                i += 1
                if delay:
                    time.sleep(delay)
        except GeneratorExit:
            _note(path, "exit")
            raise

    @command
    @concurrent_safe
    def with_attachments(self, n: int) -> Iterator[Reply]:
        for i in range(n):
            yield Reply({"i": i}, attachments=[bytes([i % 256]) * i, b"second"])

    @command
    @concurrent_safe
    def fail_after(self, n: int) -> Iterator[int]:
        for i in range(n):
            yield i
        raise ValueError(f"failed after {n}")

    @command
    @concurrent_safe
    def poll_cancelled(self, path: str, seconds: float) -> str:
        """Blocks until cancelled (polling ``cancelled``), at most ``seconds``."""
        call = current_call()
        _note(path, "started")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if call.cancelled:
                _note(path, f"cancelled {call.cancel_reason}")
                raise RuntimeError("stopped: the call was cancelled")
            time.sleep(0.005)
        return "not cancelled"

    @command
    @concurrent_safe
    def wait_on_cancel(self, path: str, seconds: float) -> str:
        """Blocks on an Event that an ``on_cancel`` callback sets."""
        woken = threading.Event()
        current_call().on_cancel(woken.set)
        _note(path, "started")
        if woken.wait(seconds):
            _note(path, "cancelled")
            raise RuntimeError("interrupted by the cancel")
        return "not cancelled"

    @command
    @concurrent_safe
    async def async_add(self, a: int, b: int) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"sum": a + b, "call_id": current_call().call_id}

    @command
    @concurrent_safe
    async def async_sleep(self, path: str, seconds: float) -> str:
        _note(path, "started")
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            _note(path, "cancelled")
            raise
        return "slept"

    @command
    @concurrent_safe
    async def async_count(self, n: int) -> AsyncIterator[dict[str, Any]]:
        for i in range(n):
            await asyncio.sleep(0)
            yield {"i": i, "call_id": current_call().call_id}

    @command
    @concurrent_safe
    async def async_ticks(self, path: str) -> AsyncIterator[int]:
        i = 0
        try:
            while True:
                await asyncio.sleep(0.01)
                _note(path, f"yield {i}")
                yield i
                i += 1
        except (GeneratorExit, asyncio.CancelledError) as e:
            _note(path, f"exit {type(e).__name__}")
            raise

    @command
    @concurrent_safe
    async def meet(self, n: int, seconds: float) -> int:
        """Returns once ``n`` calls of it are waiting together (the calls
        overlap on the loop); TimeoutError after ``seconds``."""
        if self._all_arrived is None:
            self._all_arrived = asyncio.Event()
        self._arrived += 1
        if self._arrived >= n:
            self._all_arrived.set()
        await asyncio.wait_for(self._all_arrived.wait(), seconds)
        return self._arrived

    @command
    @concurrent_safe
    def metadata(self) -> dict[str, str]:
        return dict(current_call().metadata)
