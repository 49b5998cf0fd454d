"""Locates (or builds) the worker package and provides worker fixtures.

``SNAKEPIT_PYTHONPATH`` names a directory holding ``snakepit_worker/`` with
its generated ``_gen`` stubs (CTest sets it to ``<build>/python``). When it
is unset, the sources in python/snakepit_worker are copied into a temporary
directory and the stubs generated there with protoc, so
``python3 -m pytest tests/python`` works from a bare checkout (without the
native transport, which only the CMake build makes).

Every test that starts workers runs once per transport:
``SNAKEPIT_TEST_TRANSPORTS`` (default "grpcio,native"; CTest runs one per
test) lists them. ``SNAKEPIT_TEST_WORKER_PYTHON`` is the workers'
interpreter (default: the one running pytest, which is also the client and
needs grpcio); CTest sets it to the free-threaded one for that run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import pytest

# The tests' grpcio client flushes a call's cancel (RST_STREAM) only when
# something polls its channel; between calls nothing does but grpc's backup
# poller, every 5 s by default. A test that cancels a stream and waits for
# the worker to see it then waited up to 5 s, and failed at its 5 s limit
# about one run in ten: the client, not the worker, was late. Set before
# grpc is first imported (harness.py), which reads it once.
os.environ.setdefault("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100")

if TYPE_CHECKING:
    import harness

REPO = Path(__file__).resolve().parents[2]
GRPC_PYTHON_PLUGIN = "/usr/bin/grpc_python_plugin"
TRANSPORTS = [t for t in os.environ.get("SNAKEPIT_TEST_TRANSPORTS", "grpcio,native").split(",") if t]
WORKER_PYTHON = os.environ.get("SNAKEPIT_TEST_WORKER_PYTHON") or sys.executable

_built_dir: list[str] = []


def _build_package() -> str:
    """Copies the package and generates its stubs; returns the directory."""
    protoc = shutil.which("protoc")
    if protoc is None or not os.path.exists(GRPC_PYTHON_PLUGIN):
        raise pytest.UsageError(
            "SNAKEPIT_PYTHONPATH is unset and protoc or grpc_python_plugin is missing "
            "(apt-get install protobuf-compiler protobuf-compiler-grpc)")
    root = tempfile.mkdtemp(prefix="snakepit-pytest-")
    _built_dir.append(root)
    package = Path(root) / "snakepit_worker"
    shutil.copytree(REPO / "python" / "snakepit_worker", package,
                    ignore=shutil.ignore_patterns("__pycache__", "_gen"))
    (package / "_gen").mkdir()
    subprocess.run([protoc, "-I", str(REPO / "proto"), f"--python_out={package / '_gen'}",
                    f"--grpc_python_out={package / '_gen'}",
                    f"--plugin=protoc-gen-grpc_python={GRPC_PYTHON_PLUGIN}",
                    str(REPO / "proto" / "snakepit" / "v1" / "worker.proto")],
                   check=True)
    return root


def pytest_configure(config: pytest.Config) -> None:
    pythonpath = os.environ.get("SNAKEPIT_PYTHONPATH")
    if pythonpath:
        stubs = Path(pythonpath) / "snakepit_worker" / "_gen" / "snakepit" / "v1"
        if not (stubs / "worker_pb2_grpc.py").exists():
            raise pytest.UsageError(f"SNAKEPIT_PYTHONPATH={pythonpath}: no generated "
                                    f"stubs at {stubs}")
    else:
        pythonpath = _build_package()
    config.snakepit_pythonpath = pythonpath  # type: ignore[attr-defined]
    sys.path.insert(0, pythonpath)


def pytest_unconfigure(config: pytest.Config) -> None:
    for root in _built_dir:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module", params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """The ``--transport`` of the workers that ``spawn`` and ``showcase`` start."""
    return request.param


@pytest.fixture(scope="session")
def worker_python() -> "harness.Interpreter":
    """What the workers' interpreter is (version, free-threaded or not)."""
    import harness
    return harness.Interpreter.probe(WORKER_PYTHON)


@pytest.fixture
def spawn(pytestconfig: pytest.Config, transport: str) -> Iterator[Callable[..., "harness.Worker"]]:
    """``spawn(*flags, python=, env=, listen=, ready_fd=)`` -> a started Worker
    on ``transport`` (flags may override it); every worker is killed and its
    directory removed after the test."""
    import harness
    spawner = harness.Spawner(pytestconfig.snakepit_pythonpath, transport, WORKER_PYTHON)
    yield spawner.spawn
    spawner.cleanup()


def _module_worker(pytestconfig: pytest.Config, transport: str,
                   *flags: str) -> Iterator["harness.Worker"]:
    import harness
    spawner = harness.Spawner(pytestconfig.snakepit_pythonpath, transport, WORKER_PYTHON)
    worker = spawner.spawn(*flags)
    assert worker.record["ok"], worker.record
    yield worker
    spawner.cleanup()


@pytest.fixture(scope="module")
def showcase(pytestconfig: pytest.Config, transport: str) -> Iterator["harness.Worker"]:
    """One process-mode worker of the default adapter (ShowcaseAdapter)
    shared by a test module."""
    yield from _module_worker(pytestconfig, transport)


@pytest.fixture(scope="module")
def fixture_worker(pytestconfig: pytest.Config, transport: str) -> Iterator["harness.Worker"]:
    """One process-mode worker of the test adapter (adapters/fixtures.py:
    the default adapter plus the commands only tests call) shared by a test
    module."""
    import harness
    yield from _module_worker(pytestconfig, transport, "--adapter", harness.FIXTURE_ADAPTER)


@pytest.fixture
def free_threaded_python() -> str:
    """The free-threaded CPython 3.13t that CTest names in
    ``SNAKEPIT_FT_PYTHON`` (cmake/SnakepitFreeThreaded.cmake); skips the test
    when there is none."""
    python = os.environ.get("SNAKEPIT_FT_PYTHON", "")
    if not python or not os.path.exists(python):
        pytest.skip("no free-threaded Python 3.13t: tools/build_free_threaded_python.sh builds "
                    "it, and CTest passes it as SNAKEPIT_FT_PYTHON")
    return python


@pytest.fixture
def free_threaded_modules(free_threaded_python: str) -> Path:
    """The folder of the extension modules built for it (tests/free_threaded):
    ``snakepit_needs_gil`` turns the GIL back on, ``snakepit_gil_free`` does not."""
    modules = Path(os.environ.get("SNAKEPIT_FT_MODULES", ""))
    if not list(modules.glob("snakepit_needs_gil.*")):
        pytest.skip(f"the free-threading test modules are not built in '{modules}'")
    return modules
