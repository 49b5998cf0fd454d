"""The grpcio server: the Worker service of worker.proto over one listener.

Importing this module imports grpc (ModuleNotFoundError when the
interpreter lacks it); the worker imports it lazily for that reason.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from concurrent import futures
from typing import Optional

import grpc

from ._proto import worker_pb2, worker_pb2_grpc
from .addresses import unix_socket_path
from .auth import TokenInterceptor
from .context import CallContext
from .diagnostics import diagnostics_json
from .dispatch import CallError, Dispatcher, Outcome, rejected
from .interpreter import free_threaded_build, gil_enabled
from .slots import Slots
from .thread_safety import ThreadSafetyChecker


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
    """Implements Execute, Health and Stats on top of a Dispatcher.

    Thread-safe: grpc calls every method from its handler threads.
    ``stopping`` is set by the owner once a stop began; Health then answers
    STOPPING. ``checker`` is the thread-safety checker the dispatcher uses,
    or None when checks are off; Stats reports its findings.
    """

    def __init__(self, dispatcher: Dispatcher, slots: Slots, mode: str,
                 adapter_spec: str, checker: Optional[ThreadSafetyChecker] = None) -> None:
        self.stopping = threading.Event()
        self._dispatcher = dispatcher
        self._checker = checker
        self._slots = slots
        self._mode = mode
        self._adapter_spec = adapter_spec
        self._started = time.monotonic()
        self._open_calls = _OpenCalls()

    def Execute(self, request: worker_pb2.ExecuteRequest,
                context: grpc.ServicerContext) -> worker_pb2.ExecuteResponse:
        """Runs the command if a slot is free, else answers BUSY at once."""
        self._open_calls.open(context)
        deadline = request.deadline_unix_ms / 1000 if request.deadline_unix_ms else None
        call = CallContext(request.call_id, request.command,
                           list(request.attachments), deadline)
        with self._slots.claim() as claimed:
            if claimed:
                outcome = self._dispatcher.execute(call, request.args_json)
            else:
                outcome = rejected(CallError(
                    "BUSY", "", f"all {self._slots.capacity} execution slots "
                    f"of worker pid {os.getpid()} are busy"))
        self._slots.count(failed=outcome.error is not None)
        return _response(request.call_id, outcome)

    def Health(self, request: worker_pb2.HealthRequest,
               context: grpc.ServicerContext) -> worker_pb2.HealthResponse:
        state = worker_pb2.HealthResponse.STOPPING if self.stopping.is_set() \
            else worker_pb2.HealthResponse.SERVING
        return worker_pb2.HealthResponse(state=state, pid=os.getpid())

    def Stats(self, request: worker_pb2.StatsRequest,
              context: grpc.ServicerContext) -> worker_pb2.StatsResponse:
        in_flight, served, failed = self._slots.snapshot()
        return worker_pb2.StatsResponse(
            pid=os.getpid(), mode=self._mode, max_concurrency=self._slots.capacity,
            in_flight=in_flight, requests_served=served, requests_failed=failed,
            threads=threading.active_count(), uptime_s=self.uptime_s(),
            python_version=platform.python_version(),
            free_threaded_build=free_threaded_build(), gil_enabled=gil_enabled(),
            adapter=self._adapter_spec, diagnostics_json=diagnostics_json(self._checker))

    def uptime_s(self) -> float:
        return time.monotonic() - self._started

    def drain(self, timeout: float) -> bool:
        """Waits up to ``timeout`` s until every Execute RPC received so far
        has been answered and its reply sent; True if all were."""
        return self._open_calls.wait_closed(timeout)


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


def start_server(service: WorkerService, listen: str, handler_threads: int,
                 max_message_bytes: int, *, auth_token: Optional[str] = None,
                 credentials: Optional[grpc.ServerCredentials] = None
                 ) -> tuple[grpc.Server, str]:
    """Binds ``listen``, starts serving, and returns the server and the
    address it listens on (a TCP port 0 replaced by the bound port).

    With ``auth_token``, every RPC must carry it (auth.TokenInterceptor);
    with ``credentials``, the listener speaks TLS. A Unix socket file is
    made mode 0600 before the server starts accepting. Raises RuntimeError
    when the address cannot be bound.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(handler_threads, thread_name_prefix="snakepit-handler"),
        interceptors=[TokenInterceptor(auth_token)] if auth_token else None,
        options=[("grpc.max_send_message_length", max_message_bytes),
                 ("grpc.max_receive_message_length", max_message_bytes),
                 ("grpc.so_reuseport", 0)])
    worker_pb2_grpc.add_WorkerServicer_to_server(service, server)
    if credentials is None:
        port = server.add_insecure_port(listen)
    else:
        try:
            port = server.add_secure_port(listen, credentials)
        except RuntimeError as e:
            # grpc reports an unusable certificate or key as a bind failure.
            raise RuntimeError(f"{e} (with TLS this also happens when --tls-cert and --tls-key "
                               f"are not a PEM certificate and its matching private key)") from e
    path = unix_socket_path(listen)
    if path is not None:
        os.chmod(path, 0o600)
    elif listen.endswith(":0"):
        listen = f"{listen[:-2]}:{port}"
    server.start()
    return server, listen
