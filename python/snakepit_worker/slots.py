"""Execution slots and call counters of one worker process."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Optional


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

    def claim(self) -> "_Claim":
        """``with slots.claim() as claimed:`` - True holding a slot for the
        block, or False if none was free."""
        return _Claim(self)

    def try_claim(self) -> bool:
        """Takes a slot if one is free (True); the holder gives it back
        with ``release``. For a holder that outlives a ``with`` block (a
        stream)."""
        with self._lock:
            if self._in_flight >= self.capacity:
                return False
            self._in_flight += 1
            return True

    def release(self) -> None:
        """Gives back a slot taken by ``try_claim``."""
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


class _Claim:
    """The context manager of ``Slots.claim`` (a class rather than a
    generator: it is on every call's path)."""

    __slots__ = ("_slots", "_claimed")

    def __init__(self, slots: Slots) -> None:
        self._slots = slots
        self._claimed = False

    def __enter__(self) -> bool:
        self._claimed = self._slots.try_claim()
        return self._claimed

    def __exit__(self, kind: Optional[type[BaseException]], error: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        if self._claimed:
            self._slots.release()
