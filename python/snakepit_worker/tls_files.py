"""The worker's TLS certificate and key files (``--tls-cert``/``--tls-key``).

Both transports take the file names; reading them here first lets a bad
setup fail the start, on either transport, before the adapter loads. This
module imports nothing heavy (no grpc).
"""

from __future__ import annotations

from typing import Optional

# What a server's bind failure may also mean when it was given TLS files:
# gRPC reports an unusable certificate or key as a failure to listen.
BIND_FAILURE_HINT = ("with TLS this also happens when --tls-cert and --tls-key are not a PEM "
                     "certificate and its matching private key")


def read_tls_files(cert_file: Optional[str],
                   key_file: Optional[str]) -> Optional[tuple[bytes, bytes]]:
    """The PEM certificate (chain) and private key as ``(cert, key)``, or
    None (plaintext) when neither is given. Raises ValueError when only one
    is given, OSError when a file cannot be read."""
    if cert_file is None and key_file is None:
        return None
    if cert_file is None or key_file is None:
        raise ValueError("--tls-cert and --tls-key must be given together "
                         f"(got --tls-cert {cert_file!r}, --tls-key {key_file!r})")
    with open(cert_file, "rb") as f:
        cert = f.read()
    with open(key_file, "rb") as f:
        key = f.read()
    return cert, key
