"""Test adapter with a data race, for the thread-safety checker.

``incr`` reads ``self.count``, sleeps ``sleep_ms`` (releasing the GIL) and
writes it back, holding no lock: concurrent calls lose updates, and with
``--thread-safety-checks`` in thread mode the worker reports a
``concurrent_entry`` finding for ``RacyCounter.incr`` naming ``count``.
``count`` returns the current value. Used by the Python and C++ tests.
Adapter spec: ``racy_counter:RacyCounter``.
"""

import time

from snakepit_worker import ThreadSafeAdapter, command


class RacyCounter(ThreadSafeAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @command
    def incr(self, sleep_ms: float = 0) -> int:
        """-> the value this call wrote."""
        value = self.count
        time.sleep(sleep_ms / 1000)
        self.count = value + 1
        return self.count

    @command("count")
    def get_count(self) -> int:
        """-> the current value (the attribute is also called count)."""
        return self.count
