"""The context of the call a handler thread is running: ``current_call()``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Mapping, Optional

_NO_METADATA: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class CallContext:
    """One Execute call, as seen by the command that runs it.

    ``deadline`` is the caller's deadline in Unix seconds, or None when the
    caller set none. The host enforces it regardless; a command may read it
    to give up early. ``metadata`` is what the caller passed along with the
    call (``CallOptions::metadata``, a W3C ``traceparent`` among them): a
    read-only mapping of str to str, empty when there is none.
    """
    call_id: int
    command: str
    attachments: list[bytes]
    deadline: Optional[float]
    metadata: Mapping[str, str] = field(default_factory=lambda: _NO_METADATA)

    def __post_init__(self) -> None:
        # A private copy behind a read-only view (none when empty: every
        # call without metadata shares one).
        if not isinstance(self.metadata, MappingProxyType):
            view = MappingProxyType(dict(self.metadata)) if self.metadata else _NO_METADATA
            object.__setattr__(self, "metadata", view)

    def remaining(self) -> Optional[float]:
        """Seconds left before the deadline (negative once past), or None."""
        return None if self.deadline is None else self.deadline - time.time()


_local = threading.local()


def current_call() -> CallContext:
    """The context of the call running on this thread.

    Raises RuntimeError outside a command (e.g. in ``setup``).
    """
    call: Optional[CallContext] = getattr(_local, "call", None)
    if call is None:
        raise RuntimeError("current_call() used outside a command")
    return call


class call_scope:  # noqa: N801 - used like the function it replaced
    """``with call_scope(call):`` makes ``call`` this thread's current call
    for the block's duration. (A class rather than a generator: it is on
    every call's path.)"""

    __slots__ = ("_call",)

    def __init__(self, call: CallContext) -> None:
        self._call = call

    def __enter__(self) -> None:
        _local.call = self._call

    def __exit__(self, kind: Optional[type[BaseException]], error: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        _local.call = None
