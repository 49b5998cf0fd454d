"""The template process (snakepit_worker/template.py), driven as the host does:
a control socket, fork requests with descriptors attached, forked workers
that are this process's children and serve on either transport."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator, Optional

import grpc
import pytest

import harness
from snakepit_worker import fork_safety
from snakepit_worker._proto import worker_pb2 as pb
from snakepit_worker._proto import worker_pb2_grpc

_HEADER = struct.Struct(">I")


class Template:
    """A template process started as the host starts one."""

    def __init__(self, pythonpath: str, transport: str, adapter: str) -> None:
        self.host_end, template_end = socket.socketpair()
        ready_r, ready_w = os.pipe()
        env = dict(os.environ, PYTHONPATH=f"{harness.ADAPTERS_DIR}:{pythonpath}",
                   OPENBLAS_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "snakepit_worker.template", "--control-fd",
             str(template_end.fileno()), "--ready-fd", str(ready_w), "--transport", transport,
             "--adapter", adapter, "--worker-id", "t-template"],
            pass_fds=(template_end.fileno(), ready_w), env=env)
        template_end.close()
        os.close(ready_w)
        self.record = harness.read_record(ready_r, harness.START_TIMEOUT_S)
        os.close(ready_r)
        self.workdir = Path(tempfile.mkdtemp(prefix="snakepit-template-test-"))

    def fork(self, name: str, transport: str) -> tuple[dict[str, Any], Optional[dict[str, Any]], int]:
        """Asks for a worker: (the template's reply, the worker's readiness
        record or None, the write end of its lifeline)."""
        output_r, output_w = os.pipe()
        lifeline_r, lifeline_w = os.pipe()
        ready_r, ready_w = os.pipe()
        stacks_r, stacks_w = os.pipe()
        argv = ["--listen", f"unix:{self.workdir / name}.sock", "--lifeline-fd", "3",
                "--ready-fd", "4", "--stacks-fd", "5", "--worker-id", name,
                "--transport", transport]
        body = json.dumps({"argv": argv, "token": None}).encode()
        socket.send_fds(self.host_end, [_HEADER.pack(len(body)) + body],
                        [output_w, lifeline_r, ready_w, stacks_w])
        for fd in (output_w, lifeline_r, ready_w, stacks_w):
            os.close(fd)
        header = self.host_end.recv(_HEADER.size)
        (length,) = _HEADER.unpack(header)
        reply: dict[str, Any] = json.loads(self.host_end.recv(length))
        record = harness.read_record(ready_r, harness.START_TIMEOUT_S) if "pid" in reply else None
        # Drained by a thread, so that the worker never blocks on a full pipe.
        threading.Thread(target=lambda: os.read(output_r, 1 << 20) and None, daemon=True).start()
        for fd in (ready_r, stacks_r):
            os.close(fd)
        return reply, record, lifeline_w

    def close(self) -> None:
        self.host_end.close()
        self.proc.wait(timeout=10)


@pytest.fixture
def template_for(pytestconfig: pytest.Config) -> Iterator[Any]:
    made: list[Template] = []

    def make(transport: str = "auto", adapter: str = harness.FIXTURE_ADAPTER) -> Template:
        t = Template(pytestconfig.snakepit_pythonpath, transport, adapter)  # type: ignore[attr-defined]
        made.append(t)
        return t
    yield make
    for t in made:
        if t.proc.poll() is None:
            t.proc.kill()
            t.proc.wait(timeout=10)


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def test_forked_worker_serves_and_is_our_child(template_for: Any, transport: str) -> None:
    t = template_for(transport)
    assert t.record["ok"] and t.record["forkable"], t.record
    reply, record, lifeline_w = t.fork("w1", transport)
    assert "pid" in reply, reply
    assert record is not None and record["ok"], record
    pid = reply["pid"]
    assert record["pid"] == pid
    assert _parent_of(pid) == os.getpid(), "clone(CLONE_PARENT): the host is the parent"
    with grpc.insecure_channel(record["listen"]) as channel:
        stub = worker_pb2_grpc.WorkerStub(channel)
        response = stub.Execute(pb.ExecuteRequest(command="ping", args_json=""), timeout=10)
        assert json.loads(response.result.json)["pid"] == pid
    os.close(lifeline_w)  # the host is "gone": the worker exits, and we reap it
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert t.proc.poll() is None, "the template lives on"
    t.close()
    assert t.proc.returncode == 0, "the template exits when the host closes its socket"


def test_template_refuses_an_adapter_that_started_a_thread(template_for: Any) -> None:
    t = template_for(adapter="thread_at_import:ThreadAtImport")
    assert t.record["ok"] and not t.record["forkable"], t.record
    assert any("2 threads are running" in h for h in t.record["hazards"]), t.record
    reply, record, lifeline_w = t.fork("w1", "auto")
    os.close(lifeline_w)
    assert reply == {"error": "this template is not forkable"}
    assert record is None
    t.close()


def test_template_reports_an_adapter_that_does_not_import(template_for: Any) -> None:
    t = template_for(adapter="no_such_module:Nothing")
    assert not t.record["ok"]
    assert t.record["error"]["type"] == "ModuleNotFoundError", t.record
    assert t.proc.wait(timeout=10) == 3


def test_hazards_name_threads_and_an_adapter_that_refuses() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert any("threads are running" in h for h in fork_safety.hazards())
    finally:
        stop.set()
        thread.join()

    class Refuses:
        fork_safe = False
    assert any("declares fork_safe = False" in h for h in fork_safety.hazards(Refuses))
