"""snakepit_worker.testing: an adapter's commands called in-process."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, AsyncIterator, Iterator

import pytest

from snakepit_worker import Adapter, Reply, command, current_call
from snakepit_worker.context import CallContext
from snakepit_worker.showcase import ShowcaseAdapter
from snakepit_worker.testing import AdapterClient, CommandFailed


class Recorder(Adapter):
    def __init__(self) -> None:
        self.events: list[str] = []

    def setup(self, preload: list[Any]) -> None:
        self.events.append(f"setup {preload} {self.extra_args}")

    def teardown(self) -> None:
        self.events.append("teardown")

    @command
    def context(self) -> dict[str, Any]:
        call = current_call()
        remaining = call.remaining()
        return {"attachments": len(call.attachments), "has_deadline": remaining is not None,
                "remaining_ok": remaining is None or 0 < remaining <= 5}

    @command
    def metadata(self) -> dict[str, str]:
        return dict(current_call().metadata)

    @command
    def pair(self, a: Any, b: Any = None) -> Any:
        return (a, b)

    @command
    def reverse(self) -> Reply:
        return Reply({"n": len(current_call().attachments)},
                     attachments=[bytes(reversed(a)) for a in current_call().attachments])

    @command
    def unsendable(self) -> Any:
        return {1, 2}


def test_setup_teardown_and_a_call_like_a_worker() -> None:
    with AdapterClient(Recorder, preload=["m"], extra_args=["--x"]) as client:
        # A tuple comes back as a JSON list, as through a worker.
        assert client.call("pair", 1, "two") == [1, "two"]
        assert client.call("pair", a=[1], b={"k": 2}) == [[1], {"k": 2}]
        recorder = client.adapter
    assert isinstance(recorder, Recorder)
    assert recorder.events == ["setup ['m'] ['--x']", "teardown"]


def test_call_context_attachments_and_deadline() -> None:
    with AdapterClient(Recorder) as client:
        assert client.call("context") == {"attachments": 0, "has_deadline": False, "remaining_ok": True}
        assert client.call("context", attachments=[b"a"], timeout=5) == {
            "attachments": 1, "has_deadline": True, "remaining_ok": True}
        reply = client.call_reply("reverse", attachments=[b"abc"])
        assert reply.value == {"n": 1} and reply.attachments == [b"cba"]


def test_call_context_metadata_is_read_only() -> None:
    with AdapterClient(Recorder) as client:
        assert client.call("metadata") == {}
        assert client.call("metadata", metadata={"traceparent": "00-ab-cd-01"}) == {
            "traceparent": "00-ab-cd-01"}
    call = CallContext(1, "c", [], None, {"k": "v"})
    with pytest.raises(TypeError):
        call.metadata["k"] = "w"  # type: ignore[index]


def test_failures_carry_the_workers_error_kinds() -> None:
    client = AdapterClient(ShowcaseAdapter())
    with pytest.raises(CommandFailed) as raised:
        client.call("raise_error", type="KeyError", message="nope")
    assert raised.value.kind == "EXCEPTION" and raised.value.type == "KeyError"
    assert "raise_error" in raised.value.traceback
    with pytest.raises(CommandFailed) as raised:
        client.call("no_such_command")
    assert raised.value.kind == "UNKNOWN_COMMAND"
    with pytest.raises(CommandFailed) as raised:
        client.call("add", 1)
    assert raised.value.kind == "INVALID_ARGS"
    with pytest.raises(TypeError):
        client.call("add", 1, b=2)
    client.close()


def test_a_result_json_cannot_hold_fails_as_in_a_worker() -> None:
    with AdapterClient(Recorder) as client, pytest.raises(CommandFailed) as raised:
        client.call("unsendable")
    assert raised.value.kind == "NOT_SERIALIZABLE"


def test_the_package_ships_type_information() -> None:
    import snakepit_worker
    from pathlib import Path
    assert (Path(snakepit_worker.__file__).parent / "py.typed").is_file()


class Streamer(Adapter):
    def __init__(self) -> None:
        self.exits = 0
        self.interrupted = threading.Event()

    @command
    def count(self, n: int) -> Iterator[Reply]:
        try:
            for i in range(n):
                yield Reply({"i": i, "call": current_call().command}, attachments=[bytes([i])])
        except GeneratorExit:
            self.exits += 1
            raise

    @command
    async def async_count(self, n: int) -> AsyncIterator[int]:
        for i in range(n):
            await asyncio.sleep(0)
            yield i

    @command
    async def double(self, x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    @command
    def block(self) -> str:
        woken = threading.Event()
        current_call().on_cancel(woken.set)
        if not woken.wait(30):
            return "timed out"
        self.interrupted.set()
        raise RuntimeError("interrupted")


def test_streams_async_commands_and_cancel_in_process() -> None:
    with AdapterClient(Streamer) as client:
        chunks = list(client.stream("count", n=3))
        assert [c.value for c in chunks] == [{"i": i, "call": "count"} for i in range(3)]
        assert [c.attachments for c in chunks] == [[b"\x00"], [b"\x01"], [b"\x02"]]
        assert [c.value for c in client.stream("async_count", 4)] == [0, 1, 2, 3]
        assert client.call("double", 21) == 42
        assert [c.value for c in client.stream("double", 2)] == [4]
        with pytest.raises(CommandFailed) as refused:
            client.call("count", n=1)
        assert refused.value.kind == "STREAM_REQUIRED"

        stream = client.stream("count", n=100)
        assert next(stream).value["i"] == 0
        stream.cancel()
        with pytest.raises(CommandFailed) as cancelled:
            next(stream)
        assert cancelled.value.kind == "CANCELLED" and client.adapter.exits == 1
        with client.stream("count", n=100) as dropped:
            next(dropped)
        assert client.adapter.exits == 2

        pending = client.start("block")
        assert pending.cancel(deadline_exceeded=True)
        with pytest.raises(CommandFailed) as stopped:
            pending.result()
        assert stopped.value.kind == "CANCELLED" and "deadline_exceeded" in stopped.value.message
        assert client.adapter.interrupted.is_set()
