"""Forking a worker as a sibling: a child of the host, not of the template.

The template (template.py) forks workers with ``clone(CLONE_PARENT)``, so
that each worker's parent is the host that started the template. The host
then owns each worker exactly as it owns a spawned one: it reaps it and
learns its exit status through the same pidfd code
(src/process/child_process.h), and a worker lives on when the template
dies.

``os.fork`` cannot do this, so the clone syscall is made through ctypes,
with what ``os.fork`` and glibc's ``fork`` do around it:

- ``PyOS_BeforeFork`` / ``PyOS_AfterFork_Child`` / ``PyOS_AfterFork_Parent``:
  the interpreter's own fork handling (import lock, thread states,
  ``os.register_at_fork`` callbacks such as ``random``'s reseed);
- ``CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID`` on the address glibc keeps
  the thread's id at (``prctl(PR_GET_TID_ADDRESS)``), so the C library in
  the child knows its own thread id, as after glibc's fork.

What glibc's fork does and this does not: ``pthread_atfork`` handlers do not
run, and the robust-mutex list is not registered again. Both concern locks
held by other threads, and the template forks only while it has one thread
(``hazards()``), so neither can matter there.

Only x86-64 and AArch64 are supported (the syscall number and argument
order of ``clone`` differ per architecture); elsewhere ``unavailable()``
says why and the pool spawns its workers.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from typing import Optional

_CLONE_PARENT = 0x00008000
_CLONE_CHILD_CLEARTID = 0x00200000
_CLONE_CHILD_SETTID = 0x01000000
_PR_GET_TID_ADDRESS = 40

# clone's number, and whether its 4th argument is child_tid (x86-64) or
# tls (the CLONE_BACKWARDS architectures, AArch64 among them).
_CLONE = {"x86_64": (56, True), "aarch64": (220, False)}


class SiblingFork:
    """The clone call, set up once. Not thread-safe: the template has one
    thread."""

    def __init__(self) -> None:
        machine = platform.machine()
        if machine not in _CLONE:
            raise OSError(f"clone(CLONE_PARENT) is only wired up for {sorted(_CLONE)}, "
                          f"not {machine}")
        self._number, self._tid_fourth = _CLONE[machine]
        # PyDLL: the GIL stays held across the call, as os.fork holds it.
        self._libc = ctypes.PyDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long
        self._api = ctypes.pythonapi
        tid_address = ctypes.c_void_p()
        if self._libc.prctl(_PR_GET_TID_ADDRESS, ctypes.byref(tid_address), 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(PR_GET_TID_ADDRESS): {os.strerror(err)}")
        self._tid_address = tid_address

    def fork(self) -> int:
        """Like ``os.fork()``, but the child's parent is this process's
        parent. Returns 0 in the child, the child's pid here; raises
        OSError if the kernel refuses."""
        sys.stdout.flush()
        sys.stderr.flush()
        flags = ctypes.c_ulong(_CLONE_PARENT | _CLONE_CHILD_SETTID | _CLONE_CHILD_CLEARTID)
        null = ctypes.c_void_p(0)
        fourth, fifth = (self._tid_address, null) if self._tid_fourth else (null, self._tid_address)
        self._api.PyOS_BeforeFork()
        pid = self._libc.syscall(ctypes.c_long(self._number), flags, null, null, fourth, fifth)
        if pid == 0:
            self._api.PyOS_AfterFork_Child()
            return 0
        err = ctypes.get_errno()
        self._api.PyOS_AfterFork_Parent()
        if pid < 0:
            raise OSError(err, f"clone(CLONE_PARENT): {os.strerror(err)}")
        return int(pid)


def unavailable() -> Optional[str]:
    """Why ``SiblingFork`` cannot work here, or None."""
    try:
        SiblingFork()
    except (OSError, AttributeError) as e:
        return str(e)
    return None
