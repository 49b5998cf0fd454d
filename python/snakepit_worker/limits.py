"""Per-worker resource limits (PoolConfig rlimit_as_mb / rlimit_nofile).

Applied by the worker to itself first thing, before grpc or the adapter is
imported, so everything the worker ever allocates or opens is bounded.
Only soft and hard limits that lower the current ones are set: a worker
cannot raise its own hard limit, and asking for more than it has is
reported, not silently ignored.
"""

from __future__ import annotations

import resource
from typing import Optional


def apply_limits(as_mb: Optional[int], nofile: Optional[int]) -> None:
    """Sets RLIMIT_AS to ``as_mb`` MiB and RLIMIT_NOFILE to ``nofile``.

    None (or 0) leaves a limit as it is. Raises ValueError naming the limit
    when the value is above the process's hard limit (the start then fails
    with that message in the readiness record)."""
    for name, kind, value in (("rlimit_as_mb", resource.RLIMIT_AS, as_mb and as_mb << 20),
                              ("rlimit_nofile", resource.RLIMIT_NOFILE, nofile)):
        if not value:
            continue
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY and value > hard:
            raise ValueError(f"{name}: {value} is above this process's hard limit {hard}")
        resource.setrlimit(kind, (value, value))
