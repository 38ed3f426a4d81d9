"""Which column feeds which field: overrides first, then metadata columns, the phone
candidates in preference order, and the best tier for every other field
(:func:`map_columns`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.errors import InputError
from pipeline.fields import CANONICAL_FIELDS, METADATA_PREFIX, PHONE, ROW
from pipeline.mapping.headers import (
    RANK_NAMES,
    key,
    label_column,
    match_tier,
    metadata_key,
    other_person,
    phone_like,
    phone_rank,
)


@dataclass(frozen=True)
class ColumnMapping:
    """Which frame column feeds which contact field (see the module docstring)."""

    fields: dict[str, str]
    phone_columns: list[str]
    metadata: dict[str, str] = field(default_factory=dict)
    guessed: dict[str, str] = field(default_factory=dict)
    #: phone columns left out because they name another person: column -> the word
    others: dict[str, str] = field(default_factory=dict)
    #: why the phone column is the one it is, in words (empty when --map gave it)
    phone_reason: str = ""
    #: how the ``phone_columns`` are ordered, in words (empty: fewer than two)
    phone_order: str = ""


def map_columns(
    columns: list[str],
    overrides: Mapping[str, str] | None = None,
    phone_preference: Sequence[str] | None = None,
) -> ColumnMapping:
    """Decide the column of every field; raises InputError when there is no phone column.

    ``columns`` are the raw frame's column names (a ``row`` column is ignored).
    """
    columns = [c for c in columns if c != ROW]
    chosen = _resolve_overrides(columns, overrides or {})
    claimed = {c for c in chosen.values() if c}
    free = [c for c in columns if c not in claimed]

    metadata = {k[len(METADATA_PREFIX) :]: c for k, c in chosen.items() if _is_metadata(k) and c}
    for column in free:
        meta = metadata_key(column)
        if meta is not None:
            metadata.setdefault(meta, column)
    used = claimed | set(metadata.values())
    free = [c for c in free if c not in used]

    phone_columns, phone_guessed = _phone_columns(columns, free, chosen, phone_preference)
    free = [c for c in free if c not in phone_columns]
    others = {} if PHONE in chosen else _other_persons(free)

    fields: dict[str, str] = {}
    guessed: dict[str, str] = {}
    if phone_columns:
        fields[PHONE] = phone_columns[0]
        if phone_guessed:
            guessed[PHONE] = phone_columns[0]
    for name in CANONICAL_FIELDS:
        if name == PHONE:
            continue
        if name in chosen:
            if chosen[name]:
                fields[name] = chosen[name]
            continue
        best = _best_column(name, free)
        if best is not None:
            column, tier = best
            fields[name] = column
            free.remove(column)
            if tier > 1:
                guessed[name] = column
    if not phone_columns:
        raise InputError(_no_phone_message(columns, others))
    reason = "" if PHONE in chosen else _phone_reason(phone_columns, columns, phone_preference)
    return ColumnMapping(
        fields=fields,
        phone_columns=phone_columns,
        metadata=metadata,
        guessed=guessed,
        others=others,
        phone_reason=reason,
        phone_order=_phone_order(phone_columns, columns, phone_preference, phone_guessed),
    )


def _other_persons(free: list[str]) -> dict[str, str]:
    """The phone-like columns that name another person (see ``headers.OTHER_PERSON``)."""
    found = {c: other_person(c) for c in free if phone_like(c)}
    return {c: word for c, word in found.items() if word}


def _phone_reason(
    phone_columns: list[str], columns: list[str], preference: Sequence[str] | None
) -> str:
    """Why ``phone_columns[0]`` feeds the phone, in words for the mapping line."""
    if preference:
        return "the first --phone-preference"
    if len(phone_columns) == 1:
        return "the contact's only phone column"
    if any(label_column(c, columns) for c in phone_columns):
        return (
            "each row takes the number its '- Label' cells name first: mobile, then "
            "generic, work, home, other"
        )
    kind = RANK_NAMES[phone_rank(phone_columns[0])]
    return f"a {kind} column: mobile columns come first, then generic, work, home, other"


def _phone_order(
    phone_columns: list[str], columns: list[str], preference: Sequence[str] | None, guessed: bool
) -> str:
    """How the candidates are ranked, as ``contact_frame`` ranks them: the order given,
    then the number's type by the header; row by row by its label when guessed."""
    if len(phone_columns) < 2:
        return ""
    types = ", ".join(RANK_NAMES.values())
    if preference:
        return f"--phone-preference first, then by type ({types})"
    if guessed and any(label_column(c, columns) for c in phone_columns):
        return f"by each row's '- Label' ({types}), then in this order"
    return f"by type ({types})"


def _is_metadata(name: str) -> bool:
    return name.startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX)


def _best_column(fieldname: str, candidates: Iterable[str]) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for column in candidates:
        tier = match_tier(fieldname, column)
        if tier is not None and (best is None or tier < best[1]):
            best = (column, tier)
    return best


def _phone_columns(
    columns: list[str],
    free: list[str],
    chosen: Mapping[str, str],
    preference: Sequence[str] | None,
) -> tuple[list[str], bool]:
    """(candidates in preference order, whether they were guessed)."""
    if PHONE in chosen:
        return ([chosen[PHONE]] if chosen[PHONE] else []), False
    auto = [c for c in free if phone_like(c) and not other_person(c)]
    auto.sort(key=phone_rank)  # stable: file order within a rank
    preferred = [_find_column(columns, c, f"--phone-preference {c}") for c in preference or ()]
    ordered = list(dict.fromkeys(preferred + auto))
    exact = bool(ordered) and key(ordered[0]) == PHONE
    return ordered, not (exact or bool(preferred))


def _resolve_overrides(columns: list[str], overrides: Mapping[str, str]) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for name, column in overrides.items():
        fieldname = name.strip()
        if fieldname not in CANONICAL_FIELDS and not _is_metadata(fieldname):
            raise InputError(
                f"--map {name}=...: unknown field {name!r}; the fields are: "
                + ", ".join(CANONICAL_FIELDS)
                + f", or {METADATA_PREFIX}KEY for a metadata entry"
            )
        resolved[fieldname] = (
            _find_column(columns, column, f"--map {fieldname}={column}") if column else ""
        )
    return resolved


def _find_column(columns: list[str], wanted: str, option: str) -> str:
    if wanted in columns:
        return wanted
    folded = [c for c in columns if c.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    folded = [c for c in columns if c.strip().casefold() == wanted.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    quoted = [c for c in columns if c == "'" + wanted and wanted.startswith(tuple("=+-@"))]
    if len(quoted) == 1:  # the header as a rejects file writes it (a formula neutralised)
        return quoted[0]
    raise InputError(
        f"{option}: the file has no column {wanted!r}; its columns are: " + _quoted(columns)
    )


def _quoted(columns: Iterable[str]) -> str:
    return ", ".join(repr(c) for c in columns) or "(none)"


def _no_phone_message(columns: list[str], others: dict[str, str]) -> str:
    named = ""
    if others:
        named = (
            f"; {_quoted(others)} name another person ("
            + ", ".join(dict.fromkeys(others.values()))
            + ") and are never taken for the contact's phone by guess"
        )
    return (
        f"no phone column found among: {_quoted(columns)}{named}. "
        "Name the column with --map phone=COLUMN"
    )
