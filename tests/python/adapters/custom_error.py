"""Test adapter whose command raises an exception class defined here.

Used by the Python and C++ tests: ``fail(message)`` raises
``custom_error.CustomError``, so Error.type must be that qualified name.
Adapter spec: ``custom_error:CustomErrorAdapter``.
"""

from snakepit_worker import Adapter, command


class CustomError(Exception):
    """An application-defined error."""


class CustomErrorAdapter(Adapter):
    @command
    def fail(self, message: str = "custom failure") -> None:
        raise CustomError(message)
