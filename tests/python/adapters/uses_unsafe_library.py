"""Test adapter that loads a library the thread-safety matrix marks
``thread_safe: false``: httplib2 (Debian's python3-httplib2, installed for
/usr/bin/python3 on the build machine), imported in ``setup``.

With ``--thread-safety-checks`` in thread mode the worker reports an
``unsafe_library`` finding for it (module ``httplib2``). ``library``
returns {"library", "module", "version"}. Used by the Python and C++ tests.
Adapter spec: ``uses_unsafe_library:UsesUnsafeLibrary``.
"""

import importlib

from snakepit_worker import ThreadSafeAdapter, command, concurrent_safe

LIBRARY = "httplib2"
MODULE = "httplib2"


class UsesUnsafeLibrary(ThreadSafeAdapter):
    def setup(self, preload: list) -> None:
        self.module = importlib.import_module(MODULE)

    @command
    @concurrent_safe
    def library(self) -> dict:
        return {"library": LIBRARY, "module": MODULE,
                "version": getattr(self.module, "__version__", None)}
