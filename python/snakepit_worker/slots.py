"""Execution slots and call counters of one worker process."""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator


class Slots:
    """``capacity`` execution slots, taken without waiting, plus counters.

    Thread-safe. A call that finds no free slot is not queued: the caller
    answers BUSY (the host never sends more than ``capacity`` calls at once,
    so this only guards that invariant).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._in_flight = 0
        self._served = 0
        self._failed = 0

    @contextlib.contextmanager
    def claim(self) -> Iterator[bool]:
        """Yields True holding a slot for the block, or False if none was free."""
        with self._lock:
            claimed = self._in_flight < self.capacity
            if claimed:
                self._in_flight += 1
        try:
            yield claimed
        finally:
            if claimed:
                with self._lock:
                    self._in_flight -= 1

    def count(self, failed: bool) -> None:
        """Records one answered call; ``failed`` when it ended with an Error."""
        with self._lock:
            self._served += 1
            self._failed += failed

    def snapshot(self) -> tuple[int, int, int]:
        """(in_flight, requests_served, requests_failed), read together."""
        with self._lock:
            return self._in_flight, self._served, self._failed
