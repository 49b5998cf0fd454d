"""Input the dispatcher must refuse cleanly, and failures it must report
faithfully: deep args, NaN and Infinity, exceptions that cannot be
rendered. Runs the Dispatcher directly, without a server."""

from __future__ import annotations

import json
import math

from snakepit_worker import Adapter, command
from snakepit_worker.context import CallContext
from snakepit_worker.dispatch import MAX_ARGS_DEPTH, Dispatcher, Outcome


class _Echo(Adapter):
    @command
    def echo(self, **kwargs):
        return kwargs


def run(name: str, args_json: str) -> Outcome:
    return Dispatcher(_Echo()).execute(CallContext(1, name, [], None), args_json)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_args_at_the_depth_limit_are_taken() -> None:
    # {"x": <MAX - 1 arrays>} is MAX levels deep.
    outcome = run("echo", '{"x": ' + nested(MAX_ARGS_DEPTH - 1) + "}")
    assert outcome.error is None, outcome.error


def test_args_past_the_depth_limit_are_refused_without_recursion_error() -> None:
    for depth in (MAX_ARGS_DEPTH, 100_000):
        outcome = run("echo", '{"x": ' + nested(depth) + "}")
        assert outcome.error is not None
        assert outcome.error.kind == "INVALID_ARGS"
        assert outcome.error.type == ""
        assert f"nested deeper than {MAX_ARGS_DEPTH} levels" in outcome.error.message


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    text = "[" * 1000 + '\\"'
    outcome = run("echo", json.dumps({"x": text, "y": [[1]] * 300}))
    assert outcome.error is None, outcome.error
    assert json.loads(outcome.json)["x"] == text


def test_nan_and_infinity_in_args_are_refused() -> None:
    for constant in ("NaN", "Infinity", "-Infinity"):
        outcome = run("echo", '{"x": [1, ' + constant + "]}")
        assert outcome.error is not None
        assert outcome.error.kind == "INVALID_ARGS"
        assert f"{constant} is not JSON" in outcome.error.message


class _Returns(Adapter):
    def __init__(self, value) -> None:
        super().__init__()
        self.value = value

    @command
    def give(self):
        return self.value


def test_a_result_holding_nan_names_where() -> None:
    for value, where in (({"a": [1, math.nan]}, "result.a[1] is NaN"),
                         ([math.inf], "result[0] is Infinity"),
                         (-math.inf, "result is -Infinity")):
        outcome = Dispatcher(_Returns(value)).execute(
            CallContext(1, "give", [], None), "")
        assert outcome.error is not None
        assert outcome.error.kind == "NOT_SERIALIZABLE"
        assert f"{where}; JSON cannot carry it" in outcome.error.message


class _Unprintable(ValueError):
    def __str__(self) -> str:
        raise RuntimeError("no message for you")


class _Raises(Adapter):
    @command
    def unprintable(self):
        raise _Unprintable()


def test_an_exception_whose_str_raises_keeps_its_type() -> None:
    outcome = Dispatcher(_Raises()).execute(CallContext(1, "unprintable", [], None), "")
    assert outcome.error is not None
    assert outcome.error.kind == "EXCEPTION"
    assert outcome.error.type.endswith("_Unprintable")
    assert outcome.error.message == (
        "(the message could not be rendered: __str__ raised RuntimeError)")
    assert "_Unprintable" in outcome.error.traceback


class _Shapes(Adapter):
    @command
    def nothing(self):
        return None

    @command
    def empty(self):
        return {}

    @command
    def add(self, a, b):
        return a + b

    @command
    def kwargs(self, **kwargs):
        kwargs["seen"] = True  # the args dict is the command's own
        return kwargs


def test_the_no_args_and_empty_result_shortcuts_answer_as_the_parser_would() -> None:
    # "{}" (what the host sends for no args) skips the JSON parser, and
    # None and {} results skip the encoder: the answers must not change.
    def call(name: str, args_json: str) -> Outcome:
        return Dispatcher(_Shapes()).execute(CallContext(1, name, [], None), args_json)

    assert call("nothing", "{}").json == "null"
    assert call("empty", "{}").json == "{}"
    assert call("kwargs", "{}").json == '{"seen": true}'
    assert call("kwargs", "{}").json == '{"seen": true}', "a call saw the last call's args"
    missing = call("add", "{}")
    assert missing.error is not None and missing.error.kind == "INVALID_ARGS"
    assert "missing a required argument: 'a'" in missing.error.message
    assert call("nothing", " {} ").json == "null"
