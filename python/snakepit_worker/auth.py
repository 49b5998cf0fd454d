"""Who may talk to the worker: the token check and TLS credentials.

See docs/worker-protocol.md, "Authentication and TLS". Importing this
module imports grpc.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any, Callable, Optional

import grpc

from .tls_files import read_tls_files

TOKEN_METADATA_KEY = "snakepit-token"

log = logging.getLogger("snakepit_worker")


class TokenInterceptor(grpc.ServerInterceptor):
    """Lets an RPC through only if it carries exactly one ``snakepit-token``
    metadata entry equal to the worker's token (compared in constant time);
    any other RPC is answered UNAUTHENTICATED before the service, and so any
    adapter code, sees it. It keeps only the token's SHA-256 digest and
    compares digests (hmac.compare_digest), so an adapter that walks the
    process's objects finds no token here. Thread-safe: it holds no
    mutable state."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the worker token must not be empty")
        self._digest = hashlib.sha256(token.encode("utf-8")).digest()
        self._refuse = grpc.unary_unary_rpc_method_handler(_refuse)

    def intercept_service(self, continuation: Callable[[Any], Any],
                          handler_call_details: grpc.HandlerCallDetails) -> Any:
        presented = [value for key, value in handler_call_details.invocation_metadata or ()
                     if key == TOKEN_METADATA_KEY]
        if len(presented) == 1 and hmac.compare_digest(
                hashlib.sha256(_as_bytes(presented[0])).digest(), self._digest):
            return continuation(handler_call_details)
        return self._refuse


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")


def _refuse(request: Any, context: grpc.ServicerContext) -> None:
    log.warning("refused an RPC from %s: missing or wrong %s", context.peer(),
                TOKEN_METADATA_KEY)
    context.abort(grpc.StatusCode.UNAUTHENTICATED, f"missing or wrong {TOKEN_METADATA_KEY}")


def server_credentials(cert_file: Optional[str],
                       key_file: Optional[str]) -> Optional[grpc.ServerCredentials]:
    """TLS credentials from a PEM certificate (chain) and its private key,
    or None (plaintext) when neither is given. Raises ValueError when only
    one is given, OSError when a file cannot be read."""
    pem = read_tls_files(cert_file, key_file)
    if pem is None:
        return None
    cert, key = pem
    return grpc.ssl_server_credentials([(key, cert)])
