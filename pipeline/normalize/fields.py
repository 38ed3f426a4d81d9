"""The contact fields other than the phone, normalized: text cleaned before the checks
(:func:`clean_fields`), typed for the targets after them (:func:`typed_fields`): ``tags``
and ``lists`` as lists, ``opted_out`` as a boolean, ``name`` derived from first/last when
absent (first/last split from ``name`` likewise), ``metadata`` as JSON text.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from pipeline.fields import METADATA_PREFIX

_TRUE_WORDS = ("true", "yes", "y", "1", "x", "opted out")
#: Google Contacts' system groups (its export writes them as ``* myContacts``): not tags
_GOOGLE_SYSTEM_GROUPS = ("mycontacts", "starred", "friends", "family", "coworkers")


def clean_fields(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("opted_out").str.to_lowercase().str.strip_chars().alias("opted_out"),
        pl.col("email").str.strip_chars(),
    )


def typed_fields(frame: pl.DataFrame, wanted: Collection[str] | None = None) -> pl.DataFrame:
    """Typed canonical fields for the targets: lists, booleans, names, metadata (those
    ``wanted``, when given)."""
    metadata_columns = [c for c in frame.columns if c.startswith(METADATA_PREFIX)]
    fields = {
        "tags": _split_list("tags"),
        "lists": _split_list("lists"),
        "opted_out": pl.col("opted_out").is_in(list(_TRUE_WORDS)).fill_null(False),
        "name": _full_name(),
        "first_name": _first_name(),
        "last_name": _last_name(),
        "metadata": _metadata_json(metadata_columns),
    }
    if wanted is not None:
        fields = {name: value for name, value in fields.items() if name in wanted}
    return frame.with_columns(**fields).drop(metadata_columns)


def _split_list(column: str) -> pl.Expr:
    """A list cell split on ``,`` ``;`` and Google Contacts' `` ::: ``; Google's ``* ``
    marker stripped and its system groups (``* myContacts``, ``* starred``) dropped."""
    items = pl.col(column).str.replace_all(" ::: ", ";", literal=True)
    items = items.str.replace_all(",", ";").str.split(";")
    item = pl.element().str.strip_chars()
    system = item.str.starts_with("* ") & item.str.slice(2).str.to_lowercase().is_in(
        list(_GOOGLE_SYSTEM_GROUPS)
    )
    kept = pl.when(system).then(pl.lit("")).otherwise(item.str.strip_prefix("* "))
    cleaned = items.list.eval(kept).list.eval(pl.element().filter(pl.element() != ""))
    return (
        pl.when(pl.col(column).is_null())
        .then(pl.lit(None, pl.List(pl.String)))
        .otherwise(cleaned)
        .alias(column)
    )


def _full_name() -> pl.Expr:
    joined = pl.concat_str(
        [pl.col("first_name"), pl.col("last_name")], separator=" ", ignore_nulls=True
    )
    derived = pl.when(joined.str.strip_chars() == "").then(None).otherwise(joined)
    return pl.coalesce(pl.col("name"), derived).alias("name")


def _first_name() -> pl.Expr:
    split = pl.col("name").str.strip_chars().str.splitn(" ", 2).struct.field("field_0")
    return pl.coalesce(pl.col("first_name"), split).alias("first_name")


def _last_name() -> pl.Expr:
    split = pl.col("name").str.strip_chars().str.splitn(" ", 2).struct.field("field_1")
    only_when_no_first = pl.when(pl.col("first_name").is_null()).then(split)
    return pl.coalesce(pl.col("last_name"), only_when_no_first).alias("last_name")


def _metadata_json(columns: list[str]) -> pl.Expr:
    if not columns:
        return pl.lit(None, pl.String).alias("metadata")
    fields = [pl.col(c).alias(c[len(METADATA_PREFIX) :]) for c in columns]
    struct = pl.struct(fields)
    any_value = pl.any_horizontal([pl.col(c).is_not_null() for c in columns])
    return pl.when(any_value).then(struct.struct.json_encode()).alias("metadata")
