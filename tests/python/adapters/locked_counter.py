"""Test adapter that shares state correctly, for the thread-safety checker.

The same counter as racy_counter.py, but every update holds the adapter
lock: ``incr`` with ``with self.lock:``, ``decr`` with ``@synchronized``;
``count`` only reads one attribute and is marked ``@concurrent_safe``.
Under concurrent calls with ``--thread-safety-checks`` the worker reports
no finding, and no update is lost. Used by the Python and C++ tests.
Adapter spec: ``locked_counter:LockedCounter``.
"""

import time

from snakepit_worker import ThreadSafeAdapter, command, concurrent_safe, synchronized


class LockedCounter(ThreadSafeAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @command
    def incr(self, sleep_ms: float = 0) -> int:
        """-> the value this call wrote."""
        with self.lock:
            value = self.count
            time.sleep(sleep_ms / 1000)
            self.count = value + 1
            return self.count

    @command
    @synchronized
    def decr(self, sleep_ms: float = 0) -> int:
        """-> the value this call wrote."""
        value = self.count
        time.sleep(sleep_ms / 1000)
        self.count = value - 1
        return self.count

    @command("count")
    @concurrent_safe
    def get_count(self) -> int:
        """-> the current value (the attribute is also called count)."""
        return self.count
