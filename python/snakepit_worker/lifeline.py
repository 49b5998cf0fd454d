"""The lifeline: the worker exits at once when the host's end of a pipe closes."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Optional

from .descendants import kill_descendants

log = logging.getLogger("snakepit_worker")

# The prefix of the private socket directories hosts create (socket_dir.cc).
_HOST_SOCKET_DIR_PREFIX = "snakepit-"


def watch_lifeline(fd: int, socket_path: Optional[str] = None) -> threading.Thread:
    """Starts a daemon thread that blocks reading ``fd`` and calls
    ``os._exit(0)`` on EOF or a read error: the host is gone, even if it was
    SIGKILLed, and nobody is left to answer. Bytes the host writes are
    ignored. Works while every other thread is busy: the read releases the
    GIL, and the exit neither waits for calls nor runs teardown.

    Before exiting the worker SIGKILLs its descendants (descendants.py).
    A host that was killed never removes its socket directory, so the
    worker also removes ``socket_path`` (its own Unix socket, if any) and
    then the directory, which succeeds only for the last worker out."""
    def watch() -> None:
        try:
            while os.read(fd, 4096):
                pass
            reason = "closed"
        except OSError as e:
            reason = f"failed: {e}"
        log.warning("lifeline fd %d %s; the host is gone, exiting now", fd, reason)
        kill_descendants()
        if socket_path is not None:
            _remove_socket(socket_path)
        os._exit(0)

    thread = threading.Thread(target=watch, name="snakepit-lifeline", daemon=True)
    thread.start()
    return thread


def _remove_socket(path: str) -> None:
    """Unlinks the socket file, then its directory if that is a host's
    private socket directory and now empty. Never raises: the exit goes on."""
    with contextlib.suppress(OSError):
        os.unlink(path)
    directory = os.path.dirname(path)
    if os.path.basename(directory).startswith(_HOST_SOCKET_DIR_PREFIX):
        with contextlib.suppress(OSError):  # ENOTEMPTY: other workers remain
            os.rmdir(directory)
