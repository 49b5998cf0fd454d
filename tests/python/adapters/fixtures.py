"""FixtureAdapter: the default adapter plus the commands only tests call.

These commands crash the worker, read its environment or hold memory on
purpose, so they stay out of the default adapter that every pool without
an ``adapter`` key loads. Subclassing ShowcaseAdapter keeps its commands
(ping, echo, sleep...) available in the same worker. Adapter spec:
``fixtures:FixtureAdapter`` (with tests/python/adapters on the python_path;
the C++ tests get it from testing::WithFixtureAdapter).
"""

from __future__ import annotations

import os
import resource
import sys
import zlib
from typing import Any, Optional

from snakepit_worker.adapter import command, concurrent_safe, synchronized
from snakepit_worker.context import CallContext, current_call
from snakepit_worker.showcase import ShowcaseAdapter

_MIB = 1 << 20
_PAGE = 4096


class FixtureAdapter(ShowcaseAdapter):
    """Thread-safe: the only shared state (retained memory) is locked; every
    other command shares nothing and is marked ``@concurrent_safe``."""

    def __init__(self) -> None:
        super().__init__()
        self._preload: list = []
        self._retained: list[bytearray] = []
        self._kept_views: dict[str, memoryview] = {}

    def setup(self, preload: list) -> None:
        self._preload = list(preload)

    def teardown(self) -> None:
        self.release()

    @command
    @concurrent_safe
    def preloaded(self) -> list:
        """The preload list ``setup`` received."""
        return self._preload

    @command
    @concurrent_safe
    def call_info(self) -> dict[str, Any]:
        """What ``current_call()`` says about this call.
        -> {"call_id", "command", "attachments" (count), "deadline", "remaining",
        "metadata"}."""
        call = current_call()
        return {"call_id": call.call_id, "command": call.command,
                "attachments": len(call.attachments), "deadline": call.deadline,
                "remaining": call.remaining(), "metadata": dict(call.metadata)}

    @command
    @concurrent_safe
    def attachment_facts(self) -> dict[str, Any]:
        """What this call's command sees of its attachments: views, their
        owners, NumPy over them (call_facts)."""
        return call_facts(current_call())

    @command
    @synchronized
    def keep_attachment_view(self, key: str) -> None:
        """Keeps the call's first attachment view, past the call's end."""
        self._kept_views[key] = current_call().attachment_views[0]

    @command
    @synchronized
    def kept_view_facts(self, key: str) -> dict[str, Any]:
        """The facts of the view ``keep_attachment_view`` kept (then
        dropped): it must still read the bytes its call received."""
        return view_facts(self._kept_views.pop(key))

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
        """Ends the process at once with ``code`` (a crash)."""
        os._exit(code)

    @command
    @concurrent_safe
    def segfault(self) -> None:
        """Reads address 0 through ctypes: the process dies of SIGSEGV, as an
        adapter with a bug in C code would."""
        import ctypes
        ctypes.string_at(0)

    @command
    @concurrent_safe
    def scribble_shm(self, offset: int) -> int:
        """Overwrites this worker's shared-memory data plane from ``offset``
        (where the worker-to-host ring starts) to its end with 0xff, as a
        worker with a wild pointer would; the host must refuse it and lose
        nothing else. -> the bytes overwritten (0: no shared memory here)."""
        import mmap
        for name in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{name}")
            except OSError:
                continue
            if not target.startswith("/memfd:snakepit-"):
                continue
            fd = int(name)
            size = os.fstat(fd).st_size
            with mmap.mmap(fd, size) as region:
                region[offset:] = b"\xff" * (size - offset)
            return size - offset
        return 0

    @command
    @concurrent_safe
    def big_reply(self, bytes: int) -> dict[str, Any]:
        """Returns a string of ``bytes`` characters (a reply past the
        message limit). -> {"s"}."""
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
            print(f"fixture stdout noise {i}")
            print(f"fixture stderr noise {i}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        return {"lines": lines}


# What a command sees of its call's attachments, for the end-to-end tests
# that check they reach it in place, without a copy
# (tests/cpp/attachment_facts.h reads these facts).

def view_facts(view: memoryview) -> dict[str, Any]:
    """One view: its type, the type of the object that owns the bytes
    (the native transports' AttachmentBuffer, grpcio's bytes), whether it
    is read-only, its size and CRC-32, and what NumPy makes of it."""
    facts: dict[str, Any] = {
        "view": type(view).__name__, "owner": type(view.obj).__name__,
        "readonly": view.readonly, "size": view.nbytes, "crc32": zlib.crc32(view)}
    try:
        import numpy  # here: a worker that never asks pays nothing for it
    except ImportError:  # the free-threaded interpreter has none: the facts leave it out
        return facts
    array = numpy.frombuffer(view, dtype=numpy.uint8)
    # The owner's buffer, straight: the same address when the array
    # reads the view's bytes in place.
    owner = numpy.frombuffer(view.obj, dtype=numpy.uint8)
    same: Optional[bool] = None if view.nbytes == 0 else \
        array.ctypes.data == owner.ctypes.data
    facts["numpy"] = {"writeable": bool(array.flags.writeable),
                      "owndata": bool(array.flags.owndata), "same_address": same,
                      "sum": int(array.sum(dtype=numpy.uint64))}
    return facts


def call_facts(call: CallContext) -> dict[str, Any]:
    """Every view's facts, taken before ``attachments`` is first used; then
    whether ``attachments`` holds the same bytes, and is kept."""
    views = [view_facts(view) for view in call.attachment_views]
    blobs = call.attachments
    return {"views": views,
            "bytes": [type(b) is bytes and zlib.crc32(b) == v["crc32"]
                      for b, v in zip(blobs, views)] if len(blobs) == len(views) else [],
            "bytes_kept": call.attachments is blobs}
