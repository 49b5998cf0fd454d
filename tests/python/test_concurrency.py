"""Execution slots: thread mode overlaps calls, process mode runs one, and
Health/Stats are answered while every slot is busy."""

from __future__ import annotations

import json
import time

from harness import Worker, pb

SLEEP_MS = 300


def test_thread_mode_runs_calls_concurrently(spawn) -> None:
    worker = spawn("--mode", "thread", "--max-workers", "4")
    started = time.monotonic()
    futures = [worker.execute_async("sleep", {"ms": SLEEP_MS}) for _ in range(4)]
    results = [json.loads(f.result().result.json) for f in futures]
    wall = time.monotonic() - started
    assert max(r["start_ns"] for r in results) < min(r["end_ns"] for r in results)
    assert wall < 2 * SLEEP_MS / 1000, f"4 concurrent sleeps took {wall:.3f} s"
    assert len({r["thread"] for r in results}) == 4
    assert {r["pid"] for r in results} == {worker.proc.pid}


def test_process_mode_answers_busy_to_a_second_call(spawn) -> None:
    worker = spawn("--mode", "process")
    first = worker.execute_async("sleep", {"ms": 1000})
    worker.wait_in_flight(1)
    busy = worker.execute("ping", call_id=9)
    assert busy.WhichOneof("outcome") == "error"
    assert busy.error.kind == pb.Error.Kind.BUSY
    assert busy.call_id == 9
    assert first.result().WhichOneof("outcome") == "result"
    assert worker.call("ping")["pong"] is True
    stats = worker.stats()
    assert (stats.requests_served, stats.requests_failed) == (3, 1)


def test_thread_mode_answers_busy_beyond_its_slots(spawn) -> None:
    worker = spawn("--mode", "thread", "--max-workers", "2")
    futures = [worker.execute_async("sleep", {"ms": 1000}) for _ in range(2)]
    worker.wait_in_flight(2)
    assert worker.execute("ping").error.kind == pb.Error.Kind.BUSY
    assert all(f.result().WhichOneof("outcome") == "result" for f in futures)


def assert_health_while_busy(worker: Worker, slots: int) -> None:
    futures = [worker.execute_async("sleep", {"ms": 1500}) for _ in range(slots)]
    worker.wait_in_flight(slots)
    health = worker.health(timeout=1.0)
    assert health.state == pb.HealthResponse.SERVING
    assert health.pid == worker.proc.pid
    assert worker.stats().in_flight == slots
    assert all(f.result().WhichOneof("outcome") == "result" for f in futures)


def test_health_answered_while_the_process_slot_is_busy(spawn) -> None:
    assert_health_while_busy(spawn("--mode", "process"), 1)


def test_health_answered_while_every_thread_slot_is_busy(spawn) -> None:
    assert_health_while_busy(spawn("--mode", "thread", "--max-workers", "3"), 3)


def test_stats_fields(spawn, worker_python) -> None:
    worker = spawn("--mode", "thread", "--max-workers", "3")
    worker.call("ping")
    worker.execute("no_such_command")
    stats = worker.stats()
    assert stats.pid == worker.proc.pid
    assert stats.mode == "thread"
    assert stats.max_concurrency == 3
    assert stats.in_flight == 0
    assert (stats.requests_served, stats.requests_failed) == (2, 1)
    assert stats.threads >= 2
    assert stats.uptime_s > 0
    assert stats.python_version == worker_python.version
    assert stats.free_threaded_build is worker_python.free_threaded
    assert stats.gil_enabled is not worker_python.free_threaded
    assert stats.adapter == "snakepit_worker.showcase:ShowcaseAdapter"
