"""The mapping applied to a raw table in polars expressions: the contact frame
(:func:`to_contact_frame`), with each row's phone chosen among the candidates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import polars as pl

from pipeline.errors import InputError
from pipeline.fields import CANONICAL_FIELDS, METADATA_PREFIX, PHONE, ROW
from pipeline.mapping.columns import ColumnMapping
from pipeline.mapping.headers import OTHER_PERSON, PHONE_RANKS, label_column, phone_rank
from pipeline.read import RawTable

PHONE_INPUT: Final = "phone_input"
PHONE_COLUMN: Final = "phone_column"
#: the first non-empty column of another person's phone (``ColumnMapping.others``), when
#: the mapping left any out
OTHERS_COLUMN: Final = "phone_of_another"


def to_contact_frame(table: RawTable, mapping: ColumnMapping) -> pl.DataFrame:
    """row, phone_input, phone_column, every other canonical field, metadata.KEY columns.

    Cells are stripped, blank ones null; the country cell is kept as read (the check makes
    it a code: :mod:`pipeline.normalize.country`).
    """
    col = _columns(table.frame)
    phone_input, phone_column = _phone_choice(table.frame.columns, mapping, col)
    exprs: list[pl.Expr] = [
        col(ROW).cast(pl.Int64),
        phone_input.cast(pl.String).alias(PHONE_INPUT),
        phone_column.cast(pl.String).alias(PHONE_COLUMN),
    ]
    for name in CANONICAL_FIELDS:
        if name == PHONE:
            continue
        column = mapping.fields.get(name)
        if name == "country" and column:  # as read (see the docstring)
            value = col(column).cast(pl.String)
        else:
            value = _clean(col(column)) if column else pl.lit(None, dtype=pl.String)
        exprs.append(value.alias(name))
    for meta, column in mapping.metadata.items():
        exprs.append(_clean(col(column)).alias(METADATA_PREFIX + meta))
    if mapping.others:  # for the message of a record whose only number is someone else's
        held = [pl.when(_present(col(c))).then(pl.lit(c)) for c in mapping.others]
        exprs.append(pl.coalesce(held).cast(pl.String).alias(OTHERS_COLUMN))
    return table.frame.select(exprs)


def _present(cell: pl.Expr) -> pl.Expr:
    return (cell.str.strip_chars().str.len_chars() > 0).fill_null(False)


def _phone_choice(
    columns: list[str], mapping: ColumnMapping, col: Callable[[str], pl.Expr]
) -> tuple[pl.Expr, pl.Expr]:
    """(the chosen cell, its column name): the non-empty candidate with the lowest key.

    The key is the candidate's place in ``phone_columns``; when the phone columns were
    guessed, a candidate's label column (Google's ``Phone 2 - Label`` = ``Mobile``)
    ranks it first by the label's kind, row by row.
    """
    candidates = mapping.phone_columns
    if not candidates:
        none = pl.lit(None, dtype=pl.String)
        return none, none
    slots = len(candidates)

    def present(name: str) -> pl.Expr:
        return _present(col(name))

    if slots == 1:  # nothing to rank (and the ranking costs some 25 ms a 336k-row piece)
        only = candidates[0]
        return pl.when(present(only)).then(col(only)), pl.when(present(only)).then(pl.lit(only))
    by_kind = PHONE in mapping.guessed  # else the order was given: keep it
    keys = []
    for position, name in enumerate(candidates):
        label = label_column(name, columns) if by_kind else None
        kind = phone_rank(name) if by_kind else 0
        rank = _label_rank(col(label), kind) if label else pl.lit(kind, dtype=pl.Int64)
        keys.append(pl.when(present(name)).then(rank * slots + position))
    best = pl.min_horizontal(keys)
    chosen = [pl.when(k == best).then(col(c)) for k, c in zip(keys, candidates, strict=True)]
    named = [pl.when(k == best).then(pl.lit(c)) for k, c in zip(keys, candidates, strict=True)]
    return pl.coalesce(chosen), pl.coalesce(named)


def _label_rank(label: pl.Expr, default: int) -> pl.Expr:
    """The phone kind a label names (see ``PHONE_RANKS``); ``default`` when none; null
    when it names another person (``Mum``, ``Assistant``): never the contact's number."""
    text = label.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()
    rank: pl.Expr = pl.lit(default, dtype=pl.Int64)
    for group_rank, group in reversed(PHONE_RANKS):  # the first group that matches wins
        names = text.str.contains(_words_pattern(group)).fill_null(False)
        rank = pl.when(names).then(pl.lit(group_rank, dtype=pl.Int64)).otherwise(rank)
    someone_else = text.str.contains(_words_pattern(OTHER_PERSON)).fill_null(False)
    return pl.when(someone_else).then(None).otherwise(rank)


def _words_pattern(group: frozenset[str]) -> str:
    return r"(?:^|[^a-z])(?:" + "|".join(sorted(group)) + r")(?:[^a-z]|$)"


def _columns(frame: pl.DataFrame) -> Callable[[str], pl.Expr]:
    """Column by exact name: ``pl.col`` would read ``*`` or ``^...$`` as a pattern."""
    positions = {name: i for i, name in enumerate(frame.columns)}

    def col(name: str) -> pl.Expr:
        if name not in positions:
            raise InputError(f"the mapping names a column the file lacks: {name!r}")
        return pl.nth(positions[name])

    return col


def _clean(cell: pl.Expr) -> pl.Expr:
    stripped = cell.cast(pl.String).str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped).otherwise(None)
