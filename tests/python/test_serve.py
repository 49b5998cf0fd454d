"""``python -m snakepit_worker serve`` (serve.py, docs/remote.md): the worker
as a standalone server, its refusals, grpc.health.v1 beside the Worker
service on both transports, and the SIGTERM drain."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import grpc
import pytest

from snakepit_worker import health
from snakepit_worker._proto import worker_pb2 as pb
from snakepit_worker._proto import worker_pb2_grpc

TOKEN = "serve-test-token"
GOOD = (("snakepit-token", TOKEN),)
CHECK = "/grpc.health.v1.Health/Check"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=w",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


def _env(pytestconfig: pytest.Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEPIT_")}
    env["PYTHONPATH"] = pytestconfig.snakepit_pythonpath  # type: ignore[attr-defined]
    return env


class Served:
    """A serve process and its readiness record (its first stdout line)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "snakepit_worker", "serve", *args],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        self.record = json.loads(line) if line else None

    def channel(self, cert: Path) -> grpc.Channel:
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        return grpc.secure_channel(self.record["listen"], credentials)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)


@pytest.fixture
def serve(pytestconfig: pytest.Config) -> Iterator:
    started: list[Served] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Served:
        served = Served(list(args), {**_env(pytestconfig), **(env or {})})
        started.append(served)
        return served
    yield start
    for served in started:
        served.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _refusal(served: Served) -> str:
    _, err = served.proc.communicate(timeout=30)
    assert served.proc.returncode == 2, err
    return err


def test_serve_refuses_to_run_without_a_token(serve, tls) -> None:
    cert, key = tls
    served = serve("--listen", "127.0.0.1:0", "--tls-cert", str(cert), "--tls-key", str(key))
    assert "--token-file is required" in _refusal(served)


def test_serve_refuses_plaintext_off_loopback(serve, token_file) -> None:
    served = serve("--listen", "0.0.0.0:0", "--token-file", str(token_file))
    assert "calls and the token would cross the network in plaintext" in _refusal(served)


def test_serve_takes_its_flags_from_the_environment(serve, token_file) -> None:
    served = serve(env={"SNAKEPIT_LISTEN": "10.0.0.1:1", "SNAKEPIT_TOKEN_FILE": str(token_file)})
    assert "--listen 10.0.0.1:1 is not a loopback address" in _refusal(served)


def test_serve_refuses_mutual_tls_on_native(serve, tls, token_file) -> None:
    cert, key = tls
    served = serve("--listen", "127.0.0.1:0", "--tls-cert", str(cert), "--tls-key", str(key),
                   "--tls-client-ca", str(cert), "--token-file", str(token_file),
                   "--transport", "native")
    assert "grpcio transport only" in _refusal(served)


def test_health_answers_without_the_token_and_drains(serve, tls, token_file, transport) -> None:
    cert, key = tls
    health_port = _free_port()
    served = serve("--listen", "127.0.0.1:0", "--tls-cert", str(cert), "--tls-key", str(key),
                   "--token-file", str(token_file), "--transport", transport,
                   "--grace", "5", "--drain-notice", "0.5",
                   "--health-listen", f"127.0.0.1:{health_port}")
    assert served.record is not None and served.record["ok"], served.record
    assert served.record["tls"] and served.record["token_required"]
    probe_channel = grpc.insecure_channel(f"127.0.0.1:{health_port}")
    probe = probe_channel.unary_unary(CHECK)
    assert probe(b"", timeout=5) == health.encode_response(health.SERVING)
    with served.channel(cert) as channel:
        check = channel.unary_unary(CHECK)
        # No token: a Kubernetes probe carries none.
        assert check(b"", timeout=5) == health.encode_response(health.SERVING)
        stub = worker_pb2_grpc.WorkerStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Stats(pb.StatsRequest(), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # A call in flight when SIGTERM comes finishes; health turns NOT_SERVING first.
        args = json.dumps({"ms": 1500})
        call = stub.Execute.future(pb.ExecuteRequest(command="sleep", args_json=args),
                                   metadata=GOOD, timeout=10)
        time.sleep(0.3)
        served.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        status = b""
        while time.monotonic() < deadline:
            status = check(b"", timeout=5)
            if status != health.encode_response(health.SERVING):
                break
            time.sleep(0.05)
        assert status == health.encode_response(health.NOT_SERVING)
        assert probe(b"", timeout=5) == health.encode_response(health.NOT_SERVING)
        probe_channel.close()
        reply = call.result(timeout=10)
        assert reply.WhichOneof("outcome") == "result", reply
    served.proc.wait(timeout=15)
    assert served.proc.returncode == 0


def test_health_request_codec() -> None:
    assert health.decode_request(b"") == ""
    assert health.decode_request(b"\n\x12snakepit.v1.Worker") == "snakepit.v1.Worker"
    assert health.encode_response(health.NOT_SERVING) == b"\x08\x02"
    with pytest.raises(ValueError):
        health.decode_request(b"\n\x09abc")
