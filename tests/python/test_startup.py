"""Start-up: the readiness record, on success and on every kind of failure."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest

from harness import FIXTURE_ADAPTER

EXIT_STARTUP_FAILED = 3


def start_failure(spawn, *flags: str, **kwargs: Any) -> dict[str, Any]:
    """Spawns a worker expected to fail; returns the record's ``error``."""
    worker = spawn(*flags, **kwargs)
    assert worker.wait() == EXIT_STARTUP_FAILED, worker.stderr()
    record = worker.record
    assert record is not None, worker.stderr()
    assert record["ok"] is False
    assert record["executable"] and record["python"]
    assert set(record["error"]) == {"type", "message", "traceback"}
    return record["error"]


def test_ready_record_on_success(spawn, transport, worker_python) -> None:
    worker = spawn("--mode", "thread", "--max-workers", "3")
    record = worker.record
    assert record["ok"] is True
    assert record["pid"] == worker.proc.pid
    assert record["listen"] == f"unix:{worker.socket_path}"
    assert record["mode"] == "thread"
    assert record["max_concurrency"] == 3
    assert record["python"] == worker_python.version
    assert record["executable"] == worker_python.executable
    assert record["free_threaded"] is worker_python.free_threaded
    # Nothing the worker loads turns the GIL back on (_native declares so).
    assert record["gil_enabled"] is not worker_python.free_threaded
    assert record["transport"] == transport
    assert record["token_required"] is False
    assert record["tls"] is False
    assert stat.S_IMODE(os.stat(worker.socket_path).st_mode) == 0o600
    assert worker.call("ping") == {"pong": True, "pid": worker.proc.pid}


def test_process_mode_has_one_slot(spawn) -> None:
    record = spawn("--mode", "process", "--max-workers", "8").record
    assert record["mode"] == "process"
    assert record["max_concurrency"] == 1


def test_record_goes_to_stdout_without_ready_fd(spawn) -> None:
    worker = spawn(ready_fd=False)
    assert worker.record["ok"] is True
    assert worker.call("ping")["pid"] == worker.proc.pid


def test_tcp_port_zero_reports_the_bound_port(spawn) -> None:
    worker = spawn(listen="127.0.0.1:0")
    match = re.fullmatch(r"127\.0\.0\.1:(\d+)", worker.record["listen"])
    assert match and int(match.group(1)) > 0, worker.record
    assert worker.call("ping")["pong"] is True


def test_preload_reaches_setup(spawn) -> None:
    preload = ["model-a", {"weights": [1, 2, 3], "name": "ünïcode"}]
    worker = spawn("--adapter", FIXTURE_ADAPTER, "--preload", json.dumps(preload))
    assert worker.call("preloaded") == preload


def test_unknown_flags_reach_the_adapter(spawn, tmp_path: Path) -> None:
    marker = tmp_path / "hooks"
    worker = spawn("--adapter", "marker:MarkerAdapter", "--preload", json.dumps([str(marker)]),
                   "--model-dir", "/models", "--fast")
    assert worker.record["ok"] is True
    setup = json.loads(marker.read_text().splitlines()[0])
    assert setup == {"hook": "setup", "extra_args": ["--model-dir", "/models", "--fast"]}


def test_setup_exception_fails_the_start(spawn) -> None:
    error = start_failure(spawn, "--adapter", "bad_setup:BadSetupAdapter")
    assert error["type"] == "RuntimeError"
    assert error["message"] == "model file missing: /nonexistent"
    assert "bad_setup.py" in error["traceback"]


def test_adapter_import_error_fails_the_start(spawn) -> None:
    error = start_failure(spawn, "--adapter", "import_boom:Anything")
    assert error["type"] == "ImportError"
    assert "boom at import" in error["message"]
    assert "import_boom.py" in error["traceback"]


def test_missing_adapter_module_fails_the_start(spawn) -> None:
    error = start_failure(spawn, "--adapter", "no_such_module_xyz:Adapter")
    assert error["type"] == "ModuleNotFoundError"
    assert "no_such_module_xyz" in error["message"]


def test_missing_adapter_class_fails_the_start(spawn) -> None:
    error = start_failure(spawn, "--adapter", "unsafe:NoSuchClass")
    assert error["type"] == "AttributeError"
    assert "NoSuchClass" in error["message"]


def test_malformed_adapter_spec_fails_the_start(spawn) -> None:
    error = start_failure(spawn, "--adapter", "just_a_module")
    assert error["type"] == "ValueError"
    assert "module:Class" in error["message"]


@pytest.mark.parametrize("preload, error_type", [
    ("{}", "ValueError"), ("not json", "json.decoder.JSONDecodeError")])
def test_invalid_preload_fails_the_start(spawn, preload: str, error_type: str) -> None:
    assert start_failure(spawn, "--preload", preload)["type"] == error_type


def test_unbindable_address_fails_the_start(spawn) -> None:
    error = start_failure(spawn, listen="unix:/nonexistent-dir-xyz/w.sock")
    assert error["type"] == "RuntimeError"
    assert "/nonexistent-dir-xyz/w.sock" in error["message"]


def test_unsafe_adapter_is_refused_in_thread_mode(spawn) -> None:
    error = start_failure(spawn, "--mode", "thread", "--adapter", "unsafe:UnsafeAdapter")
    assert error["type"] == "snakepit_worker.loader.NotThreadSafeError"
    message = error["message"]
    for part in ("unsafe:UnsafeAdapter", "not thread-safe", "ThreadSafeAdapter",
                 "thread_safe = True", "process profile"):
        assert part in message


def test_unsafe_adapter_runs_in_process_mode(spawn) -> None:
    worker = spawn("--mode", "process", "--adapter", "unsafe:UnsafeAdapter")
    assert worker.call("ping")["pid"] == worker.proc.pid


def _interpreter_without_grpc() -> Optional[str]:
    """The real executable of a Python >= 3.8 that cannot import grpc, if any."""
    names = ["python3", "python3.11", "python3.12", "python3.13", "python"]
    candidates = [shutil.which(name) for name in names]
    candidates += glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/python3"))
    probe = ("import sys; assert sys.version_info >= (3, 8); "
             "print(sys.executable, flush=True); import grpc")
    for candidate in filter(None, dict.fromkeys(candidates)):
        try:
            result = subprocess.run([candidate, "-c", probe], capture_output=True,
                                    text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode != 0 and "No module named 'grpc'" in result.stderr:
            return result.stdout.strip()
    return None


def test_interpreter_without_grpc_reports_which_one(spawn, transport) -> None:
    if transport != "grpcio":
        pytest.skip("about the grpcio transport")
    python = _interpreter_without_grpc()
    if python is None:
        pytest.skip("every Python interpreter found (PATH, ~/.pyenv) can import grpc")
    error = start_failure(spawn, python=python)
    assert error["type"] == "ModuleNotFoundError"
    assert "No module named 'grpc'" in error["message"]
    assert f"(interpreter: {python})" in error["message"]


def test_free_threaded_interpreter_without_grpc_says_so(spawn, transport,
                                                        free_threaded_python: str) -> None:
    if transport != "grpcio":
        pytest.skip("about the grpcio transport")
    error = start_failure(spawn, python=free_threaded_python)
    assert error["type"] == "ModuleNotFoundError"
    assert "No module named 'grpc'" in error["message"]
    assert f"(interpreter: {free_threaded_python})" in error["message"]
    assert "free-threaded build" in error["message"]
