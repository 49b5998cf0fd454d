"""One ExecuteStream call: a command's chunks, made one at a time, when the
transport asks for the next.

The transport pulls with ``next`` only when it can send another message
(grpcio: gRPC's flow control pulls its response iterator; native: the
handler thread writes a chunk and waits for the write before pulling), so
a reader that does not read pauses the generator between two yields and
the worker holds at most one chunk of it.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from typing import Any, AsyncGenerator, Callable, Optional

from .aio import EventLoop
from .context import CallContext, call_scope
from .dispatch import CallError, Outcome, encode, failed

log = logging.getLogger("snakepit_worker")

# What the command's first call gave: not yet called, a generator, an
# async generator, or one value (sent as the only chunk).
_NEW, _GENERATOR, _ASYNC_GENERATOR, _ONE, _DONE = range(5)


class _Finished(Exception):
    """The source has no more chunks."""


class StreamRun:
    """The command of one stream, from its first chunk to its end.

    ``next()`` returns ``(False, chunk)`` for each chunk the command
    yields (an Outcome holding json and attachments), then ``(True, end)``
    once: ``end.error`` None when the command finished, else why it did
    not: EXCEPTION, NOT_SERIALIZABLE (a chunk JSON cannot hold), CANCELLED
    (the call was cancelled; the command saw GeneratorExit at its yield, or
    CancelledError at its await). Its timing covers the whole stream.
    ``close()`` ends a stream the transport gave up on (the RPC is over):
    it marks the call cancelled and closes the generator. ``on_end`` runs
    once, with the end, whichever way the stream ended.

    A generator runs on the thread that calls ``next`` (``current_call()``
    is its call), an async generator on the event loop. Not thread-safe:
    ``next`` and ``close`` are called by one thread at a time (the
    transport's); cancelling the call (``CallContext.mark_cancelled``) is
    safe from any thread, and takes effect at the generator's next yield.
    """

    def __init__(self, call: CallContext, start: Callable[[], Any], loop: EventLoop,
                 on_end: Callable[[Outcome], object]) -> None:
        self.call = call
        self._start = start
        self._loop = loop
        self._on_end = on_end
        self._state = _NEW
        self._source: Any = None
        self._started_ns = 0
        self._thread_id = 0
        self._cpu_ns = 0

    @property
    def ended(self) -> bool:
        return self._state == _DONE

    def next(self) -> tuple[bool, Outcome]:
        """The next chunk, or the end (see the class). REQUIRES: not ended."""
        if self._state == _DONE:
            raise RuntimeError(f"stream of call {self.call.call_id} has ended")
        if self._state == _NEW:
            self._started_ns = time.time_ns()
            self._thread_id = threading.get_ident()
        if self.call.cancelled:
            return True, self._end_cancelled()
        cpu_started = time.thread_time_ns()
        try:
            with call_scope(self.call):
                item = self._step()
        except _Finished:
            self._cpu_ns += time.thread_time_ns() - cpu_started
            return True, self._end(None)
        except BaseException as e:  # noqa: B036 - every failure is reported
            self._cpu_ns += time.thread_time_ns() - cpu_started
            self._state = _DONE  # a generator that raised is finished
            return True, self._end(e)
        self._cpu_ns += time.thread_time_ns() - cpu_started
        if self.call.cancelled:  # the chunk made meanwhile is not sent
            return True, self._end_cancelled()
        chunk = encode(self.call.command, item, Outcome(0, 0, self._thread_id))
        if chunk.error is not None:
            self._close_source()
            return True, self._finish(chunk.error)
        return False, chunk

    def close(self) -> Optional[Outcome]:
        """The transport gives up on the stream (its RPC ended, or the worker
        stops): the call is marked cancelled, the generator closed, and
        ``on_end`` runs; returns that CANCELLED end. None, and nothing done,
        if the stream ended already."""
        if self._state == _DONE:
            return None
        self.call.mark_cancelled()
        return self._end_cancelled()

    def _step(self) -> Any:
        """One chunk from the command; raises _Finished after the last."""
        if self._state == _NEW:
            result = self._start()
            if inspect.isgenerator(result):
                self._state, self._source = _GENERATOR, result
            elif inspect.isasyncgen(result):
                self._state, self._source = _ASYNC_GENERATOR, result
            else:
                self._state = _ONE
                if inspect.iscoroutine(result):
                    return self._loop.run(result, self.call)
                return result
        if self._state == _GENERATOR:
            try:
                return next(self._source)
            except StopIteration:
                raise _Finished() from None
        if self._state == _ASYNC_GENERATOR:
            try:
                return self._loop.run(_anext(self._source), self.call)
            except StopAsyncIteration:
                raise _Finished() from None
        raise _Finished()  # _ONE: its value was the only chunk

    def _end(self, error: Optional[BaseException]) -> Outcome:
        outcome = self._outcome()
        if error is not None:
            failed(self.call, error, outcome)
        return self._finish_outcome(outcome)

    def _end_cancelled(self) -> Outcome:
        self._close_source()
        call = self.call
        return self._finish(CallError(
            "CANCELLED", "", f"call {call.call_id} ({call.command}) was cancelled "
            f"({call.cancel_reason or 'cancelled'})"))

    def _finish(self, error: CallError) -> Outcome:
        outcome = self._outcome()
        outcome.error = error
        return self._finish_outcome(outcome)

    def _finish_outcome(self, outcome: Outcome) -> Outcome:
        self._state = _DONE
        self._on_end(outcome)
        return outcome

    def _outcome(self) -> Outcome:
        now = time.time_ns()
        return Outcome(self._started_ns or now, now, self._thread_id or threading.get_ident(),
                       cpu_ns=self._cpu_ns)

    def _close_source(self) -> None:
        """Closes a generator suspended at a yield: GeneratorExit there."""
        source, self._source = self._source, None
        if source is None:
            return
        try:
            with call_scope(self.call):
                if inspect.isgenerator(source):
                    source.close()
                else:
                    self._loop.run(_aclose(source), None)
        except BaseException:  # noqa: B036 - the stream ends regardless
            log.exception("closing the generator of call %d (%s) raised",
                          self.call.call_id, self.call.command)


async def _anext(source: AsyncGenerator[Any, None]) -> Any:
    return await source.__anext__()


async def _aclose(source: AsyncGenerator[Any, None]) -> None:
    await source.aclose()


class EndedStream:
    """A stream that could not start: ``next`` gives its end, ``close``
    does nothing (StreamRun's interface, for the native transport)."""

    def __init__(self, end: Outcome) -> None:
        self._end = end

    def next(self) -> tuple[bool, Outcome]:
        return True, self._end

    def close(self) -> Optional[Outcome]:
        return None  # it ended before it began
