"""Which calls of a command measure their thread's CPU time (``Outcome.cpu_ns``).

``time.thread_time_ns()`` is a system call, not a vDSO read: 0.3-2 µs each,
and a measured call needs two. For a no-op that is a sixth of the worker's
whole cost per call. So a command measures:

- every call while its last measured call ran ``LONG_NS`` or more (there
  the two reads are under 4% of the call);
- otherwise one call in ``EVERY``, the first call included.

A call that is not measured reports an estimate: its run time times the CPU
share (CPU / run time) of the command's last measured short call. A call
that was not measured and turns out long reports 0, "not measured" (the
host's documented meaning of 0), because a short call's share says nothing
about it; the command's next call is measured.

Thread safety: one ``CommandCpu`` serves every handler thread of its
command. Its fields are read and written without a lock; a race between
two concurrent calls only moves which call is measured next, never a
value a call reports.
"""

from __future__ import annotations

import time

LONG_NS = 100_000
EVERY = 16


class CommandCpu:
    """The sampling state of one command."""

    __slots__ = ("_countdown", "_long", "_share")

    def __init__(self) -> None:
        self._countdown = 0  # calls to skip before the next measured one
        self._long = False   # the last measured call ran LONG_NS or more
        self._share = 1.0    # CPU / run time of the last measured short call

    def begin(self) -> int:
        """``time.thread_time_ns()`` when this call is measured, else -1.
        Called on the handler's thread just before the command runs."""
        if self._long or self._countdown <= 0:
            self._countdown = EVERY - 1
            return time.thread_time_ns()
        self._countdown -= 1
        return -1

    def end(self, cpu_started: int, started_ns: int) -> tuple[int, int]:
        """``(finished_ns, cpu_ns)`` of a call that began at ``started_ns``
        (``time.time_ns()``, read before ``begin``), given ``begin``'s
        value. The CPU clock is read before the wall clock, so a measured
        CPU time lies within the run time. Called on ``begin``'s thread."""
        measured = cpu_started >= 0
        cpu_ended = time.thread_time_ns() if measured else 0
        finished = time.time_ns()
        run_ns = finished - started_ns
        if measured:
            # At least 1: 0 would read as "not measured".
            cpu_ns = max(1, cpu_ended - cpu_started)
            self._long = run_ns >= LONG_NS
            if not self._long and run_ns > 0:
                self._share = min(1.0, cpu_ns / run_ns)
            return finished, cpu_ns
        if run_ns >= LONG_NS:
            self._long = True
            return finished, 0
        return finished, max(1, int(run_ns * self._share))
