"""LeakyAdapter: the default adapter plus a command that leaks on purpose.

``allocate(mb)`` keeps every block it allocates, as a cache that never
evicts or an extension that never frees would. It is thread-safe: the
retained blocks are the only shared state, and they are locked.
"""

from __future__ import annotations

from snakepit_worker.adapter import command, synchronized
from snakepit_worker.showcase import ShowcaseAdapter

_MIB = 1 << 20
_PAGE = 4096


class LeakyAdapter(ShowcaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self._retained: list[bytearray] = []

    @command
    @synchronized
    def allocate(self, mb: int) -> dict[str, int]:
        """Allocates and keeps ``mb`` MiB, every page touched so that it
        counts as resident. -> {"retained_mb"} in total."""
        block = bytearray(mb * _MIB)
        block[::_PAGE] = b"\x01" * len(range(0, len(block), _PAGE))
        self._retained.append(block)
        return {"retained_mb": sum(len(b) for b in self._retained) // _MIB}
