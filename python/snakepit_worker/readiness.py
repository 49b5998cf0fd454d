"""The readiness record: one line of JSON that tells the host how start-up went.

See docs/worker-protocol.md, "Readiness record".
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from typing import Any, Optional

from .dispatch import qualified_name
from .interpreter import interpreter_info
from .matrix import loaded_libraries

log = logging.getLogger("snakepit_worker")


def ready_record(listen: str, mode: str, max_concurrency: int, transport: str, *,
                 token_required: bool = False, tls: bool = False, data_plane: str = "grpc",
                 data_plane_error: str = "") -> dict[str, Any]:
    """The record of a worker that is set up and listening on ``transport``
    ("native" or "grpcio"). Call it after the adapter's setup:
    ``loaded_libraries`` lists the matrix libraries imported by then.
    ``token_required``: every RPC must carry the worker's token; ``tls``:
    the listener speaks TLS. ``data_plane``: "shm" when calls also come
    over the host's shared memory, else "grpc"; ``data_plane_error``: why
    shared memory the host offered is not used ("" if none was offered)."""
    return {"ok": True, "pid": os.getpid(), "listen": listen, "mode": mode,
            "max_concurrency": max_concurrency, "token_required": token_required,
            "tls": tls, **interpreter_info(),
            "transport": transport, "data_plane": data_plane,
            "data_plane_error": data_plane_error, "loaded_libraries": loaded_libraries()}


def failure_record(exc: BaseException, message: Optional[str] = None) -> dict[str, Any]:
    """The record of a failed start; ``message`` replaces ``str(exc)``.

    Call it inside the ``except`` block so the traceback is the current one.
    """
    info = interpreter_info()
    return {"ok": False, "executable": info["executable"], "python": info["python"],
            "error": {"type": qualified_name(type(exc)),
                      "message": str(exc) if message is None else message,
                      "traceback": traceback.format_exc()}}


def announce(ready_fd: Optional[int], record: dict[str, Any]) -> None:
    """Writes ``record`` as one line to ``ready_fd`` and closes it, or prints
    it to stdout when there is no fd. A host that stopped listening is
    logged, not raised: the lifeline decides whether the worker lives on."""
    line = json.dumps(record) + "\n"
    if ready_fd is None:
        sys.stdout.write(line)
        sys.stdout.flush()
        return
    data = line.encode("utf-8")
    try:
        while data:
            data = data[os.write(ready_fd, data):]
    except OSError as e:
        log.warning("could not write the readiness record to fd %d: %s", ready_fd, e)
    finally:
        os.close(ready_fd)
