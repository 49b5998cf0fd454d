"""Whether this process may be forked into workers: the template's check.

A fork copies one thread. Any other thread's locks (a BLAS pool's, the
allocator's, a logging handler's) stay locked forever in the child, and
libraries that keep a device or a server connection do not survive being
copied. So the template (template.py) forks only when ``hazards()`` finds
nothing, and checks again before every fork; otherwise the pool spawns its
workers and the host logs the reasons (docs/lifecycle.md, "Warm start").

The check is concrete and conservative:

- more than one thread in ``/proc/self/task`` (a native library's threads
  count, not only Python's: OpenBLAS with more than one thread starts its
  pool when numpy is imported);
- a loaded module from ``UNSAFE_MODULES``, libraries documented not to
  survive a fork once initialised (CUDA contexts, runtimes with their own
  thread pools);
- an adapter class whose ``fork_safe`` attribute is False: the adapter's
  own word (e.g. it opens a connection at import).
"""

from __future__ import annotations

import os
import sys
from typing import Optional

# Module -> why a process that imported it must not be forked.
UNSAFE_MODULES = {
    "torch": "PyTorch (CUDA and its intra-op thread pools cannot be used in a forked child)",
    "tensorflow": "TensorFlow (starts its runtime's threads)",
    "jax": "JAX (its runtime is multithreaded and not fork-safe)",
    "cupy": "CuPy (CUDA contexts do not survive a fork)",
    "pycuda": "PyCUDA (CUDA contexts do not survive a fork)",
    "mpi4py": "mpi4py (MPI forbids fork after MPI_Init)",
}


def thread_count() -> int:
    """Threads of this process, native ones included; 1 where /proc is not
    readable (then only Python's threads are counted)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading
        return threading.active_count()


def hazards(adapter_class: Optional[type] = None) -> list[str]:
    """Why forking this process now would not be safe; [] when it is."""
    found: list[str] = []
    threads = thread_count()
    if threads > 1:
        found.append(f"{threads} threads are running (a fork copies only one; the locks the "
                     f"others hold stay locked in every worker)")
    for name, why in UNSAFE_MODULES.items():
        if name in sys.modules:
            found.append(f"module {name!r} is loaded: {why}")
    if adapter_class is not None and getattr(adapter_class, "fork_safe", True) is False:
        found.append(f"adapter {adapter_class.__module__}.{adapter_class.__qualname__} "
                     f"declares fork_safe = False")
    return found
