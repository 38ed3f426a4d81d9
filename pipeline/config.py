"""Command-line options and a TOML job file → one frozen ``Settings``.

A job file's top-level keys are the long option names with ``_`` for ``-`` plus
``input``; ``[options]`` holds ``--option KEY=VALUE`` pairs and ``[map]`` holds
``--map FIELD=COLUMN`` pairs. Flags given on the command line win over the file.
``{date}`` in a path becomes today's date (YYYY-MM-DD), for nightly report names.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pipeline.durations import DEFAULT_BUDGET, parse_duration
from pipeline.errors import UsageError
from pipeline.identity import normalize_base_url
from pipeline.job_values import VALUES, describe_value
from pipeline.read import BLOCK_BYTES
from pipeline.secrets import check_variable_name
from pipeline.sizes import parse_size


@dataclass(frozen=True)
class Settings:
    """Everything one run needs; built by ``build_settings``."""

    input: str | None = None
    #: a workbook's sheet: its name or its number, from 1 (None: the first)
    sheet: str | None = None
    #: a CSV file's encoding, forced (None: detected)
    encoding: str | None = None
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
    #: seconds the run may wait on its API for retries and throttling (``--retry-timeout``)
    retry_timeout: float = DEFAULT_BUDGET
    state_dir: str = ".contact-sync"
    report: str | None = None
    summary_json: str | None = None
    rejects: str | None = None
    html_report: str | None = None
    phone_preference: tuple[str, ...] = ()
    quiet: bool = False
    skip_remote_read: bool = False
    no_progress: bool = False
    #: sync: move the journal aside first (``Journal.reset``), e.g. when it is damaged
    reset_state: bool = False
    #: an empty timezone filled from the number (pipeline.normalize.screening)
    fill_timezone: bool = False
    #: number types refused: their records become invalid with ``number_type``
    reject_types: tuple[str, ...] = ()
    #: the job file the settings came from (``--config``), which no output may overwrite
    job_file: str | None = None
    #: a file bigger than this is read and checked in pieces of about this many bytes
    read_block_bytes: int = BLOCK_BYTES
    #: the input is refused past this size as read, decompressed (``sizes.parse_size``)
    max_input_size: str = "4G"
    #: the date ``{date}`` stands for: fixed when the settings are built, so a run that
    #: crosses midnight writes every file of the run under the same date
    run_date: str = field(
        default_factory=lambda: dt.date.today().isoformat(), compare=False, repr=False
    )

    def path(self, name: str) -> Path | None:
        """An output path option with ``{date}`` filled in, or None."""
        value = getattr(self, name)
        if not value:
            return None
        return Path(str(value).replace("{date}", self.run_date))


_TYPES: dict[str, type | tuple[type, ...]] = {
    "input": str,
    "sheet": (str, int),
    "encoding": str,
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
    "retry_timeout": (str, int, float),
    "state_dir": str,
    "report": str,
    "summary_json": str,
    "rejects": str,
    "html_report": str,
    "phone_preference": list,
    "quiet": bool,
    "no_progress": bool,
    "skip_remote_read": bool,
    "reset_state": bool,
    "fill_timezone": bool,
    "reject_types": list,
    "max_input_size": (str, int),
}


#: key names that would hold the API key itself: refused at the top of a job file, under
#: ``[options]`` and in ``--option`` (the key only ever comes from the environment)
_SECRET_NAMES = frozenset(
    {"api_key", "apikey", "key", "token", "api_token", "access_token", "secret", "password"}
)
_HEADER = re.compile(r"^[ \t]*\[\[?([^\]]*)\]")


def load_job_file(path: str | Path) -> dict[str, Any]:
    """The job file's settings, checked: unknown keys and wrong types are usage errors.

    Every message starts with ``FILE:LINE:`` and names the key; a key that would hold the
    API key itself is refused (it belongs in the environment variable ``api_key_env``).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise UsageError(f"job file {file} does not exist") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"job file {file} is a directory, not a TOML file") from exc
    except UnicodeDecodeError as exc:  # a workbook, or a job file saved as Windows-1252
        raise UsageError(
            f"job file {file} is not UTF-8 text: --config takes a TOML job file, in UTF-8"
        ) from exc
    except OSError as exc:
        raise UsageError(f"cannot read job file {file}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        where = f"{file}:{at.group(1)}" if at else str(file)
        raise UsageError(f"{where}: not a valid TOML job file: {exc}") from exc
    for key, value in data.items():
        _check_key(file, text, key, value)
    return {k: _normalise(k, v) for k, v in data.items()}


def _is_secret_name(name: str) -> bool:
    return name.strip().lower().replace("-", "_") in _SECRET_NAMES


def _secret_message(where: str, key: str) -> str:
    return (
        f"{where}: '{key}' — the API key never goes in a file: put it in an environment "
        "variable and name that variable with api_key_env (default CONTACT_SYNC_API_KEY)"
    )


def _check_key(file: Path, text: str, key: str, value: Any) -> None:
    where = f"{file}:{_line_of(text, key)}"
    if _is_secret_name(key):
        raise UsageError(_secret_message(where, key))
    expected = _TYPES.get(key)
    if expected is None:
        known = ", ".join(sorted(_TYPES))
        close = difflib.get_close_matches(key.replace("-", "_"), _TYPES, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UsageError(f"{where}: unknown key '{key}'{hint}. Known keys: {known}")
    # TOML booleans are Python ints: only a key that takes true/false accepts them
    if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
        raise UsageError(
            f"{where}: '{key}' must be {_type_name(expected)}, not {describe_value(value)}"
        )
    problem = VALUES.get(key, lambda _: None)(value)
    if problem:
        raise UsageError(f"{where}: '{key}' {problem}")
    if isinstance(value, dict):
        for inner, item in value.items():
            inner_where = f"{file}:{_line_of(text, inner, table=key)}"
            if key == "options" and _is_secret_name(inner):
                raise UsageError(_secret_message(inner_where, f"[options] {inner}"))
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise UsageError(
                    f"{inner_where}: '{inner}' under [{key}] must be a string, "
                    f"not {describe_value(item)}"
                )
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                raise UsageError(
                    f"{where}: '{key}' must be a list of strings (column names), "
                    f"not a list holding {describe_value(item)}"
                )


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", dict: "a table"}
    names |= {list: "a list", bool: "true or false"}
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _bare(name: str) -> str:
    return name.strip().strip("\"'").strip()


def _line_of(text: str, key: str, table: str | None = None) -> int:
    """The 1-based line where ``key`` is set (in ``[table]`` when given); 1 if not found."""
    name = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
    setting = re.compile(rf"^[ \t]*{name}[ \t]*[=.]")
    own_header = re.compile(rf"^[ \t]*\[\[?[ \t]*{name}[ \t]*[\].]")
    dotted = re.compile(rf"^[ \t]*{re.escape(table)}[ \t]*\.[ \t]*{name}[ \t]*=") if table else None
    current: str | None = None  # the table the line belongs to; None: the top level
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            if table is None and own_header.match(line):
                return number
            current = ".".join(_bare(part) for part in header.group(1).split("."))
            continue
        if table is None and current is None and setting.match(line):
            return number
        if table is not None and current == table and setting.match(line):
            return number
        if dotted is not None and current is None and dotted.match(line):
            return number
    return _line_of(text, table) if table is not None else 1


def _normalise(key: str, value: Any) -> Any:
    if key in ("options", "map"):
        return {str(k): str(v) for k, v in value.items()}
    if key in ("max_deletes", "max_invalid", "sheet", "max_input_size"):
        return str(value)
    if key in ("phone_preference", "reject_types"):
        return tuple(str(v) for v in value)
    if key == "rate_limit":
        return float(value)
    if key == "retry_timeout":
        return parse_duration(value)
    return value


def parse_pairs(pairs: tuple[str, ...], flag: str) -> dict[str, str]:
    """``KEY=VALUE`` flags → a dict; a pair without ``=`` is a usage error."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} takes KEY=VALUE, not {pair!r}")
        if flag == "--option" and _is_secret_name(key):
            raise UsageError(
                f"--option {key.strip()}: the API key is never given as a flag value; put "
                "it in the environment variable named by --api-key-env (default "
                "CONTACT_SYNC_API_KEY)"
            )
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
        elif key == "retry_timeout":
            merged[key] = parse_duration(value)
        else:
            merged[key] = value
    settings = replace(Settings(), **merged, job_file=config_path)
    _check_settings(settings)
    return settings


def _check_settings(settings: Settings) -> None:
    from pipeline.normalize.screening import parse_types

    parse_types(settings.reject_types)
    if settings.encoding is not None:
        from pipeline.read.encoding import checked_encoding

        checked_encoding(settings.encoding)
    check_variable_name(settings.api_key_env)
    if settings.chunk_size < 1:
        raise UsageError("--chunk-size must be at least 1")
    parse_size(settings.max_input_size)
    if settings.concurrency is not None and settings.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if settings.rate_limit is not None and settings.rate_limit < 0:
        raise UsageError("--rate-limit must be 0 (off) or a positive number of requests per minute")
    if not re.fullmatch(r"[A-Za-z]{2}", settings.default_region):
        raise UsageError(
            f"--default-region takes an ISO country code like US or GB, not {settings.default_region!r}"
        )
    _check_region(settings.default_region)
    if settings.base_url is not None:
        normalize_base_url(settings.base_url)  # a usage error unless http(s)://HOST...


def _check_region(region: str) -> None:
    """A two-letter code phonenumbers has no numbering plan for (``XX``) is refused."""
    import phonenumbers

    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(
            f"--default-region {region!r} is not a country code with a numbering plan: give "
            "an ISO 3166 code like US, GB, DE or IN"
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
