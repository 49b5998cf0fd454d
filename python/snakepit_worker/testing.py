"""Call an adapter's commands in-process, from pytest, without the C++ host.

A call goes through the same ``Dispatcher`` a worker uses, so the test sees
what the host would: arguments decoded from JSON (a tuple becomes a list),
the result encoded to JSON and decoded back (what JSON cannot hold fails
as it would in a worker), ``current_call()`` with its attachments and
deadline, and a command's exception as ``CommandFailed`` with the worker's
error kind, type, message and traceback::

    from snakepit_worker.testing import AdapterClient

    def test_predict():
        with AdapterClient(MyAdapter, preload=["model.bin"]) as client:
            assert client.call("predict", x=[1, 2]) == {"y": 3}
            reply = client.call_reply("thumbnail", attachments=[png])
            assert reply.attachments[0].startswith(b"\\x89PNG")

Streaming commands run through ``client.stream(...)`` (an iterator of
chunks, with ``cancel()``); ``client.start(...)`` runs a call on a thread
of its own so that the test can cancel it; ``async def`` commands run on
an event loop as in a worker.

What it does not reproduce: the worker process (environment, PYTHONPATH,
resource limits), gRPC and the host's queueing, flow control (a chunk is
made when the test asks for it), deadlines being enforced
(a command sees its deadline but is not stopped at it), and the thread
profile's concurrency (calls run on the calling thread).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Callable, Iterator, Mapping, Optional, Union

from .adapter import Adapter
from .context import CallContext
from .dispatch import CallError, Dispatcher, Failure, Outcome
from .streams import StreamRun

__all__ = ["AdapterClient", "ChunkStream", "CommandFailed", "PendingCall", "TestReply"]


class CommandFailed(Exception):
    """A call that failed as it would in a worker. ``kind`` is the
    worker's error kind (EXCEPTION, UNKNOWN_COMMAND, INVALID_ARGS,
    NOT_SERIALIZABLE, STREAM_REQUIRED, CANCELLED); ``type``, ``message`` and ``traceback`` describe
    the Python exception, as the host's ``PythonError`` would."""

    def __init__(self, error: CallError) -> None:
        super().__init__(f"{error.kind}: {error.type + ': ' if error.type else ''}{error.message}")
        self.kind = error.kind
        self.type = error.type
        self.message = error.message
        self.traceback = error.traceback


@dataclass
class TestReply:
    """A call's result decoded from JSON, with its attachments."""
    __test__ = False  # not a pytest test class

    value: Any
    attachments: list[bytes] = field(default_factory=list)


class AdapterClient:
    """One adapter instance, set up as a worker sets it up (``extra_args``,
    then ``setup(preload)``), whose commands ``call`` runs. ``close()`` (or
    leaving the ``with`` block) runs ``teardown()``. Not thread-safe."""

    def __init__(self, adapter: Union[type[Adapter], Adapter], *, preload: Optional[list[Any]] = None,
                 extra_args: Optional[list[str]] = None) -> None:
        self.adapter = adapter() if isinstance(adapter, type) else adapter
        self.adapter.extra_args = list(extra_args or [])
        self.adapter.setup(list(preload or []))
        self._dispatcher = Dispatcher(self.adapter)
        self._ids = itertools.count(1)
        self._closed = False

    def call(self, command: str, *args: Any, attachments: Optional[list[bytes]] = None,
             timeout: Optional[float] = None, metadata: Optional[Mapping[str, str]] = None,
             **kwargs: Any) -> Any:
        """Runs ``command`` with positional or keyword arguments (not both,
        as the host sends a JSON list or object) and returns its result,
        decoded from JSON. Raises CommandFailed on any failure."""
        return self.call_reply(command, *args, attachments=attachments, timeout=timeout,
                               metadata=metadata, **kwargs).value

    def call_reply(self, command: str, *args: Any, attachments: Optional[list[bytes]] = None,
                   timeout: Optional[float] = None, metadata: Optional[Mapping[str, str]] = None,
                   **kwargs: Any) -> TestReply:
        """Like ``call``, with the reply's attachments. ``timeout`` (seconds)
        sets the deadline that ``current_call().remaining()`` reports;
        ``metadata`` is what ``current_call().metadata`` holds."""
        context, args_json = self._call(command, args, kwargs, attachments, timeout, metadata)
        outcome = self._dispatcher.execute(context, args_json)
        if outcome.error is not None:
            raise CommandFailed(outcome.error)
        return TestReply(json.loads(outcome.json), list(outcome.attachments))

    def start(self, command: str, *args: Any, attachments: Optional[list[bytes]] = None,
              timeout: Optional[float] = None, metadata: Optional[Mapping[str, str]] = None,
              **kwargs: Any) -> PendingCall:
        """Like ``call_reply``, on a thread of its own, so that the test can
        cancel it while it runs: ``pending.cancel()``, then
        ``pending.result()`` (CommandFailed with kind CANCELLED when the
        command stopped by raising)."""
        context, args_json = self._call(command, args, kwargs, attachments, timeout, metadata)
        return PendingCall(context, lambda: self._dispatcher.execute(context, args_json))

    def stream(self, command: str, *args: Any, attachments: Optional[list[bytes]] = None,
               timeout: Optional[float] = None, metadata: Optional[Mapping[str, str]] = None,
               **kwargs: Any) -> ChunkStream:
        """Runs a streaming command (a generator or async generator; any
        other gives one chunk) as ExecuteStream would: an iterator of its
        chunks (TestReply), each made when the test asks for it. An error
        end raises CommandFailed from the iteration; ``cancel()`` stops the
        command at its next yield (GeneratorExit there)."""
        context, args_json = self._call(command, args, kwargs, attachments, timeout, metadata)
        try:
            start = self._dispatcher.prepare(context, args_json)
        except Failure as f:
            raise CommandFailed(f.error) from None
        return ChunkStream(StreamRun(context, start, self._dispatcher.loop,
                                     on_end=lambda _: context.finish()))

    def _call(self, command: str, args: tuple[Any, ...], kwargs: dict[str, Any],
              attachments: Optional[list[bytes]], timeout: Optional[float],
              metadata: Optional[Mapping[str, str]]) -> tuple[CallContext, str]:
        """The context and JSON args of a call, as the host would send them."""
        if args and kwargs:
            raise TypeError("a command takes positional or keyword arguments, not both")
        if self._closed:
            raise RuntimeError("AdapterClient is closed")
        args_json = json.dumps(list(args) if args else kwargs, allow_nan=False)
        deadline = None if timeout is None else time.time() + timeout
        return CallContext(next(self._ids), command, list(attachments or []), deadline,
                           metadata or {}), args_json

    def close(self) -> None:
        """Runs the adapter's ``teardown()`` once, and stops the event loop
        of async commands."""
        if not self._closed:
            self._closed = True
            try:
                self.adapter.teardown()
            finally:
                self._dispatcher.loop.stop()

    def __enter__(self) -> AdapterClient:
        return self

    def __exit__(self, kind: Optional[type[BaseException]], error: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()


class PendingCall:
    """A call running on a thread of its own (``AdapterClient.start``)."""

    def __init__(self, call: CallContext, run: Callable[[], Outcome]) -> None:
        self.call = call
        self._outcome: list[Outcome] = []
        self._thread = threading.Thread(target=lambda: self._outcome.append(run()),
                                        name=f"call-{call.call_id}", daemon=True)
        self._thread.start()

    def cancel(self, deadline_exceeded: bool = False) -> bool:
        """Cancels the call as the host's Cancel would; False if it had ended."""
        return self.call.mark_cancelled("deadline_exceeded" if deadline_exceeded else "cancelled")

    def result(self, timeout: float = 30.0) -> TestReply:
        """The reply; CommandFailed on an error, TimeoutError if the command
        has not returned within ``timeout`` seconds."""
        self._thread.join(timeout)
        if not self._outcome:
            raise TimeoutError(f"command '{self.call.command}' still running after {timeout} s")
        outcome = self._outcome[0]
        self.call.finish()
        if outcome.error is not None:
            raise CommandFailed(outcome.error)
        return TestReply(json.loads(outcome.json), list(outcome.attachments))


class ChunkStream:
    """The chunks of a streaming command (``AdapterClient.stream``)."""

    def __init__(self, run: StreamRun) -> None:
        self._run = run

    def __iter__(self) -> Iterator[TestReply]:
        return self

    def __next__(self) -> TestReply:
        if self._run.ended:
            raise StopIteration
        end, outcome = self._run.next()
        if outcome.error is not None:
            raise CommandFailed(outcome.error)
        if end:
            raise StopIteration
        return TestReply(json.loads(outcome.json), list(outcome.attachments))

    def cancel(self) -> None:
        """Cancels the call: the next chunk asked for raises CommandFailed
        (CANCELLED), the generator having seen GeneratorExit."""
        self._run.call.mark_cancelled()

    def close(self) -> None:
        """Stops the command as a client that went away would (nothing
        once it ended); leaving a ``with`` block does it too."""
        self._run.close()

    def __enter__(self) -> ChunkStream:
        return self

    def __exit__(self, kind: Optional[type[BaseException]], error: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()
