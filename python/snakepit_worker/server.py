"""The grpcio transport: the Worker service of worker.proto served by grpcio.

Importing this module imports grpc (ModuleNotFoundError when the
interpreter lacks it); transport.py imports it lazily for that reason.
"""

from __future__ import annotations

import os
import threading
from concurrent import futures
from typing import TYPE_CHECKING, Iterator, Optional

import grpc

from ._proto import worker_pb2, worker_pb2_grpc
from .addresses import unix_socket_path
from .auth import TokenInterceptor, server_credentials
from .calls import WorkerCalls, new_call
from .context import CallContext
from .dispatch import Attachment, Outcome
from .streams import StreamRun
from .health import HealthService
from .tls_files import BIND_FAILURE_HINT

if TYPE_CHECKING:
    from .worker import Options

NAME = "grpcio"
# How long a cancelled stream's chunk may still wait for its reader (as
# StreamCall::kCancelGrace on the native transport).
CANCEL_GRACE_S = 0.05


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
    """Implements Execute, ExecuteStream, Cancel, Health and Stats on top
    of WorkerCalls.

    Thread-safe: grpc calls every method from its handler threads.
    """

    def __init__(self, calls: WorkerCalls) -> None:
        self._calls = calls
        self.open_calls = _OpenCalls()

    def Execute(self, request: worker_pb2.ExecuteRequest,
                context: grpc.ServicerContext) -> worker_pb2.ExecuteResponse:
        """Runs the command if a slot is free, else answers BUSY at once."""
        self.open_calls.open(context)
        call = _new_call(request)
        # Runs when the RPC ends: a no-op once the call finished, a cancel
        # when the caller gave up (cancelled, or its gRPC deadline passed).
        context.add_callback(call.mark_cancelled)
        return _response(request.call_id, self._calls.run(call, request.args_json))

    def ExecuteStream(self, request: worker_pb2.ExecuteRequest,
                      context: grpc.ServicerContext) -> Iterator[worker_pb2.StreamMessage]:
        """The command's chunks, then its end. grpc pulls the next message
        only once the previous one was sent (flow control), so the command
        is advanced no faster than the client reads."""
        self.open_calls.open(context)
        call = _new_call(request)
        context.add_callback(call.mark_cancelled)
        run = self._calls.open_stream(call, request.args_json)
        if isinstance(run, Outcome):
            yield worker_pb2.StreamMessage(end=_response(request.call_id, run))
            return
        pump = _Pump(run, context)
        call.on_cancel(pump.cancelled)
        # grpc drops this generator when the RPC ends early (the client
        # went away): closing it closes the command's.
        try:
            while True:
                end, outcome = pump.next()
                if end:
                    yield worker_pb2.StreamMessage(end=_response(request.call_id, outcome))
                    return
                yield worker_pb2.StreamMessage(chunk=worker_pb2.Result(
                    json=outcome.json, attachments=_as_message_bytes(outcome.attachments)))
        finally:
            pump.close()

    def Cancel(self, request: worker_pb2.CancelRequest,
               context: grpc.ServicerContext) -> worker_pb2.CancelResponse:
        deadline = request.reason == worker_pb2.CancelRequest.DEADLINE_EXCEEDED
        return worker_pb2.CancelResponse(found=self._calls.cancel(request.call_id, deadline))

    def Health(self, request: worker_pb2.HealthRequest,
               context: grpc.ServicerContext) -> worker_pb2.HealthResponse:
        state = worker_pb2.HealthResponse.STOPPING if self._calls.stopping.is_set() \
            else worker_pb2.HealthResponse.SERVING
        return worker_pb2.HealthResponse(state=state, pid=os.getpid())

    def Stats(self, request: worker_pb2.StatsRequest,
              context: grpc.ServicerContext) -> worker_pb2.StatsResponse:
        return worker_pb2.StatsResponse(**self._calls.stats())


class _Pump:
    """A StreamRun as grpc pulls it, and what a cancel does to it: the
    chunk being made is not sent (the StreamRun sees the cancel), and a
    chunk handed to grpc, which may wait for a reader who does not read,
    is given up after CANCEL_GRACE_S: the command is closed (GeneratorExit
    at its yield), then the RPC cancelled.

    Whether a chunk is waiting is not sampled: a cancel that lands between
    the making of a chunk and its hand-over would miss it, and the command
    would then be closed only when the garbage collector got to grpc's
    dropped generator. Whatever the handler thread is doing outside
    next(), the give-up closes the command.

    Thread-safe: a lock orders grpc's pulls, the cancel's timer and the
    close."""

    def __init__(self, run: StreamRun, context: grpc.ServicerContext) -> None:
        self._run = run
        self._context = context
        self._lock = threading.Lock()
        self._closed_as: Optional[Outcome] = None  # the end the give-up made

    def next(self) -> tuple[bool, Outcome]:
        with self._lock:
            if self._closed_as is not None:  # given up while grpc held a chunk
                return True, self._closed_as
            return self._run.next()

    def close(self) -> None:
        with self._lock:
            self._run.close()

    def cancelled(self) -> None:
        """The call's on_cancel callback (the Cancel's thread)."""
        timer = threading.Timer(CANCEL_GRACE_S, self._give_up)
        timer.daemon = True
        timer.start()

    def _give_up(self) -> None:
        with self._lock:  # not while a chunk is made: next() ends that itself
            if self._run.ended:
                return
            self._closed_as = self._run.close()
        self._context.cancel()


def _new_call(request: worker_pb2.ExecuteRequest) -> CallContext:
    # The views are over the bytes objects protobuf makes: no further copy.
    return new_call(request.call_id, request.command, request.attachments,
                    request.deadline_unix_ms, dict(request.metadata))


def _as_message_bytes(attachments: list[Attachment]) -> list[bytes]:
    """What protobuf takes: the views dispatch kept (a command's returned
    request views) copied into bytes; bytes as they are."""
    return [a if type(a) is bytes else bytes(a) for a in attachments]


def _response(call_id: int, outcome: Outcome) -> worker_pb2.ExecuteResponse:
    timing = worker_pb2.Timing(started_unix_ns=outcome.started_ns,
                               finished_unix_ns=outcome.finished_ns,
                               thread_id=outcome.thread_id, cpu_ns=outcome.cpu_ns)
    if outcome.error is None:
        result = worker_pb2.Result(json=outcome.json,
                                   attachments=_as_message_bytes(outcome.attachments))
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
        # grpcio serves no shared memory (native_server.py does).
        self.data_plane = "grpc"
        self.data_plane_error = ""

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
    transport = GrpcioTransport(server, service, listen, token_required=interceptor is not None,
                                tls=credentials is not None)
    if opts.shm_fd is not None:
        os.close(opts.shm_fd)
        transport.data_plane_error = "the grpcio transport has no shared-memory data plane"
    return transport


def _token_interceptor(opts: Options) -> Optional[TokenInterceptor]:
    """The token check, taking the token out of ``opts``; None without one.
    A function of its own so that no longer-lived frame holds the token."""
    token = opts.auth_token.take() if opts.auth_token is not None else None
    return TokenInterceptor(token) if token else None
