"""``python -m snakepit_worker.probe``: one JSON line about the interpreter."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

import pytest

KEYS = {"executable", "version", "version_info", "implementation", "free_threaded_build",
        "gil_enabled", "gil_enabled_after_imports", "gil_reenabled_by", "grpc_version",
        "grpc_error", "protobuf_version", "protobuf_implementation", "import_errors",
        "packages", "platform", "cpu_count", "loaded_libraries"}


def run_probe(pytestconfig: pytest.Config, *args: str, first_paths: Sequence[Path] = (),
              python: str = sys.executable) -> dict[str, Any]:
    """Runs the probe with ``python``, ``first_paths`` first on its path;
    checks exit 0 and exactly one line on stdout."""
    path = os.pathsep.join([*map(str, first_paths), pytestconfig.snakepit_pythonpath])
    result = subprocess.run([python, "-m", "snakepit_worker.probe", *args],
                            capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": path, "PATH": os.environ.get("PATH", "")})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def test_probe_fields_on_the_gil_build(pytestconfig) -> None:
    import grpc
    import google.protobuf
    info = run_probe(pytestconfig)
    assert set(info) == KEYS
    assert info["executable"] == sys.executable
    assert info["version"] == platform.python_version()
    assert info["version_info"] == list(sys.version_info)
    assert info["implementation"] == "cpython"
    assert info["free_threaded_build"] is False
    assert info["gil_enabled"] is True
    assert info["gil_enabled_after_imports"] is True
    assert info["gil_reenabled_by"] == []
    assert info["grpc_version"] == grpc.__version__
    assert info["grpc_error"] is None
    assert info["protobuf_version"] == google.protobuf.__version__
    assert info["protobuf_implementation"] in ("cpp", "python", "upb")
    assert info["import_errors"] == {}
    assert info["packages"]["grpcio"] == importlib.metadata.version("grpcio")
    assert info["packages"]["numpy"] == importlib.metadata.version("numpy")
    assert all(name == name.lower() and "_" not in name for name in info["packages"])
    assert isinstance(info["platform"], str) and info["platform"]
    assert info["cpu_count"] == os.cpu_count()
    assert info["loaded_libraries"]["grpcio"] == grpc.__version__
    assert "protobuf" in info["loaded_libraries"]


def test_no_packages_and_extra_imports(pytestconfig) -> None:
    info = run_probe(pytestconfig, "--no-packages", "--import", "httplib2",
                     "--import", "no_such_module_xyz")
    assert info["packages"] == {}
    assert info["loaded_libraries"]["httplib2"] == importlib.metadata.version("httplib2")
    assert "no_such_module_xyz" in info["import_errors"]["no_such_module_xyz"]
    assert info["gil_reenabled_by"] == []


def test_probe_survives_a_broken_grpc_and_noisy_imports(pytestconfig, tmp_path: Path) -> None:
    (tmp_path / "grpc").mkdir()
    (tmp_path / "grpc" / "__init__.py").write_text(
        "raise ImportError('simulated: grpc cannot load here')\n")
    (tmp_path / "noisy.py").write_text(
        "import os\nprint('python-level noise')\nos.write(1, b'C-level noise\\n')\n")
    info = run_probe(pytestconfig, "--no-packages", "--import", "noisy", first_paths=[tmp_path])
    assert info["grpc_version"] is None
    assert info["grpc_error"] == "simulated: grpc cannot load here"
    assert "grpcio" not in info["loaded_libraries"]
    assert info["protobuf_version"] is not None
    assert info["import_errors"] == {}


def test_probe_on_the_free_threaded_build(pytestconfig, free_threaded_python: str) -> None:
    info = run_probe(pytestconfig, python=free_threaded_python)
    assert set(info) == KEYS
    assert info["executable"] == free_threaded_python
    assert info["version_info"][:2] >= [3, 13]
    assert info["free_threaded_build"] is True
    assert info["gil_enabled"] is False
    assert info["gil_enabled_after_imports"] is False
    assert info["gil_reenabled_by"] == []
    # Debian's grpcio is built for its GIL interpreter only; its protobuf
    # (pure Python) is copied in by tools/build_free_threaded_python.sh.
    assert info["grpc_version"] is None
    assert "grpc" in info["grpc_error"]
    assert info["protobuf_implementation"] == "python"
    assert info["packages"]["protobuf"] == info["protobuf_version"]


@pytest.mark.parametrize("imports, reenabled_by", [
    (["snakepit_gil_free"], []),
    (["snakepit_gil_free", "snakepit_needs_gil"], ["snakepit_needs_gil"]),
    # A package that imports the extension: the extension is named.
    (["legacy_wrapper"], ["snakepit_needs_gil"]),
])
def test_probe_names_the_module_that_turns_the_gil_back_on(
        pytestconfig, tmp_path: Path, free_threaded_python: str, free_threaded_modules: Path,
        imports: list[str], reenabled_by: list[str]) -> None:
    (tmp_path / "legacy_wrapper").mkdir()
    (tmp_path / "legacy_wrapper" / "__init__.py").write_text("import snakepit_needs_gil\n")
    flags = [flag for module in imports for flag in ("--import", module)]
    info = run_probe(pytestconfig, "--no-packages", *flags, python=free_threaded_python,
                     first_paths=[tmp_path, free_threaded_modules])
    assert info["import_errors"] == {}
    assert info["gil_enabled"] is False
    assert info["gil_enabled_after_imports"] is bool(reenabled_by)
    assert info["gil_reenabled_by"] == reenabled_by
