"""The calls a worker is running, by call id: what a Cancel finds."""

from __future__ import annotations

import threading
from collections import OrderedDict

from .context import CallContext

# How many ids of cancels that found no call are remembered: a Cancel may
# overtake its call (it reaches Python before the call does), and the call
# must then not run. Ids are unique per host, so a few suffice.
_EARLY_CANCELS = 1024


class RunningCalls:
    """Calls from the moment they are handed to Python until their reply
    is computed (a stream: until its end). Call id 0 (unset) is never
    registered. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[int, CallContext] = {}
        self._early: OrderedDict[int, str] = OrderedDict()

    def add(self, call: CallContext) -> None:
        """Registers ``call``; marks it cancelled at once when its Cancel
        came first."""
        if not call.call_id:
            return
        with self._lock:
            self._calls[call.call_id] = call
            reason = self._early.pop(call.call_id, None)
        if reason is not None:
            call.mark_cancelled(reason)

    def remove(self, call: CallContext) -> None:
        with self._lock:
            if self._calls.get(call.call_id) is call:
                del self._calls[call.call_id]

    def cancel(self, call_id: int, reason: str) -> bool:
        """Marks call ``call_id`` cancelled (its callbacks run on this
        thread); True if it was running. An unknown id is remembered, so
        that the call does not run should it arrive later."""
        if not call_id:
            return False
        with self._lock:
            call = self._calls.get(call_id)
            if call is None:
                self._early[call_id] = reason
                while len(self._early) > _EARLY_CANCELS:
                    self._early.popitem(last=False)
                return False
        call.mark_cancelled(reason)
        return True
