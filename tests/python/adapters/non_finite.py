"""Test adapter whose commands return values JSON cannot carry, or raise
exceptions that cannot be rendered. Adapter spec:
``non_finite:NonFiniteAdapter``."""

from snakepit_worker import Adapter, command


class _Unprintable(ValueError):
    def __str__(self) -> str:
        raise RuntimeError("no message for you")


class NonFiniteAdapter(Adapter):
    @command
    def nan_result(self):
        return {"a": [1, float("nan")]}

    @command
    def inf_result(self):
        return [float("-inf")]

    @command
    def unprintable(self):
        raise _Unprintable()
