"""Stopping: the lifeline, SIGTERM/SIGINT with a grace period, and crashes."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import grpc
import pytest


@pytest.mark.parametrize("command, args", [
    ("sleep", {"ms": 30_000}),          # the handler thread waits, GIL released
    ("cpu_loop", {"n": 10**10}),        # the handler thread holds the GIL
])
def test_lifeline_eof_exits_at_once_even_while_busy(spawn, command, args) -> None:
    worker = spawn()
    call = worker.execute_async(command, args, timeout=30)
    worker.wait_in_flight(1)
    closed = time.monotonic()
    worker.close_lifeline()
    assert worker.wait(timeout=2.0) == 0
    assert time.monotonic() - closed < 2.0
    with pytest.raises(grpc.RpcError):
        call.result()


def test_sigterm_lets_the_in_flight_call_finish(spawn) -> None:
    worker = spawn("--grace", "5")
    call = worker.execute_async("sleep", {"ms": 700})
    worker.wait_in_flight(1)
    worker.proc.send_signal(signal.SIGTERM)
    response = call.result()
    assert response.WhichOneof("outcome") == "result"
    assert json.loads(response.result.json)["pid"] == worker.proc.pid
    assert worker.wait(timeout=5.0) == 0
    assert not worker.socket_path.exists()
    log = worker.stderr().splitlines()
    assert any(line.startswith("[test] ") and "SIGTERM received" in line for line in log)
    assert any("stopped: requests_served=1 requests_failed=0" in line for line in log)


def test_sigterm_gives_up_on_calls_after_the_grace_period(spawn) -> None:
    worker = spawn("--grace", "0.3")
    call = worker.execute_async("sleep", {"ms": 30_000}, timeout=30)
    worker.wait_in_flight(1)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=4.0) == 0
    with pytest.raises(grpc.RpcError):
        call.result()
    assert not worker.socket_path.exists()


def test_sigterm_on_an_idle_worker_runs_teardown_and_exits_at_once(
        spawn, tmp_path: Path) -> None:
    marker = tmp_path / "hooks"
    worker = spawn("--adapter", "marker:MarkerAdapter", "--preload", json.dumps([str(marker)]),
                   "--grace", "10")
    assert worker.call("ping") == {"pong": True}  # leaves a connected, idle client
    signalled = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=5.0) == 0
    assert time.monotonic() - signalled < 2.0, "the stop waited for the idle client"
    hooks = [json.loads(line)["hook"] for line in marker.read_text().splitlines()]
    assert hooks == ["setup", "teardown"]


def test_sigint_stops_like_sigterm(spawn) -> None:
    worker = spawn()
    worker.proc.send_signal(signal.SIGINT)
    assert worker.wait(timeout=5.0) == 0
    assert "SIGINT received" in worker.stderr()
    assert not worker.socket_path.exists()
