"""Adapter of the FetchContent consumer: says which worker transport the
process it runs in serves calls with."""

import sys

from snakepit_worker import Adapter, command


class TransportProbe(Adapter):
    @command
    def transport(self) -> dict:
        # transport.py imports _native only when it serves with it (auto
        # falls back to grpcio when _native does not import).
        return {"native": "snakepit_worker._native" in sys.modules, "grpcio": "grpc" in sys.modules}
