"""Listen addresses as the host passes them (``unix:/path`` or host:port)."""

from __future__ import annotations

from typing import Optional


def unix_socket_path(listen: str) -> Optional[str]:
    """The socket file of a ``unix:`` address, or None for any other."""
    if listen.startswith("unix://"):
        return listen[len("unix://"):]
    if listen.startswith("unix:"):
        return listen[len("unix:"):]
    return None
