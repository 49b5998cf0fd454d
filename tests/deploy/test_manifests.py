"""deploy/kubernetes/ and deploy/worker.Dockerfile agree with the worker's
command line and the library (issue 19, docs/remote.md): the manifests
parse; the Deployment's args are flags ``serve`` accepts; the ports, the
Service, the probes (gRPC, on the health-only port), the secret mounts, the
grace period, the PDB's and the HPA's targets, the HPA's metric (the
library's own exposition name) and the pool config all fit together.
Needs python3-yaml and the worker package's sources (PYTHONPATH=python)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from snakepit_worker import serve

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "kubernetes"


def _load(name: str) -> list[dict[str, Any]]:
    with open(DEPLOY / name, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def _one(name: str, kind: str) -> dict[str, Any]:
    docs = [d for d in _load(name) if d["kind"] == kind]
    assert len(docs) == 1, f"{name}: expected one {kind}"
    return docs[0]


@pytest.fixture(scope="module")
def deployment() -> dict[str, Any]:
    return _one("worker-deployment.yaml", "Deployment")


@pytest.fixture(scope="module")
def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


@pytest.fixture(scope="module")
def flags(container: dict[str, Any]) -> Any:
    """The container's args as serve parses them (a bad flag fails here)."""
    assert container["command"] == ["python3", "-m", "snakepit_worker", "serve"]
    return serve.build_parser().parse_args(container["args"])


def _port(listen: str) -> int:
    return int(listen.rsplit(":", 1)[1])


def _container_port(container: dict[str, Any], name: str) -> int:
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert name in ports, f"no container port named {name}: {ports}"
    return ports[name]


def test_every_manifest_parses_and_kustomization_lists_them() -> None:
    listed = _one("kustomization.yaml", "Kustomization")["resources"]
    files = sorted(p.name for p in DEPLOY.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == files
    for name in files:
        for doc in _load(name):
            assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]


def test_ports_agree_with_the_flags(container, flags) -> None:
    assert _container_port(container, "grpc") == _port(flags.listen)
    assert _container_port(container, "health") == _port(flags.health_listen)
    service = _one("service.yaml", "Service")
    assert service["spec"]["clusterIP"] == "None", "the Service must be headless"
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] in ("grpc", _port(flags.listen))
    assert port["port"] == _port(flags.listen)


def test_probes_are_grpc_on_the_health_service(container, flags) -> None:
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        spec = container[probe]
        assert "grpc" in spec, f"{probe} must be a gRPC probe (grpc.health.v1)"
        assert spec["grpc"]["port"] == _port(flags.health_listen), \
            f"{probe} must target the plaintext health port (Kubernetes' probes speak no TLS)"
        # "" is the whole server; the worker also knows snakepit.v1.Worker.
        assert spec["grpc"].get("service", "") in ("", "snakepit.v1.Worker")


def test_tls_and_token_come_from_the_secret(deployment, container, flags) -> None:
    assert flags.tls_cert and flags.tls_key and flags.token_file
    secret = _one("secret.yaml", "Secret")
    keys = set(secret["stringData"])
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    mounted: dict[str, str] = {}  # file path -> secret key
    for mount in container["volumeMounts"]:
        source = volumes[mount["name"]].get("secret")
        if source is None:
            continue
        assert source["secretName"] == secret["metadata"]["name"]
        for item in source["items"]:
            assert item["key"] in keys
            mounted[f"{mount['mountPath']}/{item['path']}"] = item["key"]
    for path in (flags.tls_cert, flags.tls_key, flags.token_file):
        assert path in mounted, f"{path} is not mounted from the Secret"
    assert not any("token" in str(a).lower() and "file" not in str(a) for a in container["args"])


def test_grace_period_covers_notice_and_drain(deployment, flags) -> None:
    period = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert period > flags.grace + flags.drain_notice


def test_selectors_match_the_pods(deployment) -> None:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert _one("service.yaml", "Service")["spec"]["selector"].items() <= labels.items()
    pdb = _one("pdb.yaml", "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_autoscaler_scales_the_deployment_on_the_exported_queue_depth(deployment) -> None:
    hpa = _one("hpa.yaml", "HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    (metric,) = hpa["spec"]["metrics"]
    name = metric["external"]["metric"]["name"]
    exposition = (REPO / "src" / "diagnostics" / "prometheus.cc").read_text()
    assert f'"{name}"' in exposition or re.search(rf"\b{name}\b", exposition), \
        f"{name} is not a metric the library exports"
    assert name == "snakepit_pool_queue_depth"
    config = json.loads((DEPLOY / "pool-config.json").read_text())
    pools = {p["name"] for p in config["pools"]}
    assert metric["external"]["metric"]["selector"]["matchLabels"]["pool"] in pools


def test_pool_config_targets_the_service(flags) -> None:
    config = json.loads((DEPLOY / "pool-config.json").read_text())
    (pool,) = config["pools"]
    remote = pool["remote"]
    service = _one("service.yaml", "Service")["metadata"]["name"]
    match = re.fullmatch(r"dns:///([^.:]+)\.[^:]+:(\d+)", remote["target"])
    assert match, remote["target"]
    assert match.group(1) == service
    assert int(match.group(2)) == _port(flags.listen)
    assert remote["tls_ca"] and remote["token_file"]


def test_dockerfile_runs_serve_with_the_same_ports(flags) -> None:
    text = (REPO / "deploy" / "worker.Dockerfile").read_text()
    entry = re.search(r"^ENTRYPOINT (.*)$", text, re.M)
    assert entry and json.loads(entry.group(1)) == ["python3", "-m", "snakepit_worker", "serve"]
    cmd = json.loads(re.search(r"^CMD (.*)$", text, re.M).group(1))
    parsed = serve.build_parser().parse_args(cmd)
    assert _port(parsed.listen) == _port(flags.listen)
    assert _port(parsed.health_listen) == _port(flags.health_listen)
    exposed = {int(p) for p in shlex.split(re.search(r"^EXPOSE (.*)$", text, re.M).group(1))}
    assert exposed == {_port(flags.listen), _port(flags.health_listen)}
    assert "apt-get install" in text and "pip" not in text, "Debian packages only"
