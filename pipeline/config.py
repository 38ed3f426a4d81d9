"""Command-line options and a TOML job file → one frozen ``Settings``.

A job file's top-level keys are the long option names with ``_`` for ``-`` plus
``input``; ``[options]`` holds ``--option KEY=VALUE`` pairs and ``[map]`` holds
``--map FIELD=COLUMN`` pairs. Flags given on the command line win over the file.
``{date}`` in a path becomes today's date (YYYY-MM-DD), for nightly report names.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pipeline.errors import UsageError


@dataclass(frozen=True)
class Settings:
    """Everything one run needs; built by ``build_settings``."""

    input: str | None = None
    target: str | None = None
    base_url: str | None = None
    api_key_env: str = "CONTACT_SYNC_API_KEY"
    options: Mapping[str, str] = field(default_factory=dict)
    map: Mapping[str, str] = field(default_factory=dict)
    default_region: str = "US"
    mode: str = "upsert"
    max_deletes: str = "10%"
    max_invalid: str | None = None
    chunk_size: int = 1000
    concurrency: int | None = None
    rate_limit: float | None = None
    state_dir: str = ".contact-sync"
    report: str | None = None
    summary_json: str | None = None
    rejects: str | None = None
    html_report: str | None = None
    phone_preference: tuple[str, ...] = ()
    quiet: bool = False

    def path(self, name: str) -> Path | None:
        """An output path option with ``{date}`` filled in, or None."""
        value = getattr(self, name)
        if not value:
            return None
        return Path(str(value).replace("{date}", dt.date.today().isoformat()))


_TYPES: dict[str, type | tuple[type, ...]] = {
    "input": str,
    "target": str,
    "base_url": str,
    "api_key_env": str,
    "options": dict,
    "map": dict,
    "default_region": str,
    "mode": str,
    "max_deletes": (str, int),
    "max_invalid": (str, int),
    "chunk_size": int,
    "concurrency": int,
    "rate_limit": (int, float),
    "state_dir": str,
    "report": str,
    "summary_json": str,
    "rejects": str,
    "html_report": str,
    "phone_preference": list,
    "quiet": bool,
}


def load_job_file(path: str | Path) -> dict[str, Any]:
    """The job file's settings, checked: unknown keys and wrong types are usage errors."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise UsageError(f"job file {file} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read job file {file}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"job file {file} is not valid TOML: {exc}") from exc
    for key, value in data.items():
        _check_key(file, text, key, value)
    if "api_key" in data:  # pragma: no cover - refused by _check_key already
        raise UsageError("api_key")
    return {k: _normalise(k, v) for k, v in data.items()}


def _check_key(file: Path, text: str, key: str, value: Any) -> None:
    where = f"{file}:{_line_of(text, key)}"
    if key in ("api_key", "key", "token"):
        raise UsageError(
            f"{where}: '{key}' — the API key never goes in a file; name its environment "
            "variable with api_key_env instead"
        )
    expected = _TYPES.get(key)
    if expected is None:
        known = ", ".join(sorted(_TYPES))
        raise UsageError(f"{where}: unknown key '{key}'. Known keys: {known}")
    if isinstance(value, bool) and expected is not bool:
        raise UsageError(f"{where}: '{key}' must be {_type_name(expected)}, not a boolean")
    if not isinstance(value, expected):
        raise UsageError(
            f"{where}: '{key}' must be {_type_name(expected)}, not {type(value).__name__}"
        )
    if isinstance(value, dict):
        for inner, item in value.items():
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise UsageError(f"{where}: [{key}] {inner} must be a string")


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "a whole number",
        float: "a number",
        dict: "a table",
        list: "a list",
        bool: "true or false",
    }
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _line_of(text: str, key: str) -> int:
    pattern = re.compile(rf"^\s*(\[\s*{re.escape(key)}\s*\]|{re.escape(key)}\s*=)", re.M)
    found = pattern.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _normalise(key: str, value: Any) -> Any:
    if key in ("options", "map"):
        return {str(k): str(v) for k, v in value.items()}
    if key in ("max_deletes", "max_invalid"):
        return str(value)
    if key == "phone_preference":
        return tuple(str(v) for v in value)
    if key == "rate_limit":
        return float(value)
    return value


def parse_pairs(pairs: tuple[str, ...], flag: str) -> dict[str, str]:
    """``KEY=VALUE`` flags → a dict; a pair without ``=`` is a usage error."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} takes KEY=VALUE, not {pair!r}")
        result[key.strip()] = value.strip()
    return result


def build_settings(cli: Mapping[str, Any], config_path: str | None) -> Settings:
    """CLI values (None when not given) over the job file over the defaults."""
    base = load_job_file(config_path) if config_path else {}
    known = {f.name for f in fields(Settings)}
    merged: dict[str, Any] = {k: v for k, v in base.items() if k in known}
    for key, value in cli.items():
        if key not in known or value is None or value == () or value == {}:
            continue
        if key in ("options", "map"):
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = value
    settings = replace(Settings(), **merged)
    _check_settings(settings)
    return settings


def _check_settings(settings: Settings) -> None:
    if settings.chunk_size < 1:
        raise UsageError("--chunk-size must be at least 1")
    if settings.concurrency is not None and settings.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if settings.rate_limit is not None and settings.rate_limit < 0:
        raise UsageError("--rate-limit must be 0 (off) or a positive number of requests per minute")
    if not re.fullmatch(r"[A-Za-z]{2}", settings.default_region):
        raise UsageError(
            f"--default-region takes an ISO country code like US or GB, not {settings.default_region!r}"
        )


def invalid_limit(text: str | None, total: int) -> int | None:
    """``--max-invalid`` N or N% as a row count for ``total`` records."""
    if text is None:
        return None
    text = str(text).strip()
    try:
        if text.endswith("%"):
            return int(total * float(text[:-1]) / 100.0)
        return int(text)
    except ValueError as exc:
        raise UsageError(f"--max-invalid takes N or N%, not {text!r}") from exc
