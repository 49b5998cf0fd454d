"""Identity of the running interpreter, as reported to the host."""

from __future__ import annotations

import platform
import sys
import sysconfig


def free_threaded_build() -> bool:
    """True for a free-threaded (``--disable-gil``) CPython build."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Whether the GIL is on now (an extension may re-enable it at import)."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def interpreter_info() -> dict[str, object]:
    """The interpreter fields of the readiness record."""
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "free_threaded": free_threaded_build(),
        "gil_enabled": gil_enabled(),
    }
