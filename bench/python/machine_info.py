"""Describes the machine a benchmark run measured, as one JSON document on
stdout: CPU, memory, OS, the workers' interpreter (version, free-threaded
or not), numpy and the BLAS it really loads, gRPC and compiler versions,
the load average, and the source revision.

Run with the workers' interpreter (/usr/bin/python3), which has numpy.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import sysconfig
from typing import Any


def _run(*argv: str) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                              check=False).stdout.strip()
    except OSError:
        return ""


def _cpu() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"model": model, "logical_cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0))}


def _memory_gib() -> float:
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    return 0.0


def _os() -> str:
    with contextlib.suppress(OSError), open("/etc/os-release", encoding="utf-8") as f:
        for line in f:
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    return platform.platform()


def _python() -> dict[str, Any]:
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return {"executable": sys.executable, "version": platform.python_version(),
            "implementation": sys.implementation.name,
            "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
            "gil_enabled": bool(gil)}


def _numpy() -> dict[str, Any]:
    try:
        import numpy
    except ImportError as e:
        return {"error": str(e)}
    config = io.StringIO()
    with contextlib.redirect_stdout(config):
        numpy.show_config()
    blas: Any = None
    try:
        import threadpoolctl
        blas = [{k: v for k, v in pool.items() if k != "filepath"} | {"library": pool.get("filepath")}
                for pool in threadpoolctl.threadpool_info()]
    except ImportError as e:
        blas = {"error": str(e)}
    return {"version": numpy.__version__, "show_config": config.getvalue(),
            "blas_loaded": blas}


def _page_fault_us() -> float:
    """Microseconds per minor page fault: fresh anonymous pages touched one
    byte each (the Python loop adds well under a microsecond per page).
    Virtual machines differ widely here, and every large message that lands
    in freshly mapped memory pays it once per 4 KiB page."""
    import mmap
    import time
    size, page = 64 << 20, mmap.PAGESIZE
    best = float("inf")
    for _ in range(3):
        m = mmap.mmap(-1, size)
        started = time.perf_counter()
        for offset in range(0, size, page):
            m[offset] = 1
        best = min(best, (time.perf_counter() - started) / (size // page) * 1e6)
        m.close()
    return round(best, 2)


def _versions() -> dict[str, str]:
    out = {"kernel": platform.release(), "gcc": _run("g++", "-dumpfullversion"),
           "grpc_cpp": _run("pkg-config", "--modversion", "grpc++"),
           "protobuf_cpp": _run("pkg-config", "--modversion", "protobuf")}
    with contextlib.suppress(ImportError):
        import grpc
        out["grpcio"] = grpc.__version__
    with contextlib.suppress(ImportError):
        import google.protobuf
        out["protobuf_python"] = google.protobuf.__version__
    return out


def revision() -> dict[str, Any]:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    commit = _run("git", "-C", root, "rev-parse", "--short", "HEAD")
    dirty = bool(_run("git", "-C", root, "status", "--porcelain", "--untracked-files=no"))
    return {"commit": commit, "uncommitted_changes": dirty}


def main() -> None:
    info = {"cpu": _cpu(), "memory_gib": _memory_gib(), "os": _os(),
            "virtualised": "hypervisor" in open("/proc/cpuinfo", encoding="utf-8").read(),
            "python": _python(), "numpy": _numpy(), "versions": _versions(),
            "page_fault_us": _page_fault_us(),
            "load_average": os.getloadavg(), "revision": revision()}
    json.dump(info, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
