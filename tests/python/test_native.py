"""The native transport (snakepit_worker._native): what only it does.

The rest of the suite runs against it too (conftest's ``transport``). Here:
how --transport selects it, that it loads neither grpc nor Python protobuf,
handler threads that overlap (and, on a free-threaded interpreter, run in
parallel), the token and TLS options of its C++ API (test_auth.py has the
worker's, on both transports), and failures of the glue between C++ and
Python becoming EXCEPTION replies, never crashes, and Health, BUSY and
Stats answered at once while a handler holds the GIL.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import grpc
import pytest

import harness
from conftest import TRANSPORTS, WORKER_PYTHON
from harness import Worker, pb
from snakepit_worker._proto import worker_pb2_grpc

pytestmark = pytest.mark.skipif("native" not in TRANSPORTS,
                                reason="SNAKEPIT_TEST_TRANSPORTS leaves out native")

HOST = Path(__file__).resolve().parent / "native_host.py"
Kind = pb.Error.Kind


@pytest.fixture(scope="module")
def transport() -> str:
    return "native"


@pytest.fixture(scope="module", autouse=True)
def native_built(pytestconfig: pytest.Config) -> None:
    """Skips the module when _native was not built for the workers' interpreter."""
    env = dict(os.environ, PYTHONPATH=pytestconfig.snakepit_pythonpath)
    result = subprocess.run([WORKER_PYTHON, "-c", "import snakepit_worker._native"], env=env,
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        why = f"snakepit_worker._native does not import in {WORKER_PYTHON}: " \
              f"{result.stderr.strip().splitlines()[-1]}"
        if os.environ.get("SNAKEPIT_TEST_REQUIRE_NATIVE"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture
def package_without_native(pytestconfig: pytest.Config) -> Iterator[str]:
    """A copy of the worker package without its _native modules."""
    root = tempfile.mkdtemp(prefix="spw-pkg-")
    shutil.copytree(Path(pytestconfig.snakepit_pythonpath) / "snakepit_worker",
                    Path(root) / "snakepit_worker",
                    ignore=shutil.ignore_patterns("_native.*", "__pycache__"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_auto_picks_native_and_loads_no_grpc(spawn) -> None:
    worker = spawn("--transport", "auto", "--mode", "thread", "--adapter",
                   "modules_probe:ModulesProbe")
    assert worker.record["transport"] == "native"
    assert worker.call("loaded", {"prefixes": ["grpc", "google"]}) == []
    assert "grpcio" not in worker.record["loaded_libraries"]


def test_forced_native_that_does_not_import_fails_the_start(package_without_native) -> None:
    spawner = harness.Spawner(package_without_native, "native", WORKER_PYTHON)
    try:
        worker = spawner.spawn()
        assert worker.wait() == 3, worker.stderr()
        error = worker.record["error"]
        assert error["type"] in ("ImportError", "ModuleNotFoundError")
        message = error["message"]
        for part in ("native transport", "snakepit_worker._native", "--transport grpcio",
                     f"interpreter {harness.Interpreter.probe(WORKER_PYTHON).executable}"):
            assert part in message, message
    finally:
        spawner.cleanup()


def test_auto_without_native_falls_back_to_grpcio(package_without_native, worker_python) -> None:
    if worker_python.free_threaded:
        pytest.skip("grpcio does not exist for a free-threaded interpreter")
    spawner = harness.Spawner(package_without_native, "auto", WORKER_PYTHON)
    try:
        worker = spawner.spawn()
        assert worker.record["transport"] == "grpcio", worker.record
        assert worker.call("ping")["pong"] is True
    finally:
        spawner.cleanup()


def test_thread_mode_runs_python_handlers_concurrently(spawn) -> None:
    worker = spawn("--mode", "thread", "--max-workers", "3")
    futures = [worker.execute_async("sleep", {"ms": 300}) for _ in range(3)]
    timings = [f.result().timing for f in futures]
    assert max(t.started_unix_ns for t in timings) < min(t.finished_unix_ns for t in timings)
    assert len({t.thread_id for t in timings}) == 3


def _span_s(timings: list[pb.Timing]) -> float:
    return (max(t.finished_unix_ns for t in timings) - min(t.started_unix_ns for t in timings)) / 1e9


def _two_processes_slowdown() -> float:
    """How much longer two CPU-bound processes take than one, now: about 1
    when this test can have 2 CPUs, 2 when it gets only one (a busy
    machine, or a CPU quota)."""
    loop = "for i in range(10_000_000): pass"

    def wall(copies: int) -> float:
        started = time.monotonic()
        procs = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(copies)]
        for p in procs:
            p.wait(timeout=60)
        return time.monotonic() - started
    return min(wall(2) for _ in range(2)) / min(wall(1) for _ in range(2))


def test_cpu_bound_calls_run_in_parallel_on_a_free_threaded_interpreter(spawn, worker_python) -> None:
    if not worker_python.free_threaded:
        pytest.skip(f"the workers' interpreter {worker_python.executable} is not free-threaded "
                    f"(set SNAKEPIT_TEST_WORKER_PYTHON)")
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs 2 CPUs")
    slowdown = _two_processes_slowdown()
    if slowdown > 1.4:
        pytest.skip(f"2 CPUs are not available now: two CPU-bound processes take {slowdown:.1f}x "
                    f"as long as one")
    worker = spawn("--mode", "thread", "--max-workers", "2")
    args = {"n": 200_000}
    while _span_s([worker.execute("cpu_loop", args).timing]) < 0.25:
        args["n"] *= 2
    # Other work on the machine (ctest runs tests side by side) can take a
    # CPU away between the check above and the measurement: a few attempts,
    # and a failure only if 2 CPUs are still there afterwards.
    attempts = []
    for _ in range(4):
        one = min(_span_s([worker.execute("cpu_loop", args).timing]) for _ in range(3))
        two = min(_span_s([f.result().timing for f in
                           [worker.execute_async("cpu_loop", args) for _ in range(2)]])
                  for _ in range(3))
        attempts.append(f"2 parallel calls took {two:.3f} s, one alone {one:.3f} s")
        if two < 1.6 * one:
            break
    else:
        slowdown = _two_processes_slowdown()
        if slowdown > 1.4:
            pytest.skip(f"2 CPUs were not available during the measurement ({'; '.join(attempts)}): "
                        f"two CPU-bound processes now take {slowdown:.1f}x as long as one")
        pytest.fail("the 2 threads did not run in parallel: " + "; ".join(attempts))
    assert worker.record["gil_enabled"] is False


# --- The C++ API's token and TLS options, through native_host.py ---------

class Host:
    """A native_host.py process and a grpcio client for it."""

    def __init__(self, pythonpath: str, *flags: str, listen: str, tmp: Path,
                 credentials: Optional[grpc.ChannelCredentials] = None) -> None:
        env = dict(os.environ, PYTHONPATH=f"{pythonpath}{os.pathsep}{HOST.parent}")
        self.proc = subprocess.Popen([WORKER_PYTHON, str(HOST), "--listen", listen, *flags],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(tmp / "host.stderr", "wb"), cwd=tmp)
        readable = select.select([self.proc.stdout], [], [], harness.START_TIMEOUT_S)[0]
        line = self.proc.stdout.readline().decode().strip() if readable else ""
        assert line, (tmp / "host.stderr").read_text()
        self.listen = line
        options = [("grpc.ssl_target_name_override", "localhost")]
        self.channel = grpc.secure_channel(line, credentials, options) if credentials \
            else grpc.insecure_channel(line)
        self.stub = worker_pb2_grpc.WorkerStub(self.channel)

    def close(self) -> None:
        self.channel.close()
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


@pytest.fixture
def host(pytestconfig: pytest.Config, tmp_path: Path) -> Iterator[Callable[..., Host]]:
    """``host(*flags, listen=, credentials=)`` -> a started Host."""
    started: list[Host] = []

    def start(*flags: str, listen: Optional[str] = None, **kwargs: Any) -> Host:
        started.append(Host(pytestconfig.snakepit_pythonpath, *flags,
                            listen=listen or f"unix:{tmp_path / 'h.sock'}", tmp=tmp_path, **kwargs))
        return started[-1]
    yield start
    for h in started:
        h.close()


PING = pb.ExecuteRequest(command="ping", call_id=7)


def test_token_is_required_on_every_rpc(host) -> None:
    h = host("--token", "s3cret-token")
    for rpc, request in ((h.stub.Execute, PING), (h.stub.Health, pb.HealthRequest()),
                         (h.stub.Stats, pb.StatsRequest())):
        for metadata in ((), (("snakepit-token", "wrong"),), (("snakepit-token", "s3cret"),)):
            with pytest.raises(grpc.RpcError) as caught:
                rpc(request, metadata=metadata, timeout=5)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert rpc(request, metadata=(("snakepit-token", "s3cret-token"),), timeout=5)
    stats = h.stub.Stats(pb.StatsRequest(), metadata=(("snakepit-token", "s3cret-token"),), timeout=5)
    assert stats.requests_served == 1  # only the authorised Execute ran Python


def test_tls_with_a_certificate_and_key(host, tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    h = host("--tls-cert", str(cert), "--tls-key", str(key), listen="127.0.0.1:0",
             credentials=credentials)
    assert h.listen.startswith("127.0.0.1:") and not h.listen.endswith(":0")
    assert h.stub.Execute(PING, timeout=5).result.json.startswith('{"pong": true')
    with grpc.insecure_channel(h.listen) as plain:
        with pytest.raises(grpc.RpcError) as caught:
            worker_pb2_grpc.WorkerStub(plain).Health(pb.HealthRequest(), timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_unreadable_tls_file_fails_the_start(pytestconfig: pytest.Config, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=f"{pytestconfig.snakepit_pythonpath}{os.pathsep}{HOST.parent}")
    result = subprocess.run([WORKER_PYTHON, str(HOST), "--listen", f"unix:{tmp_path / 'h.sock'}",
                             "--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"],
                            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0
    assert "FileNotFoundError" in result.stderr and "/nonexistent/cert.pem" in result.stderr


@pytest.mark.parametrize("mode, error_type, text, traceback", [
    ("raise", "RuntimeError", "glue failure on purpose", 'native_host.py", line'),
    # Raised by C++ reading the Outcome: no Python frame to show.
    ("bad_outcome", "AttributeError", "started_ns", "AttributeError: 'object' object"),
])
def test_glue_failures_become_exception_replies(host, mode: str, error_type: str, text: str,
                                                traceback: str) -> None:
    h = host("--execute", mode)
    for _ in range(2):  # and the server lives on
        response = h.stub.Execute(PING, timeout=5)
        assert response.WhichOneof("outcome") == "error"
        assert response.call_id == 7
        error = response.error
        assert (error.kind, error.type) == (Kind.EXCEPTION, error_type)
        assert text in error.message
        assert traceback in error.traceback
        assert response.timing.started_unix_ns > 0 and response.timing.thread_id != 0
    assert h.stub.Health(pb.HealthRequest(), timeout=5).state == pb.HealthResponse.SERVING


def test_stats_failure_is_an_rpc_error_naming_it(host) -> None:
    h = host("--stats", "raise")
    with pytest.raises(grpc.RpcError) as caught:
        h.stub.Stats(pb.StatsRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert "KeyError" in caught.value.details() and "on purpose" in caught.value.details()


def test_while_draining_health_says_stopping_and_new_calls_are_refused(spawn) -> None:
    worker = spawn("--grace", "5")
    call = worker.execute_async("sleep", {"ms": 1500})
    worker.wait_in_flight(1)
    worker.proc.send_signal(signal.SIGTERM)
    harness.wait_until(lambda: worker.health().state == pb.HealthResponse.STOPPING,
                       what="Health answering STOPPING")
    with pytest.raises(grpc.RpcError) as caught:
        worker.execute("ping")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert call.result().WhichOneof("outcome") == "result"
    assert worker.wait(timeout=5.0) == 0


def test_worker_exits_when_its_lifeline_closes_while_a_handler_runs(spawn) -> None:
    worker = spawn("--mode", "thread", "--max-workers", "2")
    calls = [worker.execute_async("cpu_loop", {"n": 10**10}, timeout=30) for _ in range(2)]
    worker.wait_in_flight(2)
    closed = time.monotonic()
    worker.close_lifeline()
    assert worker.wait(timeout=3.0) == 0
    assert time.monotonic() - closed < 3.0
    for call in calls:
        with pytest.raises(grpc.RpcError):
            call.result()


def test_health_while_every_handler_holds_the_gil(spawn) -> None:
    worker: Worker = spawn("--mode", "thread", "--max-workers", "2")
    calls = [worker.execute_async("cpu_loop", {"n": 3_000_000}, timeout=30) for _ in range(2)]
    worker.wait_in_flight(2)
    assert worker.health(timeout=2.0).state == pb.HealthResponse.SERVING
    assert worker.stats().in_flight == 2
    assert all(c.result().WhichOneof("outcome") == "result" for c in calls)


# --- The control path while a handler holds the GIL ----------------------

# An adapter whose command holds the GIL for seconds in one C call: the sum
# of a range of small ints runs in C (builtin sum's int fast path), and the
# interpreter never gets to drop the GIL inside it, unlike a Python loop,
# which yields it every switch interval (5 ms).
GIL_HOLDER = '''
import time
from snakepit_worker import Adapter, command


class GilHolder(Adapter):
    @command
    def hold_gil(self, seconds: float) -> dict:
        """Holds the GIL about ``seconds`` -> {"start", "end"} (time.time())."""
        n = 1_000_000
        per_item = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            sum(range(n))
            per_item = min(per_item, (time.perf_counter() - started) / n)
        start = time.time()
        sum(range(int(seconds / per_item)))
        return {"start": start, "end": time.time()}
'''
CONTROL_BOUND_S = 0.05  # the bound of issue 13: answered within 50 ms
PROBES = 5
# Every probe fits in the hold even if each one times out (the old code
# waited for the GIL): 0.5 + 3 * PROBES * PROBE_TIMEOUT_S < HOLD_S.
PROBE_TIMEOUT_S = 0.2
HOLD_S = 5.0


def _timed(rpc: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds the RPC took, its reply); inf and the error past its timeout."""
    started = time.monotonic()
    try:
        reply = rpc()
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise
        return float("inf"), e
    return time.monotonic() - started, reply


def test_health_busy_and_stats_answer_while_a_handler_holds_the_gil(
        spawn, pytestconfig: pytest.Config, tmp_path: Path) -> None:
    (tmp_path / "gil_holder.py").write_text(GIL_HOLDER)
    path = os.pathsep.join([pytestconfig.snakepit_pythonpath, str(harness.ADAPTERS_DIR), str(tmp_path)])
    worker: Worker = spawn("--adapter", "gil_holder:GilHolder", env={"PYTHONPATH": path})
    assert worker.record["ok"], worker.record
    assert worker.health().state == pb.HealthResponse.SERVING  # the channel is connected
    before = worker.stats()
    hold = worker.execute_async("hold_gil", {"seconds": HOLD_S}, timeout=60)
    time.sleep(0.5)  # calibrated, and inside the long sum
    probes_started = time.time()
    health, busy, stats = [], [], []
    for i in range(PROBES):
        health.append(_timed(lambda: worker.health(timeout=PROBE_TIMEOUT_S)))
        busy.append(_timed(lambda i=i: worker.execute("ping", call_id=100 + i, timeout=PROBE_TIMEOUT_S)))
        stats.append(_timed(lambda: worker.stub.Stats(pb.StatsRequest(), timeout=PROBE_TIMEOUT_S)))
        time.sleep(0.02)
    probes_ended = time.time()
    held = json.loads(hold.result().result.json)
    latencies = {name: [round(t * 1000, 1) for t, _ in timed]
                 for name, timed in (("health", health), ("busy", busy), ("stats", stats))}
    for timed in (health, busy, stats):  # the median: a busy machine may delay one probe
        assert statistics.median(t for t, _ in timed) < CONTROL_BOUND_S, f"latencies in ms: {latencies}"
    # Meaningful only if every probe ran while the GIL was held.
    assert held["start"] < probes_started and probes_ended < held["end"], (
        held, probes_started, probes_ended)
    for i, (_, reply) in enumerate(busy):
        assert reply.WhichOneof("outcome") == "error" and reply.error.kind == Kind.BUSY, reply
        assert reply.call_id == 100 + i
        assert reply.error.message == f"all 1 execution slots of worker pid {worker.proc.pid} are busy"
        assert 0 < reply.timing.started_unix_ns == reply.timing.finished_unix_ns
        assert reply.timing.thread_id != 0 and reply.timing.cpu_ns == 0
    replies = [reply for _, reply in stats]
    assert all(s.in_flight == 1 for s in replies)
    uptimes = [s.uptime_s for s in replies]  # live, though the GIL is held
    assert uptimes == sorted(uptimes) and uptimes[-1] - uptimes[0] >= 0.08, uptimes
    for s in replies:  # the Python-derived fields, from a snapshot
        assert (s.pid, s.mode, s.max_concurrency, s.python_version, s.adapter) == \
               (before.pid, before.mode, before.max_concurrency, before.python_version, before.adapter)
        assert json.loads(s.diagnostics_json)["thread_safety_checks"] is False
    after = worker.stats()
    assert (after.in_flight, after.requests_served, after.requests_failed) == \
           (0, before.requests_served + PROBES + 1, before.requests_failed + PROBES)
