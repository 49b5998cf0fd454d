"""The adapter API in-process: command registry, Dispatcher, call context.

These run the real Dispatcher on real adapter instances, without a server.
"""

from __future__ import annotations

import threading

import pytest

from snakepit_worker import (Adapter, Reply, ThreadSafeAdapter, command, current_call,
                             synchronized)
from snakepit_worker.context import CallContext
from snakepit_worker.dispatch import Dispatcher, Outcome


class Base(Adapter):
    @command
    def inherited(self) -> str:
        return "base"


class Sample(Base):
    @command("renamed")
    def method_name(self, x: int = 1) -> int:
        return x * 2

    def helper(self) -> None:
        """Not a command."""

    @command
    def nan(self) -> float:
        return float("nan")

    @command
    def bad_attachment(self) -> Reply:
        return Reply({}, attachments=["text, not bytes"])

    @command
    def context(self) -> dict:
        call = current_call()
        return {"id": call.call_id, "command": call.command}


class Locked(ThreadSafeAdapter):
    def lock_is_held_elsewhere(self) -> bool:
        """True if another thread cannot take ``self.lock`` now."""
        taken: list[bool] = []

        def probe() -> None:
            taken.append(self.lock.acquire(blocking=False))
            if taken[0]:
                self.lock.release()

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join(timeout=5)
        return not taken[0]

    @command
    @synchronized
    def command_outside(self) -> bool:
        return self.lock_is_held_elsewhere()

    @synchronized
    @command
    def command_inside(self) -> bool:
        return self.lock_is_held_elsewhere()

    @command
    def unlocked(self) -> bool:
        return self.lock_is_held_elsewhere()


def run(adapter: Adapter, name: str, args_json: str = "", call_id: int = 1) -> Outcome:
    return Dispatcher(adapter).execute(CallContext(call_id, name, [], None), args_json)


def test_registry_holds_marked_methods_of_the_class_and_its_bases() -> None:
    assert sorted(Sample().commands()) == ["bad_attachment", "context", "inherited",
                                           "nan", "renamed"]
    assert run(Sample(), "renamed", '{"x": 21}').json == "42"
    assert run(Sample(), "inherited").json == '"base"'
    assert run(Sample(), "helper").error.kind == "UNKNOWN_COMMAND"


def test_nan_is_not_serializable() -> None:
    error = run(Sample(), "nan").error
    assert error.kind == "NOT_SERIALIZABLE" and "'nan'" in error.message


def test_attachment_must_be_bytes_like() -> None:
    error = run(Sample(), "bad_attachment").error
    assert error.kind == "NOT_SERIALIZABLE" and "str" in error.message


def test_current_call_inside_and_outside_a_command() -> None:
    assert run(Sample(), "context", call_id=5).json == '{"id": 5, "command": "context"}'
    with pytest.raises(RuntimeError, match="outside a command"):
        current_call()


def test_call_context_remaining() -> None:
    assert CallContext(1, "c", [], None).remaining() is None
    assert CallContext(1, "c", [], 0.0).remaining() < 0


@pytest.mark.parametrize("name, held", [
    ("command_outside", True), ("command_inside", True), ("unlocked", False)])
def test_synchronized_holds_the_lock_in_either_order(name: str, held: bool) -> None:
    adapter = Locked()
    assert adapter.thread_safe is True
    assert run(adapter, name).json == ("true" if held else "false")


def test_command_rejects_a_non_callable() -> None:
    with pytest.raises(TypeError):
        command(42)
