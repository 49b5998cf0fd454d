"""``python -m snakepit_worker serve``: the worker as a standalone server.

The entry point of a container (deploy/kubernetes/, docs/remote.md): no
host started this process, so there is no lifeline and no readiness pipe;
the readiness record goes to stdout (the container's log). Every flag
also reads an environment variable (``SNAKEPIT_<FLAG>``, e.g.
``SNAKEPIT_TLS_CERT``), so a Deployment can set them either way; a flag
wins over its variable.

Off the host, the rules are stricter than for a worker the host spawns:

- the token comes from ``--token-file`` (a mounted Secret), never from a
  flag, and is required: a worker reachable from the network that
  accepts anyone is refused;
- TLS (``--tls-cert`` and ``--tls-key``) is required unless ``--listen``
  is a loopback address or ``--allow-plaintext`` says plaintext is meant;
- ``--tls-client-ca`` asks every client for a certificate (mutual TLS);
  only the grpcio transport offers it, so it selects grpcio.

SIGTERM drains: grpc.health.v1 answers NOT_SERVING (and the Worker
service's Health STOPPING) for ``--drain-notice`` s while calls are still
served, so that clients stop sending; then new calls are refused,
in-flight calls get up to ``--grace`` s, and the worker exits 0
(worker.py). Set terminationGracePeriodSeconds above notice + grace.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import os
import socket
import sys
from typing import Callable, Optional, Sequence

from .cli import _MAX_GRPC_MESSAGE, DEFAULT_ADAPTER, _bounded_int, _non_negative_float, configure_logging
from .calls import WorkerCalls
from .envtoken import TokenHandoff, take_token
from .transport import TRANSPORTS
from .worker import Options, run

DEFAULT_LISTEN = "0.0.0.0:50051"
# Notice + grace stay under Kubernetes' default terminationGracePeriodSeconds (30).
DEFAULT_GRACE_S = 25.0
DEFAULT_DRAIN_NOTICE_S = 2.0
ENV_PREFIX = "SNAKEPIT_"
EXIT_BAD_SETUP = 2


class ServeError(Exception):
    """A setup that serve refuses; the message names the flag."""


def _env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m snakepit_worker serve", allow_abbrev=False,
        description="A snakepit-cpp worker as a standalone server (a container's entry point). "
                    "Each flag may also be given as the environment variable SNAKEPIT_<FLAG>, "
                    "e.g. SNAKEPIT_TOKEN_FILE.")

    def add(flag: str, **kwargs: object) -> None:
        env = _env_name(flag)
        if env in os.environ and "action" not in kwargs:
            kwargs["default"] = os.environ[env]
        kwargs["help"] = f"{kwargs.get('help', '')} (env {env})"
        p.add_argument(flag, **kwargs)  # type: ignore[arg-type]

    add("--listen", default=DEFAULT_LISTEN, help=f"host:port to serve on (default {DEFAULT_LISTEN})")
    add("--health-listen", help="also serve grpc.health.v1 alone, in plaintext, on host:port "
        "(Kubernetes' gRPC probes speak no TLS); default: only beside the Worker service")
    add("--adapter", default=DEFAULT_ADAPTER, help="module:Class to load")
    add("--mode", choices=("process", "thread"), default="process",
        help="process: one execution slot; thread: --max-workers slots")
    add("--max-workers", type=_bounded_int(1, 1024), default=4, help="slots in thread mode (default 4)")
    add("--token-file", help="file holding the token every RPC must carry (required)")
    add("--tls-cert", help="PEM certificate (chain) to serve TLS with")
    add("--tls-key", help="private key of --tls-cert")
    add("--tls-client-ca", help="PEM CA(s) that client certificates must chain to (mutual TLS)")
    add("--grace", type=_non_negative_float, default=DEFAULT_GRACE_S,
        help=f"seconds SIGTERM waits for in-flight calls (default {DEFAULT_GRACE_S:g})")
    add("--drain-notice", type=_non_negative_float, default=DEFAULT_DRAIN_NOTICE_S,
        help="seconds health says NOT_SERVING before new calls are refused, so that clients "
             f"stop sending (default {DEFAULT_DRAIN_NOTICE_S:g})")
    add("--transport", choices=TRANSPORTS, default="auto",
        help="native, grpcio or auto; --tls-client-ca needs grpcio")
    add("--max-message-bytes", type=_bounded_int(1, _MAX_GRPC_MESSAGE), default=128 << 20,
        help="gRPC send/receive limit (default 128 MiB)")
    add("--preload", default="[]", help="JSON list handed to Adapter.setup()")
    add("--worker-id", default=socket.gethostname(), help="log label (default: the host name)")
    p.add_argument("--allow-plaintext", action="store_true",
                   default=os.environ.get(_env_name("--allow-plaintext"), "") in ("1", "true"),
                   help="serve without TLS on a non-loopback address (env "
                        f"{_env_name('--allow-plaintext')}=1); calls cross the network in clear")
    return p


def read_token(path: Optional[str]) -> str:
    """The token in ``path`` (surrounding whitespace dropped); ServeError
    when there is none or the file cannot be read."""
    if not path:
        raise ServeError("--token-file is required: a worker reachable from the network must "
                         "refuse calls without the token (mount it from a Secret)")
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ServeError(f"--token-file {path!r}: {e}") from e
    if not token:
        raise ServeError(f"--token-file {path!r} is empty")
    return token


def is_loopback(listen: str) -> bool:
    """Whether ``host:port`` binds a loopback address only."""
    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def options(argv: Sequence[str]) -> Options:
    """Options for worker.run from serve's flags; ServeError on a setup
    that would serve without a token or, off loopback, without TLS."""
    ns = build_parser().parse_args(argv)
    if ns.listen.startswith("unix:"):
        raise ServeError("--listen: serve takes host:port; a Unix socket worker is started by "
                         "its host (python -m snakepit_worker --listen unix:...)")
    if (ns.tls_cert is None) != (ns.tls_key is None):
        raise ServeError("--tls-cert and --tls-key must be given together")
    if ns.tls_cert is None and not ns.allow_plaintext and not is_loopback(ns.listen):
        raise ServeError(f"--listen {ns.listen} is not a loopback address and no --tls-cert/--tls-key "
                         "is given: calls and the token would cross the network in plaintext "
                         "(give TLS files, or --allow-plaintext if that is meant)")
    transport = ns.transport
    if ns.tls_client_ca is not None:
        if ns.tls_cert is None:
            raise ServeError("--tls-client-ca needs --tls-cert and --tls-key")
        if transport == "native":
            raise ServeError("--tls-client-ca (mutual TLS) is served by the grpcio transport only")
        transport = "grpcio"
    token = read_token(ns.token_file)
    on_ready = None if ns.health_listen is None else _health_port(ns.health_listen)
    return Options(mode=ns.mode, max_workers=ns.max_workers, adapter=ns.adapter,
                   listen=ns.listen, ready_fd=None, lifeline_fd=None, stacks_fd=None,
                   worker_id=ns.worker_id, preload=ns.preload, grace=ns.grace,
                   max_message_bytes=ns.max_message_bytes, transport=transport,
                   tls_cert_file=ns.tls_cert, tls_key_file=ns.tls_key,
                   tls_client_ca_file=ns.tls_client_ca, drain_notice=ns.drain_notice,
                   auth_token=TokenHandoff(token), on_ready=on_ready)


def _health_port(listen: str) -> Callable[[WorkerCalls], None]:
    """Starts the plaintext health-only server once the worker is ready;
    it answers NOT_SERVING from the start of a stop on."""
    def start(calls: WorkerCalls) -> None:
        from .health import serve_health  # imports grpc
        _health_servers.append(serve_health(listen, calls.stopping))
    return start


# Kept alive for the process's life (os._exit ends them).
_health_servers: list[object] = []


def main(argv: Sequence[str]) -> int:
    # serve takes its token from --token-file only; a host-style token in
    # the environment is scrubbed so that the adapter cannot inherit it.
    if take_token() is not None:
        print("python -m snakepit_worker serve: ignoring SNAKEPIT_WORKER_TOKEN (use --token-file)",
              file=sys.stderr)
    try:
        opts = options(argv)
    except ServeError as e:
        print(f"python -m snakepit_worker serve: error: {e}", file=sys.stderr)
        return EXIT_BAD_SETUP
    configure_logging(opts.worker_id)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # An adapter's prints reach the container log as they happen.
        sys.stdout.reconfigure(line_buffering=True)
    return run(opts)
