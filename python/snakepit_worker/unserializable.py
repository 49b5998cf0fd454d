"""What JSON cannot hold in a command's result, said so that the adapter's
author knows what to return instead (the NOT_SERIALIZABLE error's message).

The commonest case is NumPy: an array or a NumPy scalar (``np.float64``)
in a result. The hint names ``.tolist()`` and, for large arrays, the
attachment route (``Reply(meta, attachments=[array.tobytes()])``), which
carries the raw bytes without a JSON detour. NumPy is never imported here:
its values are recognised by their type's module.
"""

from __future__ import annotations

from typing import Any, Optional

_JSON_SCALARS = (str, int, float, bool, type(None))


def _first_unencodable(value: Any, root: str) -> Optional[tuple[str, Any]]:
    """The path ("result.rows[2]") and value of the first item JSON cannot
    encode (not a dict, list, tuple or JSON scalar), or None; walks without
    recursing."""
    stack: list[tuple[Any, str]] = [(value, root)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}") for k, v in reversed(list(item.items())))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
        elif not isinstance(item, _JSON_SCALARS):
            return path, item
    return None


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _numpy_hint(value: Any) -> str:
    """Advice for a NumPy array or scalar; "" for anything else."""
    if not type(value).__module__.startswith("numpy") or not hasattr(value, "tolist"):
        return ""
    if getattr(value, "ndim", 0) == 0:
        return "; return value.item() (or .tolist()) for a plain Python number"
    shape = getattr(value, "shape", "?")
    dtype = getattr(value, "dtype", "?")
    return (f" (shape {shape}, dtype {dtype}); return value.tolist(), or send its bytes as an attachment: "
            "return Reply(meta, attachments=[value.tobytes()]) with shape and dtype in meta")


def describe_unserializable(value: Any, error: BaseException, root: str = "result") -> str:
    """Why `value` could not be JSON-encoded (`error` is what the encoder
    raised): the path and type of the first value JSON cannot hold, with a
    hint for NumPy values; `str(error)` when no such value is found (e.g. a
    dict key that is not a string)."""
    found = _first_unencodable(value, root)
    if found is None:
        return str(error)
    path, item = found
    return f"{path} is a {_type_name(item)}, which JSON cannot hold{_numpy_hint(item)}"
