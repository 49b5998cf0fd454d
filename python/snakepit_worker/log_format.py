"""How the worker's log records reach the host's logger.

Every record goes to stderr as lines of the form::

    [<worker id>] <LEVEL> <logger name>: <text>

one per line of the formatted record (a traceback's lines each carry the
prefix), so that the host's output watcher (src/worker/output_watcher.cc),
which knows the worker id it gave with ``--worker-id``, logs each at the
record's own level, tagged with the pool, worker and pid. Lines without
the prefix (``print()``, a C library writing to fd 2) are logged at info.

The worker's own routine records (logger ``snakepit_worker``, below
WARNING: "ready", "stopped") go out as DEBUG, so that starting and
recycling workers does not fill the application's log at its default
level; an adapter's records keep their level.

A record logged during a call whose caller passed a W3C ``traceparent``
(``current_call().metadata``) carries its trace id: the text starts with
``[trace_id=<32 hex digits>] `` (docs/tracing.md).
"""

from __future__ import annotations

import logging

from .context import current_call

WORKER_LOGGER = "snakepit_worker"


def trace_tag() -> str:
    """``"[trace_id=<id>] "`` inside a call that carries a traceparent
    ("00-<trace id>-<parent id>-<flags>"; the host checked its form), else
    ""."""
    try:
        traceparent = current_call().metadata.get("traceparent", "")
    except RuntimeError:  # not in a call
        return ""
    return f"[trace_id={traceparent[3:35]}] " if len(traceparent) >= 35 else ""


class HostLogFormatter(logging.Formatter):
    """Formats a record as the prefixed lines described above."""

    def __init__(self, worker_id: str) -> None:
        super().__init__("%(message)s")
        self._label = worker_id

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        level = record.levelname
        own = record.name == WORKER_LOGGER or record.name.startswith(WORKER_LOGGER + ".")
        if own and record.levelno < logging.WARNING:
            level = "DEBUG"
        prefix = f"[{self._label}] {level} {record.name}: {trace_tag()}"
        return "\n".join(prefix + line for line in (text.splitlines() or [""]))
