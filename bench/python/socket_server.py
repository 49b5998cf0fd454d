"""What a C++ programmer could write in an afternoon instead of snakepit
(scenario 9 of docs/performance.md): a Python server on a Unix socket.

    socket_server.py --socket PATH                 # one process per connection
    socket_server.py --socket PATH --executor 2    # a ProcessPoolExecutor behind it

Framing, both ways: an 8-byte little-endian length, then that many bytes of
JSON (the framing of bench/echo's raw echo). A request is
{"command": "noop"} or {"command": "cpu_loop", "n": N}; the reply is the
command's result as JSON ({} for noop).

Without --executor the server forks one process per accepted connection,
which runs that connection's calls itself. With --executor N one server
process reads every connection on a thread of its own and runs each call
on a concurrent.futures.ProcessPoolExecutor of N processes. It stops on
SIGTERM or when its parent dies.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import ctypes
import json
import os
import signal
import socket
import struct
import sys
import threading
from typing import Any, Callable

from cpu_loop_script import cpu_loop

_HEADER = struct.Struct("<Q")
_PR_SET_PDEATHSIG = 1


def run(request: dict[str, Any]) -> dict[str, Any]:
    if request.get("command") == "cpu_loop":
        return cpu_loop(int(request["n"]))
    return {}


def _read_exactly(conn: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left > 0:
        chunk = conn.recv(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def serve_connection(conn: socket.socket, call: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    with conn:
        while True:
            header = _read_exactly(conn, _HEADER.size)
            if header is None:
                return
            body = _read_exactly(conn, _HEADER.unpack(header)[0])
            if body is None:
                return
            reply = json.dumps(call(json.loads(body))).encode()
            conn.sendall(_HEADER.pack(len(reply)) + reply)


def _die_with_parent() -> None:
    # A server the benchmark forgot (it crashed) must not outlive it.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:
        sys.exit(0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--executor", type=int, default=0,
                    help="processes of a ProcessPoolExecutor (0: fork per connection)")
    args = ap.parse_args()
    _die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    listener.bind(args.socket)
    listener.listen(16)
    if args.executor == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
        while True:
            conn, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                _die_with_parent()
                serve_connection(conn, run)
                os._exit(0)
            conn.close()
    executor = concurrent.futures.ProcessPoolExecutor(max_workers=args.executor)
    try:
        # Start the executor's processes now, not on the first timed call.
        list(executor.map(run, [{"command": "noop"}] * args.executor))

        def call(request: dict[str, Any]) -> dict[str, Any]:
            return executor.submit(run, request).result()

        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve_connection, args=(conn, call), daemon=True).start()
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


if __name__ == "__main__":
    main()
