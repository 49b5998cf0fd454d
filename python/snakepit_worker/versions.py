"""Small, dependency-free handling of package names and version numbers.

Enough of PEP 440 and PEP 503 for the thread-safety matrix: normalised
names, ordering of release numbers, and the lower bound of a requirement
specifier. Not a full PEP 440 implementation (no ``packaging``): local
versions and post-releases compare equal to their release, every pre-/dev
release sorts just below its release. Pure functions, thread-safe.
"""

from __future__ import annotations

import re
from typing import Optional

_VERSION = re.compile(r"^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(\.\*)?(.*?)\s*$", re.IGNORECASE)
_PRE_RELEASE = re.compile(r"^[-_.]?(a|b|c|rc|alpha|beta|pre|preview|dev)", re.IGNORECASE)
_CLAUSE = re.compile(r"^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$")


def normalise_name(name: str) -> str:
    """PEP 503 normalised project name: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def version_key(text: str) -> Optional[tuple[int, tuple[int, ...], int]]:
    """An orderable key for a version string, or None when it has no leading
    release number. ``2.1`` and ``2.1.0`` give the same key; ``2.1.0rc1`` and
    ``2.1.0.dev0`` sort below ``2.1.0``; a trailing ``.*`` is ignored."""
    match = _VERSION.match(text)
    if match is None:
        return None
    release = tuple(int(part) for part in match.group(2).split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    pre = -1 if _PRE_RELEASE.match(match.group(4)) else 0
    return int(match.group(1) or 0), release, pre


def compare_versions(a: str, b: str) -> Optional[int]:
    """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b``;
    None when either is not a version."""
    key_a, key_b = version_key(a), version_key(b)
    if key_a is None or key_b is None:
        return None
    return (key_a > key_b) - (key_a < key_b)


def lower_bound(spec: str) -> Optional[str]:
    """The highest lower bound a specifier sets, e.g. ``>=1.26,<3`` ->
    ``1.26``, ``==2.1.*`` -> ``2.1``, ``~=1.4.2`` -> ``1.4.2``. ``>X`` counts
    as X (every admitted version is above it). None when the spec sets no
    lower bound (empty, only ``<``/``<=``/``!=``, a URL) or cannot be read."""
    best: Optional[str] = None
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = _CLAUSE.match(clause)
        if match is None:
            return None
        operator, version = match.groups()
        if operator in ("<", "<=", "!="):
            continue
        version = version.removesuffix(".*")
        if version_key(version) is None:
            return None
        if best is None or compare_versions(version, best) == 1:
            best = version
    return best


def meets_minimum(spec: str, minimum: str) -> Optional[bool]:
    """Whether every version ``spec`` admits is at least ``minimum``: True
    when its lower bound reaches ``minimum``; False when its lower bound is
    below it, or an upper bound (``<X``/``<=X``) keeps every admitted version
    below it; None when the spec bounds nothing below (a bare name, ``!=X``,
    a URL) or cannot be read."""
    bound = lower_bound(spec)
    if bound is not None:
        order = compare_versions(bound, minimum)
        return None if order is None else order >= 0
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = _CLAUSE.match(clause)
        if match is None:
            return None
        operator, version = match.groups()
        order = compare_versions(version, minimum)
        if (operator == "<" and order is not None and order <= 0) or \
                (operator == "<=" and order is not None and order < 0):
            return False
    return None
