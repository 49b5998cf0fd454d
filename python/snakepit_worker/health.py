"""The standard gRPC health service, ``grpc.health.v1.Health``, on grpcio.

Kubernetes' gRPC probes and load balancers speak it; the worker serves it
beside the Worker service (docs/remote.md). Debian ships no
grpcio-health-checking, and the two messages of the public health.proto
are one field each, so they are encoded here by hand:

    message HealthCheckRequest  { string service = 1; }
    message HealthCheckResponse { ServingStatus status = 1; }
    enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }

The worker is SERVING until its stop begins (``stopping`` is set, the
first step of a SIGTERM drain), NOT_SERVING after. The service name ""
(the whole server) and ``snakepit.v1.Worker`` are known; any other is
NOT_FOUND on Check and SERVICE_UNKNOWN on Watch, as the protocol says.
The health RPCs need no token (auth.TokenInterceptor lets them through):
a probe carries none, and the answer tells nothing but the state.
Importing this module imports grpc.
"""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Iterator, Optional

import grpc

from .auth import HEALTH_METHODS as METHODS  # the paths the token check lets through

KNOWN_SERVICES = ("", "snakepit.v1.Worker")

SERVING = 1
NOT_SERVING = 2
SERVICE_UNKNOWN = 3
# How often Watch looks at the state (it has no change notification).
_WATCH_POLL_S = 0.2


def decode_request(data: bytes) -> str:
    """The ``service`` field of a HealthCheckRequest; ValueError when the
    bytes are not one."""
    service = ""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 2:
            length, i = _varint(data, i)
            if i + length > len(data):
                raise ValueError("truncated HealthCheckRequest")
            if field == 1:
                service = data[i:i + length].decode("utf-8")
            i += length
        elif wire == 0:
            _, i = _varint(data, i)
        else:
            raise ValueError(f"unexpected wire type {wire} in HealthCheckRequest")
    return service


def encode_response(status: int) -> bytes:
    """A HealthCheckResponse with ``status`` (a small enum value)."""
    return bytes((0x08, status)) if status else b""


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("truncated varint in HealthCheckRequest")
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


class HealthService(grpc.GenericRpcHandler):
    """``grpc.health.v1.Health`` over ``stopping``: an Event set when the
    worker's stop begins. Thread-safe."""

    def __init__(self, stopping: threading.Event) -> None:
        self._stopping = stopping
        self._check = grpc.unary_unary_rpc_method_handler(
            self._check_rpc, request_deserializer=decode_request,
            response_serializer=encode_response)
        self._watch = grpc.unary_stream_rpc_method_handler(
            self._watch_rpc, request_deserializer=decode_request,
            response_serializer=encode_response)

    def service(self, handler_call_details: grpc.HandlerCallDetails
                ) -> Optional[grpc.RpcMethodHandler]:
        method = handler_call_details.method
        if method == METHODS[0]:
            return self._check
        if method == METHODS[1]:
            return self._watch
        return None

    def status(self, service: str) -> int:
        if service not in KNOWN_SERVICES:
            return SERVICE_UNKNOWN
        return NOT_SERVING if self._stopping.is_set() else SERVING

    def _check_rpc(self, service: str, context: grpc.ServicerContext) -> int:
        status = self.status(service)
        if status == SERVICE_UNKNOWN:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {service!r}")
        return status

    def _watch_rpc(self, service: str, context: grpc.ServicerContext) -> Iterator[int]:
        # Sends the state, then each change, until the client hangs up.
        last = self.status(service)
        yield last
        while context.is_active():
            self._stopping.wait(_WATCH_POLL_S)
            now = self.status(service)
            if now != last:
                last = now
                yield now


def serve_health(listen: str, stopping: threading.Event) -> grpc.Server:
    """A plaintext server of grpc.health.v1 only, on ``listen`` (``serve
    --health-listen``): Kubernetes' gRPC probes do not speak TLS, and this
    port answers nothing but the state. Raises RuntimeError when
    ``listen`` cannot be bound."""
    server = grpc.server(futures.ThreadPoolExecutor(2, thread_name_prefix="snakepit-health"),
                         handlers=[HealthService(stopping)])
    if server.add_insecure_port(listen) == 0:
        raise RuntimeError(f"--health-listen {listen}: cannot listen there")
    server.start()
    return server
