"""The context of the call a command is running: ``current_call()``.

The current call is a ``contextvars.ContextVar``: per handler thread for a
plain command, per asyncio task for an ``async def`` command (aio.py runs
each in a copy of its handler's context).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from types import MappingProxyType, TracebackType
from typing import Any, Callable, Iterable, Mapping, Optional

_NO_METADATA: Mapping[str, str] = MappingProxyType({})

log = logging.getLogger("snakepit_worker")


class CallContext:
    """One Execute or ExecuteStream call, as seen by the command that runs it.

    ``attachment_views`` are the call's attachments as read-only
    ``memoryview``s over the buffers the transport received them into: no
    copy is made (the native transports hand over buffers the worker owns,
    grpcio the ``bytes`` its message holds), so ``numpy.frombuffer(view,
    dtype)`` reads them in place. A view keeps its buffer alive for as long
    as anything references it, after the call ended too. ``attachments``
    is the same as ``bytes`` objects, made from the views on first use (a
    copy where a buffer is not ``bytes`` already), then kept.

    ``deadline`` is the caller's deadline in Unix seconds, or None when the
    caller set none. The host enforces it regardless; a command may read it
    to give up early. ``metadata`` is what the caller passed along with the
    call (``CallOptions::metadata``, a W3C ``traceparent`` among them): a
    read-only mapping of str to str, empty when there is none.

    Cancellation (the host's Cancel, or the caller dropping the RPC): the
    worker calls ``mark_cancelled``; ``cancelled`` turns True and every
    ``on_cancel`` callback runs once. Thread-safe.
    """

    __slots__ = ("call_id", "command", "deadline", "metadata", "_views", "_attachments",
                 "_lock", "_cancel_reason", "_callbacks", "_finished")

    def __init__(self, call_id: int, command: str, attachments: Iterable[Any],
                 deadline: Optional[float], metadata: Optional[Mapping[str, str]] = None) -> None:
        """``attachments``: objects with a buffer of bytes (``bytes``, the
        native transport's ``AttachmentBuffer``s, ...), viewed, not copied.
        (typing's ``Buffer``, which says so, is Python 3.12's.)"""
        self.call_id = call_id
        self.command = command
        self._views = [_read_only_view(a) for a in attachments]
        self._attachments: Optional[list[bytes]] = None
        self.deadline = deadline
        # A private copy behind a read-only view (none when empty: every
        # call without metadata shares one).
        self.metadata: Mapping[str, str] = \
            MappingProxyType(dict(metadata)) if metadata else _NO_METADATA
        self._lock = threading.Lock()
        self._cancel_reason: Optional[str] = None
        self._callbacks: list[Callable[[], None]] = []
        self._finished = False

    def __repr__(self) -> str:
        return (f"CallContext(call_id={self.call_id}, command={self.command!r}, "
                f"cancelled={self.cancelled})")

    @property
    def attachment_views(self) -> list[memoryview]:
        """The attachments, in order, as read-only byte ``memoryview``s over
        the received buffers (no copy). They are the call's own: read or
        slice them, but do not ``release()`` them (``attachments`` is made
        from them)."""
        return self._views

    @property
    def attachments(self) -> list[bytes]:
        """The attachments, in order, as ``bytes``: made from
        ``attachment_views`` on first use (a view over a whole ``bytes``
        gives that object, any other is copied once), then the same list."""
        blobs = self._attachments
        if blobs is None:
            # Made once, whichever thread asks first (a cancel meanwhile
            # waits for the copy).
            with self._lock:
                blobs = self._attachments
                if blobs is None:
                    blobs = self._attachments = [_as_bytes(v) for v in self._views]
        return blobs

    def remaining(self) -> Optional[float]:
        """Seconds left before the deadline (negative once past), or None."""
        return None if self.deadline is None else self.deadline - time.time()

    @property
    def cancelled(self) -> bool:
        """True once the call was cancelled: stop as soon as you can (the
        result of a cancelled call is not wanted)."""
        return self._cancel_reason is not None

    @property
    def cancel_reason(self) -> Optional[str]:
        """None, or why the call was cancelled: "cancelled" (the caller
        cancelled) or "deadline_exceeded" (its deadline passed)."""
        return self._cancel_reason

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Registers ``callback`` to run once when the call is cancelled: at
        once, on this thread, if it is already; else on the thread that
        cancels it (not the command's). A blocking command uses it to
        interrupt itself (set an Event, close a socket, kill a child). An
        exception it raises is logged, never propagated. Returns a function
        that unregisters it (a no-op once it ran)."""
        with self._lock:
            if self._cancel_reason is None:
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        _run_callback(self, callback)
        return lambda: None

    def mark_cancelled(self, reason: str = "cancelled") -> bool:
        """Called by the worker (not by commands): marks the call cancelled
        and runs its callbacks on this thread. False if it was already, or
        the call had finished."""
        with self._lock:
            if self._cancel_reason is not None or self._finished:
                return False
            self._cancel_reason = reason
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            _run_callback(self, callback)
        return True

    def finish(self) -> None:
        """Called by the worker (not by commands) once the call's reply is
        computed: later cancels are ignored, and no callback runs."""
        with self._lock:
            self._finished = True
            self._callbacks = []

    def _forget(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


def _read_only_view(blob: Any) -> memoryview:
    """A read-only, flat view of bytes over ``blob``'s buffer (no copy)."""
    view = memoryview(blob)
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    return view if view.readonly else view.toreadonly()


def is_native_buffer(owner: Any) -> bool:
    """Whether ``owner`` is the native transports' AttachmentBuffer
    (attachment_buffer.h: its bytes never change, and ``bytes(owner)``
    copies them into memory advised for huge pages). Looked up by name: the
    grpcio transport runs without the native module."""
    kind = type(owner)
    return kind.__name__ == "AttachmentBuffer" and kind.__module__ == "snakepit_worker._native"


def _as_bytes(view: memoryview) -> bytes:
    """``view``'s bytes: its object when that is a ``bytes`` it covers
    whole, else a copy."""
    blob = view.obj
    if type(blob) is bytes and len(blob) == view.nbytes:
        return blob
    # The native transports' buffers copy themselves into bytes advised for
    # huge pages (attachment_buffer.cc): a plain copy of 16 MiB spends
    # tens of milliseconds faulting fresh pages in on small VMs. (A view
    # here always covers its whole object: _read_only_view made it.)
    if is_native_buffer(blob):
        return bytes(blob)
    return view.tobytes()


def _run_callback(call: CallContext, callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:  # noqa: BLE001 - a callback's failure is the adapter's, logged
        log.exception("on_cancel callback %r of call %d (%s) raised", callback,
                      call.call_id, call.command)


_current: contextvars.ContextVar[Optional[CallContext]] = \
    contextvars.ContextVar("snakepit_current_call", default=None)


def current_call() -> CallContext:
    """The context of the call running on this thread (or asyncio task).

    Raises RuntimeError outside a command (e.g. in ``setup``).
    """
    call = _current.get()
    if call is None:
        raise RuntimeError("current_call() used outside a command")
    return call


class call_scope:  # noqa: N801 - used like the function it replaced
    """``with call_scope(call):`` makes ``call`` the current call for the
    block's duration. (A class rather than a generator: it is on every
    call's path.)"""

    __slots__ = ("_call", "_token")

    def __init__(self, call: CallContext) -> None:
        self._call = call
        self._token: Optional[contextvars.Token[Optional[CallContext]]] = None

    def __enter__(self) -> None:
        self._token = _current.set(self._call)

    def __exit__(self, kind: Optional[type[BaseException]], error: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
