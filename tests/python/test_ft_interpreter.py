"""The free-threaded interpreter that tools/build_free_threaded_python.sh
builds carries the project's fixes to CPython 3.13 (tools/patches)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

FILES_CLOSED = 200

# Closes FILES_CLOSED buffered files, then yields the CPU `yields` times on
# purpose: the second part proves that the counter sees the interpreter's
# calls, so a count of zero for the first part means something.
SCRIPT = f"""
import os, sys
for _ in range({FILES_CLOSED}):
    with open(sys.executable, "rb") as f:
        f.read(1)
for _ in range(int(sys.argv[1])):
    os.sched_yield()
"""


def yields_of(python: str, modules: Path, tmp_path: Path, deliberate: int) -> int:
    """Runs SCRIPT under the yield counter; returns the sched_yield() calls."""
    counter = modules / "libsnakepit_yield_counter.so"
    assert counter.exists(), f"{counter} is not built (tests/free_threaded)"
    count_file = tmp_path / "yields"
    result = subprocess.run([python, "-I", "-c", SCRIPT, str(deliberate)], capture_output=True, text=True,
                            timeout=60, env={"LD_PRELOAD": str(counter),
                                             "SNAKEPIT_YIELD_COUNT_FILE": str(count_file)})
    assert result.returncode == 0, result.stderr
    return int(count_file.read_text())


def test_closing_a_file_does_not_spin_on_its_own_lock(free_threaded_python: str, free_threaded_modules: Path,
                                                      tmp_path: Path) -> None:
    stamp = Path(free_threaded_python).resolve().parent.parent / "snakepit-patches"
    if not stamp.exists():
        pytest.skip(f"{free_threaded_python} was not built by tools/build_free_threaded_python.sh with "
                    "tools/patches (no snakepit-patches file beside bin/): an unpatched 3.13t spins here")
    assert "cpython-3.13-critical-section-reentry.patch" in stamp.read_text()

    assert yields_of(free_threaded_python, free_threaded_modules, tmp_path, deliberate=50) >= 50
    # Unpatched: 40 yields for each file closed (8,000 here), each one a
    # time slice given away when the cores are busy.
    spins = yields_of(free_threaded_python, free_threaded_modules, tmp_path, deliberate=0)
    assert spins < FILES_CLOSED, (f"{spins} sched_yield() calls for {FILES_CLOSED} files closed: the "
                                  "critical-section patch is not in effect")
