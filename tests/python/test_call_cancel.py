"""CallContext's cancellation and RunningCalls, in-process (no worker)."""

from __future__ import annotations

import logging

import pytest

from snakepit_worker.context import CallContext
from snakepit_worker.running import RunningCalls


def test_on_cancel_runs_once_and_at_once_when_already_cancelled(
        caplog: pytest.LogCaptureFixture) -> None:
    call = CallContext(7, "c", [], None)
    seen: list[str] = []
    call.on_cancel(lambda: seen.append("first"))
    forget = call.on_cancel(lambda: seen.append("forgotten"))
    forget()

    def broken() -> None:
        raise ValueError("callback bug")

    call.on_cancel(broken)
    assert not call.cancelled and call.cancel_reason is None
    with caplog.at_level(logging.ERROR, logger="snakepit_worker"):
        assert call.mark_cancelled("deadline_exceeded")
    assert "callback bug" in caplog.text  # logged, not raised
    assert call.cancelled and call.cancel_reason == "deadline_exceeded"
    assert not call.mark_cancelled()  # once
    call.on_cancel(lambda: seen.append("late"))  # at once
    assert seen == ["first", "late"]


def test_a_finished_call_ignores_cancels() -> None:
    call = CallContext(8, "c", [], None)
    seen: list[str] = []
    call.on_cancel(lambda: seen.append("ran"))
    call.finish()
    assert not call.mark_cancelled()
    assert not call.cancelled and seen == []


def test_running_calls_find_by_id_and_remember_early_cancels() -> None:
    running = RunningCalls()
    call = CallContext(11, "c", [], None)
    running.add(call)
    assert running.cancel(11, "cancelled") and call.cancelled
    running.remove(call)
    assert not running.cancel(11, "cancelled")
    assert not running.cancel(0, "cancelled")
    # A Cancel that came before its call: the call is cancelled on arrival.
    assert not running.cancel(12, "deadline_exceeded")
    late = CallContext(12, "c", [], None)
    running.add(late)
    assert late.cancel_reason == "deadline_exceeded"
    # Id 0 (unset) is never registered.
    unset = CallContext(0, "c", [], None)
    running.add(unset)
    assert not running.cancel(0, "cancelled") and not unset.cancelled
