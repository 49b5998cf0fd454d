"""The thread-safety compatibility matrix: which libraries are safe in threads.

The data lives in ``thread_safety_matrix.json`` beside this module; the C++
host embeds the same file at build time, so it is the one source of truth.
Its shape (schema 1)::

    {"schema": 1, "libraries": {"<normalised distribution name>": {
        "import_names": ["module", ...], "thread_safe": true | false | "conditional",
        "min_version": "X.Y.Z" | null, "notes": "..."}}}

``min_version`` is the first release from which the concurrent use that
``notes`` describes holds (for most entries, the first release supporting
free-threaded CPython); null when no such release is known.

``python -m snakepit_worker.matrix [--installed | REQUIREMENTS_FILE]`` prints
``report()`` as JSON. Pure Python, standard library only; never imports grpc.
Every function is thread-safe.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata as metadata
import json
import re
import sys
import threading
from collections.abc import Container, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Optional, Sequence

from .versions import compare_versions, meets_minimum, normalise_name

MATRIX_PATH = Path(__file__).resolve().parent / "thread_safety_matrix.json"
SCHEMA = 1
_THREAD_SAFE_VALUES = (True, False, "conditional")


def load_matrix(path: Optional[Path] = None) -> dict[str, Any]:
    """Reads and validates the matrix (default: the packaged file); returns a
    fresh dict the caller may modify.

    Raises OSError when the file cannot be read, ValueError when it is not
    valid JSON or not schema 1 with well-formed entries (the message names
    the offending library and field).
    """
    with open(path or MATRIX_PATH, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    _validate(data)
    return data


def _validate(data: Any) -> None:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError(f"thread-safety matrix: expected schema {SCHEMA}")
    libraries = data.get("libraries")
    if not isinstance(libraries, dict):
        raise ValueError("thread-safety matrix: 'libraries' must be an object")
    for name, entry in libraries.items():
        where = f"thread-safety matrix: library {name!r}"
        if name != normalise_name(name):
            raise ValueError(f"{where}: key must be the normalised name {normalise_name(name)!r}")
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: entry must be an object")
        names = entry.get("import_names")
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
            raise ValueError(f"{where}: 'import_names' must be a non-empty list of strings")
        if entry.get("thread_safe") not in _THREAD_SAFE_VALUES \
                or not isinstance(entry.get("thread_safe"), (bool, str)):
            raise ValueError(f"{where}: 'thread_safe' must be true, false or \"conditional\"")
        min_version = entry.get("min_version")
        if min_version is not None and (not isinstance(min_version, str)
                                        or compare_versions(min_version, "0") is None):
            raise ValueError(f"{where}: 'min_version' must be a version string or null")
        if not isinstance(entry.get("notes"), str) or not entry["notes"]:
            raise ValueError(f"{where}: 'notes' must be a non-empty string")


@functools.lru_cache(maxsize=1)
def _libraries() -> dict[str, dict[str, Any]]:
    """The packaged matrix's libraries, loaded once (treat as read-only)."""
    libraries: dict[str, dict[str, Any]] = load_matrix()["libraries"]  # _validate checked it
    return libraries


def libraries() -> Mapping[str, dict[str, Any]]:
    """The packaged matrix's libraries by name, loaded once; read-only view
    (do not modify the entries)."""
    return MappingProxyType(_libraries())


@functools.lru_cache(maxsize=1)
def _by_import_name() -> dict[str, str]:
    return {module: name for name, entry in _libraries().items()
            for module in entry["import_names"]}


def lookup(name: str) -> Optional[dict[str, Any]]:
    """The entry for a distribution name (any spelling: ``Scikit_Learn``) or
    an import name (``sklearn``, ``PIL``, ``google.protobuf``), as a new dict
    with ``name`` (the matrix key) added; None when the matrix lacks it."""
    key = normalise_name(name)
    if key not in _libraries():
        key = _by_import_name().get(name) or _by_import_name().get(name.split(".")[0]) or ""
    entry = _libraries().get(key)
    return None if entry is None else {"name": key, **entry}


_metadata_versions: dict[str, Optional[str]] = {}
_metadata_lock = threading.Lock()


def installed_version(name: str) -> Optional[str]:
    """The installed version of matrix library ``name`` for this interpreter:
    its distribution's metadata, else that of the distribution providing its
    top-level import name (e.g. opencv-python-headless for cv2), else the
    imported module's ``__version__``; None when unknown (stdlib modules
    such as sqlite3). Metadata is read once per name and cached."""
    with _metadata_lock:
        if name not in _metadata_versions:
            _metadata_versions[name] = _metadata_version(name)
        version = _metadata_versions[name]
    return version if version is not None else _module_version(name)


def _metadata_version(name: str) -> Optional[str]:
    try:
        return metadata.version(name)
    except Exception:  # noqa: BLE001 - missing or broken metadata: look further
        pass
    entry = _libraries().get(name)
    for module in entry["import_names"] if entry else ():
        if "." in module:
            continue  # "google" is shared by many distributions
        for dist in _providers().get(module, []):
            try:
                return metadata.version(dist)
            except Exception:  # noqa: BLE001
                continue
    return None


@functools.lru_cache(maxsize=1)
def _providers() -> dict[str, list[str]]:
    """Top-level import name -> distributions (scans every distribution once)."""
    try:
        return dict(metadata.packages_distributions())
    except Exception:  # noqa: BLE001
        return {}


def _module_version(name: str) -> Optional[str]:
    entry = _libraries().get(name)
    for module_name in entry["import_names"] if entry else ():
        version = getattr(sys.modules.get(module_name), "__version__", None)
        if isinstance(version, str):
            return version
    return None


def loaded_libraries(modules: Optional[Container[str]] = None) -> dict[str, Optional[str]]:
    """Matrix libraries that are imported: {name: installed version or None}.

    A library counts as loaded when one of its ``import_names`` is a key of
    ``modules`` (default ``sys.modules``). Only membership tests are made, so
    it is safe while other threads import.
    """
    modules = sys.modules if modules is None else modules
    return {name: installed_version(name) for name, entry in _libraries().items()
            if any(module in modules for module in entry["import_names"])}


_REQUIREMENT = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$")


def parse_requirement(line: str) -> Optional[tuple[str, str]]:
    """``(name, spec)`` of one requirements line, e.g. ``numpy>=1.26,<3``
    -> ("numpy", ">=1.26,<3"); environment markers, extras and comments are
    dropped. None for blank lines, comments, options (``-r``, ``--index-url``,
    ``-e``) and lines that are not requirements."""
    text = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
    if not text or text.startswith("-"):
        return None
    text = text.split(";", 1)[0].strip()
    match = _REQUIREMENT.match(text)
    if match is None:
        return None
    spec = match.group(3).strip()
    if spec.startswith("(") and spec.endswith(")"):
        spec = spec[1:-1].strip()
    return match.group(1), (spec if spec.startswith("@") else re.sub(r"\s+", "", spec))


def report(requirements: Sequence[str]) -> list[dict[str, Any]]:
    """One entry per requirement line (blank lines, comments and options
    skipped), in order::

        {"requirement": "numpy>=1.26", "name": "numpy", "spec": ">=1.26",
         "known": true, "thread_safe": "conditional", "min_version": "2.1.0",
         "notes": "...", "meets_min_version": false}

    ``name`` is the matrix key when known, else the normalised name.
    ``meets_min_version`` is true when every version the spec admits is at
    least ``min_version`` (its lower bound from ==, ===, ~=, >= or > reaches
    it), false when the spec admits older versions (a lower bound below it,
    or an upper bound that keeps every version below it), and null when the
    library is unknown, has no ``min_version``, or the spec bounds nothing
    below (a bare name, ``!=X``, a URL). Never raises on odd lines.
    """
    entries = []
    for line in requirements:
        parsed = parse_requirement(line)
        if parsed is None:
            continue
        name, spec = parsed
        entry = lookup(name)
        if entry is not None and entry["name"] != normalise_name(name):
            entry = None  # an import name such as "yaml" is not a distribution
        entries.append(_report_entry(line.strip(), name, spec, entry))
    return entries


def _report_entry(line: str, name: str, spec: str,
                  entry: Optional[dict[str, Any]]) -> dict[str, Any]:
    if entry is None:
        return {"requirement": line, "name": normalise_name(name), "spec": spec,
                "known": False, "thread_safe": None, "min_version": None, "notes": None,
                "meets_min_version": None}
    minimum = entry["min_version"]
    meets = None if minimum is None else meets_minimum(spec, minimum)
    return {"requirement": line, "name": entry["name"], "spec": spec, "known": True,
            "thread_safe": entry["thread_safe"], "min_version": entry["min_version"],
            "notes": entry["notes"], "meets_min_version": meets}


def installed_requirements() -> list[str]:
    """``name==version`` for each installed distribution the matrix knows."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name and normalise_name(name) in _libraries():
            found.setdefault(normalise_name(name), dist.version)
    return [f"{name}=={version}" for name, version in sorted(found.items())]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m snakepit_worker.matrix",
        description="Reports what the thread-safety matrix says about requirements.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--installed", action="store_true",
                       help="report on the installed distributions the matrix knows")
    group.add_argument("requirements", nargs="?", metavar="REQUIREMENTS_FILE",
                       help="a requirements.txt file, or - for stdin")
    args = parser.parse_args(argv)
    if args.installed:
        lines = installed_requirements()
    elif args.requirements == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = Path(args.requirements).read_text(encoding="utf-8").splitlines()
        except OSError as e:
            parser.error(f"cannot read {args.requirements}: {e}")
    print(json.dumps(report(lines), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
