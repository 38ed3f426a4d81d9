"""Sizes as people write them (``500M``, ``4G``, ``1.5GB``, ``2000000``) and as they read
them: ``parse_size`` and ``format_size``, binary units (1K = 1,024 bytes)."""

from __future__ import annotations

import re

from pipeline.errors import UsageError

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?", re.IGNORECASE)


def size_problem(value: object) -> str | None:
    """What is wrong with ``value`` as a size (None: it is one)."""
    match = _SIZE.fullmatch(str(value).strip())
    if match is None or float(match.group(1)) * _UNITS[match.group(2).upper()] < 1:
        return f"takes a size like 500M, 4G or 1.5GB (bytes without a unit), not {value!r}"
    return None


def parse_size(value: object, flag: str = "--max-input-size") -> int:
    """Bytes in ``value`` (``4G``: 4 GiB); a ``UsageError`` naming ``flag`` otherwise."""
    problem = size_problem(value)
    if problem:
        raise UsageError(f"{flag} {problem}")
    match = _SIZE.fullmatch(str(value).strip())
    assert match is not None
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def format_size(size: int) -> str:
    """``4 GiB``, ``512 MiB``, ``12 KiB``, ``900 bytes``."""
    for unit, name in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= unit:
            value = size / unit
            return f"{value:.0f} {name}" if value == int(value) else f"{value:.1f} {name}"
    return f"{size} bytes"
