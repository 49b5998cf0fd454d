"""Test adapter that reports which modules the worker process has imported.

``loaded(prefixes)`` -> sorted names in ``sys.modules`` that start with any
of ``prefixes``. Used to check that the native transport loads neither grpc
nor Python protobuf. Adapter spec: ``modules_probe:ModulesProbe``.
"""

import sys

from snakepit_worker import ThreadSafeAdapter, command


class ModulesProbe(ThreadSafeAdapter):
    @command
    def loaded(self, prefixes: list) -> list:
        return sorted(name for name in list(sys.modules) if name.startswith(tuple(prefixes)))
