"""Finds and checks the adapter class named by ``--adapter module:Class``."""

from __future__ import annotations

import importlib

from .adapter import Adapter


class NotThreadSafeError(TypeError):
    """Thread mode was asked for an adapter whose ``thread_safe`` is False."""


def load_adapter_class(spec: str, mode: str) -> type[Adapter]:
    """Imports ``spec`` ("module:Class") and returns the class.

    Raises ValueError (malformed spec), ImportError and whatever the module
    raises at import, AttributeError (no such class), TypeError (not an
    Adapter subclass), NotThreadSafeError (thread mode, adapter not
    thread-safe).
    """
    module_name, sep, class_name = spec.partition(":")
    if not sep or not module_name or not class_name:
        raise ValueError(f"--adapter must be 'module:Class', got {spec!r}")
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise AttributeError(f"module {module_name!r} ({module.__file__}) "
                             f"has no attribute {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise TypeError(f"{spec} is not a subclass of snakepit_worker.Adapter")
    if mode == "thread" and not cls.thread_safe:
        raise NotThreadSafeError(
            f"adapter {spec} is not thread-safe (thread_safe = False), so it "
            f"cannot run in thread mode; subclass snakepit_worker.ThreadSafeAdapter "
            f"or set thread_safe = True once its commands may run concurrently, "
            f"or use the process profile")
    return cls
