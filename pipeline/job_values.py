"""The value checks of a job file's keys, beyond their type (``VALUES``: key → a message,
or None when the value is fine), and a TOML value described in words (``describe_value``)
for the messages of both."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from pipeline.durations import parse_duration
from pipeline.errors import UsageError
from pipeline.secrets import looks_like_variable_name
from pipeline.sizes import size_problem

_MODES = ("upsert", "create-only", "update-only", "mirror")


def _limit_problem(value: Any) -> str | None:
    if re.fullmatch(r"\d+(\.\d+)?%|\d+", str(value).strip()):
        return None
    return f'takes N or N% (like 50 or "5%"), not {describe_value(value)}'


def _at_least_one(value: Any) -> str | None:
    return None if value >= 1 else f"must be at least 1, not {value}"


#: value checks of a job file's keys, beyond their type: a message, or None when fine
VALUES: dict[str, Callable[[Any], str | None]] = {
    "mode": lambda v: None if v in _MODES else f"must be one of {', '.join(_MODES)}, not {v!r}",
    "max_deletes": _limit_problem,
    "max_invalid": _limit_problem,
    "sheet": lambda v: None if isinstance(v, str) or v >= 1 else f"counts from 1, not {v}",
    "encoding": lambda v: _encoding_problem(v),
    "chunk_size": _at_least_one,
    "concurrency": _at_least_one,
    "rate_limit": lambda v: None if v >= 0 else "must be 0 (off) or a positive number",
    "retry_timeout": lambda v: _duration_problem(v),
    "reject_types": lambda v: _types_problem(v),
    "max_input_size": size_problem,
    "api_key_env": lambda v: (
        None
        if looks_like_variable_name(v)
        else "takes the NAME of an environment variable, not the key: put the key in a "
        'variable (export ARNIS_API_KEY=...) and name it here (api_key_env = "ARNIS_API_KEY"). '
        "A name is letters, digits and _, not starting with a digit (the value is not shown)"
    ),
}


def _encoding_problem(value: str) -> str | None:
    from pipeline.read.encoding import checked_encoding

    try:
        checked_encoding(value)
    except UsageError as exc:
        return str(exc).replace(f"--encoding {value!r} ", "")
    return None


def _duration_problem(value: Any) -> str | None:
    try:
        parse_duration(value)
    except UsageError as exc:
        return str(exc).replace("--retry-timeout ", "")
    return None


def _types_problem(value: Any) -> str | None:
    from pipeline.normalize.screening import parse_types

    try:
        parse_types(value)
    except UsageError as exc:
        return str(exc).replace("--reject-types: ", "")
    return None


def describe_value(value: Any) -> str:
    """A TOML value's kind in words, with the value when it is short."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, int):
        return f"a whole number ({value})"
    if isinstance(value, float):
        return f"a number ({value:g})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return f"a date or time ({value.isoformat()})"
    return type(value).__name__
