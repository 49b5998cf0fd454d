"""The thread-safety checker's findings: deduplicated, bounded, warned once.

A finding is identified by (kind, key): the command name for
``concurrent_entry``, the library for ``unsafe_library``. Recording one
again only adds to its ``occurrences`` and moves ``last_seen_unix``.
Thread-safe; pure Python, never imports grpc.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

CONCURRENT_ENTRY = "concurrent_entry"
UNSAFE_LIBRARY = "unsafe_library"
DEFAULT_LIMIT = 100
_WARNING_ORIGIN = "snakepit thread-safety check"


class ThreadSafetyWarning(RuntimeWarning):
    """Issued once per finding of the thread-safety checker."""


@dataclass
class Finding:
    """One deduplicated finding. ``fields`` holds the kind's own keys
    (command/method, or library/module/version); ``notes`` only feeds the
    message."""
    kind: str
    fields: dict[str, Any]
    first_seen_unix: float
    last_seen_unix: float
    occurrences: int = 0
    threads: int = 0
    attributes: set[str] = field(default_factory=set)
    notes: str = ""

    def message(self) -> str:
        if self.kind == CONCURRENT_ENTRY:
            wrote = (f"; meanwhile it set {', '.join(f'self.{a}' for a in sorted(self.attributes))}"
                     if self.attributes else "")
            return (f"{self.fields['method']} (command '{self.fields['command']}') ran on "
                    f"{self.threads} threads at once without holding the adapter lock"
                    f"{wrote}. Use @synchronized or 'with self.lock:' around shared "
                    f"state, or mark it @concurrent_safe if it shares nothing.")
        version = f" {self.fields['version']}" if self.fields.get("version") else ""
        return (f"{self.fields['library']}{version} (module '{self.fields['module']}') is "
                f"loaded in a thread-mode worker but is not thread-safe: {self.notes} "
                f"Serialise every use of it, or use the process profile.")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (docs/worker-protocol.md, "Diagnostics")."""
        record: dict[str, Any] = {"kind": self.kind, **self.fields}
        if self.kind == CONCURRENT_ENTRY:
            record["threads"] = self.threads
        record.update(occurrences=self.occurrences, first_seen_unix=self.first_seen_unix,
                      last_seen_unix=self.last_seen_unix)
        if self.kind == CONCURRENT_ENTRY:
            record["attributes"] = sorted(self.attributes)
        record["message"] = self.message()
        return record


class FindingLog:
    """At most ``limit`` distinct findings, in the order first seen; later
    new ones are counted in ``dropped`` and otherwise ignored. Each new
    finding is issued once as a ``ThreadSafetyWarning`` (to stderr, unless
    the warning filters say otherwise; a filter that turns it into an error
    is ignored, so recording never raises)."""

    def __init__(self, limit: int = DEFAULT_LIMIT,
                 clock: Callable[[], float] = time.time) -> None:
        self._limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._findings: dict[tuple[str, str], Finding] = {}
        self.dropped = 0

    def record(self, kind: str, key: str, fields: dict[str, Any], *, count: int = 1,
               threads: int = 0, attributes: Iterable[str] = (), notes: str = "") -> None:
        """Adds ``count`` occurrences of finding (kind, key); ``fields`` and
        ``notes`` are kept from the first time, ``threads`` is the largest
        seen and ``attributes`` accumulate."""
        now = self._clock()
        with self._lock:
            finding = self._findings.get((kind, key))
            new = finding is None
            if finding is None:
                if len(self._findings) >= self._limit:
                    self.dropped += 1
                    return
                finding = Finding(kind, dict(fields), now, now, notes=notes)
                self._findings[(kind, key)] = finding
            finding.occurrences += count
            finding.last_seen_unix = now
            finding.threads = max(finding.threads, threads)
            finding.attributes.update(attributes)
            message = finding.message() if new else None
        if message is not None:
            try:
                warnings.warn_explicit(message, ThreadSafetyWarning, _WARNING_ORIGIN, 0,
                                       module=__name__)
            except Exception:  # noqa: BLE001 - '-W error' must not fail a call
                pass

    def snapshot(self) -> list[dict[str, Any]]:
        """Every finding as JSON-ready dicts, oldest first."""
        with self._lock:
            return [f.to_dict() for f in self._findings.values()]
