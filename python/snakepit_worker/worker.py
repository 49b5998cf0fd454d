"""One worker process's life: start, announce readiness, serve, stop.

See docs/worker-protocol.md. Exit status: 0 after a stop by SIGTERM/SIGINT
or when the lifeline closes, 3 when start-up failed (after an ``ok: false``
readiness record).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable, Optional

from .adapter import Adapter
from .addresses import unix_socket_path
from .calls import WorkerCalls
from .descendants import become_subreaper, kill_descendants
from .envtoken import TokenHandoff
from .dispatch import Dispatcher
from .limits import apply_limits
from .lifeline import watch_lifeline
from .loader import load_adapter_class
from .readiness import announce, failure_record, ready_record
from .signals import StopSignals
from .stacks import serve_stack_dumps
from .slots import Slots
from .thread_safety import ThreadSafetyChecker
from .tls_files import read_tls_files
from .transport import Transport, TransportUnavailable, load

EXIT_STARTUP_FAILED = 3

log = logging.getLogger("snakepit_worker")


@dataclass(frozen=True)
class Options:
    """The parsed command line; see cli.py for each flag's meaning."""
    mode: str
    max_workers: int
    adapter: str
    listen: str
    ready_fd: Optional[int]
    lifeline_fd: Optional[int]
    stacks_fd: Optional[int]
    worker_id: str
    preload: str
    grace: float
    max_message_bytes: int
    extra_args: list[str] = field(default_factory=list)
    thread_safety_checks: bool = False
    rlimit_as_mb: Optional[int] = None
    rlimit_nofile: Optional[int] = None
    # The token every RPC must carry (from SNAKEPIT_WORKER_TOKEN, never a
    # flag), handed over once: the transport's start() takes it out, after
    # which no Python object holds it (docs/worker-protocol.md). None, or a
    # handoff holding None: no check. Kept out of repr().
    auth_token: Optional[TokenHandoff] = field(default=None, repr=False)
    # PEM files of the TLS certificate and private key; both or neither.
    tls_cert_file: Optional[str] = None
    tls_key_file: Optional[str] = None
    transport: str = "auto"
    # The host's shared-memory data plane (docs/worker-protocol.md): a memfd
    # formatted as two rings of ``shm_ring_bytes``; the native transport
    # serves calls from it beside gRPC. None: gRPC only.
    shm_fd: Optional[int] = None
    shm_ring_bytes: int = 0
    # PEM CA file that clients' certificates must chain to (mutual TLS;
    # ``serve --tls-client-ca``, grpcio transport only).
    tls_client_ca_file: Optional[str] = None
    # Seconds between the start of a stop (health says STOPPING/NOT_SERVING)
    # and the refusal of new calls, so that clients that probe health see
    # the drain coming (``serve --drain-notice``). 0 for a worker the host
    # started: its host is the one stopping it.
    drain_notice: float = 0.0
    # Called once the worker is ready, with its WorkerCalls (``serve``
    # starts its health port there); an exception fails the start.
    on_ready: Optional[Callable[[WorkerCalls], None]] = field(default=None, repr=False,
                                                              compare=False)

    @property
    def slots(self) -> int:
        return 1 if self.mode == "process" else self.max_workers


@dataclass
class _Serving:
    """A started worker: what a stop needs."""
    transport: Transport
    calls: WorkerCalls
    slots: Slots
    adapter: Adapter

    def stop(self, grace: float, notice: float = 0.0) -> None:
        """Says STOPPING on health for ``notice`` s, then refuses new calls,
        lets in-flight ones finish for up to ``grace`` s, cancels the rest,
        runs teardown, logs the final counters."""
        self.calls.stopping.set()
        if notice > 0:
            time.sleep(notice)
        self.transport.stop_accepting(grace)
        if not self.transport.drain(grace):
            log.warning("calls still running after the %.1f s grace period are cancelled",
                        grace)
        if not self.transport.close(5):
            log.warning("the %s server did not shut down within 5 s", self.transport.name)
        _teardown(self.adapter)
        kill_descendants()  # after teardown, which may stop them more gently
        _, served, failed = self.slots.snapshot()
        log.info("stopped: requests_served=%d requests_failed=%d uptime_s=%.1f",
                 served, failed, self.calls.uptime_s())
        socket_path = unix_socket_path(self.transport.listen)
        if socket_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(socket_path)


def run(opts: Options) -> int:
    """Runs the worker: returns EXIT_STARTUP_FAILED after a failed start,
    and otherwise never returns (a stop ends in ``os._exit(0)``)."""
    for fd in (opts.ready_fd, opts.lifeline_fd, opts.shm_fd):
        if fd is not None:
            os.set_inheritable(fd, False)
    # Before anything can start a process: orphans stay in our tree.
    become_subreaper()
    if opts.lifeline_fd is not None:
        watch_lifeline(opts.lifeline_fd, unix_socket_path(opts.listen))
    serve_stack_dumps(opts.stacks_fd)
    try:
        apply_limits(opts.rlimit_as_mb, opts.rlimit_nofile)
    except (ValueError, OSError) as e:
        announce(opts.ready_fd, failure_record(e))
        return EXIT_STARTUP_FAILED
    try:
        transport = load(opts.transport)
    except TransportUnavailable as e:
        announce(opts.ready_fd, failure_record(e.cause, str(e)))
        return EXIT_STARTUP_FAILED
    try:
        serving = _start(transport, opts)
    except Exception as e:  # noqa: BLE001 - every start-up failure is reported
        kill_descendants()  # whatever a failed setup() started
        announce(opts.ready_fd, failure_record(e))
        return EXIT_STARTUP_FAILED
    stop_signals = StopSignals()
    server = serving.transport
    if opts.on_ready is not None:
        try:
            opts.on_ready(serving.calls)
        except Exception as e:  # noqa: BLE001 - reported like every start-up failure
            announce(opts.ready_fd, failure_record(e))
            serving.stop(0)
            return EXIT_STARTUP_FAILED
    announce(opts.ready_fd, ready_record(server.listen, opts.mode, opts.slots, server.name,
                                         token_required=server.token_required, tls=server.tls,
                                         data_plane=server.data_plane,
                                         data_plane_error=server.data_plane_error))
    log.info("ready: pid %d, %s%s, %s mode, %d slot(s), adapter %s, %s transport, %s data plane, "
             "token %s", os.getpid(), server.listen, " (TLS)" if server.tls else "", opts.mode,
             opts.slots, opts.adapter, server.name, server.data_plane,
             "required" if server.token_required else "not required")
    if server.data_plane_error:
        log.info("shared memory offered by the host is not used: %s", server.data_plane_error)
    signum = stop_signals.wait()
    log.info("%s received; stopping (grace %.1f s)", signum.name, opts.grace)
    serving.stop(opts.grace, opts.drain_notice)
    sys.stdout.flush()
    sys.stderr.flush()
    # Handler threads still running past the grace period must not hold the
    # exit, and the host is waiting: leave without joining threads.
    os._exit(0)


def _start(transport: ModuleType, opts: Options) -> _Serving:
    """Sets the adapter up and starts the server (``transport`` is the
    module transport.load chose). Raises whatever failed."""
    # Before the adapter loads: a bad TLS setup fails the start at once, on
    # either transport (each reads the files again when it starts).
    read_tls_files(opts.tls_cert_file, opts.tls_key_file)
    checker = ThreadSafetyChecker(threaded=opts.mode == "thread") \
        if opts.thread_safety_checks else None
    adapter = _create_adapter(opts, checker)
    if checker is not None:
        checker.check_libraries()
    slots = Slots(opts.slots)
    calls = WorkerCalls(Dispatcher(adapter, checker), slots, opts.mode, opts.adapter, checker)
    return _Serving(transport.start(calls, opts), calls, slots, adapter)


def _create_adapter(opts: Options, checker: Optional[ThreadSafetyChecker]) -> Adapter:
    """Loads, instantiates and sets up the adapter (attached to ``checker``
    before its setup, when there is one); raises what they raise."""
    preload = json.loads(opts.preload)
    if not isinstance(preload, list):
        raise ValueError(f"--preload must be a JSON list, got {type(preload).__name__}")
    adapter = load_adapter_class(opts.adapter, opts.mode)()
    if checker is not None:
        checker.attach(adapter)
    adapter.extra_args = list(opts.extra_args)
    adapter.setup(preload)
    return adapter


def _teardown(adapter: Adapter) -> None:
    try:
        adapter.teardown()
    except Exception:  # noqa: BLE001 - the stop goes on regardless
        log.exception("adapter teardown() raised")
