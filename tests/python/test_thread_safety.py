"""The thread-safety checker in-process: a real Dispatcher, real threads."""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any, Optional

import pytest

from snakepit_worker import ThreadSafeAdapter, command, concurrent_safe, matrix, synchronized
from snakepit_worker.context import CallContext
from snakepit_worker.dispatch import Dispatcher
from snakepit_worker.findings import FindingLog, ThreadSafetyWarning
from snakepit_worker.thread_safety import ThreadSafetyChecker, TrackedLock

SLEEP_S = 0.05

# Each finding is also issued as a warning; the tests read the findings.
pytestmark = pytest.mark.filterwarnings(
    "ignore::snakepit_worker.findings.ThreadSafetyWarning")


class Shared(ThreadSafeAdapter):
    """Read-modify-write of ``self.total`` in every style."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def _bump(self) -> None:
        value = self.total
        time.sleep(SLEEP_S)
        self.total = value + 1

    @command
    def racy(self) -> None:
        self._bump()

    @command
    def with_lock(self) -> None:
        with self.lock:
            self._bump()

    @command
    @synchronized
    def decorated(self) -> None:
        self._bump()

    @command
    def sometimes_locked(self, lock: bool) -> None:
        if lock:
            with self.lock:
                self._bump()
        else:
            self._bump()

    @command
    @concurrent_safe
    def marked_safe(self) -> None:
        time.sleep(SLEEP_S)

    @command
    def fails(self) -> None:
        raise ValueError("from the command")


def setup_checked(threaded: bool = True) -> tuple[Shared, ThreadSafetyChecker, Dispatcher]:
    checker = ThreadSafetyChecker(threaded=threaded)
    adapter = Shared()
    checker.attach(adapter)
    adapter.setup([])
    return adapter, checker, Dispatcher(adapter, checker)


def run_together(dispatcher: Dispatcher, calls: list[tuple[str, Optional[str]]]) -> None:
    """Runs the (command, args_json) calls at once, one thread each."""
    errors: list[Any] = []

    def run(name: str, args: Optional[str]) -> None:
        outcome = dispatcher.execute(CallContext(1, name, [], None), args or "")
        if outcome.error is not None:
            errors.append(outcome.error)

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors, errors


def test_unlocked_concurrent_entry_is_flagged_with_the_attributes_written() -> None:
    adapter, checker, dispatcher = setup_checked()
    run_together(dispatcher, [("racy", None)] * 3)
    [finding] = checker.findings()
    assert finding["kind"] == "concurrent_entry"
    assert finding["command"] == "racy" and finding["method"] == "Shared.racy"
    assert finding["threads"] == 3
    assert finding["occurrences"] == 3  # one per overlapping pair
    assert finding["attributes"] == ["total"]
    assert finding["first_seen_unix"] <= finding["last_seen_unix"]
    assert "Shared.racy" in finding["message"] and "self.total" in finding["message"]
    assert adapter.total < 3  # the race the finding is about


@pytest.mark.parametrize("name", ["with_lock", "decorated"])
def test_calls_that_take_the_adapter_lock_are_not_flagged(name: str) -> None:
    adapter, checker, dispatcher = setup_checked()
    run_together(dispatcher, [(name, None)] * 3)
    assert checker.findings() == []
    assert adapter.total == 3


def test_an_overlap_where_only_one_call_locked_is_flagged() -> None:
    _, checker, dispatcher = setup_checked()
    run_together(dispatcher, [("sometimes_locked", '{"lock": true}'),
                              ("sometimes_locked", '{"lock": false}')])
    [finding] = checker.findings()
    assert finding["command"] == "sometimes_locked" and finding["occurrences"] == 1


def test_concurrent_safe_commands_are_neither_wrapped_nor_flagged() -> None:
    adapter, checker, dispatcher = setup_checked()
    assert dispatcher._commands["marked_safe"] == adapter.marked_safe
    run_together(dispatcher, [("marked_safe", None)] * 3)
    assert checker.findings() == []


def test_without_a_checker_nothing_is_wrapped() -> None:
    adapter = Shared()
    dispatcher = Dispatcher(adapter)
    assert all(method == getattr(adapter, method.__name__)
               for method in dispatcher._commands.values())
    assert type(adapter) is Shared and not isinstance(adapter.lock, TrackedLock)


def test_attach_keeps_the_same_lock_and_the_class_name() -> None:
    adapter = Shared()
    bare = adapter.lock
    ThreadSafetyChecker().attach(adapter)
    assert isinstance(adapter.lock, TrackedLock) and adapter.lock._inner is bare
    with adapter.lock:
        assert bare._is_owned()
    assert type(adapter).__name__ == "Shared" and isinstance(adapter, Shared)


def test_findings_are_deduplicated_and_warned_once() -> None:
    _, checker, dispatcher = setup_checked()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_together(dispatcher, [("racy", None)] * 2)
        first = checker.findings()[0]
        run_together(dispatcher, [("racy", None)] * 2)
    [finding] = checker.findings()
    assert finding["occurrences"] == 2
    assert finding["first_seen_unix"] == first["first_seen_unix"]
    assert finding["last_seen_unix"] >= first["last_seen_unix"]
    assert [w.category for w in caught] == [ThreadSafetyWarning]
    assert "Shared.racy" in str(caught[0].message)


def test_findings_are_bounded() -> None:
    log = FindingLog(limit=2)
    for key in ("a", "b", "c", "a"):
        log.record("concurrent_entry", key, {"command": key, "method": f"X.{key}"})
    assert [(f["command"], f["occurrences"]) for f in log.snapshot()] == [("a", 2), ("b", 1)]
    assert log.dropped == 1


def test_a_warning_filter_that_raises_does_not_fail_the_call() -> None:
    _, checker, dispatcher = setup_checked()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_together(dispatcher, [("racy", None)] * 2)  # asserts no call failed
    assert len(checker.findings()) == 1


def test_traceback_starts_at_the_command_through_the_checker() -> None:
    _, _, dispatcher = setup_checked()
    error = dispatcher.execute(CallContext(1, "fails", [], None), "").error
    assert error.type == "ValueError"
    assert "snakepit_worker/thread_safety.py" not in error.traceback
    assert error.traceback.splitlines()[1].strip().startswith('File "')
    assert "in fails" in error.traceback.splitlines()[1]


def test_unsafe_library_finding_in_thread_mode_only() -> None:
    checker = ThreadSafetyChecker(threaded=True)
    checker.check_libraries({"matplotlib": None, "numpy": None, "grpc": None})
    checker.check_libraries({"matplotlib": None})
    [finding] = checker.findings()
    assert finding["kind"] == "unsafe_library"
    assert (finding["library"], finding["module"]) == ("matplotlib", "matplotlib")
    # The version comes from the installed distribution, if there is one
    # (python3-matplotlib may be installed for the benchmark plots).
    assert finding["version"] == matrix.installed_version("matplotlib")
    assert finding["occurrences"] == 2  # one per check that saw it
    assert "not thread-safe" in finding["message"]
    process_mode = ThreadSafetyChecker(threaded=False)
    process_mode.check_libraries({"matplotlib": None})
    assert process_mode.findings() == []
