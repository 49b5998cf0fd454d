"""Runs one command call on an adapter: JSON args in, JSON result or error out.

Independent of grpc, so it can be tested and reused without a server. Every
failure becomes an ``Outcome`` with a ``CallError``; nothing raised by a
command escapes ``Dispatcher.execute``.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from .adapter import Adapter, Reply, is_concurrent_safe
from .aio import EventLoop
from .context import CallContext, call_scope, is_native_buffer
from .cpu_sample import CommandCpu
from .unserializable import describe_unserializable

if TYPE_CHECKING:
    from .thread_safety import ThreadSafetyChecker

_WORKER_MODULES = frozenset(f"{__package__}.{name}"
                            for name in ("dispatch", "streams", "aio", "thread_safety"))
# json.dumps(value, allow_nan=False) builds this encoder on every call.
_ENCODER = json.JSONEncoder(allow_nan=False)
# How deep args may nest (a top-level list or object is level 1): the
# host's limit too (kMaxArgsDepth, src/common/call_args.h).
MAX_ARGS_DEPTH = 256
# Strings (skipped whole) and brackets, for measuring nesting unparsed.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


# A result's attachment as dispatch hands it to the transport: bytes, or a
# read-only byte view of an immutable object (_as_bytes).
Attachment = Union[bytes, memoryview]


@dataclass(frozen=True)
class CallError:
    """Mirrors worker.proto's Error; ``kind`` is the name of an Error.Kind."""
    kind: str
    type: str
    message: str
    traceback: str = ""


@dataclass
class Outcome:
    """A finished call: ``error`` is None on success, and then ``json`` and
    ``attachments`` hold the result. Times are ``time.time_ns()`` when the
    adapter method was entered and left (both the moment of failure when it
    was never entered); ``thread_id`` is the handler's
    ``threading.get_ident()``; ``cpu_ns`` is the CPU time that thread used
    inside the method (``time.thread_time_ns()`` difference, sampled for
    short calls as cpu_sample.py says; 0 when it was never entered or not
    measured; CPU burnt by threads the method started is not counted)."""
    started_ns: int
    finished_ns: int
    thread_id: int
    json: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    error: Optional[CallError] = None
    cpu_ns: int = 0


class Failure(Exception):
    """Carries a CallError out of a step of ``execute`` or ``prepare``."""

    def __init__(self, error: CallError) -> None:
        super().__init__(error.message)
        self.error = error


def failed(call: CallContext, e: BaseException, outcome: Outcome) -> Outcome:
    """``outcome`` (its timing set) failed with ``e``, raised by the command:
    CANCELLED when the call was cancelled by then, else EXCEPTION."""
    # The traceback starts at the command: the worker's frames are noise.
    tb = "".join(traceback.format_exception(type(e), e, _command_frames(e.__traceback__)))
    if call.cancelled:
        outcome.error = CallError(
            "CANCELLED", qualified_name(type(e)),
            f"call {call.call_id} ({call.command}) was cancelled ({call.cancel_reason}) "
            f"and stopped with: {_message(e) or qualified_name(type(e))}", tb)
    else:
        outcome.error = CallError("EXCEPTION", qualified_name(type(e)), _message(e), tb)
    return outcome


def rejected(error: CallError) -> Outcome:
    """An Outcome for a call whose adapter method was never entered."""
    now = time.time_ns()
    return Outcome(now, now, threading.get_ident(), error=error)


def qualified_name(cls: type) -> str:
    """``ValueError`` for builtins, ``module.Qualname`` otherwise."""
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


class Dispatcher:
    """Looks commands up on one adapter instance and runs them.

    Thread-safe to the extent the adapter is: between calls, ``execute``
    keeps only which calls measure their CPU time (cpu_sample.py). With a
    ``checker`` (``--thread-safety-checks``), every command not marked
    ``@concurrent_safe`` runs wrapped by it; without one, the adapter's
    bound methods are called directly.
    """

    def __init__(self, adapter: Adapter,
                 checker: Optional[ThreadSafetyChecker] = None) -> None:
        self._adapter_name = type(adapter).__name__
        self._loop = EventLoop()
        self._commands = adapter.commands()
        self._signatures = {name: inspect.signature(method)
                            for name, method in self._commands.items()}
        # Commands a call without args binds to: such a call skips
        # Signature.bind, a few microseconds of every no-arg call.
        self._bare = frozenset(name for name, signature in self._signatures.items()
                               if _binds_without_args(signature))
        # Which calls measure their CPU time (cpu_sample.py), per command.
        self._cpu = {name: CommandCpu() for name in self._commands}
        if checker is not None:
            self._commands = {
                name: method if is_concurrent_safe(method) else checker.wrap(
                    name, f"{self._adapter_name}.{getattr(method, '__name__', name)}", method)
                for name, method in self._commands.items()}

    @property
    def loop(self) -> EventLoop:
        """Where async commands run (aio.py)."""
        return self._loop

    def execute(self, call: CallContext, args_json: str) -> Outcome:
        """Decodes ``args_json``, runs ``call.command`` and encodes its result.
        An ``async def`` command runs on the event loop (aio.py) while this
        thread waits.

        Errors: INVALID_ARGS (args not JSON, not an object/list/null, or not
        accepted by the method's signature), UNKNOWN_COMMAND, EXCEPTION (the
        method raised anything, even SystemExit), CANCELLED (it raised, or
        its task was cancelled, after the call was cancelled),
        STREAM_REQUIRED (a generator command: it needs ExecuteStream),
        NOT_SERIALIZABLE (the result is not JSON-encodable or an attachment
        is not bytes-like).
        """
        try:
            start = self.prepare(call, args_json)
        except Failure as f:
            return rejected(f.error)

        thread_id = threading.get_ident()
        cpu = self._cpu[call.command]
        started = time.time_ns()
        cpu_started = cpu.begin()
        try:
            with call_scope(call):
                result = start()
                if inspect.iscoroutine(result):
                    result = self._loop.run(result, call)
        except BaseException as e:  # noqa: B036 - every failure is reported
            finished, cpu_ns = cpu.end(cpu_started, started)
            return failed(call, e, Outcome(started, finished, thread_id, cpu_ns=cpu_ns))
        finished, cpu_ns = cpu.end(cpu_started, started)
        outcome = Outcome(started, finished, thread_id, cpu_ns=cpu_ns)
        if inspect.isgenerator(result) or inspect.isasyncgen(result):
            if inspect.isgenerator(result):
                result.close()  # never started: runs nothing
            outcome.error = CallError(
                "STREAM_REQUIRED", "",
                f"command '{call.command}' is a generator (a streaming command): call it "
                f"with execute_stream (the ExecuteStream RPC), not execute")
            return outcome
        return encode(call.command, result, outcome)

    def prepare(self, call: CallContext, args_json: str) -> Callable[[], Any]:
        """The command of ``call`` bound to its decoded args, ready to be
        called (within ``call_scope(call)``). Raises Failure
        (UNKNOWN_COMMAND, INVALID_ARGS)."""
        method = self._lookup(call.command)
        args, kwargs = _decode_args(call.command, args_json)
        self._bind(call.command, args, kwargs)
        return lambda: method(*args, **kwargs)

    def _lookup(self, name: str) -> Any:
        method = self._commands.get(name)
        if method is None:
            raise Failure(CallError(
                "UNKNOWN_COMMAND", "",
                f"unknown command '{name}' on {self._adapter_name}; "
                f"available: {', '.join(sorted(self._commands)) or '(none)'}"))
        return method

    def _bind(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        if not args and not kwargs and name in self._bare:
            return
        signature = self._signatures[name]
        try:
            signature.bind(*args, **kwargs)
        except TypeError as e:
            raise Failure(CallError(
                "INVALID_ARGS", "TypeError",
                f"bad args for command '{name}': {e}; "
                f"expected {name}{_plain(signature)}")) from e


def _binds_without_args(signature: inspect.Signature) -> bool:
    try:
        signature.bind()
    except TypeError:
        return False
    return True


def _message(e: BaseException) -> str:
    """``str(e)``, or a note saying why it could not be had: an exception
    whose ``__str__`` raises keeps its own type all the same."""
    try:
        return str(e)
    except BaseException as inner:  # noqa: B036 - any failure of __str__
        return (f"(the message could not be rendered: __str__ raised "
                f"{qualified_name(type(inner))})")


def _command_frames(tb: Any) -> Any:
    """The traceback from the command on: drops the leading frames of the
    worker (this module, streams, the event loop, the thread-safety
    checker's wrapper) and of asyncio."""
    while tb is not None and _is_worker_frame(tb.tb_frame.f_globals.get("__name__", "")):
        tb = tb.tb_next
    return tb


def _is_worker_frame(module: str) -> bool:
    return module in _WORKER_MODULES or module.startswith("asyncio.")


def _plain(signature: inspect.Signature) -> inspect.Signature:
    """``signature`` without annotations: ``add(a, b)``, ``matmul(n=128)``."""
    return signature.replace(
        parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
        return_annotation=inspect.Signature.empty)


def _decode_args(command: str, args_json: str) -> tuple[list[Any], dict[str, Any]]:
    """Object -> kwargs, list -> positional args, null/empty -> none."""
    if args_json == "{}":  # what the host sends for no args: skip the parser
        return [], {}
    if not args_json.strip():
        return [], {}
    if _nesting_depth(args_json) > MAX_ARGS_DEPTH:
        raise Failure(CallError(
            "INVALID_ARGS", "",
            f"args of command '{command}' are nested deeper than "
            f"{MAX_ARGS_DEPTH} levels"))
    try:
        value = json.loads(args_json, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as e:
        raise Failure(CallError(
            "INVALID_ARGS", qualified_name(type(e)),
            f"args of command '{command}' are not valid JSON: {e}")) from e
    if value is None:
        return [], {}
    if isinstance(value, dict):
        return [], value
    if isinstance(value, list):
        return value, {}
    raise Failure(CallError(
        "INVALID_ARGS", "",
        f"args of command '{command}' must be a JSON object, list or null, "
        f"not {type(value).__name__}"))


def _refuse_constant(name: str) -> Any:
    """json.loads' hook for NaN, Infinity and -Infinity, which are not JSON."""
    raise ValueError(f"{name} is not JSON")


def _non_finite_path(value: Any, root: str) -> Optional[str]:
    """Where in `value` the first NaN or infinite float sits, as
    "result.x[3] is NaN", or None; walks without recursing."""
    stack: list[tuple[Any, str]] = [(value, root)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            what = "NaN" if math.isnan(item) else ("Infinity" if item > 0 else "-Infinity")
            return f"{path} is {what}"
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}") for k, v in reversed(list(item.items())))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
    return None


def _nesting_depth(text: str) -> int:
    """How deep the JSON `text` nests, without parsing it (so without
    recursing); cheap when it holds few brackets."""
    if text.count("[") + text.count("{") <= MAX_ARGS_DEPTH:
        return 0
    depth = deepest = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in ("]", "}"):
            depth -= 1
    return deepest


def encode(command: str, result: Any, outcome: Outcome) -> Outcome:
    """Fills ``outcome`` with the encoded result, or a NOT_SERIALIZABLE error."""
    value, attachments = (result.value, result.attachments) \
        if isinstance(result, Reply) else (result, [])
    try:
        # None and {} (a no-op's usual results) skip the encoder's machinery.
        outcome.json = "null" if value is None else "{}" if type(value) is dict and not value \
            else _ENCODER.encode(value)
        outcome.attachments = [_as_bytes(a) for a in attachments] if attachments else []
    except (TypeError, ValueError, RecursionError) as e:
        where = _non_finite_path(value, "result") if isinstance(e, ValueError) else None
        reason = f"{where}; JSON cannot carry it" if where else describe_unserializable(value, e)
        outcome.error = CallError(
            "NOT_SERIALIZABLE", qualified_name(type(e)),
            f"command '{command}' returned a value that cannot be sent: {reason}")
        outcome.json, outcome.attachments = "", []
    return outcome


def _as_bytes(blob: Any) -> Attachment:
    """``blob`` as it will be sent: ``bytes`` as they are; a read-only,
    contiguous view of an immutable object (a request's
    ``attachment_views``, or a slice of one) as it is too, so that a
    command that returns its input sends it without a copy; anything else
    bytes-like copied into ``bytes`` now (the command may change it later)."""
    if type(blob) is bytes:
        return blob
    if isinstance(blob, memoryview) and blob.readonly and blob.c_contiguous \
            and _immutable(blob.obj):
        return blob if blob.ndim == 1 and blob.format == "B" else blob.cast("B")
    if _immutable(blob):  # an AttachmentBuffer itself
        return memoryview(blob)
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise TypeError(f"attachment of type {type(blob).__name__} is not bytes-like")
    return bytes(blob)


def _immutable(owner: Any) -> bool:
    """Whether ``owner``'s bytes can never change: ``bytes``, or the native
    transports' AttachmentBuffer."""
    return type(owner) is bytes or is_native_buffer(owner)
