"""ShowcaseAdapter: the default adapter, a set of commands for demos and tests.

The C++ tests and benchmarks rely on these commands and their result
fields; change them only together.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import sys
import threading
import time
from typing import Any

from .adapter import Reply, ThreadSafeAdapter, command, concurrent_safe, synchronized
from .context import current_call

_MIB = 1 << 20
_PAGE = 4096
_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "GRPC_POLL_STRATEGY")


class ShowcaseAdapter(ThreadSafeAdapter):
    """Thread-safe: the only shared state (retained memory) is locked; every
    other command shares nothing and is marked ``@concurrent_safe``."""

    def __init__(self) -> None:
        super().__init__()
        self._preload: list = []
        self._retained: list[bytearray] = []

    def setup(self, preload: list) -> None:
        self._preload = list(preload)

    def teardown(self) -> None:
        self.release()

    @command
    @concurrent_safe
    def ping(self) -> dict[str, Any]:
        """-> {"pong": true, "pid"}."""
        return {"pong": True, "pid": os.getpid()}

    @command
    @concurrent_safe
    def echo(self, *args: Any, **kwargs: Any) -> Any:
        """Returns its args unchanged: the list for list args, else the
        object (``{}`` for null args)."""
        return list(args) if args else kwargs

    @command
    @concurrent_safe
    def add(self, a: Any, b: Any) -> Any:
        """-> a + b."""
        return a + b

    @command
    @concurrent_safe
    def sleep(self, ms: float, tag: Any = None) -> dict[str, Any]:
        """Sleeps ``ms`` milliseconds (releasing the GIL).
        -> {"start_ns", "end_ns" (time.time_ns()), "thread", "pid", "tag"};
        ``tag`` is returned as given (callers match replies to calls)."""
        start = time.time_ns()
        time.sleep(ms / 1000)
        return {"start_ns": start, "end_ns": time.time_ns(),
                "thread": threading.get_ident(), "pid": os.getpid(), "tag": tag}

    @command
    @concurrent_safe
    def cpu_loop(self, n: int) -> dict[str, Any]:
        """A pure-Python loop of ``n`` iterations (holds the GIL).
        -> {"n", "checksum", "elapsed_s"}."""
        started = time.perf_counter()
        checksum = 0
        for i in range(n):
            checksum = (checksum * 31 + i) % 1_000_000_007
        return {"n": n, "checksum": checksum, "elapsed_s": time.perf_counter() - started}

    @command
    @concurrent_safe
    def matmul(self, n: int = 128) -> dict[str, Any]:
        """Multiplies two seeded random n x n matrices with numpy (BLAS).
        -> {"n", "trace" (same for the same n), "elapsed_s" (the product only)}."""
        import numpy as np
        rng = np.random.default_rng(n)
        a, b = rng.random((n, n)), rng.random((n, n))
        started = time.perf_counter()
        product = a @ b
        elapsed = time.perf_counter() - started
        return {"n": n, "trace": float(np.trace(product)), "elapsed_s": elapsed}

    @command
    @concurrent_safe
    def raise_error(self, type: str = "ValueError", message: str = "raised on request") -> None:
        """Raises the builtin exception ``type`` with ``message``."""
        exc_type = getattr(builtins, type, None)
        if not (isinstance(exc_type, builtins.type) and issubclass(exc_type, BaseException)):
            raise ValueError(f"{type!r} is not a builtin exception type")
        raise exc_type(message)

    @command
    @concurrent_safe
    def threads_info(self) -> dict[str, Any]:
        """-> {"env": the thread-count variables, "threadpools":
        threadpoolctl.threadpool_info() with numpy loaded, "numpy" (its
        version), "pid", "python_threads"}."""
        import numpy  # loads numpy's BLAS, so that threadpoolctl sees it
        import threadpoolctl
        pools = json.loads(json.dumps(threadpoolctl.threadpool_info(), default=str))
        return {"env": {name: os.environ.get(name) for name in _THREAD_ENV},
                "threadpools": pools, "numpy": numpy.__version__, "pid": os.getpid(),
                "python_threads": threading.active_count()}

    @command
    @concurrent_safe
    def echo_attachments(self) -> Reply:
        """Returns the call's attachments. -> {"count", "sizes"} + attachments."""
        blobs = current_call().attachments
        return Reply({"count": len(blobs), "sizes": [len(b) for b in blobs]},
                     attachments=blobs)

    @command
    @concurrent_safe
    def call_info(self) -> dict[str, Any]:
        """What ``current_call()`` says about this call.
        -> {"call_id", "command", "attachments" (count), "deadline", "remaining"}."""
        call = current_call()
        return {"call_id": call.call_id, "command": call.command,
                "attachments": len(call.attachments), "deadline": call.deadline,
                "remaining": call.remaining()}

    @command
    @synchronized
    def allocate(self, mb: int) -> dict[str, int]:
        """Allocates and keeps ``mb`` MiB, every page touched (resident).
        -> {"retained_mb"} in total."""
        block = bytearray(mb * _MIB)
        block[::_PAGE] = b"\x01" * len(range(0, len(block), _PAGE))
        self._retained.append(block)
        return {"retained_mb": sum(len(b) for b in self._retained) // _MIB}

    @command
    @synchronized
    def release(self) -> dict[str, int]:
        """Frees what ``allocate`` kept. -> {"released_mb"}."""
        released = sum(len(b) for b in self._retained) // _MIB
        self._retained.clear()
        return {"released_mb": released}

    @command
    @concurrent_safe
    def pid(self) -> int:
        return os.getpid()

    @command
    @concurrent_safe
    def getenv(self, name: str) -> str | None:
        """-> os.environ.get(name): what the worker's environment holds."""
        return os.environ.get(name)

    @command
    @concurrent_safe
    def rlimits(self) -> dict[str, Any]:
        """-> {"as": [soft, hard], "nofile": [soft, hard]} (-1: unlimited)."""
        return {"as": list(resource.getrlimit(resource.RLIMIT_AS)),
                "nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE))}

    @command("exit")
    @concurrent_safe
    def exit_process(self, code: int = 1) -> None:
        """Ends the process at once with ``code`` (a crash, for tests)."""
        os._exit(code)

    @command
    @concurrent_safe
    def segfault(self) -> None:
        """Reads address 0 through ctypes: the process dies of SIGSEGV, as an
        adapter with a bug in C code would (a crash, for tests)."""
        import ctypes
        ctypes.string_at(0)

    @command
    @concurrent_safe
    def big_reply(self, bytes: int) -> dict[str, Any]:
        """Returns a string of ``bytes`` characters (a reply past the
        message limit, for tests). -> {"s"}."""
        return {"s": "x" * bytes}

    @command
    @concurrent_safe
    def not_serializable(self) -> dict[str, Any]:
        """Returns a set, which JSON cannot encode (-> NOT_SERIALIZABLE)."""
        return {"value": {1, 2, 3}}

    @command
    @concurrent_safe
    def print_noise(self, lines: int = 1000) -> dict[str, int]:
        """Writes ``lines`` lines to stdout and to stderr. -> {"lines"}."""
        for i in range(lines):
            print(f"showcase stdout noise {i}")
            print(f"showcase stderr noise {i}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        return {"lines": lines}

    @command
    @concurrent_safe
    def preloaded(self) -> list:
        """The preload list ``setup`` received."""
        return self._preload
