"""ShowcaseAdapter: the default adapter, a set of commands for demos.

Every pool without an ``adapter`` key loads it, so it holds only what the
README, the examples and the benchmarks call. Commands that exist for tests
alone (crashing the worker, reading its environment, holding memory) live in
tests/python/adapters/fixtures.py, which subclasses this one. The C++ tests
and benchmarks rely on these commands and their result fields; change them
only together.
"""

from __future__ import annotations

import builtins
import json
import os
import threading
import time
from typing import Any, Iterator

from .adapter import Reply, ThreadSafeAdapter, command, concurrent_safe
from .context import current_call

_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "GRPC_POLL_STRATEGY")


class ShowcaseAdapter(ThreadSafeAdapter):
    """Thread-safe: no command shares mutable state, so every one is marked
    ``@concurrent_safe``."""

    # The commands ``preload`` may name, and the warm-up each gets.
    _WARM_UPS = {"matmul": {"n": 8}}

    def setup(self, preload: list[Any]) -> None:
        """Warms up the commands named in ``preload`` (``["matmul"]``) before
        the worker reports ready: each runs once on a tiny input, so that
        importing numpy and loading its BLAS (about 0.1 s, more on a cold
        disk) happens at start-up rather than in the first caller's call."""
        for name in preload:
            if name not in self._WARM_UPS:
                raise ValueError(f"preload: the showcase adapter warms up {sorted(self._WARM_UPS)}, "
                                 f"not {name!r}")
            getattr(self, name)(**self._WARM_UPS[name])

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
        """Returns the call's attachments, as the views it got them in (sent
        back without a copy on the native transports). -> {"count", "sizes"}
        + attachments."""
        views = current_call().attachment_views
        return Reply({"count": len(views), "sizes": [v.nbytes for v in views]},
                     attachments=list(views))

    @command
    @concurrent_safe
    def count(self, n: int = 5, delay_ms: float = 0) -> Iterator[dict[str, Any]]:
        """A streaming command (call it with execute_stream or
        ``snakepit run --stream``): yields {"i": 0} .. {"i": n-1},
        ``delay_ms`` apart; stops at the next yield once cancelled."""
        for i in range(n):
            if i and delay_ms > 0:
                time.sleep(delay_ms / 1000)
            yield {"i": i}
