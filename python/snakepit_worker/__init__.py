"""snakepit_worker: the Python side of snakepit-cpp.

Write an adapter by subclassing ``Adapter`` (or ``ThreadSafeAdapter`` for
the thread profile) and marking methods with ``@command``. The host runs
``python -m snakepit_worker --adapter module:Class ...``; see
docs/worker-protocol.md. Importing this package does not import grpc.
"""

from .adapter import (Adapter, Reply, ThreadSafeAdapter, command, concurrent_safe,
                      synchronized)
from .context import CallContext, current_call

__version__ = "0.1.0"

__all__ = ["Adapter", "CallContext", "Reply", "ThreadSafeAdapter", "command",
           "concurrent_safe", "current_call", "synchronized", "__version__"]
