"""The token check and TLS (docs/worker-protocol.md, "Authentication and TLS")."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import grpc
import pytest

from harness import FIXTURE_ADAPTER
from snakepit_worker._proto import worker_pb2 as pb
from snakepit_worker._proto import worker_pb2_grpc

TOKEN = "0123abcd" * 8
GOOD = [("snakepit-token", TOKEN)]
EXIT_STARTUP_FAILED = 3


def rpcs(stub: worker_pb2_grpc.WorkerStub) -> list:
    return [(stub.Health, pb.HealthRequest()), (stub.Stats, pb.StatsRequest()),
            (stub.Execute, pb.ExecuteRequest(command="ping", args_json="{}"))]


def test_every_rpc_needs_the_token_from_the_environment(spawn) -> None:
    worker = spawn(env={"SNAKEPIT_WORKER_TOKEN": TOKEN})
    assert worker.record["token_required"] is True
    for method, request in rpcs(worker.stub):
        for metadata in ([], [("snakepit-token", TOKEN[:-1])], [("snakepit-token", TOKEN + "0")],
                         [("snakepit-token", "x")], GOOD + GOOD):
            with pytest.raises(grpc.RpcError) as refused:
                method(request, metadata=metadata, timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, metadata
        method(request, metadata=GOOD, timeout=5)
    # Refused Executes never reached the adapter.
    assert worker.stub.Stats(pb.StatsRequest(), metadata=GOOD, timeout=5).requests_served == 1


def test_the_token_leaves_the_environment_at_start(spawn) -> None:
    worker = spawn("--adapter", FIXTURE_ADAPTER, env={"SNAKEPIT_WORKER_TOKEN": TOKEN})
    environ = Path(f"/proc/{worker.proc.pid}/environ").read_bytes()
    assert TOKEN.encode() not in environ
    assert b"SNAKEPIT_WORKER_TOKEN=\0" in environ
    request = worker.request("getenv", {"name": "SNAKEPIT_WORKER_TOKEN"})
    response = worker.stub.Execute(request, metadata=GOOD, timeout=5)
    assert json.loads(response.result.json) is None


def test_without_a_token_nothing_is_checked(spawn) -> None:
    worker = spawn()
    assert worker.record["token_required"] is False
    assert worker.record["tls"] is False
    assert worker.call("ping")["pong"] is True


def test_tls_cert_without_key_fails_the_start(spawn, tmp_path: Path) -> None:
    worker = spawn("--tls-cert", str(tmp_path / "cert.pem"), listen="127.0.0.1:0")
    assert worker.wait() == EXIT_STARTUP_FAILED
    assert worker.record["ok"] is False
    assert "--tls-cert and --tls-key must be given together" in worker.record["error"]["message"]


def test_tls_serves_tls_only(spawn, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=w",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    worker = spawn("--tls-cert", str(cert), "--tls-key", str(key), listen="127.0.0.1:0",
                   env={"SNAKEPIT_WORKER_TOKEN": TOKEN})
    assert worker.record["ok"] is True, worker.record
    assert worker.record["tls"] is True
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    with grpc.secure_channel(worker.record["listen"], credentials) as channel:
        stub = worker_pb2_grpc.WorkerStub(channel)
        assert stub.Health(pb.HealthRequest(), metadata=GOOD, timeout=5).state == \
            pb.HealthResponse.SERVING
    with pytest.raises(grpc.RpcError) as plaintext:
        worker.stub.Health(pb.HealthRequest(), metadata=GOOD, timeout=5)
    assert plaintext.value.code() == grpc.StatusCode.UNAVAILABLE
