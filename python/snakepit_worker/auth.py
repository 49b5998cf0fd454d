"""Who may talk to the worker: the token check and TLS credentials.

See docs/worker-protocol.md, "Authentication and TLS". Importing this
module imports grpc.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Optional

import grpc

from .tls_files import read_tls_files

TOKEN_METADATA_KEY = "snakepit-token"
# grpc.health.v1 (health.py): answered without the token.
HEALTH_METHODS = ("/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch")

log = logging.getLogger("snakepit_worker")


class TokenInterceptor(grpc.ServerInterceptor):
    """Lets an RPC through only if it carries exactly one ``snakepit-token``
    metadata entry equal to the worker's token (compared in constant time);
    any other RPC is answered UNAUTHENTICATED before the service, and so any
    adapter code, sees it. It keeps only the token's SHA-256 digest and
    compares digests (hmac.compare_digest), so an adapter that walks the
    process's objects finds no token here. Refusals are logged through a
    RefusalLog. Thread-safe."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the worker token must not be empty")
        self._digest = hashlib.sha256(token.encode("utf-8")).digest()
        self._log = RefusalLog()
        # A stream-unary handler: grpcio hands it the requests as an
        # iterator it reads on demand, and _refuse_rpc never reads it, so a
        # refused request's body is never received into memory (a
        # unary-unary handler would get the whole message first).
        self._refuse = grpc.stream_unary_rpc_method_handler(self._refuse_rpc)

    def intercept_service(self, continuation: Callable[[Any], Any],
                          handler_call_details: grpc.HandlerCallDetails) -> Any:
        if handler_call_details.method in HEALTH_METHODS:
            return continuation(handler_call_details)  # probes carry no token (health.py)
        presented = [value for key, value in handler_call_details.invocation_metadata or ()
                     if key == TOKEN_METADATA_KEY]
        if len(presented) == 1 and hmac.compare_digest(
                hashlib.sha256(_as_bytes(presented[0])).digest(), self._digest):
            return continuation(handler_call_details)
        return self._refuse

    def _refuse_rpc(self, requests: Any, context: grpc.ServicerContext) -> None:
        """Ends the RPC UNAUTHENTICATED without reading ``requests``."""
        self._log.refused(context.peer())
        context.abort(grpc.StatusCode.UNAUTHENTICATED, f"missing or wrong {TOKEN_METADATA_KEY}")


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")


def _peer_host(peer: str) -> str:
    """``ipv4:127.0.0.1:5000`` -> ``ipv4:127.0.0.1`` (a client's every
    connection is one peer); other forms (``unix:...``) unchanged."""
    if peer.startswith(("ipv4:", "ipv6:")):
        return peer.rsplit(":", 1)[0]
    return peer


class RefusalLog:
    """Logs refused RPCs at most once per ``interval`` s per peer host, with
    how many were refused since that peer's last line, so that a client
    hammering the worker without the token cannot flood the host's log.
    Remembers up to ``max_peers`` peers (the least recently refused are
    forgotten first). Thread-safe."""

    def __init__(self, interval: float = 10.0, max_peers: int = 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._max_peers = max_peers
        self._clock = clock
        self._lock = threading.Lock()
        # peer -> (time of its last line, refusals since then)
        self._peers: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def refused(self, peer: str) -> bool:
        """Counts a refusal from ``peer``; logs and returns True when its
        line is due."""
        host = _peer_host(peer)
        now = self._clock()
        with self._lock:
            entry = self._peers.pop(host, None)
            count = 1 if entry is None else entry[1] + 1
            due = entry is None or now - entry[0] >= self._interval
            self._peers[host] = (now, 0) if due or entry is None else (entry[0], count)
            while len(self._peers) > self._max_peers:
                self._peers.popitem(last=False)
        if due:
            log.warning("refused %d RPC(s) from %s: missing or wrong %s (at most one such "
                        "line per peer every %.0f s)", count, host, TOKEN_METADATA_KEY,
                        self._interval)
        return due


def server_credentials(cert_file: Optional[str], key_file: Optional[str],
                       client_ca_file: Optional[str] = None) -> Optional[grpc.ServerCredentials]:
    """TLS credentials from a PEM certificate (chain) and its private key,
    or None (plaintext) when neither is given. With ``client_ca_file``
    (mutual TLS, ``serve --tls-client-ca``) every client must present a
    certificate signed by those CAs. Raises ValueError when only one of
    cert and key is given, or a client CA without them; OSError when a
    file cannot be read."""
    pem = read_tls_files(cert_file, key_file)
    if pem is None:
        if client_ca_file is not None:
            raise ValueError("--tls-client-ca needs --tls-cert and --tls-key")
        return None
    cert, key = pem
    if client_ca_file is None:
        return grpc.ssl_server_credentials([(key, cert)])
    with open(client_ca_file, "rb") as f:
        client_ca = f.read()
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                       require_client_auth=True)
