"""Python stacks on request, for a host about to kill a hung worker.

The host passes the write end of a pipe as ``--stacks-fd``; on SIGUSR2 the
interpreter's faulthandler writes the traceback of every thread to it from
the signal handler itself, in C, without the GIL: a thread stuck in a
tight loop or a C call still gets its stack reported. The host reads the
pipe, logs the stacks and puts them in the kill event (docs/reliability.md,
"Hung calls").
"""

import faulthandler
import os
import signal
from typing import Optional

DUMP_SIGNAL = signal.SIGUSR2


def serve_stack_dumps(fd: Optional[int]) -> None:
    """Dumps all threads' stacks to ``fd`` on every SIGUSR2; no-op without one."""
    if fd is None:
        return
    os.set_inheritable(fd, False)
    faulthandler.register(DUMP_SIGNAL, file=fd, all_threads=True, chain=False)
