"""The grpcio transport: the Worker service of worker.proto served by grpcio.

Importing this module imports grpc (ModuleNotFoundError when the
interpreter lacks it); transport.py imports it lazily for that reason.
"""

from __future__ import annotations

import os
import threading
from concurrent import futures
from typing import TYPE_CHECKING, Optional

import grpc

from ._proto import worker_pb2, worker_pb2_grpc
from .addresses import unix_socket_path
from .auth import TokenInterceptor, server_credentials
from .calls import WorkerCalls
from .dispatch import Outcome
from .health import HealthService
from .tls_files import BIND_FAILURE_HINT

if TYPE_CHECKING:
    from .worker import Options

NAME = "grpcio"


class _OpenCalls:
    """Counts Execute RPCs from arrival until grpc has finished sending the
    reply (a handler's return is earlier than that). Thread-safe."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    def open(self, context: grpc.ServicerContext) -> None:
        with self._changed:
            self._count += 1
        if not context.add_callback(self._close):
            self._close()  # the RPC is already over

    def _close(self) -> None:
        with self._changed:
            self._count -= 1
            self._changed.notify_all()

    def wait_closed(self, timeout: float) -> bool:
        """Waits up to ``timeout`` s for the count to reach 0; True if it did."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout)


class WorkerService(worker_pb2_grpc.WorkerServicer):
    """Implements Execute, Health and Stats on top of WorkerCalls.

    Thread-safe: grpc calls every method from its handler threads.
    """

    def __init__(self, calls: WorkerCalls) -> None:
        self._calls = calls
        self.open_calls = _OpenCalls()

    def Execute(self, request: worker_pb2.ExecuteRequest,
                context: grpc.ServicerContext) -> worker_pb2.ExecuteResponse:
        """Runs the command if a slot is free, else answers BUSY at once."""
        self.open_calls.open(context)
        outcome = self._calls.execute(request.call_id, request.command, request.args_json,
                                      list(request.attachments), request.deadline_unix_ms)
        return _response(request.call_id, outcome)

    def Health(self, request: worker_pb2.HealthRequest,
               context: grpc.ServicerContext) -> worker_pb2.HealthResponse:
        state = worker_pb2.HealthResponse.STOPPING if self._calls.stopping.is_set() \
            else worker_pb2.HealthResponse.SERVING
        return worker_pb2.HealthResponse(state=state, pid=os.getpid())

    def Stats(self, request: worker_pb2.StatsRequest,
              context: grpc.ServicerContext) -> worker_pb2.StatsResponse:
        return worker_pb2.StatsResponse(**self._calls.stats())


def _response(call_id: int, outcome: Outcome) -> worker_pb2.ExecuteResponse:
    timing = worker_pb2.Timing(started_unix_ns=outcome.started_ns,
                               finished_unix_ns=outcome.finished_ns,
                               thread_id=outcome.thread_id, cpu_ns=outcome.cpu_ns)
    if outcome.error is None:
        result = worker_pb2.Result(json=outcome.json, attachments=outcome.attachments)
        return worker_pb2.ExecuteResponse(result=result, call_id=call_id, timing=timing)
    e = outcome.error
    error = worker_pb2.Error(kind=worker_pb2.Error.Kind.Value(e.kind), type=e.type,
                             message=e.message, traceback=e.traceback)
    return worker_pb2.ExecuteResponse(error=error, call_id=call_id, timing=timing)


class GrpcioTransport:
    """A started grpcio server; see transport.Transport for the contract."""

    name = NAME

    def __init__(self, server: grpc.Server, service: WorkerService, listen: str, *,
                 token_required: bool, tls: bool) -> None:
        self._server = server
        self._service = service
        self.listen = listen
        self.token_required = token_required
        self.tls = tls

    def stop_accepting(self, grace: float) -> None:
        # grpc's own graceful stop would also wait, for the whole grace
        # period, for idle clients to hang up: the calls are drained by
        # drain(), and close() ends the rest.
        self._server.stop(grace)

    def drain(self, timeout: float) -> bool:
        return self._service.open_calls.wait_closed(timeout)

    def close(self, timeout: float) -> bool:
        return bool(self._server.stop(0).wait(timeout))


def start(calls: WorkerCalls, opts: Options) -> GrpcioTransport:
    """Binds ``opts.listen`` and starts serving with ``opts.slots + 2``
    handler threads (two for Health and Stats while every slot is busy);
    the transport's ``listen`` is the bound address (a TCP port 0 replaced
    by the port).

    With a token in ``opts.auth_token`` (taken out of it here), every RPC
    must carry it (auth.TokenInterceptor, which keeps only its digest); with ``opts.tls_cert_file`` and
    ``opts.tls_key_file``, the listener speaks TLS. A Unix socket file is
    made mode 0600 before the server starts accepting. Raises RuntimeError
    when the address cannot be bound, ValueError or OSError on a bad TLS
    setup.
    """
    credentials = server_credentials(opts.tls_cert_file, opts.tls_key_file, opts.tls_client_ca_file)
    interceptor = _token_interceptor(opts)
    server = grpc.server(
        futures.ThreadPoolExecutor(opts.slots + 2, thread_name_prefix="snakepit-handler"),
        interceptors=[interceptor] if interceptor else None,
        options=[("grpc.max_send_message_length", opts.max_message_bytes),
                 ("grpc.max_receive_message_length", opts.max_message_bytes),
                 ("grpc.so_reuseport", 0),
                 # A remote pool's keepalive pings (every second) are welcome.
                 ("grpc.keepalive_permit_without_calls", 1),
                 ("grpc.http2.min_ping_interval_without_data_ms", 500),
                 ("grpc.http2.max_ping_strikes", 0)])
    service = WorkerService(calls)
    worker_pb2_grpc.add_WorkerServicer_to_server(service, server)
    server.add_generic_rpc_handlers((HealthService(calls.stopping),))  # grpc.health.v1
    listen = opts.listen
    if credentials is None:
        port = server.add_insecure_port(listen)
    else:
        try:
            port = server.add_secure_port(listen, credentials)
        except RuntimeError as e:
            raise RuntimeError(f"{e} ({BIND_FAILURE_HINT})") from e
    path = unix_socket_path(listen)
    if path is not None:
        os.chmod(path, 0o600)
    elif listen.endswith(":0"):
        listen = f"{listen[:-2]}:{port}"
    server.start()
    return GrpcioTransport(server, service, listen, token_required=interceptor is not None,
                           tls=credentials is not None)


def _token_interceptor(opts: Options) -> Optional[TokenInterceptor]:
    """The token check, taking the token out of ``opts``; None without one.
    A function of its own so that no longer-lived frame holds the token."""
    token = opts.auth_token.take() if opts.auth_token is not None else None
    return TokenInterceptor(token) if token else None
