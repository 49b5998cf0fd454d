"""``python -m snakepit_worker.probe``: what an interpreter can do, as JSON.

Prints exactly one line on stdout, one JSON object (see docs/worker-protocol.md,
"Diagnostics"), and exits 0, even when grpc or protobuf cannot be imported:
each import failure is reported in the object instead. Whatever an imported
module writes to stdout (Python or C level) is sent to stderr, so stdout
holds only the object. Exits 2 on a bad flag (argparse).

Flags: ``--no-packages`` leaves "packages" empty (skips scanning every
installed distribution); ``--import MOD`` (repeatable) imports MOD too and
reports whether it turned the GIL back on, naming the extension module
that did (from CPython's RuntimeWarning) rather than the package imported.

The GIL state is read before anything heavy is imported: this module and
the package's ``__init__`` import only the standard library.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata as metadata
import json
import os
import platform
import re
import sys
import warnings
from typing import Any, Iterator, Optional, Sequence

from .interpreter import free_threaded_build, gil_enabled
from .versions import normalise_name


def probe(imports: Sequence[str] = (), packages: bool = True) -> dict[str, Any]:
    """Imports grpc, google.protobuf and ``imports`` (in that order) and
    describes the interpreter. Never raises for a failed import."""
    gil_at_start = gil_enabled()
    reenabled_by: list[str] = []
    import_errors: dict[str, str] = {}

    def attempt(module: str) -> Optional[Any]:
        before = gil_enabled()
        imported = None
        with warnings.catch_warnings(record=True) as caught:
            try:
                imported = importlib.import_module(module)
            except Exception as e:  # noqa: BLE001 - reported, never raised
                import_errors[module] = str(e)
        named = _shown_naming_the_gil_module(caught)
        if gil_enabled() and not before:
            reenabled_by.append(named or module)
        return imported

    grpc = attempt("grpc")
    protobuf = attempt("google.protobuf")
    for module in imports:
        attempt(module)
    from . import matrix  # after the imports: it only reads sys.modules
    return {
        "executable": sys.executable,
        "version": platform.python_version(),
        "version_info": list(sys.version_info),
        "implementation": sys.implementation.name,
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_at_start,
        "gil_enabled_after_imports": gil_enabled(),
        "gil_reenabled_by": reenabled_by,
        "grpc_version": getattr(grpc, "__version__", None),
        "grpc_error": import_errors.get("grpc"),
        "protobuf_version": getattr(protobuf, "__version__", None),
        "protobuf_implementation": _protobuf_implementation() if protobuf else None,
        "import_errors": {m: e for m, e in import_errors.items()
                          if m not in ("grpc", "google.protobuf")},
        "packages": installed_packages() if packages else {},
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loaded_libraries": matrix.loaded_libraries(),
    }


# CPython's warning when an extension module that does not declare
# Py_mod_gil turns the GIL back on (free-threaded builds).
_GIL_ENABLED_TO_LOAD = re.compile(r"GIL\) has been enabled to load module '([^']+)'")


def _shown_naming_the_gil_module(caught: list[warnings.WarningMessage]) -> Optional[str]:
    """Shows the warnings recorded during an import, as they would have been
    shown, and returns the extension module that CPython's GIL warning among
    them names. It is more exact than the module asked for: a package that
    imports an extension is not itself the one that needs the GIL."""
    named = None
    for w in caught:
        found = _GIL_ENABLED_TO_LOAD.search(str(w.message))
        if found and issubclass(w.category, RuntimeWarning) and named is None:
            named = found.group(1)
        warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
    return named


def _protobuf_implementation() -> Optional[str]:
    try:
        from google.protobuf.internal import api_implementation
        return str(api_implementation.Type())
    except Exception:  # noqa: BLE001
        return None


def installed_packages() -> dict[str, str]:
    """{normalised distribution name: version} of every installed
    distribution; where one name is installed twice, the one found first on
    sys.path (the one an import would use) wins."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
            if name:
                found.setdefault(normalise_name(name), dist.version)
        except Exception:  # noqa: BLE001 - skip broken metadata
            continue
    return dict(sorted(found.items()))


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Points fd 1 (and sys.stdout) at stderr for the block, then back."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snakepit_worker.probe",
                                     description="Describes this interpreter as JSON.")
    parser.add_argument("--no-packages", action="store_true",
                        help="leave 'packages' empty (faster)")
    parser.add_argument("--import", dest="imports", action="append", default=[],
                        metavar="MOD", help="also import MOD (repeatable)")
    args = parser.parse_args(argv)
    with _stdout_to_stderr():
        result = probe(args.imports, packages=not args.no_packages)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
