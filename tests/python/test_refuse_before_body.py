"""A client without the token cannot make a worker read large requests
(issue 14, item 8): the token is checked on the metadata, before the
request's body is read, on both transports (the ``spawn`` fixture runs
each). Measured by the worker's peak RSS (VmHWM), over TCP as in the
report and over the Unix socket the host uses by default."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest

from snakepit_worker._proto import worker_pb2 as pb
from snakepit_worker._proto import worker_pb2_grpc

TOKEN = "7a11" * 16
GOOD = [("snakepit-token", TOKEN)]
MIB = 1 << 20
REQUESTS = 3
REQUEST_MIB = 100
# What the flood may add to the worker's peak RSS: flow-control windows and
# gRPC's buffers, far below one request.
BOUND_MIB = 64


def peak_rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


@pytest.mark.parametrize("listen", ["tcp", "unix"])
def test_large_requests_without_the_token_are_refused_before_their_body(
        spawn, listen: str) -> None:
    worker = spawn(env={"SNAKEPIT_WORKER_TOKEN": TOKEN},
                   listen="127.0.0.1:0" if listen == "tcp" else None)
    assert worker.record is not None and worker.record["ok"] is True, worker.stderr()
    channel = grpc.insecure_channel(worker.record["listen"],
                                    options=[("grpc.max_send_message_length", -1)])
    stub = worker_pb2_grpc.WorkerStub(channel)
    stub.Health(pb.HealthRequest(), metadata=GOOD, timeout=10)
    before = peak_rss_bytes(worker.proc.pid)
    request = pb.ExecuteRequest(command="echo", args_json="{}",
                                attachments=[bytes(REQUEST_MIB * MIB)])
    with futures.ThreadPoolExecutor(REQUESTS) as pool:
        calls = [pool.submit(stub.Execute, request, metadata=[], timeout=60)
                 for _ in range(REQUESTS)]
        for call in calls:
            with pytest.raises(grpc.RpcError) as refused:
                call.result()
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, refused.value
    grown = peak_rss_bytes(worker.proc.pid) - before
    print(f"peak RSS grew by {grown / MIB:.1f} MiB (from {before / MIB:.1f} MiB)")
    assert grown < BOUND_MIB * MIB, f"peak RSS grew by {grown / MIB:.0f} MiB"
    # The worker still serves the host.
    stub.Health(pb.HealthRequest(), metadata=GOOD, timeout=10)
    channel.close()
    # One log line for the three refusals (rate-limited), saying how many.
    refusals = [line for line in worker.stderr().splitlines()
                if "refused" in line and "snakepit-token" in line]
    assert len(refusals) == 1, refusals
    assert "refused 1 RPC(s)" in refusals[0], refusals
