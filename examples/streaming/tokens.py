"""TokenAdapter: a stand-in for a language model that streams its tokens.

``generate`` is a generator command: the host receives each token as it is
yielded (snakepit's execute_stream), pauses it when the reader falls behind,
and stops it (GeneratorExit at the next yield) when the reader cancels.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

from snakepit_worker.adapter import Adapter, command, concurrent_safe

_WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog")


class TokenAdapter(Adapter):
    """Every command is safe to run concurrently (the one counter is only
    bumped, and read for the example's check)."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped_early = 0  # generators closed by a cancel

    @command
    @concurrent_safe
    def generate(self, prompt: str, max_tokens: int = 1000, delay: float = 0.005) -> Iterator[dict[str, Any]]:
        """Yields up to max_tokens tokens, one every `delay` seconds."""
        try:
            for i in range(max_tokens):
                time.sleep(delay)  # the "model" thinking
                yield {"index": i, "token": _WORDS[(len(prompt) + i) % len(_WORDS)]}
        except GeneratorExit:
            self.stopped_early += 1
            raise

    @command
    @concurrent_safe
    def stopped_early_count(self) -> int:
        """How many generate calls a cancel stopped in this worker."""
        return self.stopped_early
