"""A native server (snakepit_worker.native_server.serve) in a process of its
own, for test_native.py: its token and TLS options without a worker around
them (test_auth.py tests the worker's own, on both transports), and
callables that misbehave on purpose.

    python native_host.py --listen ADDR [--token T] [--tls-cert F --tls-key F]
                          [--execute ok|raise|bad_outcome] [--stats ok|raise]

Prints the bound address as one line, serves until stdin closes, then
exits with os._exit (like a worker). The grpcio client lives in the test
process: the two gRPC libraries never share one.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from snakepit_worker.calls import WorkerCalls
from snakepit_worker.dispatch import Dispatcher
from snakepit_worker.native_server import serve
from snakepit_worker.showcase import ShowcaseAdapter
from snakepit_worker.slots import Slots


class _Broken(WorkerCalls):
    """WorkerCalls whose execute or stats fail in the way ``mode`` says."""

    def __init__(self, execute_mode: str, stats_mode: str) -> None:
        super().__init__(Dispatcher(ShowcaseAdapter()), Slots(1), "process",
                         "snakepit_worker.showcase:ShowcaseAdapter")
        self._execute_mode = execute_mode
        self._stats_mode = stats_mode

    def execute(self, *args: Any) -> Any:
        if self._execute_mode == "raise":
            raise RuntimeError("glue failure on purpose")
        if self._execute_mode == "bad_outcome":
            return object()
        return super().execute(*args)

    def stats(self) -> dict[str, Any]:
        if self._stats_mode == "raise":
            raise KeyError("stats failure on purpose")
        return super().stats()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--token")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--execute", default="ok", choices=("ok", "raise", "bad_outcome"))
    p.add_argument("--stats", default="ok", choices=("ok", "raise"))
    args = p.parse_args()
    transport = serve(_Broken(args.execute, args.stats), args.listen, 1, 4 << 20,
                      auth_token=args.token, tls_cert_file=args.tls_cert,
                      tls_key_file=args.tls_key)
    print(transport.listen, flush=True)
    sys.stdin.read()
    transport.stop_accepting(0)
    transport.close(5)
    os._exit(0)


if __name__ == "__main__":
    main()
