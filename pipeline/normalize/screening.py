"""Calling-ready records: the number type and time zone of each valid number, the zone
filled from the number when the file has none (``--fill-timezone``), and the types a run
refuses (``--reject-types``).

The batch work is :mod:`pipeline.normalize.calling`'s; this module turns its columns into
the records' ``number_type``, ``timezone`` and ``timezone_source`` and into problems.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from pipeline.errors import UsageError
from pipeline.normalize.calling import TYPE_NAMES, single_zone
from pipeline.outcomes import Code

#: error_code of a record refused for its number type
NUMBER_TYPE = Code.NUMBER_TYPE
#: every name --reject-types takes
TYPE_CHOICES = tuple(sorted(TYPE_NAMES.values()))
FROM_FILE, FROM_PHONE = "file", "phone"


@dataclass(frozen=True)
class CallingOptions:
    """What a run asks of the numbers beyond E.164."""

    fill_timezone: bool = False
    reject_types: frozenset[str] = frozenset()
    #: number types wanted anyway (a report, a summary or an HTML report shows them)
    types: bool = False

    @property
    def active(self) -> bool:
        return self.fill_timezone or bool(self.reject_types) or self.types


def parse_types(values: str | Iterable[str] | None) -> frozenset[str]:
    """``premium_rate,toll_free`` (or a list of names) → the names; an unknown name is a
    usage error naming the valid ones."""
    if values is None:
        return frozenset()
    items = values.split(",") if isinstance(values, str) else list(values)
    if not all(isinstance(item, str) for item in items):
        raise UsageError(
            f"reject_types must be a list of type names, one of: {', '.join(TYPE_CHOICES)}"
        )
    names = {item.strip().lower() for item in items if item.strip()}
    unknown = sorted(names - set(TYPE_CHOICES))
    if unknown:
        raise UsageError(
            f"--reject-types: unknown number type {', '.join(repr(u) for u in unknown)}; "
            f"the types are: {', '.join(TYPE_CHOICES)}"
        )
    return frozenset(names)


def type_problems(rows: pl.Series, phones: pl.DataFrame, options: CallingOptions) -> pl.DataFrame:
    """A ``number_type`` problem for each record whose number's type is refused."""
    kind = phones["number_type"] if "number_type" in phones.columns else None
    frame = pl.DataFrame({"row": rows.cast(pl.Int64)})
    if kind is None or not options.reject_types:
        return frame.clear().with_columns(
            field=pl.lit(None, pl.String),
            error_code=pl.lit(None, pl.String),
            error_message=pl.lit(None, pl.String),
        )
    frame = frame.with_columns(kind.alias("_t"))
    return frame.filter(pl.col("_t").is_in(sorted(options.reject_types))).select(
        "row",
        field=pl.lit(NUMBER_TYPE),
        error_code=pl.lit(NUMBER_TYPE),
        error_message=pl.format("number_type: {} number (refused by --reject-types)", "_t"),
    )


def with_calling_fields(
    frame: pl.DataFrame, phones: pl.DataFrame, options: CallingOptions
) -> pl.DataFrame:
    """``number_type``, ``timezone`` (the file's, else with fill_timezone the number's one
    zone) and ``timezone_source`` (file, phone or null)."""
    has_types = "number_type" in phones.columns
    kind = (
        phones["number_type"]
        if has_types
        else pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    )
    given = pl.col("timezone").is_not_null()
    columns: dict[str, pl.Expr | pl.Series] = {"number_type": kind.alias("number_type")}
    if options.fill_timezone and has_types:
        zone = single_zone(phones["zones"])
        frame = frame.with_columns(zone.alias("_zone"))
        columns["timezone"] = pl.coalesce("timezone", "_zone")
        columns["timezone_source"] = (
            pl.when(given)
            .then(pl.lit(FROM_FILE))
            .when(pl.col("_zone").is_not_null())
            .then(pl.lit(FROM_PHONE))
        )
    else:
        columns["timezone_source"] = pl.when(given).then(pl.lit(FROM_FILE))
    out = frame.with_columns(**columns)
    return out.drop("_zone") if "_zone" in out.columns else out


#: the report's columns this module fills, in their order (after error_message)
CALLING_COLUMNS = ("number_type", "timezone", "timezone_source")


def calling_options(settings: Any) -> CallingOptions:
    """The run's CallingOptions: types are worked out when asked for or shown (a report,
    a summary JSON, an HTML report)."""
    shown = bool(settings.report or settings.summary_json or settings.html_report)
    return CallingOptions(
        fill_timezone=bool(settings.fill_timezone),
        reject_types=parse_types(settings.reject_types),
        types=shown,
    )
