"""Execute: results, attachments, and every kind of Error, on real workers."""

from __future__ import annotations

import importlib.util
import json
import os
import time

import grpc
import pytest

from harness import ADAPTERS_DIR, FIXTURE_ADAPTER, Worker, pb

Kind = pb.Error.Kind


def error_of(response: pb.ExecuteResponse) -> pb.Error:
    assert response.WhichOneof("outcome") == "error", response
    return response.error


def test_ping_echoes_call_id_and_fills_timing(showcase: Worker) -> None:
    before = time.time_ns()
    response = showcase.execute("ping", call_id=12345)
    after = time.time_ns()
    assert json.loads(response.result.json) == {"pong": True, "pid": showcase.proc.pid}
    assert response.call_id == 12345
    timing = response.timing
    assert before <= timing.started_unix_ns <= timing.finished_unix_ns <= after
    assert timing.thread_id != 0


@pytest.mark.parametrize("args, expected", [
    ({"x": 1, "y": [True, None]}, {"x": 1, "y": [True, None]}),
    ([1, "two", 3.5], [1, "two", 3.5]),
    (None, {}),
])
def test_echo_returns_its_args(showcase: Worker, args, expected) -> None:
    assert showcase.call("echo", args) == expected


def test_add_takes_keyword_or_positional_args(showcase: Worker) -> None:
    assert showcase.call("add", {"a": 2, "b": 3}) == 5
    assert showcase.call("add", [2.5, 0.5]) == 3.0
    assert showcase.call("add", ["snake", "pit"]) == "snakepit"


def test_nested_unicode_round_trip(showcase: Worker) -> None:
    value = {"text": "héllo wörld ✓ 日本語 🐍 \u0000 \"quoted\" \\",
             "nested": {"list": [1, -2.5e300, None, True, {"deep": ["ü", {"k": []}]}]},
             "ключ": "значение"}
    assert showcase.call("echo", value) == value


def test_large_array_round_trip(showcase: Worker) -> None:
    value = list(range(200_000))
    assert showcase.call("echo", value) == value


def test_attachments_round_trip(showcase: Worker) -> None:
    blobs = [b"\x00nul\x00inside\x00", os.urandom(1 << 20), b""]
    response = showcase.execute("echo_attachments", attachments=blobs)
    assert json.loads(response.result.json) == {"count": 3, "sizes": [len(b) for b in blobs]}
    assert list(response.result.attachments) == blobs


def test_call_context_sees_id_deadline_and_attachments(fixture_worker: Worker) -> None:
    deadline_ms = int(time.time() * 1000) + 60_000
    info = fixture_worker.call("call_info", call_id=77, deadline_unix_ms=deadline_ms,
                               attachments=[b"a", b"b"])
    assert info["call_id"] == 77 and info["command"] == "call_info"
    assert info["attachments"] == 2
    assert info["deadline"] == pytest.approx(deadline_ms / 1000)
    assert 50 < info["remaining"] <= 60
    no_deadline = fixture_worker.call("call_info")
    assert no_deadline["deadline"] is None and no_deadline["remaining"] is None
    assert no_deadline["metadata"] == {}


def test_call_context_sees_metadata(fixture_worker: Worker) -> None:
    metadata = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "tenant": "caf\u00e9", "": "empty key"}
    info = fixture_worker.call("call_info", metadata=metadata)
    assert info["metadata"] == metadata


def test_unknown_command_names_it_and_lists_commands(showcase: Worker) -> None:
    error = error_of(showcase.execute("no_such_command"))
    assert error.kind == Kind.UNKNOWN_COMMAND
    assert "'no_such_command'" in error.message
    assert "ping" in error.message and "echo_attachments" in error.message


def _test_only_commands() -> set[str]:
    """The commands the test adapter adds to the default one."""
    from snakepit_worker.showcase import ShowcaseAdapter
    spec = importlib.util.spec_from_file_location("fixtures", ADAPTERS_DIR / "fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return set(module.FixtureAdapter().commands()) - set(ShowcaseAdapter().commands())


def test_default_adapter_lacks_the_test_only_commands(showcase: Worker) -> None:
    # What every pool without an "adapter" key loads must not let a caller
    # crash the worker, read its environment or hold its memory.
    test_only = _test_only_commands()
    assert {"exit", "segfault", "getenv", "allocate"} <= test_only
    for name in sorted(test_only):
        assert error_of(showcase.execute(name)).kind == Kind.UNKNOWN_COMMAND, name
    assert showcase.call("ping")["pong"] is True


def test_exception_carries_type_message_and_traceback(showcase: Worker) -> None:
    response = showcase.execute("raise_error", {"type": "ValueError", "message": "bad value 42"})
    error = error_of(response)
    assert error.kind == Kind.EXCEPTION
    assert error.type == "ValueError"
    assert error.message == "bad value 42"
    assert "showcase.py" in error.traceback
    assert "raise exc_type(message)" in error.traceback
    assert error.traceback.rstrip().endswith("ValueError: bad value 42")
    assert response.timing.started_unix_ns <= response.timing.finished_unix_ns


def test_worker_keeps_serving_after_exceptions(showcase: Worker) -> None:
    for name in ("KeyError", "ZeroDivisionError", "SystemExit"):
        assert error_of(showcase.execute("raise_error", {"type": name})).type == name
    assert showcase.call("ping")["pong"] is True


def test_non_builtin_exception_type_is_qualified(spawn) -> None:
    worker = spawn("--adapter", "custom_error:CustomErrorAdapter")
    error = error_of(worker.execute("fail", {"message": "it broke"}))
    assert error.kind == Kind.EXCEPTION
    assert error.type == "custom_error.CustomError"
    assert error.message == "it broke"


def test_exception_inside_command_is_not_invalid_args(showcase: Worker) -> None:
    # The args bind to add(a, b); the TypeError comes from 1 + "x" inside.
    error = error_of(showcase.execute("add", {"a": 1, "b": "x"}))
    assert error.kind == Kind.EXCEPTION
    assert error.type == "TypeError"


def test_invalid_args_json(showcase: Worker) -> None:
    error = error_of(showcase.execute("echo", args_json="{not json"))
    assert error.kind == Kind.INVALID_ARGS
    assert "'echo'" in error.message and "not valid JSON" in error.message


def test_args_that_are_not_object_list_or_null(showcase: Worker) -> None:
    error = error_of(showcase.execute("echo", args_json="42"))
    assert error.kind == Kind.INVALID_ARGS
    assert "object, list or null" in error.message


@pytest.mark.parametrize("args, reason", [
    (None, "missing a required argument: 'a'"),  # no args: bound all the same
    ({"a": 1}, "missing a required argument: 'b'"),
    ({"a": 1, "b": 2, "c": 3}, "unexpected keyword argument 'c'"),
    ([1, 2, 3], "too many positional arguments"),
])
def test_args_that_do_not_fit_the_signature(showcase: Worker, args, reason: str) -> None:
    error = error_of(showcase.execute("add", args))
    assert error.kind == Kind.INVALID_ARGS
    assert "'add'" in error.message and reason in error.message
    assert "expected add(a, b)" in error.message


def test_not_serializable_result(fixture_worker: Worker) -> None:
    error = error_of(fixture_worker.execute("not_serializable"))
    assert error.kind == Kind.NOT_SERIALIZABLE
    assert "'not_serializable'" in error.message and "set" in error.message
    assert fixture_worker.call("ping")["pong"] is True


def test_numeric_commands(showcase: Worker, worker_python) -> None:
    if not worker_python.has_numpy:
        pytest.skip(f"numpy is not installed for {worker_python.executable}")
    expected = 0
    for i in range(1000):
        expected = (expected * 31 + i) % 1_000_000_007
    assert showcase.call("cpu_loop", {"n": 1000})["checksum"] == expected
    first, second = showcase.call("matmul", {"n": 64}), showcase.call("matmul", {"n": 64})
    assert first["n"] == 64 and first["trace"] == second["trace"] and first["elapsed_s"] >= 0


def test_allocate_retains_until_release(fixture_worker: Worker) -> None:
    assert fixture_worker.call("allocate", {"mb": 4}) == {"retained_mb": 4}
    assert fixture_worker.call("allocate", {"mb": 4}) == {"retained_mb": 8}
    assert fixture_worker.call("release") == {"released_mb": 8}
    assert fixture_worker.call("release") == {"released_mb": 0}


def test_print_noise_does_not_break_the_worker(fixture_worker: Worker) -> None:
    assert fixture_worker.call("print_noise", {"lines": 5000}) == {"lines": 5000}
    assert fixture_worker.call("ping")["pong"] is True
    assert "fixture stdout noise 4999" in (fixture_worker.workdir / "stdout").read_text()
    assert "fixture stderr noise 4999" in fixture_worker.stderr()


def test_threads_info_reflects_the_environment(spawn, worker_python) -> None:
    if not worker_python.has_numpy:
        pytest.skip(f"numpy is not installed for {worker_python.executable}")
    worker = spawn(env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                        "GRPC_POLL_STRATEGY": "poll", "MKL_NUM_THREADS": "1"})
    info = worker.call("threads_info")
    assert info["env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert info["env"]["GRPC_POLL_STRATEGY"] == "poll"
    assert info["env"]["VECLIB_MAXIMUM_THREADS"] is None
    assert info["pid"] == worker.proc.pid and info["python_threads"] >= 1
    blas = [p for p in info["threadpools"] if p["user_api"] == "blas"]
    assert blas, f"no BLAS thread pool found: {info['threadpools']}"
    assert all(p["num_threads"] == 1 for p in blas), blas


def test_message_limit_applies_and_worker_survives(spawn) -> None:
    worker = spawn("--max-message-bytes", str(1 << 20))
    with pytest.raises(grpc.RpcError) as caught:
        worker.execute("echo_attachments", attachments=[b"x" * (2 << 20)])
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert worker.call("echo_attachments", attachments=[b"y" * 1000])["count"] == 1


def test_exit_command_ends_the_process(spawn) -> None:
    worker = spawn("--adapter", FIXTURE_ADAPTER)
    with pytest.raises(grpc.RpcError) as caught:
        worker.execute("exit", {"code": 7})
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert worker.wait() == 7
