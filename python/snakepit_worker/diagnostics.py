"""The ``StatsResponse.diagnostics_json`` document; see docs/worker-protocol.md,
"Diagnostics".

Pure Python, never imports grpc. Thread-safe.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional

from . import matrix
from .interpreter import gil_enabled
from .thread_safety import ThreadSafetyChecker

log = logging.getLogger("snakepit_worker")


def diagnostics(checker: Optional[ThreadSafetyChecker]) -> dict[str, Any]:
    """The diagnostics object, always complete: with checks off
    (``checker`` None) ``thread_safety_checks`` is false and ``findings``
    empty. With a checker, first re-checks the loaded libraries (thread mode
    only), so a library imported by a command shows up here."""
    if checker is not None:
        checker.check_libraries()
    return {"thread_safety_checks": checker is not None,
            "findings": checker.findings() if checker is not None else [],
            "findings_dropped": checker.log.dropped if checker is not None else 0,
            "loaded_libraries": matrix.loaded_libraries(),
            "gil_enabled": gil_enabled()}


def diagnostics_json(checker: Optional[ThreadSafetyChecker]) -> str:
    """``diagnostics(checker)`` as one line of JSON. Never raises: should
    building it fail, the object says so in an extra ``error`` key (and the
    failure is logged), so the Stats RPC still answers."""
    try:
        return json.dumps(diagnostics(checker))
    except Exception as e:  # noqa: BLE001 - Stats must answer regardless
        log.exception("building diagnostics_json failed")
        return json.dumps({"thread_safety_checks": checker is not None, "findings": [],
                           "findings_dropped": 0, "loaded_libraries": {},
                           "gil_enabled": gil_enabled(), "error": f"{type(e).__name__}: {e}"})
