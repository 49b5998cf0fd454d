"""The Worker service's logic without its wire format: what every transport
does with an Execute, an ExecuteStream, a Cancel, a BUSY rejection and a
Stats call.

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
from typing import Any, Iterable, Mapping, Optional, Union

from .context import CallContext
from .diagnostics import diagnostics_json
from .dispatch import CallError, Dispatcher, Failure, Outcome, rejected
from .interpreter import free_threaded_build, gil_enabled
from .running import RunningCalls
from .slots import Slots
from .streams import EndedStream, StreamRun
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
        self._running = RunningCalls()

    def execute(self, call_id: int, command: str, args_json: str, attachments: Iterable[Any],
                deadline_unix_ms: int, metadata: Optional[Mapping[str, str]] = None) -> Outcome:
        """``run`` on a new call: ``deadline_unix_ms`` 0 means none;
        ``attachments`` are objects with a buffer of bytes (new_call);
        ``metadata`` is ExecuteRequest.metadata."""
        return self.run(new_call(call_id, command, attachments, deadline_unix_ms, metadata),
                        args_json)

    def run(self, call: CallContext, args_json: str) -> Outcome:
        """Runs the command if a slot is free, else answers BUSY at once;
        counts the call either way. A transport that learns that the
        caller gave up calls ``call.mark_cancelled()``."""
        with self._slots.claim() as claimed:
            if not claimed:
                outcome = self._busy()
            else:
                self._running.add(call)
                try:
                    outcome = _cancelled_early(call) if call.cancelled \
                        else self._dispatcher.execute(call, args_json)
                finally:
                    self._running.remove(call)
                    call.finish()
        self._slots.count(failed=outcome.error is not None)
        return outcome

    def execute_stream(self, call_id: int, command: str, args_json: str, attachments: Iterable[Any],
                       deadline_unix_ms: int,
                       metadata: Optional[Mapping[str, str]] = None) -> Union[StreamRun, EndedStream]:
        """``open_stream`` on a new call, always as a stream (the native
        transport's entry)."""
        run = self.open_stream(new_call(call_id, command, attachments, deadline_unix_ms, metadata),
                               args_json)
        return run if isinstance(run, StreamRun) else EndedStream(run)

    def open_stream(self, call: CallContext, args_json: str) -> Union[StreamRun, Outcome]:
        """An ExecuteStream call: a StreamRun holding a slot until it ends
        (its transport pulls its chunks), or, when it cannot start (BUSY,
        UNKNOWN_COMMAND, INVALID_ARGS, cancelled before it arrived), the
        Outcome to end the stream with at once. Counted when it ends."""
        if not self._slots.try_claim():
            call.finish()
            return self.reject_busy()
        try:
            start = self._dispatcher.prepare(call, args_json)
        except Failure as f:
            return self._stream_ended(call, rejected(f.error))
        self._running.add(call)
        if call.cancelled:
            return self._stream_ended(call, _cancelled_early(call))
        return StreamRun(call, start, self._dispatcher.loop,
                         on_end=lambda outcome: self._stream_ended(call, outcome))

    def _stream_ended(self, call: CallContext, outcome: Outcome) -> Outcome:
        self._running.remove(call)
        call.finish()
        self._slots.release()
        self._slots.count(failed=outcome.error is not None)
        return outcome

    def cancel(self, call_id: int, deadline_exceeded: bool = False) -> bool:
        """Cancel(call_id): marks the call cancelled (``on_cancel``
        callbacks run on this thread, an async command's task is
        cancelled, a stream's generator is closed at its next yield).
        True if the call was running here; a call whose Cancel came first
        ends CANCELLED without running when it arrives."""
        return self._running.cancel(call_id, "deadline_exceeded" if deadline_exceeded else "cancelled")

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


def new_call(call_id: int, command: str, attachments: Iterable[Any], deadline_unix_ms: int,
             metadata: Optional[Mapping[str, str]] = None) -> CallContext:
    """The context of a call as ExecuteRequest describes it
    (``deadline_unix_ms`` 0: none). ``attachments`` are objects with a
    buffer of bytes: the native transport's AttachmentBuffers (which own
    what it received), or grpcio's ``bytes``; the command sees them through
    ``attachment_views`` without a copy."""
    deadline = deadline_unix_ms / 1000 if deadline_unix_ms else None
    return CallContext(call_id, command, attachments, deadline, metadata)


def _cancelled_early(call: CallContext) -> Outcome:
    return rejected(CallError(
        "CANCELLED", "", f"call {call.call_id} ({call.command}) was cancelled "
        f"({call.cancel_reason}) before it started"))
