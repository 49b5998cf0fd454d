"""auth.RefusalLog: refused RPCs are logged at most once per interval per
peer host (issue 14, item 8), on a fake clock."""

from __future__ import annotations

import logging

import pytest

from snakepit_worker.auth import RefusalLog


def test_one_line_per_peer_per_interval_with_the_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    refusals = RefusalLog(interval=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="snakepit_worker"):
        assert refusals.refused("ipv4:10.0.0.1:5000") is True
        # Other connections (ports) of the same host, within the interval: counted, silent.
        for port in range(5001, 5101):
            assert refusals.refused(f"ipv4:10.0.0.1:{port}") is False
        assert refusals.refused("ipv6:[::1]:7") is True  # another peer has its own line
        now[0] += 10.0
        assert refusals.refused("ipv4:10.0.0.1:6000") is True
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines
    assert lines[0].startswith("refused 1 RPC(s) from ipv4:10.0.0.1: missing or wrong snakepit-token")
    assert lines[1].startswith("refused 1 RPC(s) from ipv6:[::1]:")
    assert lines[2].startswith("refused 101 RPC(s) from ipv4:10.0.0.1:")


def test_it_remembers_a_bounded_number_of_peers() -> None:
    refusals = RefusalLog(interval=10.0, max_peers=4, clock=lambda: 0.0)
    for i in range(100):
        refusals.refused(f"ipv4:10.0.0.{i}:1")
    assert len(refusals._peers) == 4  # noqa: SLF001 - the bound is the point
