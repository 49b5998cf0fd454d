"""The template process: ``python -m snakepit_worker.template``.

A pool whose ``start_method`` allows it starts one template per profile
(src/worker/worker_template.h). The template imports the worker package,
the adapter's module (and so whatever that imports: numpy, a model) and the
worker's transport module, but starts no server and no thread, so that it
can be forked. It announces on ``--ready-fd`` whether it is forkable
(fork_safety.py), then serves fork requests on ``--control-fd`` until the
host closes that socket (its lifeline: the host's death, even by SIGKILL,
ends the template).

Protocol on the control socket (a Unix stream socket; docs/worker-protocol.md,
"Template"): the host sends a frame (4-byte big-endian length, then JSON
``{"argv": [worker flags], "token": str | null}``) with four descriptors
attached (SCM_RIGHTS): the worker's output, lifeline, readiness and stacks
pipes. The template forks a worker (sibling_fork.py: the host is its
parent) and answers a frame ``{"pid": N}`` or ``{"error": "..."}``.

The forked worker puts the descriptors where a spawned worker has them
(stdout and stderr, 3, 4, 5), closes every other one, takes a process
group of its own and runs ``cli.main(argv)`` as ``python -m
snakepit_worker`` would: from there it is an ordinary worker.
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import json
import logging
import os
import socket
import struct
import sys
import traceback
from typing import Any, NoReturn, Optional

from . import cli, fork_safety, matrix
from .envtoken import TOKEN_ENV
from .interpreter import interpreter_info
from .loader import load_adapter_class
from .readiness import announce, failure_record
from .sibling_fork import SiblingFork
from .transport import TRANSPORTS, TransportUnavailable, load

log = logging.getLogger("snakepit_worker")

_HEADER = struct.Struct(">I")
_MAX_FRAME = 16 << 20
# Where a spawned worker has them (src/worker/python_worker.cc).
_OUTPUT_FDS = (1, 2)
_LIFELINE_FD, _READY_FD, _STACKS_FD, _SHM_FD = 3, 4, 5, 6
# output, lifeline, ready, stacks; and the shared-memory data plane's memfd
# when the host offers one (its argv then says --shm-fd 6).
_PASSED_FDS = 4
_MAX_PASSED_FDS = 5


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m snakepit_worker.template", allow_abbrev=False)
    p.add_argument("--control-fd", type=int, required=True)
    p.add_argument("--ready-fd", type=int, required=True)
    p.add_argument("--adapter", default=cli.DEFAULT_ADAPTER)
    p.add_argument("--mode", choices=("process", "thread"), default="process")
    p.add_argument("--transport", choices=TRANSPORTS, default="auto")
    p.add_argument("--worker-id", default="template", help="label of the template's log lines")
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    cli.configure_logging(args.worker_id)
    control = socket.socket(fileno=args.control_fd)
    os.set_inheritable(args.ready_fd, False)
    try:
        adapter_class: Optional[type] = load_adapter_class(args.adapter, args.mode)
        try:
            load(args.transport)  # imported, not started
        except TransportUnavailable as e:
            # The workers report it in their own readiness records.
            log.info("transport not preloaded: %s", e)
        fork = SiblingFork()
    except Exception as e:  # noqa: BLE001 - every start-up failure is reported
        announce(args.ready_fd, failure_record(e))
        return 3
    _warm_up()
    found = fork_safety.hazards(adapter_class)
    # Everything imported so far is shared copy-on-write; the collector
    # must not write to it (its traversals would copy every page) in the
    # workers (docs for gc.freeze: fork servers).
    gc.freeze()
    announce(args.ready_fd, {"ok": True, "pid": os.getpid(), "forkable": not found,
                             "hazards": found, **interpreter_info()})
    if found:
        adapter_class = None  # the host spawns instead; it closes us when it likes
    return _serve(control, fork, adapter_class)


def _warm_up() -> None:
    """Does once, for every worker to share, what each would otherwise
    compute the same way at start: the thread-safety matrix (read, parsed,
    validated, cached) and argparse's first use (its translations)."""
    matrix.loaded_libraries()
    cli.parse_args(["--listen", "unix:/template-warm-up"])


def _serve(control: socket.socket, fork: SiblingFork, adapter_class: Optional[type]) -> int:
    """Answers fork requests until the host closes the socket."""
    while True:
        request = _receive(control)
        if request is None:
            return 0  # the host is gone, or done with us
        body, fds = request
        try:
            reply = _fork_worker(control, fork, adapter_class, body, fds)
        finally:
            for fd in fds:
                os.close(fd)
        _send(control, reply)


def _fork_worker(control: socket.socket, fork: SiblingFork, adapter_class: Optional[type],
                 body: dict[str, Any], fds: list[int]) -> dict[str, Any]:
    """Forks one worker; the reply frame for the host."""
    if adapter_class is None:
        return {"error": "this template is not forkable"}
    found = fork_safety.hazards(adapter_class)
    if found:
        return {"error": "not forkable any more: " + "; ".join(found)}
    argv, token = body.get("argv"), body.get("token")
    if len(fds) not in (_PASSED_FDS, _MAX_PASSED_FDS) or not isinstance(argv, list) or \
            not all(isinstance(a, str) for a in argv) or not isinstance(token, (str, type(None))):
        return {"error": f"malformed fork request ({len(fds)} descriptors)"}
    try:
        pid = fork.fork()
    except OSError as e:
        return {"error": str(e)}
    if pid == 0:
        _become_worker(control, argv, token, fds)
    return {"pid": pid}


def _become_worker(control: socket.socket, argv: list[str], token: Optional[str],
                   fds: list[int]) -> NoReturn:
    """In the forked child: becomes the worker ``argv`` describes. Never returns."""
    code = 1
    try:
        os.close(control.detach())
        # Copies above every target first, so no dup2 below clobbers a source.
        copies = [fcntl.fcntl(fd, fcntl.F_DUPFD, _SHM_FD + 1) for fd in fds]
        for fd in fds:
            os.close(fd)
        targets = (_OUTPUT_FDS, (_LIFELINE_FD,), (_READY_FD,), (_STACKS_FD,), (_SHM_FD,))
        for source, wanted in zip(copies, targets):
            for target in wanted:
                os.dup2(source, target)
        os.closerange(_STACKS_FD + 1 if len(fds) == _PASSED_FDS else _SHM_FD + 1,
                      os.sysconf("SC_OPEN_MAX"))
        os.setpgid(0, 0)
        if token is not None:
            os.environ[TOKEN_ENV] = token
        sys.argv = [sys.argv[0], *argv]
        code = cli.main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001 - the worker must not return into the template
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _receive(control: socket.socket) -> Optional[tuple[dict[str, Any], list[int]]]:
    """One request frame and its descriptors; None at EOF."""
    header, fds, _, _ = socket.recv_fds(control, _HEADER.size, _MAX_PASSED_FDS)
    if not header:
        return None
    while len(header) < _HEADER.size:
        more = control.recv(_HEADER.size - len(header))
        if not more:
            return None
        header += more
    (length,) = _HEADER.unpack(header)
    if length > _MAX_FRAME:
        raise ValueError(f"fork request of {length} bytes")
    data = bytearray()
    while len(data) < length:
        chunk = control.recv(length - len(data))
        if not chunk:
            return None
        data += chunk
    body = json.loads(data)
    return (body if isinstance(body, dict) else {}), list(fds)


def _send(control: socket.socket, reply: dict[str, Any]) -> None:
    data = json.dumps(reply).encode()
    control.sendall(_HEADER.pack(len(data)) + data)


if __name__ == "__main__":
    sys.exit(main())
