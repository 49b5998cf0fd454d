"""The context of the call a handler thread is running: ``current_call()``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Optional


@dataclass(frozen=True)
class CallContext:
    """One Execute call, as seen by the command that runs it.

    ``deadline`` is the caller's deadline in Unix seconds, or None when the
    caller set none. The host enforces it regardless; a command may read it
    to give up early.
    """
    call_id: int
    command: str
    attachments: list[bytes]
    deadline: Optional[float]

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
