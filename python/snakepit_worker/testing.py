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

What it does not reproduce: the worker process (environment, PYTHONPATH,
resource limits), gRPC and the host's queueing, deadlines being enforced
(a command sees its deadline but is not stopped at it), and the thread
profile's concurrency (calls run on the calling thread).
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Mapping, Optional, Union

from .adapter import Adapter
from .context import CallContext
from .dispatch import CallError, Dispatcher

__all__ = ["AdapterClient", "CommandFailed", "TestReply"]


class CommandFailed(Exception):
    """A call that failed as it would in a worker. ``kind`` is the
    worker's error kind (EXCEPTION, UNKNOWN_COMMAND, INVALID_ARGS,
    NOT_SERIALIZABLE); ``type``, ``message`` and ``traceback`` describe
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
        if args and kwargs:
            raise TypeError("a command takes positional or keyword arguments, not both")
        if self._closed:
            raise RuntimeError("AdapterClient is closed")
        args_json = json.dumps(list(args) if args else kwargs, allow_nan=False)
        deadline = None if timeout is None else time.time() + timeout
        context = CallContext(next(self._ids), command, list(attachments or []), deadline,
                              metadata or {})
        outcome = self._dispatcher.execute(context, args_json)
        if outcome.error is not None:
            raise CommandFailed(outcome.error)
        return TestReply(json.loads(outcome.json), list(outcome.attachments))

    def close(self) -> None:
        """Runs the adapter's ``teardown()`` once."""
        if not self._closed:
            self._closed = True
            self.adapter.teardown()

    def __enter__(self) -> AdapterClient:
        return self

    def __exit__(self, kind: Optional[type[BaseException]], error: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()
