"""Turns SIGTERM and SIGINT into something the main thread can wait for."""

from __future__ import annotations

import os
import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Catches SIGTERM and SIGINT from construction on.

    The Python-level handlers do nothing; the interpreter writes each
    signal's number to a wakeup pipe, which ``wait`` reads. No lock is
    touched from a signal handler. Construct and wait on the main thread.
    """

    def __init__(self) -> None:
        self._read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        signal.set_wakeup_fd(write_fd)
        for sig in STOP_SIGNALS:
            signal.signal(sig, lambda signum, frame: None)

    def wait(self) -> signal.Signals:
        """Blocks until SIGTERM or SIGINT arrives; returns which."""
        while True:
            for signum in os.read(self._read_fd, 64):
                if signum in STOP_SIGNALS:
                    return signal.Signals(signum)
