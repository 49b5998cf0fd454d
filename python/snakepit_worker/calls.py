"""The Worker service's logic without its wire format: what every transport
does with an Execute, a BUSY rejection and a Stats call.

Both transports call these methods: the grpcio server (server.py) wraps
the results in protobuf messages, the native server (_native, C++) reads
the Outcome's attributes and the Stats dict itself. Pure Python, never
imports grpc. Thread-safe.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from typing import Any, Mapping, Optional

from .context import CallContext
from .diagnostics import diagnostics_json
from .dispatch import CallError, Dispatcher, Outcome, rejected
from .interpreter import free_threaded_build, gil_enabled
from .slots import Slots
from .thread_safety import ThreadSafetyChecker


class WorkerCalls:
    """Runs calls on a Dispatcher within ``slots`` and reports Stats.

    ``stopping`` is set by the owner once a stop began; Health then answers
    STOPPING. ``checker`` is the thread-safety checker the dispatcher uses,
    or None when checks are off; Stats reports its findings.
    """

    def __init__(self, dispatcher: Dispatcher, slots: Slots, mode: str,
                 adapter_spec: str, checker: Optional[ThreadSafetyChecker] = None) -> None:
        self.stopping = threading.Event()
        self._dispatcher = dispatcher
        self._checker = checker
        self._slots = slots
        self._mode = mode
        self._adapter_spec = adapter_spec
        self._started = time.monotonic()

    def execute(self, call_id: int, command: str, args_json: str, attachments: list[bytes],
                deadline_unix_ms: int, metadata: Optional[Mapping[str, str]] = None) -> Outcome:
        """Runs the command if a slot is free, else answers BUSY at once;
        counts the call either way. ``deadline_unix_ms`` 0 means none;
        ``metadata`` is ExecuteRequest.metadata."""
        deadline = deadline_unix_ms / 1000 if deadline_unix_ms else None
        call = CallContext(call_id, command, attachments, deadline, metadata or {})
        with self._slots.claim() as claimed:
            outcome = self._dispatcher.execute(call, args_json) if claimed else self._busy()
        self._slots.count(failed=outcome.error is not None)
        return outcome

    def reject_busy(self) -> Outcome:
        """The BUSY answer of a transport that found every slot taken
        before calling ``execute``; counted as a failed call."""
        outcome = self._busy()
        self._slots.count(failed=True)
        return outcome

    def _busy(self) -> Outcome:
        return rejected(CallError(
            "BUSY", "", f"all {self._slots.capacity} execution slots "
            f"of worker pid {os.getpid()} are busy"))

    def stats(self) -> dict[str, Any]:
        """The StatsResponse fields, by name."""
        in_flight, served, failed = self._slots.snapshot()
        return {"pid": os.getpid(), "mode": self._mode,
                "max_concurrency": self._slots.capacity, "in_flight": in_flight,
                "requests_served": served, "requests_failed": failed,
                "threads": threading.active_count(), "uptime_s": self.uptime_s(),
                "python_version": platform.python_version(),
                "free_threaded_build": free_threaded_build(), "gil_enabled": gil_enabled(),
                "adapter": self._adapter_spec,
                "diagnostics_json": diagnostics_json(self._checker)}

    def uptime_s(self) -> float:
        return time.monotonic() - self._started
