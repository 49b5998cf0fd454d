"""The NOT_SERIALIZABLE error names what JSON cannot hold, by path and type,
and tells what to return instead of a NumPy array or scalar."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from snakepit_worker import Adapter, command
from snakepit_worker.testing import AdapterClient, CommandFailed
from snakepit_worker.unserializable import describe_unserializable


class Returns(Adapter):
    @command
    def array(self) -> dict[str, Any]:
        return {"rows": [1, np.zeros((2, 3))]}

    @command
    def scalar(self) -> Any:
        return np.float32(1.5)  # (np.float64 is a float: JSON takes it)

    @command
    def a_set(self) -> dict[str, Any]:
        return {"value": {1, 2}}


def failure(name: str) -> CommandFailed:
    with AdapterClient(Returns) as client:
        with pytest.raises(CommandFailed) as raised:
            client.call(name)
    assert raised.value.kind == "NOT_SERIALIZABLE"
    return raised.value


def test_numpy_array_gets_its_path_type_and_both_remedies() -> None:
    message = failure("array").message
    assert "command 'array'" in message
    assert "result.rows[1] is a numpy.ndarray" in message
    assert "shape (2, 3), dtype float64" in message
    assert "value.tolist()" in message and "Reply(meta, attachments=[value.tobytes()])" in message


def test_numpy_scalar_is_told_to_become_a_python_number() -> None:
    message = failure("scalar").message
    assert "result is a numpy.float32" in message and ".item()" in message


def test_other_types_are_named_without_a_numpy_hint() -> None:
    message = failure("a_set").message
    assert "result.value is a set, which JSON cannot hold" in message
    assert "tolist" not in message


def test_no_unencodable_value_falls_back_to_the_encoders_message() -> None:
    error = TypeError("keys must be str, int, float, bool or None, not tuple")
    assert describe_unserializable({(1, 2): 3}, error) == str(error)
