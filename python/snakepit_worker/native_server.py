"""The native transport: the Worker service served by gRPC C++ inside this
process (the ``snakepit_worker._native`` extension; sources in
python/native/). See docs/worker-protocol.md, "Transports".

Importing this module raises ImportError when ``_native`` was not built for
this interpreter. It imports neither grpc nor Python protobuf: C++ parses
each request, calls ``WorkerCalls.execute`` on one of its handler threads,
and builds the reply from the Outcome's attributes (a stream: pulls
``StreamRun.next`` on its handler thread, one chunk per write).
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING, Optional

# Built by CMake beside the package (python/native); there is no stub.
from . import _native  # type: ignore[attr-defined]
from .calls import WorkerCalls
from .tls_files import BIND_FAILURE_HINT

if TYPE_CHECKING:
    from .worker import Options

NAME = "native"


class NativeTransport:
    """A started native server; see transport.Transport for the contract."""

    name = NAME

    def __init__(self, server: _native.Server, listen: str, *, token_required: bool,
                 tls: bool) -> None:
        self._server = server
        self.listen = listen
        self.token_required = token_required
        self.tls = tls
        self.data_plane, self.data_plane_error = server.data_plane()

    def stop_accepting(self, grace: float) -> None:
        self._server.stop_accepting()

    def drain(self, timeout: float) -> bool:
        return bool(self._server.drain(timeout))

    def close(self, timeout: float) -> bool:
        return bool(self._server.close(timeout))


def serve(calls: WorkerCalls, listen: str, slots: int, max_message_bytes: int,
          auth_token: Optional[str] = None, tls_cert_file: Optional[str] = None,
          tls_key_file: Optional[str] = None, shm_fd: Optional[int] = None,
          shm_ring_bytes: int = 0) -> NativeTransport:
    """Binds ``listen`` and serves with ``slots`` handler threads (Health,
    Stats and BUSY replies are answered on gRPC's thread without the GIL;
    Stats reports ``calls.stats()`` as last refreshed, see
    docs/worker-protocol.md). A Unix socket file is mode
    0600 from its creation. With ``auth_token`` every RPC must carry it in
    the ``snakepit-token`` metadata (else UNAUTHENTICATED); with a TLS cert
    and key (PEM files) the server speaks TLS. Raises RuntimeError when the
    address cannot be bound, ValueError on bad options, OSError when a TLS
    file cannot be read. ``shm_fd``: the host's shared-memory data plane
    (the server owns the fd from then on); when it cannot be attached the
    server serves gRPC alone, and ``data_plane_error`` says why."""
    server = _native.Server(listen=listen, handler_threads=slots,
                            max_message_bytes=max_message_bytes,
                            execute=calls.execute, execute_stream=calls.execute_stream,
                            cancel=calls.cancel, stats=calls.stats,
                            auth_token=auth_token, tls_cert_file=tls_cert_file,
                            tls_key_file=tls_key_file,
                            shm_fd=-1 if shm_fd is None else shm_fd,
                            shm_ring_bytes=shm_ring_bytes)
    try:
        listening = server.start()
    except RuntimeError as e:
        if tls_cert_file is None:
            raise
        raise RuntimeError(f"{e} ({BIND_FAILURE_HINT})") from e
    # A worker ends with os._exit after its stop; any other way out of the
    # interpreter must not leave gRPC threads calling into a finalized one.
    atexit.register(server.close, 1.0)
    return NativeTransport(server, listening, token_required=bool(auth_token),
                           tls=bool(tls_cert_file and tls_key_file))


def start(calls: WorkerCalls, opts: Options) -> NativeTransport:
    """``serve`` with the worker's options, taking the token out of
    ``opts.auth_token``: from then on it lives in C++ only."""
    return serve(calls, opts.listen, opts.slots, opts.max_message_bytes,
                 auth_token=opts.auth_token.take() if opts.auth_token is not None else None,
                 tls_cert_file=opts.tls_cert_file, tls_key_file=opts.tls_key_file,
                 shm_fd=opts.shm_fd, shm_ring_bytes=opts.shm_ring_bytes)
