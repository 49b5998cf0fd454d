"""Test adapter module that fails at import time.

Used by the Python and C++ tests: the worker must answer with an
``ok: false`` readiness record (type ImportError, message "boom at import")
and exit with status 3. Adapter spec: ``import_boom:Anything``.
"""

raise ImportError("boom at import")
