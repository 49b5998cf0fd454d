"""No process the adapter starts outlives its worker.

An adapter may start processes (subprocess.Popen, multiprocessing), even in
a session or process group of their own (``start_new_session=True``), and
those may leave orphans behind. The worker makes itself a child subreaper
(``PR_SET_CHILD_SUBREAPER``) before it loads anything, so every orphan in
its tree is re-parented to it rather than to init, and ``kill_descendants``
finds them all through ``/proc/self/task/*/children`` when the worker
stops. The host does the same from outside when it kills a worker
(src/process/process_tree.h). See docs/reliability.md, "Descendants".

This module imports nothing heavy (ctypes only inside become_subreaper).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal

log = logging.getLogger("snakepit_worker")

_PR_SET_CHILD_SUBREAPER = 36
# A tree larger than this is not a healthy worker; the walk stops there.
_MAX_DESCENDANTS = 4096
_MAX_PASSES = 64


def become_subreaper() -> bool:
    """Makes this process a child subreaper; False (logged) where the
    kernel or ctypes does not allow it: then orphans of the adapter's
    processes go to init and escape ``kill_descendants``."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    except (ImportError, OSError, AttributeError) as e:
        log.warning("could not become a child subreaper (%s): processes the adapter starts "
                    "may outlive the worker", e)
        return False
    return True


def _children(pid: int) -> list[int]:
    """The children of every thread of ``pid``; [] when it is gone."""
    found: list[int] = []
    task_dir = f"/proc/{pid}/task"
    try:
        tids = os.listdir(task_dir)
    except OSError:
        return found
    for tid in tids:
        try:
            with open(f"{task_dir}/{tid}/children", encoding="ascii") as f:
                found.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue  # the thread exited
    return found


def list_descendants(pid: int) -> list[int]:
    """The descendants of ``pid`` (not ``pid``), breadth-first, each once."""
    seen = {pid}
    found: list[int] = []
    pending = [pid]
    while pending and len(found) < _MAX_DESCENDANTS:
        for child in _children(pending.pop(0)):
            if child not in seen and len(found) < _MAX_DESCENDANTS:
                seen.add(child)
                found.append(child)
                pending.append(child)
    return found


def kill_descendants() -> int:
    """SIGKILLs every descendant of this process; returns how many.

    Each one found is SIGSTOPped first and the tree listed again until a
    listing finds nobody new, so a process forking in a loop cannot outrun
    the walk; a stopped process cannot fork or reap, so no pid in the tree
    is recycled before the SIGKILLs. Never raises: the stop goes on. Safe to
    call from any thread; the caller is about to exit (a Popen object of the
    adapter's will see its child killed).
    """
    stopped: list[int] = []
    known: set[int] = set()
    try:
        for _ in range(_MAX_PASSES):
            new = [p for p in list_descendants(os.getpid()) if p not in known]
            if not new:
                break
            for p in new:
                known.add(p)
                with contextlib.suppress(OSError):
                    os.kill(p, signal.SIGSTOP)
                stopped.append(p)
    finally:
        for p in stopped:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
    if stopped:
        log.info("killed %d process(es) the adapter left running", len(stopped))
    return len(stopped)
