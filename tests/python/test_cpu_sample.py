"""cpu_sample.CommandCpu: which calls measure their thread's CPU time, and
what the others report. The policy runs on a fake thread clock here; the
last test runs a real worker."""

from __future__ import annotations

from typing import Iterator

import pytest

from harness import Worker
from snakepit_worker import cpu_sample
from snakepit_worker.cpu_sample import EVERY, LONG_NS, CommandCpu


class FakeClocks:
    """Stand in for time.time_ns and time.thread_time_ns; count the thread
    clock's reads."""

    def __init__(self) -> None:
        self.wall = 10**18
        self.cpu = 10**6
        self.reads = 0

    def time_ns(self) -> int:
        return self.wall

    def thread_time_ns(self) -> int:
        self.reads += 1
        return self.cpu


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClocks]:
    fake = FakeClocks()
    monkeypatch.setattr(cpu_sample.time, "time_ns", fake.time_ns)
    monkeypatch.setattr(cpu_sample.time, "thread_time_ns", fake.thread_time_ns)
    yield fake


def run(cpu: CommandCpu, clock: FakeClocks, run_ns: int, cpu_ns: int) -> int:
    """One call that ran ``run_ns`` and used ``cpu_ns`` of CPU; its cpu_ns."""
    started = clock.wall
    cpu_started = cpu.begin()
    clock.wall += run_ns
    clock.cpu += cpu_ns
    finished, reported = cpu.end(cpu_started, started)
    assert finished == clock.wall
    return reported


def test_short_calls_measure_one_in_every_and_estimate_the_rest(clock: FakeClocks) -> None:
    cpu = CommandCpu()
    # The first call is measured: half its run time on the CPU.
    assert run(cpu, clock, run_ns=10_000, cpu_ns=5_000) == 5_000
    assert clock.reads == 2
    # The next EVERY - 1 are not: each reports its run time at that share.
    reported = [run(cpu, clock, run_ns=8_000, cpu_ns=7_000) for _ in range(EVERY - 1)]
    assert reported == [4_000] * (EVERY - 1)
    assert clock.reads == 2
    # Then one is measured again, and sets the share for the next ones.
    assert run(cpu, clock, run_ns=8_000, cpu_ns=2_000) == 2_000
    assert clock.reads == 4
    assert run(cpu, clock, run_ns=12_000, cpu_ns=0) == 3_000


def test_long_calls_are_all_measured(clock: FakeClocks) -> None:
    cpu = CommandCpu()
    for i in range(3 * EVERY):
        assert run(cpu, clock, run_ns=LONG_NS + i, cpu_ns=1_000 + i) == 1_000 + i
    assert clock.reads == 2 * 3 * EVERY


def test_a_long_call_that_was_not_measured_reports_zero_and_the_next_is_measured(
        clock: FakeClocks) -> None:
    cpu = CommandCpu()
    run(cpu, clock, run_ns=5_000, cpu_ns=5_000)
    # Waited on I/O for 50 ms: a short call's share would claim 50 ms of CPU.
    assert run(cpu, clock, run_ns=50_000_000, cpu_ns=20_000) == 0
    assert run(cpu, clock, run_ns=50_000_000, cpu_ns=30_000) == 30_000
    # Short again: measured once more (the last measured call was long),
    # then sampled.
    assert run(cpu, clock, run_ns=5_000, cpu_ns=1_000) == 1_000
    assert run(cpu, clock, run_ns=5_000, cpu_ns=1_000) == 1_000  # estimated, share 0.2
    assert clock.reads == 6


def test_a_measured_call_reports_at_least_one_nanosecond(clock: FakeClocks) -> None:
    cpu = CommandCpu()
    assert run(cpu, clock, run_ns=0, cpu_ns=0) == 1  # 0 would read "not measured"
    assert run(cpu, clock, run_ns=0, cpu_ns=0) == 1


def test_a_real_worker_samples_short_calls_and_measures_long_ones(showcase: Worker) -> None:
    def run_ns(t) -> int:
        return t.finished_unix_ns - t.started_unix_ns

    # Measured or estimated, a short call's CPU time lies within its run.
    for t in (showcase.execute("echo").timing for _ in range(2 * EVERY)):
        assert 0 < t.cpu_ns <= max(run_ns(t), 1), t
    # After a long call, the next is measured; after a short measured one,
    # the next is not: a 30 ms busy loop then reports 0, "not measured",
    # rather than an estimate from the short call. The next is measured.
    # (Tried a few times: on a busy machine the short call may itself run
    # past LONG_NS.)

    def cpu_loop(n: int):
        return showcase.execute("cpu_loop", {"n": n}).timing

    for _ in range(5):
        cpu_loop(300_000)
        short = cpu_loop(10)
        unmeasured, measured = cpu_loop(300_000), cpu_loop(300_000)
        if run_ns(short) < LONG_NS:
            break
    assert run_ns(short) < LONG_NS and 0 < short.cpu_ns <= run_ns(short), short
    assert run_ns(unmeasured) >= LONG_NS and unmeasured.cpu_ns == 0, unmeasured
    # About 20 ms of CPU alone; a busy machine may stretch its run time.
    assert 5_000_000 <= measured.cpu_ns <= run_ns(measured), measured
