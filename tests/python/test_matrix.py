"""The thread-safety matrix: its data file, lookups, requirement reports, CLI."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from snakepit_worker import matrix
from snakepit_worker.versions import compare_versions, lower_bound, meets_minimum

REQUIRED = ["numpy", "scipy", "torch", "tensorflow", "pandas", "polars", "scikit-learn",
            "xgboost", "lightgbm", "transformers", "matplotlib", "sqlite3", "requests",
            "httpx", "pillow", "opencv-python", "numba", "jax", "onnxruntime", "sqlalchemy",
            "psycopg2", "pyyaml", "lxml", "aiohttp", "grpcio", "protobuf"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "thread-safety.md"


def test_matrix_covers_the_required_libraries_with_valid_fields() -> None:
    data = matrix.load_matrix()
    assert data["schema"] == 1
    libraries = data["libraries"]
    assert set(REQUIRED) <= set(libraries)
    for name, entry in libraries.items():
        assert set(entry) == {"import_names", "thread_safe", "min_version", "notes"}, name
        assert entry["thread_safe"] in (True, False, "conditional"), name
        assert entry["min_version"] is None or compare_versions(
            entry["min_version"], "0") == 1, name
        assert entry["import_names"] and all(entry["import_names"]), name
        assert len(entry["notes"]) > 40, name


@pytest.mark.parametrize("name, thread_safe", [
    ("matplotlib", False), ("httpx", True), ("sqlite3", "conditional"),
    ("requests", "conditional"), ("grpcio", True)])
def test_documented_verdicts(name: str, thread_safe) -> None:
    assert matrix.lookup(name)["thread_safe"] == thread_safe


def test_an_installed_library_is_marked_not_thread_safe() -> None:
    """The unsafe_library tests (here and in C++) need one on this machine."""
    unsafe = [name for name, entry in matrix.libraries().items()
              if entry["thread_safe"] is False
              and any(importlib.util.find_spec(m) for m in entry["import_names"])]
    assert "httplib2" in unsafe


@pytest.mark.parametrize("query, name", [
    ("sklearn", "scikit-learn"), ("Scikit_Learn", "scikit-learn"), ("cv2", "opencv-python"),
    ("PIL", "pillow"), ("yaml", "pyyaml"), ("PyYAML", "pyyaml"), ("grpc", "grpcio"),
    ("google.protobuf", "protobuf"), ("numpy", "numpy")])
def test_lookup_by_distribution_or_import_name(query: str, name: str) -> None:
    assert matrix.lookup(query)["name"] == name


def test_lookup_of_an_unknown_library_is_none() -> None:
    assert matrix.lookup("no-such-library-xyz") is None


def test_loaded_libraries_reads_the_given_modules() -> None:
    loaded = matrix.loaded_libraries({"grpc": None, "sklearn": None, "json": None})
    assert set(loaded) == {"grpcio", "scikit-learn"}
    assert loaded["grpcio"] == importlib.metadata.version("grpcio")
    assert loaded["scikit-learn"] is None  # not installed here


def test_loaded_libraries_defaults_to_sys_modules() -> None:
    import grpc  # noqa: F401 - the point is that it is imported
    import sqlite3  # noqa: F401
    loaded = matrix.loaded_libraries()
    assert loaded["grpcio"] == importlib.metadata.version("grpcio")
    assert "sqlite3" in loaded and loaded["sqlite3"] is None  # stdlib: no metadata


REQUIREMENTS = """\
# a comment, then a blank line

numpy>=1.26
torch==2.6.0
requests
scikit-learn[alldeps] >= 1.6 ; python_version >= "3.10"  # inline comment
pandas<2
xgboost~=1.7.6
-r other-requirements.txt
--index-url https://example.invalid/simple
not-a-known-library==1.0
"""


def test_report_on_a_requirements_list() -> None:
    entries = {e["name"]: e for e in matrix.report(REQUIREMENTS.splitlines())}
    assert list(entries) == ["numpy", "torch", "requests", "scikit-learn", "pandas",
                             "xgboost", "not-a-known-library"]
    numpy = entries["numpy"]
    assert numpy == {"requirement": "numpy>=1.26", "name": "numpy", "spec": ">=1.26",
                     "known": True, "thread_safe": "conditional", "min_version": "2.1.0",
                     "notes": matrix.lookup("numpy")["notes"], "meets_min_version": False}
    assert entries["torch"]["meets_min_version"] is True
    assert entries["requests"]["spec"] == ""
    assert entries["requests"]["meets_min_version"] is None  # no min_version, no bound
    assert entries["scikit-learn"]["spec"] == ">=1.6"
    assert entries["scikit-learn"]["meets_min_version"] is True
    assert entries["pandas"]["meets_min_version"] is False  # every admitted version < 2.2.3
    assert entries["xgboost"]["meets_min_version"] is True
    unknown = entries["not-a-known-library"]
    assert unknown["known"] is False
    assert unknown["thread_safe"] is None and unknown["meets_min_version"] is None


@pytest.mark.parametrize("a, b, order", [
    ("2.1.0", "2.1", 0), ("2.1.1", "2.1.0", 1), ("1.26.4", "2.1.0", -1),
    ("2.1.0rc1", "2.1.0", -1), ("2.1.0.dev0", "2.1.0", -1), ("2.1.0.post1", "2.1.0", 0),
    ("10.0", "9.9", 1), ("1!1.0", "2.0", 1), ("2.1.0+cpu", "2.1.0", 0), ("abc", "1.0", None)])
def test_compare_versions_without_packaging(a: str, b: str, order) -> None:
    assert compare_versions(a, b) == order


@pytest.mark.parametrize("spec, bound", [
    (">=1.26,<3", "1.26"), ("==2.1.*", "2.1"), ("~=1.4.2", "1.4.2"), (">1.0,>=1.2", "1.2"),
    ("<3", None), ("", None), ("!=1.0", None), ("@https://x/y.whl", None)])
def test_lower_bound(spec: str, bound) -> None:
    assert lower_bound(spec) == bound


@pytest.mark.parametrize("spec, meets", [
    (">=2.1", True), ("==2.1.0", True), (">=1.26", False), ("<2.1", False),
    ("<=2.1.0", None), ("!=2.0", None), ("", None)])
def test_meets_minimum(spec: str, meets) -> None:
    assert meets_minimum(spec, "2.1.0") is meets


def run_cli(pytestconfig: pytest.Config, *args: str, stdin: str = "") -> object:
    result = subprocess.run([sys.executable, "-m", "snakepit_worker.matrix", *args],
                            input=stdin, capture_output=True, text=True, timeout=30,
                            env={"PYTHONPATH": pytestconfig.snakepit_pythonpath})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_reports_a_requirements_file(pytestconfig, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("numpy>=2.2\nmatplotlib\n")
    entries = run_cli(pytestconfig, str(path))
    assert [(e["name"], e["thread_safe"], e["meets_min_version"]) for e in entries] == \
        [("numpy", "conditional", True), ("matplotlib", False, None)]
    assert run_cli(pytestconfig, "-", stdin="numpy<2\n")[0]["meets_min_version"] is False


def test_cli_reports_the_installed_libraries(pytestconfig) -> None:
    entries = {e["name"]: e for e in run_cli(pytestconfig, "--installed")}
    assert entries["numpy"]["spec"] == f"=={importlib.metadata.version('numpy')}"
    assert entries["numpy"]["meets_min_version"] is False  # Debian's 1.24 < 2.1.0
    assert entries["httplib2"]["thread_safe"] is False
    assert all(e["known"] for e in entries.values())


def test_docs_table_lists_every_library() -> None:
    text = DOCS.read_text()
    missing = [name for name in matrix.libraries() if f"| {name} |" not in text]
    assert not missing, f"docs/thread-safety.md lacks {missing}"


@pytest.mark.parametrize("change, complaint", [
    ({"schema": 2}, "schema"),
    ({"libraries": {"Bad_Name": {}}}, "normalised"),
    ({"libraries": {"x": {"import_names": [], "thread_safe": True, "min_version": None,
                          "notes": "n"}}}, "import_names"),
    ({"libraries": {"x": {"import_names": ["x"], "thread_safe": 1, "min_version": None,
                          "notes": "n"}}}, "thread_safe"),
    ({"libraries": {"x": {"import_names": ["x"], "thread_safe": "yes",
                          "min_version": None, "notes": "n"}}}, "thread_safe"),
    ({"libraries": {"x": {"import_names": ["x"], "thread_safe": True, "min_version": 2.1,
                          "notes": "n"}}}, "min_version"),
    ({"libraries": {"x": {"import_names": ["x"], "thread_safe": True, "min_version": None,
                          "notes": ""}}}, "notes"),
])
def test_load_matrix_rejects_malformed_files(tmp_path: Path, change: dict,
                                             complaint: str) -> None:
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps({"schema": 1, "libraries": {}, **change}))
    with pytest.raises(ValueError, match=complaint):
        matrix.load_matrix(path)
