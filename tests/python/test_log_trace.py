"""A record logged during a call whose metadata has a W3C traceparent
carries its trace id (log_format.HostLogFormatter, docs/tracing.md); the
host-side end to end check is tests/cpp/worker_output_test.cc."""

from __future__ import annotations

import logging

from snakepit_worker.context import CallContext, call_scope
from snakepit_worker.log_format import HostLogFormatter

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def formatted(message: str) -> str:
    record = logging.LogRecord("my_adapter", logging.WARNING, __file__, 1, message, None, None)
    return HostLogFormatter("pool-3").format(record)


def call(metadata: dict[str, str]) -> CallContext:
    return CallContext(call_id=1, command="c", attachments=[], deadline=None, metadata=metadata)


def test_a_traced_calls_lines_carry_the_trace_id() -> None:
    with call_scope(call({"traceparent": TRACEPARENT})):
        text = formatted("first\nsecond")
    tag = "[trace_id=4bf92f3577b34da6a3ce929d0e0e4736] "
    assert text == f"[pool-3] WARNING my_adapter: {tag}first\n[pool-3] WARNING my_adapter: {tag}second"


def test_no_traceparent_or_no_call_means_no_tag() -> None:
    with call_scope(call({"x-request-id": "7"})):
        assert formatted("m") == "[pool-3] WARNING my_adapter: m"
    assert formatted("m") == "[pool-3] WARNING my_adapter: m"
