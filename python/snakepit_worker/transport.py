"""Choosing the server that carries the Worker service: ``--transport``.

Two transports serve the same contract (proto/snakepit/v1/worker.proto)
and are indistinguishable to the host:

- ``native`` (native_server.py): gRPC C++ inside this process, the
  ``snakepit_worker._native`` extension module. Needs neither grpcio nor
  Python protobuf, so it also runs on free-threaded Python.
- ``grpcio`` (server.py): Python's grpcio.

``auto`` picks native when ``_native`` imports for this interpreter, else
grpcio. Importing this module imports neither.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType
from typing import Optional, Protocol

from .interpreter import free_threaded_build

TRANSPORTS = ("auto", "native", "grpcio")

log = logging.getLogger("snakepit_worker")


class Transport(Protocol):
    """A started server. ``name`` is "native" or "grpcio"; ``listen`` the
    address it listens on (a TCP port 0 replaced by the bound port);
    ``token_required``: it refuses (UNAUTHENTICATED) every RPC without the
    worker's token; ``tls``: it speaks TLS.

    A stop calls, in order: ``stop_accepting``, ``drain``, ``close``.
    """

    name: str
    listen: str
    token_required: bool
    tls: bool
    # "shm" when calls also come over the host's shared memory (native
    # only), else "grpc"; and why offered shared memory is not used.
    data_plane: str
    data_plane_error: str

    def stop_accepting(self, grace: float) -> None:
        """New Execute calls are refused (UNAVAILABLE) from now on; Health
        answers STOPPING where it is still answered."""

    def drain(self, timeout: float) -> bool:
        """Waits up to ``timeout`` s until every Execute received so far
        was answered and its reply sent; True if all were."""

    def close(self, timeout: float) -> bool:
        """Cancels the calls still running and stops the server; True if
        that finished within ``timeout`` s."""


class TransportUnavailable(Exception):
    """The transport asked for cannot run here. ``cause`` is the import
    error; the message says which interpreter and what to do."""

    def __init__(self, message: str, cause: BaseException) -> None:
        super().__init__(message)
        self.cause = cause


def load(name: str) -> ModuleType:
    """The module of transport ``name`` ("auto", "native" or "grpcio"): it
    has ``NAME`` and ``start(calls, opts) -> Transport``.

    Raises TransportUnavailable when the transport (for "auto": either)
    does not import in this interpreter.
    """
    native_error: Optional[ImportError] = None
    if name in ("auto", "native"):
        try:
            from . import native_server
            return native_server
        except ImportError as e:
            if name == "native":
                raise TransportUnavailable(
                    f"the native transport (snakepit_worker._native) does not import in "
                    f"interpreter {sys.executable} (Python {sys.version.split()[0]}): {e}; "
                    f"build it for this interpreter (see docs/worker-protocol.md) or use "
                    f"--transport grpcio", e) from e
            native_error = e
            log.info("native transport unavailable (%s); using grpcio", e)
    try:
        from . import server
        return server
    except ImportError as e:
        raise TransportUnavailable(_without_grpc(e, native_error), e) from e


def _without_grpc(e: ImportError, native_error: Optional[ImportError]) -> str:
    """The start failure's message when grpc (or protobuf) does not import;
    ``native_error``: why the native transport did not either ("auto")."""
    if free_threaded_build():
        advice = ("it is a free-threaded build: the grpcio transport needs grpcio and protobuf "
                  "importable by it, and Debian's python3-grpcio is built for its GIL "
                  "interpreter only")
    else:
        advice = ("the worker needs the grpcio and protobuf packages, e.g. "
                  "apt-get install python3-grpcio python3-protobuf")
    also = "" if native_error is None else \
        f", or the native transport built for it (snakepit_worker._native: {native_error})"
    return f"{e} (interpreter: {sys.executable}); {advice}{also}"
