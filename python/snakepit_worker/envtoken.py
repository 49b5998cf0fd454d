"""Taking the worker's token out of the environment; see docs/worker-protocol.md.

The host hands each worker a random token in ``SNAKEPIT_WORKER_TOKEN``
(never on the command line, which any local user can read in
/proc/<pid>/cmdline). The worker takes it before it loads anything else,
so neither the adapter nor any process the adapter starts inherits it.
This module imports nothing heavy (no grpc).
"""

from __future__ import annotations

import logging
import os
from typing import Optional

TOKEN_ENV = "SNAKEPIT_WORKER_TOKEN"

log = logging.getLogger("snakepit_worker")


class TokenHandoff:
    """The token on its way from the environment to the server: ``take()``
    returns it once and forgets it, so that once the server holds it (as a
    digest on grpcio, in C++ on the native transport) no Python object
    does. Not thread-safe; used by the main thread during start-up."""

    __slots__ = ("_token",)

    def __init__(self, token: Optional[str]) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "TokenHandoff(...)"

    def take(self) -> Optional[str]:
        """The token, the first time; None after that (or when there is none)."""
        token, self._token = self._token, None
        return token


def take_token() -> Optional[str]:
    """Removes ``SNAKEPIT_WORKER_TOKEN`` from the environment and returns its
    value, or None when it is unset or empty.

    ``unsetenv`` alone is not enough: /proc/<pid>/environ shows the block
    the process was started with for its whole life. So the value is first
    overwritten with NUL bytes in that block, then the variable is unset
    (which also drops it from ``posix.environ``, the dict os.environ wraps).
    """
    if not os.environ.get(TOKEN_ENV):
        os.environ.pop(TOKEN_ENV, None)
        return None
    try:
        _scrub_initial_environment(TOKEN_ENV)
    except (ImportError, OSError, ValueError, AttributeError) as e:
        # Without ctypes the token stays readable by our own uid in
        # /proc/<pid>/environ; everything else still holds.
        log.warning("could not scrub %s from the initial environment: %s", TOKEN_ENV, e)
    return os.environ.pop(TOKEN_ENV)


def _scrub_initial_environment(name: str) -> None:
    """Overwrites the value of every ``name=`` entry of the C library's
    ``environ`` with NUL bytes, in place."""
    import ctypes

    prefix = name.encode() + b"="
    environ = ctypes.POINTER(ctypes.c_void_p).in_dll(ctypes.CDLL(None), "environ")
    i = 0
    while environ[i]:
        address = environ[i]
        entry = ctypes.string_at(address)
        if entry.startswith(prefix):
            ctypes.memset(address + len(prefix), 0, len(entry) - len(prefix))
        i += 1
