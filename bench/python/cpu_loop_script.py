"""The CPU-bound call of the benchmarks, outside the library.

Scenario 9 runs it two ways that a C++ program could use instead of
snakepit: as a script spawned per call (``python3 cpu_loop_script.py N``,
printing the result as JSON), and imported by an interpreter embedded with
pybind11 (``cpu_loop(n)``). The loop is the one of
``snakepit_worker.showcase.ShowcaseAdapter.cpu_loop``; keep them equal.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def cpu_loop(n: int) -> dict[str, Any]:
    started = time.perf_counter()
    checksum = 0
    for i in range(n):
        checksum = (checksum * 31 + i) % 1_000_000_007
    return {"n": n, "checksum": checksum, "elapsed_s": time.perf_counter() - started}


if __name__ == "__main__":
    print(json.dumps(cpu_loop(int(sys.argv[1]))))
