"""On real workers: Stats.diagnostics_json (the thread-safety checker's
findings), Timing.cpu_ns, and loaded_libraries in the readiness record."""

from __future__ import annotations

import importlib.metadata
import json
from typing import Any

import grpc

from harness import FIXTURE_ADAPTER, Worker

SLEEP_MS = 100
SLEEP_ARGS = {"sleep_ms": SLEEP_MS}
BURST = 4
THREADED = ("--mode", "thread", "--max-workers", str(BURST))
CHECKS = "--thread-safety-checks"


def diagnostics(worker: Worker) -> dict[str, Any]:
    return json.loads(worker.stats().diagnostics_json)


def burst(worker: Worker, command: str, n: int = BURST,
          args: Any = SLEEP_ARGS) -> list[Any]:
    """``n`` concurrent calls of ``command``; returns their results."""
    futures = [worker.execute_async(command, args) for _ in range(n)]
    responses = [f.result() for f in futures]
    assert all(r.WhichOneof("outcome") == "result" for r in responses), responses
    return [json.loads(r.result.json) for r in responses]


def test_checker_flags_the_racy_counter_through_stats(spawn) -> None:
    worker = spawn(*THREADED, CHECKS, "--adapter", "racy_counter:RacyCounter")
    assert diagnostics(worker)["findings"] == []
    burst(worker, "incr")
    burst(worker, "incr")
    report = diagnostics(worker)
    assert report["thread_safety_checks"] is True
    assert report["gil_enabled"] is True
    [finding] = report["findings"]
    assert finding["kind"] == "concurrent_entry"
    assert finding["command"] == "incr" and finding["method"] == "RacyCounter.incr"
    assert finding["threads"] >= 2 and finding["occurrences"] >= 2
    assert finding["attributes"] == ["count"]
    assert 0 < finding["first_seen_unix"] <= finding["last_seen_unix"]
    assert "RacyCounter.incr" in finding["message"]
    assert worker.stderr().count("ThreadSafetyWarning") == 1  # warned once


def test_checker_is_quiet_for_the_locked_counter(spawn) -> None:
    worker = spawn(*THREADED, CHECKS, "--adapter", "locked_counter:LockedCounter")
    burst(worker, "incr")
    burst(worker, "decr", n=2)
    burst(worker, "count", args=None)
    report = diagnostics(worker)
    assert report["thread_safety_checks"] is True
    assert report["findings"] == []
    assert worker.call("count") == BURST - 2  # and no update was lost


def test_no_findings_when_checks_are_off(spawn, transport) -> None:
    worker = spawn(*THREADED, "--adapter", "racy_counter:RacyCounter")
    burst(worker, "incr")
    report = diagnostics(worker)
    assert report["thread_safety_checks"] is False
    assert report["findings"] == []
    assert report["loaded_libraries"].get("grpcio") == \
        (grpc.__version__ if transport == "grpcio" else None)
    assert "ThreadSafetyWarning" not in worker.stderr()


def test_showcase_commands_are_quiet_under_checks(spawn) -> None:
    # The test adapter adds allocate, a @synchronized command, to the
    # default adapter's @concurrent_safe ones.
    worker = spawn(*THREADED, CHECKS, "--adapter", FIXTURE_ADAPTER)
    futures = [worker.execute_async("sleep", {"ms": SLEEP_MS}) for _ in range(2)]
    futures += [worker.execute_async("allocate", {"mb": 1}) for _ in range(2)]
    assert all(f.result().WhichOneof("outcome") == "result" for f in futures)
    assert diagnostics(worker)["findings"] == []  # grpcio, protobuf are not flagged


def test_unsafe_library_is_flagged_in_thread_mode(spawn) -> None:
    worker = spawn(*THREADED, CHECKS, "--adapter", "uses_unsafe_library:UsesUnsafeLibrary")
    version = importlib.metadata.version("httplib2")
    assert worker.record["loaded_libraries"]["httplib2"] == version
    [finding] = diagnostics(worker)["findings"]
    assert finding["kind"] == "unsafe_library"
    assert (finding["library"], finding["module"], finding["version"]) == \
        ("httplib2", "httplib2", version)
    assert finding["occurrences"] >= 1
    assert "not thread-safe" in finding["message"]
    assert diagnostics(worker)["findings"][0]["occurrences"] > finding["occurrences"]


def test_unsafe_library_is_not_flagged_in_process_mode(spawn) -> None:
    worker = spawn(CHECKS, "--adapter", "uses_unsafe_library:UsesUnsafeLibrary")
    assert worker.call("library")["library"] == "httplib2"
    report = diagnostics(worker)
    assert report["thread_safety_checks"] is True
    assert report["findings"] == []
    assert "httplib2" in report["loaded_libraries"]


def test_cpu_ns_counts_cpu_not_sleep(showcase: Worker) -> None:
    busy = showcase.execute("cpu_loop", {"n": 1_000_000}).timing
    wall_ns = busy.finished_unix_ns - busy.started_unix_ns
    assert 10_000_000 <= busy.cpu_ns <= wall_ns + 1_000_000
    idle = showcase.execute("sleep", {"ms": 200}).timing
    assert idle.finished_unix_ns - idle.started_unix_ns >= 200_000_000
    assert 0 <= idle.cpu_ns < 20_000_000


def test_cpu_ns_is_filled_when_the_command_raises(showcase: Worker) -> None:
    response = showcase.execute("raise_error")
    assert response.WhichOneof("outcome") == "error"
    assert response.timing.cpu_ns > 0


def test_ready_record_lists_the_loaded_libraries(spawn, transport) -> None:
    record = spawn().record
    loaded = record["loaded_libraries"]
    if transport == "grpcio":
        assert loaded["grpcio"] == grpc.__version__
        assert loaded["protobuf"] == importlib.metadata.version("protobuf")
    else:  # the native transport imports neither
        assert "grpcio" not in loaded and "protobuf" not in loaded
    assert "httplib2" not in loaded
