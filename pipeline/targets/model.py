"""The typed description of a target API, and its loader (``load``).

A description is a TOML file (arnis.toml, ...) whose tables are the dataclasses below:
each strategy is chosen by a closed set of words (``Literal``), everything else is
paths, field names, limits and words. ``load`` checks a file against this model: an
unknown key, a value of the wrong type or a missing one is a ``UsageError`` (exit 2)
naming the file, the line and the key. What each key means is told in the built-in
files themselves (``contact-sync targets --describe arnis``).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from pipeline.errors import UsageError
from pipeline.outcomes import Code
from pipeline.requirements import Requirements

Scalar = str | int | float | bool
Template = dict[str, Scalar]


@dataclass(frozen=True)
class About:
    lists: str
    opt_out: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Api:
    base_url: str = ""
    auth_header: str = ""
    auth_prefix: str = ""
    auth_query: str = ""
    error_paths: tuple[str, ...] = ()
    error_text_body: bool = False
    required_options: tuple[str, ...] = ()
    #: the options that name a part of the account (its lock and journal are their own)
    identity_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    concurrency: int
    rate_per_minute: float = 0.0
    bulk_rate_per_minute: float = 0.0


@dataclass(frozen=True)
class Fields:
    compared: tuple[str, ...]
    read: dict[str, str]
    write: dict[str, str] = field(default_factory=dict)
    read_as_null: dict[str, str] = field(default_factory=dict)
    opted_out_write: Template = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    paging: Literal["pages", "offset", "none"]
    path: str = ""
    records: str = ""
    page: str = ""
    size: str = ""
    total: str = ""
    pages: str = ""
    per_page: str = ""
    more: str = ""
    query: Template = field(default_factory=dict)
    refusal: str = ""


@dataclass(frozen=True)
class Lookup:
    by: Literal["listing", "search", "number"]
    path: str = ""
    query: Template = field(default_factory=dict)
    records: str = ""
    record: tuple[str, ...] = ("",)
    ids: tuple[str, ...] = ("id",)
    absent: tuple[int, ...] = (404,)
    choose: Literal["known_total", "first_page"] = "known_total"


@dataclass(frozen=True)
class Ambiguous:
    resolve: Literal["each", "together"]
    gave_up: str
    conflict: Literal["conflict", "lookup", "unknown_if_resent", "adopt"] = "conflict"
    lookup_error: Literal["row", "run"] = "row"
    check_failed: str = ""


@dataclass(frozen=True)
class Batch:
    path: str
    records: str
    counted: str = ""


@dataclass(frozen=True)
class Create:
    how: Literal["each", "batch_counts", "bulk_upsert"]
    fields: tuple[str, ...]
    ambiguous: Ambiguous
    path: str = ""
    body: Template = field(default_factory=dict)
    answer: tuple[str, ...] = ("",)
    ids: tuple[str, ...] = ("id",)
    lists_key: str = ""
    then_update: tuple[str, ...] = ()
    batch: Batch | None = None
    blind: bool = False


@dataclass(frozen=True)
class Update:
    how: Literal["each", "bulk_upsert", "none"]
    method: str = "PATCH"
    path: str = ""
    fields: tuple[str, ...] = ()
    cleared: Literal["omit", "null", "default"] = "omit"
    empty: Literal["send", "unchanged", "skip"] = "send"
    unsupported: str = "{name} cannot update contacts"


@dataclass(frozen=True)
class Delete:
    how: Literal["each", "bulk", "none"]
    path: str = ""
    ids_key: str = ""
    no_id: str = ""


@dataclass(frozen=True)
class OptOut:
    how: Literal["each", "none"]
    method: str = "POST"
    path: str = ""
    body: Template = field(default_factory=dict)
    readable: bool = True


@dataclass(frozen=True)
class Lists:
    how: Literal["none", "in_create", "each_after", "grouped_after"] = "none"
    path: str = ""
    body: Template = field(default_factory=dict)
    error_code: str = Code.LIST_FAILED
    failed: str = "not added to list {list}: {error}"


@dataclass(frozen=True)
class Description:
    name: str
    about: About
    api: Api
    limits: Limits
    fields: Fields
    listing: Listing
    lookup: Lookup
    create: Create
    update: Update
    delete: Delete
    opt_out: OptOut
    lists: Lists = field(default_factory=Lists)
    #: what the API refuses in a contact, checked before anything is sent
    requires: Requirements = field(default_factory=Requirements)
    quirks: str = ""
    options: dict[str, Scalar] = field(default_factory=dict)


def load(path: Path, quirks: tuple[str, ...]) -> Description:
    """The description in ``path``, checked (``quirks``: the hook sets that exist)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise UsageError(f"target description {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read target description {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        place = f"{path}:{at.group(1)}" if at else str(path)
        raise UsageError(f"{place}: not a valid TOML target description: {exc}") from exc
    checker = _Checker(path, text)
    description: Description = checker.build(Description, data, ())
    for where, problem in _problems(description, quirks):
        checker.fail(where, problem)
    return description


def _problems(d: Description, quirks: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    """What the types alone cannot say: strategies that need a path, names that exist."""
    found: list[tuple[tuple[str, ...], str]] = []
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", d.name):
        found.append((("name",), "must be letters, digits, '_' or '-' (it names files)"))
    needs = [
        (d.listing.paging != "none", ("listing", "path"), d.listing.path),
        (d.listing.paging != "none", ("listing", "records"), d.listing.records),
        (d.lookup.by != "listing", ("lookup", "path"), d.lookup.path),
        (d.create.how == "each" or d.create.blind, ("create", "path"), d.create.path),
        (d.update.how == "each", ("update", "path"), d.update.path),
        (d.delete.how != "none", ("delete", "path"), d.delete.path),
        (d.opt_out.how != "none", ("opt_out", "path"), d.opt_out.path),
        (d.lists.how in ("each_after", "grouped_after"), ("lists", "path"), d.lists.path),
    ]
    found += [
        (where, "is needed by the strategy chosen") for need, where, v in needs if need and not v
    ]
    if d.create.how != "each" and d.create.batch is None:
        found.append((("create", "batch"), f"is needed by how = {d.create.how!r}"))
    if d.listing.paging == "none" and d.lookup.by == "listing":
        found.append((("lookup", "by"), "cannot be 'listing' when the listing's paging is 'none'"))
    if d.create.ambiguous.resolve == "each" and d.lookup.by == "listing":
        found.append(
            (("create", "ambiguous", "resolve"), "'each' needs a lookup by search or number")
        )
    if d.create.ambiguous.conflict == "adopt" and not d.quirks:
        found.append(
            (("create", "ambiguous", "conflict"), "'adopt' needs hooks that adopt: quirks")
        )
    if d.quirks and d.quirks not in quirks:
        found.append((("quirks",), f"names no built-in hooks: choose one of {', '.join(quirks)}"))
    names = d.fields.read.keys() | d.fields.write.keys()
    for part, listed in (("create", d.create.fields), ("update", d.update.fields)):
        for name in listed:
            if name not in names:
                found.append(((part, "fields"), f"names {name!r}, which [fields] does not map"))
    for key in ("remote_id", "e164"):
        if key not in d.fields.read:
            found.append((("fields", "read"), f"must map {key!r}"))
    return found


class _Checker:
    """Builds the dataclasses from TOML data; every problem is ``FILE:LINE: 'key' ...``."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, where: tuple[str, ...], problem: str) -> None:
        raise UsageError(f"{self.path}:{self.line(where)}: '{'.'.join(where)}' {problem}")

    def build(self, cls: type[Any], data: Any, where: tuple[str, ...]) -> Any:
        if not isinstance(data, dict):
            self.fail(where, f"must be a table, not {_describe(data)}")
        hints = get_type_hints(cls)
        known = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if (*where, key) in _RETIRED:
                self.fail((*where, key), _RETIRED[(*where, key)])
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.fail((*where, key), f"is not a key of this table{hint}: {', '.join(known)}")
        values = {}
        for f in dataclasses.fields(cls):
            at = (*where, f.name)
            if f.name in data:
                values[f.name] = self.value(hints[f.name], data[f.name], at)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                self.fail(at, "is missing")
        return cls(**values)

    def value(self, kind: Any, value: Any, where: tuple[str, ...]) -> Any:
        origin, args = get_origin(kind), get_args(kind)
        if dataclasses.is_dataclass(kind):
            return self.build(kind, value, where)  # type: ignore[arg-type]
        if origin is Literal:
            if value not in args:
                self.fail(where, f"must be one of {', '.join(map(repr, args))}, not {value!r}")
            return value
        if origin in (Union, types.UnionType):
            options = [a for a in args if a is not type(None)]
            if all(a in (str, int, float, bool) for a in options):
                if not isinstance(value, tuple(options)):
                    self.fail(where, f"must be a string, number or boolean, not {_describe(value)}")
                return value
            return self.value(options[0], value, where)
        if origin is tuple:
            if not isinstance(value, list):
                self.fail(where, f"must be a list, not {_describe(value)}")
            return tuple(self.value(args[0], item, where) for item in value)
        if origin is dict:
            if not isinstance(value, dict):
                self.fail(where, f"must be a table, not {_describe(value)}")
            return {k: self.value(args[1], v, (*where, k)) for k, v in value.items()}
        return self.scalar(kind, value, where)

    def scalar(self, kind: Any, value: Any, where: tuple[str, ...]) -> Any:
        ok = {
            bool: isinstance(value, bool),
            int: isinstance(value, int) and not isinstance(value, bool),
            float: isinstance(value, int | float) and not isinstance(value, bool),
            str: isinstance(value, str),
        }[kind]
        if not ok:
            self.fail(where, f"must be {_KINDS[kind]}, not {_describe(value)}")
        return float(value) if kind is float else value

    def line(self, where: tuple[str, ...]) -> int:
        """The line that sets ``where`` (or its table, or the nearest enclosing key)."""
        for depth in range(len(where), 0, -1):
            number = self._find(where[: depth - 1], where[depth - 1])
            if number:
                return number
        return 1

    def _find(self, table: tuple[str, ...], key: str) -> int:
        current: tuple[str, ...] = ()
        setting = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number, line in enumerate(self.lines, start=1):
            header = re.match(r"^\s*\[\[?([^\]]*)\]", line)
            if header:
                current = tuple(p.strip().strip("\"'") for p in header.group(1).split("."))
                if current == (*table, key):
                    return number
            elif current == table and setting.match(line):
                return number
        return 0


#: keys earlier descriptions had, and why they are gone
_RETIRED = {
    ("create", "ambiguous", "rounds"): "is no longer a key: a write whose outcome is unknown "
    "is sent again as long as the run's retry budget allows (--retry-timeout); remove it",
}
_KINDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, dict | list):
        return "a table" if isinstance(value, dict) else "a list"
    return type(value).__name__
