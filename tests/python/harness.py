"""Real worker subprocesses for the tests: spawn, talk gRPC, stop, clean up.

Each worker runs ``<python> -m snakepit_worker`` with real pipes for
``--ready-fd`` and ``--lifeline-fd``, listens on a Unix socket in a private
temporary directory, and writes stdout/stderr to files there. Every wait has
a deadline. conftest.py puts the worker package on sys.path before this
module is imported.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import grpc

from snakepit_worker._proto import worker_pb2 as pb
from snakepit_worker._proto import worker_pb2_grpc

ADAPTERS_DIR = Path(__file__).resolve().parent / "adapters"
# The default adapter plus the commands only tests call (adapters/fixtures.py).
FIXTURE_ADAPTER = "fixtures:FixtureAdapter"
START_TIMEOUT_S = 20.0
CALL_TIMEOUT_S = 10.0


def read_record(fd: int, timeout: float) -> Optional[dict[str, Any]]:
    """Reads the readiness line from ``fd``; None on EOF before any byte."""
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no readiness record within {timeout} s (got {data!r})")
        if not select.select([fd], [], [], remaining)[0]:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return json.loads(data) if data else None


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0,
               what: str = "condition") -> None:
    """Polls ``predicate`` every 10 ms until true; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


class Worker:
    """One spawned worker process. ``record`` is its readiness record (None
    if it died without one). Not thread-safe; futures may be awaited from
    anywhere."""

    def __init__(self, proc: subprocess.Popen, record: Optional[dict[str, Any]],
                 lifeline_w: int, workdir: Path) -> None:
        self.proc = proc
        self.record = record
        self.workdir = workdir
        self._lifeline_w: Optional[int] = lifeline_w
        self._channel: Optional[grpc.Channel] = None
        self._stub: Optional[worker_pb2_grpc.WorkerStub] = None

    @property
    def socket_path(self) -> Path:
        return self.workdir / "w.sock"

    @property
    def stub(self) -> worker_pb2_grpc.WorkerStub:
        if self._stub is None:
            assert self.record and self.record["ok"], f"worker not ready: {self.record}"
            self._channel = grpc.insecure_channel(
                self.record["listen"],
                options=[("grpc.max_send_message_length", -1),
                         ("grpc.max_receive_message_length", -1)])
            self._stub = worker_pb2_grpc.WorkerStub(self._channel)
        return self._stub

    @staticmethod
    def request(command: str, args: Any = None, *, args_json: Optional[str] = None,
                attachments: Sequence[bytes] = (), call_id: int = 0,
                deadline_unix_ms: int = 0,
                metadata: Optional[dict[str, str]] = None) -> pb.ExecuteRequest:
        """``args`` is JSON-encoded unless ``args_json`` gives the raw text."""
        if args_json is None:
            args_json = "" if args is None else json.dumps(args)
        return pb.ExecuteRequest(command=command, args_json=args_json,
                                 attachments=list(attachments), call_id=call_id,
                                 deadline_unix_ms=deadline_unix_ms, metadata=metadata or {})

    def execute(self, command: str, args: Any = None, *, timeout: float = CALL_TIMEOUT_S,
                **fields: Any) -> pb.ExecuteResponse:
        return self.stub.Execute(self.request(command, args, **fields), timeout=timeout)

    def execute_async(self, command: str, args: Any = None, *,
                      timeout: float = CALL_TIMEOUT_S, **fields: Any) -> grpc.Future:
        return self.stub.Execute.future(self.request(command, args, **fields), timeout=timeout)

    def call(self, command: str, args: Any = None, **fields: Any) -> Any:
        """Executes and returns the decoded result; fails the test on an Error."""
        response = self.execute(command, args, **fields)
        assert response.WhichOneof("outcome") == "result", response.error
        return json.loads(response.result.json)

    def stats(self) -> pb.StatsResponse:
        return self.stub.Stats(pb.StatsRequest(), timeout=CALL_TIMEOUT_S)

    def health(self, timeout: float = CALL_TIMEOUT_S) -> pb.HealthResponse:
        return self.stub.Health(pb.HealthRequest(), timeout=timeout)

    def wait_in_flight(self, n: int, timeout: float = 5.0) -> None:
        wait_until(lambda: self.stats().in_flight == n, timeout, f"{n} call(s) in flight")

    def close_lifeline(self) -> None:
        if self._lifeline_w is not None:
            os.close(self._lifeline_w)
            self._lifeline_w = None

    def wait(self, timeout: float = 10.0) -> int:
        return self.proc.wait(timeout=timeout)

    def stderr(self) -> str:
        return (self.workdir / "stderr").read_text(errors="replace")

    def cleanup(self) -> None:
        """Closes the channel, kills the process if alive, removes the workdir."""
        if self._channel is not None:
            self._channel.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.close_lifeline()
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass(frozen=True)
class Interpreter:
    """A worker interpreter as it describes itself."""
    executable: str
    version: str
    free_threaded: bool
    has_numpy: bool  # numpy and threadpoolctl import

    @staticmethod
    def probe(python: str) -> "Interpreter":
        script = ("import importlib.util as u, json, platform, sys, sysconfig; "
                  "print(json.dumps([sys.executable, platform.python_version(), "
                  "bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
                  "all(u.find_spec(m) for m in ('numpy', 'threadpoolctl'))]))")
        out = subprocess.run([python, "-c", script], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        return Interpreter(*json.loads(out))


class Spawner:
    """Starts workers with the package at ``pythonpath`` on ``transport``
    with ``python`` (the defaults of ``spawn``) and cleans them up."""

    def __init__(self, pythonpath: str, transport: str = "auto",
                 python: str = sys.executable) -> None:
        self.pythonpath = pythonpath
        self.transport = transport
        self.python = python
        self.workers: list[Worker] = []

    def spawn(self, *flags: str, python: Optional[str] = None,
              env: Optional[dict[str, str]] = None, listen: Optional[str] = None,
              ready_fd: bool = True) -> Worker:
        """Starts a worker and waits for its readiness record (from the ready
        fd, or from stdout's first line when ``ready_fd`` is False). A
        ``--transport`` among ``flags`` overrides the spawner's."""
        workdir = Path(tempfile.mkdtemp(prefix="spw-"))
        ready_r, ready_w = os.pipe()
        lifeline_r, lifeline_w = os.pipe()
        command = [python or self.python, "-m", "snakepit_worker", "--worker-id", "test",
                   "--transport", self.transport,
                   "--listen", listen or f"unix:{workdir / 'w.sock'}",
                   "--lifeline-fd", str(lifeline_r)]
        if ready_fd:
            command += ["--ready-fd", str(ready_w)]
        full_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        full_env["PYTHONPATH"] = f"{self.pythonpath}{os.pathsep}{ADAPTERS_DIR}"
        full_env.update(env or {})
        with open(workdir / "stdout", "wb") as out, open(workdir / "stderr", "wb") as err:
            proc = subprocess.Popen(
                command + list(flags), pass_fds=(ready_w, lifeline_r), env=full_env,
                cwd=workdir, stdin=subprocess.DEVNULL, stderr=err,
                stdout=out if ready_fd else subprocess.PIPE)
        os.close(ready_w)
        os.close(lifeline_r)
        worker = Worker(proc, None, lifeline_w, workdir)
        self.workers.append(worker)
        try:
            source = ready_r if ready_fd else proc.stdout.fileno()
            worker.record = read_record(source, START_TIMEOUT_S)
        finally:
            os.close(ready_r)
        return worker

    def cleanup(self) -> None:
        for worker in self.workers:
            worker.cleanup()
        self.workers.clear()
