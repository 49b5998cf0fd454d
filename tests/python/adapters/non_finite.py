"""Test adapter whose commands return values JSON cannot carry. Adapter spec:
``non_finite:NonFiniteAdapter``."""

from snakepit_worker import Adapter, command


class NonFiniteAdapter(Adapter):
    @command
    def nan_result(self):
        return {"a": [1, float("nan")]}

    @command
    def inf_result(self):
        return [float("-inf")]
