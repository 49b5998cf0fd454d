"""SessionAdapter: state kept per affinity key, the pattern for sessions.

The host sends every call of a session with the same affinity key
(``CallOptions::affinity_key``), so the calls of a session reach the worker
that holds its state. The key itself is not sent to the adapter: the
session id travels in the args, and the adapter keys its state by it.

The pattern:

- Keep state in a dict keyed by the session id, bounded (here: least
  recently used sessions dropped past ``MAX_SESSIONS``), as the host's own
  affinity table is.
- Never assume the state is there. A key re-homes when its worker is
  recycled, scaled down or dies, and then the session's next call reaches a
  worker that never saw it: rebuild the state (here: start again from the
  history the caller sends) or tell the caller (``"resumed": false``).
- Lock the dict if the pool uses the thread profile (``@synchronized``).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

from snakepit_worker.adapter import command, synchronized
from snakepit_worker.showcase import ShowcaseAdapter

MAX_SESSIONS = 1000


class SessionAdapter(ShowcaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self._sessions: OrderedDict[str, list[str]] = OrderedDict()

    @command
    @synchronized
    def append(self, session: str, item: str) -> dict[str, Any]:
        """Adds ``item`` to the session's list. -> {"items", "resumed",
        "pid"}; "resumed" is false when this worker had no state for the
        session (a new session, or one whose worker left)."""
        items = self._sessions.pop(session, None)
        resumed = items is not None
        if items is None:
            items = []
        items.append(item)
        self._sessions[session] = items
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return {"items": list(items), "resumed": resumed, "pid": os.getpid()}
