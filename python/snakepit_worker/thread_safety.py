"""The thread-safety checker behind ``--thread-safety-checks``.

It watches an adapter at run time and reports (see findings.py):

* ``concurrent_entry``: two threads were inside the same command at once
  and at least one of the two calls never took the adapter lock
  (``self.lock``, taken by ``@synchronized`` or ``with self.lock:``).
  Commands marked ``@concurrent_safe`` are not watched. The adapter
  attributes that a call set (``self.x = ...``) while not holding the lock
  are named in the finding.
* ``unsafe_library``: in thread mode, a library that the matrix marks
  ``thread_safe: false`` is imported (checked by ``check_libraries``).

What it cannot see: races on shared state reached other than through the
adapter lock (module globals, a lock of the adapter's own), mutation inside
objects (``self.cache[k] = v`` sets no attribute), and races between two
different commands. With checks off the worker never creates a checker and
nothing is wrapped. Pure Python; never imports grpc. Thread-safe.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import matrix
from .findings import CONCURRENT_ENTRY, DEFAULT_LIMIT, UNSAFE_LIBRARY, FindingLog

log = logging.getLogger("snakepit_worker")


@dataclass(eq=False)
class _Call:
    """One running call of a watched command. ``locked``: it took the adapter
    lock at some point; ``overlaps``: calls of the same command on other
    threads that ran at the same time (until this call's pairs are judged)."""
    thread: int
    locked: bool
    done: bool = False
    peak: int = 1
    overlaps: list[_Call] = field(default_factory=list)
    written: set[str] = field(default_factory=set)


class TrackedLock:
    """Wraps an adapter's RLock: the same lock (so code that kept the bare
    RLock still excludes), but every acquisition through this wrapper tells
    the checker that the current call held it. Anything else (``_is_owned``
    and friends, for ``threading.Condition``) is delegated."""

    def __init__(self, inner: Any, checker: ThreadSafetyChecker) -> None:
        self._inner = inner
        self._checker = checker

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        acquired: bool = self._inner.acquire(blocking, timeout)
        if acquired:
            self._checker._on_acquire()
        return acquired

    def release(self) -> None:
        self._inner.release()  # raises RuntimeError when not held: nothing to count
        self._checker._on_release()

    __enter__ = acquire

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __repr__(self) -> str:
        return f"<TrackedLock {self._inner!r}>"


class ThreadSafetyChecker:
    """Watches one adapter. ``threaded``: the worker runs in thread mode
    (``check_libraries`` does nothing otherwise). Findings are kept in a
    ``FindingLog`` of at most ``limit`` entries."""

    def __init__(self, threaded: bool = True, limit: int = DEFAULT_LIMIT) -> None:
        self.threaded = threaded
        self.log = FindingLog(limit)
        self._mutex = threading.Lock()
        self._active: dict[str, list[_Call]] = {}
        self._local = threading.local()

    def attach(self, adapter: Any) -> None:
        """Prepares ``adapter`` before its ``setup`` runs: wraps its ``lock``
        in a TrackedLock, and makes its attribute assignments visible by
        giving it a subclass (same name) whose ``__setattr__`` reports
        them. Either step is skipped (the latter with a debug log line)
        where the adapter does not allow it: no ``lock`` attribute, or a
        class that cannot be subclassed or swapped (``__slots__`` layouts,
        an ``__init_subclass__`` that refuses)."""
        lock = getattr(adapter, "lock", None)
        if callable(getattr(lock, "acquire", None)) and not isinstance(lock, TrackedLock):
            adapter.lock = TrackedLock(lock, self)
        cls = type(adapter)
        # The class's own, unbound (obj, name, value); mypy would take it for
        # type.__setattr__ bound to the class.
        base_setattr: Callable[..., None] = cls.__setattr__
        note_write = self._note_write

        def __setattr__(obj: Any, name: str, value: Any) -> None:
            note_write(name)
            base_setattr(obj, name, value)

        try:
            adapter.__class__ = type(cls.__name__, (cls,), {
                "__setattr__": __setattr__, "__slots__": (), "__module__": cls.__module__,
                "__qualname__": cls.__qualname__, "__doc__": cls.__doc__})
        except TypeError as e:
            log.debug("thread-safety checks: attribute writes of %s not tracked: %s",
                      cls.__qualname__, e)

    def wrap(self, command: str, label: str,
             method: Callable[..., Any]) -> Callable[..., Any]:
        """``method`` wrapped so that each call is watched under the name
        ``command``; ``label`` ("Class.method") names it in findings.
        Whatever the method returns or raises passes through unchanged."""
        @functools.wraps(method)
        def watched(*args: Any, **kwargs: Any) -> Any:
            call = self._enter(command)
            try:
                return method(*args, **kwargs)
            finally:
                self._exit(command, label, call)
        return watched

    def check_libraries(self, modules: Optional[Container[str]] = None) -> None:
        """Records an ``unsafe_library`` finding for every matrix library
        marked ``thread_safe: false`` that is imported (a name in ``modules``,
        default ``sys.modules``). Does nothing outside thread mode."""
        if not self.threaded:
            return
        modules = sys.modules if modules is None else modules
        for name, entry in matrix.libraries().items():
            if entry["thread_safe"] is not False:
                continue
            module = next((m for m in entry["import_names"] if m in modules), None)
            if module is not None:
                self.log.record(UNSAFE_LIBRARY, name, {
                    "library": name, "module": module,
                    "version": matrix.installed_version(name)}, notes=entry["notes"])

    def findings(self) -> list[dict[str, Any]]:
        return self.log.snapshot()

    def _state(self) -> Any:
        state = self._local
        if not hasattr(state, "calls"):
            state.calls, state.depth = [], 0
        return state

    def _on_acquire(self) -> None:
        state = self._state()
        state.depth += 1
        for call in state.calls:
            call.locked = True

    def _on_release(self) -> None:
        state = self._state()
        state.depth = max(0, state.depth - 1)

    def _note_write(self, name: str) -> None:
        state = self._local
        calls = getattr(state, "calls", None)
        if calls and not state.depth:
            calls[-1].written.add(name)

    def _enter(self, command: str) -> _Call:
        state = self._state()
        call = _Call(threading.get_ident(), locked=state.depth > 0)
        with self._mutex:
            active = self._active.setdefault(command, [])
            for other in active:
                if other.thread != call.thread:
                    other.overlaps.append(call)
                    call.overlaps.append(other)
            active.append(call)
            threads = len({c.thread for c in active})
            for running in active:
                running.peak = max(running.peak, threads)
        state.calls.append(call)
        return call

    def _exit(self, command: str, label: str, call: _Call) -> None:
        """Judges each pair (this call, an overlapping one) once both have
        finished, since a call may take the lock after the other entered."""
        self._state().calls.remove(call)
        with self._mutex:
            self._active[command].remove(call)
            call.done = True
            racy = [other for other in call.overlaps
                    if other.done and not (call.locked and other.locked)]
            call.overlaps = []
        if racy:
            attributes = call.written.union(*(other.written for other in racy))
            self.log.record(CONCURRENT_ENTRY, command, {"command": command, "method": label},
                            count=len(racy), attributes=attributes,
                            threads=max(c.peak for c in (call, *racy)))
