"""Durations as people write them: ``--retry-timeout 15m`` read (``parse_duration``)
and a wait shown (``seconds_text``); the default retry budget."""

from __future__ import annotations

import re
from typing import Any

from pipeline.errors import UsageError

#: the default of ``--retry-timeout``: long enough for a bad night of a busy API (each
#: request's retries are bounded, not the run's length), short enough for a cron job
DEFAULT_BUDGET = 900.0

_DURATION = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(s|sec|m|min|h)?", re.IGNORECASE)
_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(value: Any, flag: str = "--retry-timeout") -> float:
    """``15m``, ``90s``, ``0.5h`` or a number of seconds → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise UsageError(f"{flag} must be 0 or more seconds, not {value}")
        return float(value)
    found = _DURATION.fullmatch(str(value).strip())
    if not found:
        raise UsageError(
            f"{flag} takes a duration like 15m, 90s or 0.5h (or seconds), not {str(value)[:40]!r}"
        )
    return float(found.group(1)) * _UNITS[(found.group(2) or "").lower()]


def seconds_text(seconds: float) -> str:
    """A duration as people write it: ``0.4 s``, ``12 s``, ``15 min``, ``1.5 h``."""
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min".replace(".0 min", " min")
    return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
