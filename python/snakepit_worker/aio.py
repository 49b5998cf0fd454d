"""The worker's asyncio event loop: where ``async def`` commands and async
generators run.

One loop per worker process, on a daemon thread of its own started at the
first async call, shared by every handler thread (process and thread
profile alike). A handler thread hands the loop a coroutine and blocks
until its task is done, so the call keeps its execution slot as a plain
command does; in the thread profile, concurrent async calls are tasks of
the one loop and overlap wherever they await. CPU-bound work in an async
command holds the loop, and so every other async call of the process.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any, Coroutine, Optional, TypeVar

from .context import CallContext

T = TypeVar("T")


class EventLoop:
    """The loop and its thread. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None

    def run(self, coroutine: Coroutine[Any, Any, T], cancel_with: Optional[CallContext]) -> T:
        """Runs ``coroutine`` as a task of the loop, in a copy of the calling
        thread's context (so ``current_call()`` is the caller's), and blocks
        until the task is done; returns its result or raises its exception.

        With ``cancel_with``, a cancel of that call cancels the task
        (CancelledError inside the coroutine at its await); this returns
        only once the task has really finished, raising CancelledError
        unless the coroutine caught it and returned.
        """
        loop = self._started()
        context = contextvars.copy_context()
        done = threading.Event()
        tasks: list[asyncio.Task[T]] = []

        def start() -> None:
            task = loop.create_task(coroutine, context=context)
            task.add_done_callback(lambda _: done.set())
            tasks.append(task)

        def cancel() -> None:
            # Scheduled after start(): the task exists by then.
            if tasks:
                tasks[0].cancel()

        def cancel_soon() -> None:
            loop.call_soon_threadsafe(cancel)

        loop.call_soon_threadsafe(start)
        forget = cancel_with.on_cancel(cancel_soon) if cancel_with is not None else None
        try:
            # The command's own time: as unbounded as a plain command's.
            done.wait()
        finally:
            if forget is not None:
                forget()
        return tasks[0].result()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the loop and waits up to ``timeout`` s for its thread (a
        worker never does: its loop ends with the process). Tasks still
        running are abandoned. Idempotent."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if not thread.is_alive():
                loop.close()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="snakepit-asyncio",
                                                daemon=True)
                self._thread.start()
                self._loop = loop
            return self._loop
