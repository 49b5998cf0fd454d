"""Adapter base classes: what a user subclasses to expose Python commands.

An adapter is a class whose methods marked with ``@command`` can be called by
the host by name. The worker creates exactly one instance per process, calls
``setup(preload)`` once before it reports ready, runs commands from one
thread (process mode) or from several threads at once (thread mode), and
calls ``teardown()`` once on a graceful stop.

Thread mode requires ``thread_safe = True``; subclass ``ThreadSafeAdapter``
to get that plus a lock and thread-local storage.

This module must not import grpc: adapters are imported before the worker
knows whether grpc is usable.
"""

from __future__ import annotations

import functools
import inspect
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

_COMMAND_ATTR = "_snakepit_command"


@overload
def command(func: F, /) -> F: ...
@overload
def command(name: str, /) -> Callable[[F], F]: ...


def command(func_or_name: Any = None, /) -> Any:
    """Marks an adapter method as a command.

    Bare ``@command`` uses the method's name; ``@command("name")`` sets the
    name the host calls it by. The method receives the call's JSON args: an
    object as keyword arguments, a list as positional arguments, null or an
    empty string as no arguments. It returns anything ``json.dumps`` accepts,
    or a ``Reply`` to add binary attachments.
    """
    def mark(func: F, name: str) -> F:
        setattr(func, _COMMAND_ATTR, name)
        return func

    if isinstance(func_or_name, str):
        return lambda func: mark(func, func_or_name)
    if callable(func_or_name):
        return mark(func_or_name, func_or_name.__name__)
    raise TypeError("use @command or @command('name')")


@dataclass
class Reply:
    """A command result with binary attachments.

    ``value`` is JSON-encoded into Result.json; ``attachments`` (bytes-like
    objects) are sent as Result.attachments, in order.
    """
    value: Any
    attachments: list[bytes] = field(default_factory=list)


class Adapter:
    """Base class of every adapter.

    Subclasses define commands with ``@command`` and may override ``setup``
    and ``teardown``. ``extra_args`` holds the worker's command-line
    arguments that it did not recognise (PoolConfig.extra_args); it is set
    before ``setup`` runs. An adapter whose ``thread_safe`` is False is only
    ever called from one thread at a time, and the worker refuses to start
    it in thread mode.
    """

    thread_safe: bool = False
    # False: never fork workers of this adapter from a template (pool key
    # start_method); set it when importing the adapter's module leaves
    # something a fork cannot copy (a connection, a device context).
    fork_safe: bool = True
    extra_args: list[str] = []

    def setup(self, preload: list[Any]) -> None:
        """Runs once, before the worker reports ready (load models, warm
        caches). ``preload`` is the pool's ``preload`` JSON list. An
        exception here fails the start: the host gets it in the readiness
        record."""

    def teardown(self) -> None:
        """Runs once on a graceful stop (SIGTERM), after in-flight calls
        finished or the grace period ran out. Not called when the host dies
        (the lifeline makes the worker exit at once)."""

    def commands(self) -> dict[str, Callable[..., Any]]:
        """Command name -> bound method, for every ``@command`` of the
        class and its bases."""
        table: dict[str, Callable[..., Any]] = {}
        for attr, value in inspect.getmembers(type(self)):
            name = getattr(value, _COMMAND_ATTR, None)
            if isinstance(name, str):
                table[name] = getattr(self, attr)
        return table


_CONCURRENT_SAFE_ATTR = "_snakepit_concurrent_safe"


def concurrent_safe(method: F) -> F:
    """Marks a command as deliberately lock-free: safe to run on several
    threads at once without ``self.lock`` (it shares no mutable state, or
    guards it itself). The thread-safety checker (``--thread-safety-checks``)
    never wraps or flags such a method. Stacks with ``@command`` and
    ``@synchronized`` in any order; it changes nothing at run time.
    """
    setattr(method, _CONCURRENT_SAFE_ATTR, True)
    return method


def is_concurrent_safe(method: Callable[..., Any]) -> bool:
    """True if ``method`` (a function or bound method) is ``@concurrent_safe``."""
    return bool(getattr(method, _CONCURRENT_SAFE_ATTR, False))


def synchronized(method: F) -> F:
    """Makes a ``ThreadSafeAdapter`` method hold ``self.lock`` while it runs.

    Stacks with ``@command`` in either order.
    """
    @functools.wraps(method)
    def locked(self: ThreadSafeAdapter, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)
    return locked  # type: ignore[return-value]


class ThreadSafeAdapter(Adapter):
    """An adapter whose commands may run concurrently (thread mode).

    Provides ``self.lock`` (an RLock shared by every thread) and
    ``self.local`` (a ``threading.local``, per handler thread). Use
    ``@synchronized`` (also ``ThreadSafeAdapter.synchronized``) on methods
    that touch shared state, or ``with self.lock:`` around the part that
    does; mark methods that share nothing ``@concurrent_safe``. Subclasses
    that define ``__init__`` must call ``super().__init__()``.

    With ``--thread-safety-checks`` the worker wraps ``self.lock`` (same
    underlying RLock) so that the checker can see which calls took it; see
    docs/thread-safety.md.
    """

    thread_safe = True
    synchronized = staticmethod(synchronized)

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.local = threading.local()
