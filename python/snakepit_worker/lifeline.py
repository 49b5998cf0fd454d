"""The lifeline: the worker exits at once when the host's end of a pipe closes."""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("snakepit_worker")


def watch_lifeline(fd: int) -> threading.Thread:
    """Starts a daemon thread that blocks reading ``fd`` and calls
    ``os._exit(0)`` on EOF or a read error: the host is gone, even if it was
    SIGKILLed, and nobody is left to answer. Bytes the host writes are
    ignored. Works while every other thread is busy: the read releases the
    GIL, and the exit neither waits for calls nor runs teardown."""
    def watch() -> None:
        try:
            while os.read(fd, 4096):
                pass
            reason = "closed"
        except OSError as e:
            reason = f"failed: {e}"
        log.warning("lifeline fd %d %s; the host is gone, exiting now", fd, reason)
        os._exit(0)

    thread = threading.Thread(target=watch, name="snakepit-lifeline", daemon=True)
    thread.start()
    return thread
