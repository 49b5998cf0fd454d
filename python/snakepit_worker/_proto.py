"""The generated gRPC stubs for proto/snakepit/v1/worker.proto.

The build generates them into ``<this package>/_gen`` with protoc's flat
imports (``from snakepit.v1 import worker_pb2``), so that folder is put on
``sys.path`` and ``snakepit.v1`` is imported as a namespace package.
Importing this module imports grpc: a missing grpc raises
ModuleNotFoundError here.
"""

import os
import sys

_GEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_gen")
if _GEN_DIR not in sys.path:
    sys.path.insert(0, _GEN_DIR)

from snakepit.v1 import worker_pb2, worker_pb2_grpc  # noqa: E402

__all__ = ["worker_pb2", "worker_pb2_grpc"]
