"""Command line of ``python -m snakepit_worker``; see docs/worker-protocol.md.

Arguments the parser does not know are handed to the adapter as
``Adapter.extra_args`` (PoolConfig.extra_args); a known flag given twice
takes its last value, so extra args may also override the host's flags.
The token is not a flag: main() takes it from SNAKEPIT_WORKER_TOKEN.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import logging
import os
import sys
from typing import Callable, Optional, Sequence

from .envtoken import TokenHandoff, take_token
from .log_format import HostLogFormatter
from .transport import TRANSPORTS
from .worker import Options, run

DEFAULT_ADAPTER = "snakepit_worker.showcase:ShowcaseAdapter"
_MAX_GRPC_MESSAGE = 2**31 - 1


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {value}")
        return value
    return parse


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def parse_args(argv: Optional[Sequence[str]] = None) -> Options:
    """Parses ``argv`` (default: sys.argv[1:]); exits with status 2 on a bad flag."""
    p = argparse.ArgumentParser(prog="python -m snakepit_worker", allow_abbrev=False,
                                description="A snakepit-cpp Python worker.",
                                epilog="Other arguments are handed to the adapter "
                                       "as Adapter.extra_args.")
    p.add_argument("--mode", choices=("process", "thread"), default="process",
                   help="process: one execution slot; thread: --max-workers slots")
    p.add_argument("--max-workers", type=_bounded_int(1, 1024), default=4,
                   help="execution slots in thread mode (default 4)")
    p.add_argument("--adapter", default=DEFAULT_ADAPTER, help="module:Class to load")
    p.add_argument("--listen", required=True, help="unix:/absolute/path or host:port")
    p.add_argument("--ready-fd", type=_bounded_int(0, 65535),
                   help="fd for the readiness record (default: stdout)")
    p.add_argument("--lifeline-fd", type=_bounded_int(0, 65535),
                   help="fd whose EOF makes the worker exit at once")
    p.add_argument("--stacks-fd", type=_bounded_int(0, 65535),
                   help="fd that gets every thread's Python stack on SIGUSR2")
    p.add_argument("--worker-id", default="", help="label of this worker's log lines")
    p.add_argument("--preload", default="[]", help="JSON list handed to Adapter.setup()")
    p.add_argument("--grace", type=_non_negative_float, default=5.0,
                   help="seconds SIGTERM waits for in-flight calls (default 5)")
    p.add_argument("--max-message-bytes", type=_bounded_int(1, _MAX_GRPC_MESSAGE),
                   default=128 << 20, help="gRPC send/receive limit (default 128 MiB)")
    p.add_argument("--thread-safety-checks", action="store_true",
                   help="watch commands for unlocked concurrent use and flag libraries "
                        "that are not thread-safe (see docs/thread-safety.md)")
    p.add_argument("--rlimit-as-mb", type=_bounded_int(1, 1 << 30),
                   help="address-space limit (RLIMIT_AS) in MiB, set before anything loads")
    p.add_argument("--rlimit-nofile", type=_bounded_int(16, 1 << 20),
                   help="open-file limit (RLIMIT_NOFILE), set before anything loads")
    p.add_argument("--tls-cert", metavar="PEM_FILE",
                   help="serve TLS with this certificate (chain); needs --tls-key")
    p.add_argument("--tls-key", metavar="PEM_FILE",
                   help="private key of --tls-cert")
    p.add_argument("--transport", choices=TRANSPORTS, default="auto",
                   help="server of the Worker service: native (gRPC C++ in-process), "
                        "grpcio, or auto (native when it imports here, else grpcio)")
    p.add_argument("--shm-fd", type=_bounded_int(0, 65535),
                   help="memfd of the host's shared-memory data plane (native transport)")
    p.add_argument("--shm-ring-bytes", type=_bounded_int(4096, 1 << 30), default=0,
                   help="size of each ring in --shm-fd")
    ns, extra = p.parse_known_args(argv)
    if ns.shm_fd is not None and not ns.shm_ring_bytes:
        p.error("--shm-fd needs --shm-ring-bytes")
    return Options(mode=ns.mode, max_workers=ns.max_workers, adapter=ns.adapter,
                   listen=ns.listen, ready_fd=ns.ready_fd, lifeline_fd=ns.lifeline_fd,
                   stacks_fd=ns.stacks_fd,
                   worker_id=ns.worker_id, preload=ns.preload, grace=ns.grace,
                   max_message_bytes=ns.max_message_bytes, extra_args=extra,
                   thread_safety_checks=ns.thread_safety_checks,
                   rlimit_as_mb=ns.rlimit_as_mb, rlimit_nofile=ns.rlimit_nofile,
                   tls_cert_file=ns.tls_cert, tls_key_file=ns.tls_key, transport=ns.transport,
                   shm_fd=ns.shm_fd, shm_ring_bytes=ns.shm_ring_bytes)


def configure_logging(worker_id: str) -> None:
    """Sends every log record (the adapter's too) to stderr, each line
    prefixed with the worker id (or the pid when there is none) and the
    record's level, which the host's logger keeps (log_format.py)."""
    label = worker_id or f"pid {os.getpid()}"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(HostLogFormatter(label))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:  # the standalone server of a container (serve.py)
        from .serve import main as serve_main
        return serve_main(args[1:])
    # First of all, so that nothing loaded later can see the token; no local
    # of this frame, which lives as long as the worker, holds it.
    opts = dataclasses.replace(parse_args(args), auth_token=TokenHandoff(take_token()))
    configure_logging(opts.worker_id)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # An adapter's prints reach the host's log as they happen, not in
        # 8 KiB blocks (stderr is line-buffered already).
        sys.stdout.reconfigure(line_buffering=True)
    return run(opts)
