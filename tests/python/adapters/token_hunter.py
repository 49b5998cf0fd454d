"""TokenHunterAdapter: an adapter that looks for its worker's token the way
a hostile one would, for tests/python/test_token_hiding.py.

Adapter spec: ``token_hunter:TokenHunterAdapter``.
"""

from __future__ import annotations

import gc
import hashlib
import re
import sys
import types
from typing import Any

from snakepit_worker.adapter import command, synchronized
from snakepit_worker.showcase import ShowcaseAdapter

# The host's tokens are 64 hex digits; the test's is too.
_CANDIDATE = re.compile(rb"[0-9a-fA-F]{64}")
_MAX_DEPTH = 6


class TokenHunterAdapter(ShowcaseAdapter):
    """Thread-safe: the hunt is synchronized and keeps no state."""

    @command
    @synchronized
    def hunt(self, sha256_hex: str, planted: str = "") -> list[str]:
        """Where an object reachable from gc.get_objects() (to depth 6) or
        from a live frame's locals holds a string whose SHA-256 is
        ``sha256_hex`` (the test passes the hash, never the token; ``planted``,
        a local of this frame, shows the hunt can find something): one
        description per find, [] when none."""
        found: list[str] = []
        seen: set[int] = set()

        def check(value: Any, path: str) -> None:
            if isinstance(value, str):
                data = value.encode("utf-8", "surrogateescape")
            elif isinstance(value, (bytes, bytearray, memoryview)):
                data = bytes(value)
            else:
                return
            for match in _CANDIDATE.finditer(data):
                if hashlib.sha256(match.group()).hexdigest() == sha256_hex:
                    found.append(path)

        def visit(roots: list[Any], where: str) -> None:
            level = [(obj, where) for obj in roots]
            for _ in range(_MAX_DEPTH + 1):
                following: list[tuple[Any, str]] = []
                for obj, path in level:
                    if id(obj) in seen:
                        continue
                    seen.add(id(obj))
                    path = f"{path} > {type(obj).__qualname__}"
                    check(obj, path)
                    if isinstance(obj, (str, bytes, bytearray, int, float)):
                        continue
                    following.extend((r, path) for r in gc.get_referents(obj))
                level = following

        frames: list[Any] = []
        for frame in sys._current_frames().values():
            current: types.FrameType | None = frame
            while current is not None:
                frames.append(dict(current.f_locals))
                current = current.f_back
        import posix
        visit([posix.environ], "posix.environ")
        visit(frames, "frame locals")
        visit(gc.get_objects(), "gc.get_objects()")
        return found
