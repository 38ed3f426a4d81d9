"""Phone cells that are not one number as typed, before and around ``normalize_phones``.

Excel's scientific notation
    A cell such as ``4.91523E+11`` or ``4,91523E+11`` (a decimal comma) is what Excel
    writes for a long number in a General-formatted column: six significant digits are
    left, the others are gone for good. Such a cell is never read as a number (it could
    even be a valid one by chance, shorter than the real one): its error is
    ``scientific_notation``, and its message says to export the column as text.

Google Contacts' multi-value cells
    Google Contacts writes the numbers of one label in one cell, separated by ``' ::: '``
    (``(312) 555-0103 ::: (312) 555-0104``). Each number of such a cell is normalized
    with the record's region; the first valid one, in the cell's order, is the record's
    phone (the numbers share their label, so the mapping's type preference cannot tell
    them apart), and a note in ``phone_note`` names the numbers left out. When none is
    valid, the record has the first number's error, and the message says how many the
    cell held.

:func:`cell_phones` returns ``normalize_phones``'s columns plus ``phone_note`` (null
when there is nothing to say).
"""

from __future__ import annotations

import polars as pl

from pipeline.normalize.phones import normalize_phones
from pipeline.outcomes import Code

#: error_code of a phone cell in Excel's scientific notation (its digits are lost)
SCIENTIFIC_NOTATION = Code.SCIENTIFIC_NOTATION
#: what Google Contacts puts between the values of one multi-value cell
MULTI_SEPARATOR = ":::"

_SCIENTIFIC = r"^\s*[+-]?\d+(?:[.,]\d+)?\s*[eE]\s*\+?\s*\d+\s*$"
_SCIENTIFIC_MESSAGE = (
    "'{}' is Excel's scientific notation: the number's last digits are lost. Export the "
    "phone column as text (in Excel: format the column as Text, or as Number with 0 "
    "decimals, then save as CSV again)"
)


def cell_phones(
    phones: pl.Series,
    regions: pl.Series | None = None,
    default_region: str = "US",
    *,
    calling: bool = False,
) -> pl.DataFrame:
    """``normalize_phones`` of each cell (see the module docstring), plus ``phone_note``."""
    text = phones.cast(pl.String).rechunk()
    # one pass tells the usual column (neither an exponent nor ':::' in it) at once
    if not text.str.contains(r"[eE]|:::").any():
        out = normalize_phones(text, regions, default_region, calling=calling)
        return out.with_columns(pl.lit(None, dtype=pl.String).alias("phone_note"))
    multi = text.str.contains(MULTI_SEPARATOR, literal=True).fill_null(False)
    if not multi.any():
        out = _normalized(text, regions, default_region, calling=calling)
        return out.with_columns(pl.lit(None, dtype=pl.String).alias("phone_note"))
    return _first_valid(text, multi, regions, default_region, calling=calling)


def _normalized(
    text: pl.Series, regions: pl.Series | None, default_region: str, *, calling: bool
) -> pl.DataFrame:
    """``normalize_phones``, a cell in scientific notation an error of its own."""
    out = normalize_phones(text, regions, default_region, calling=calling)
    scientific = text.str.contains(_SCIENTIFIC).fill_null(False)
    if not scientific.any():
        return out
    lost = pl.lit(scientific)
    said = pl.format(_SCIENTIFIC_MESSAGE, pl.lit(text).str.strip_chars())
    return out.with_columns(
        *(
            pl.when(lost).then(None).otherwise(pl.col(c)).alias(c)
            for c in out.columns
            if c not in ("phone_error", "phone_message")
        ),
        pl.when(lost)
        .then(pl.lit(SCIENTIFIC_NOTATION))
        .otherwise("phone_error")
        .alias("phone_error"),
        pl.when(lost).then(said).otherwise("phone_message").alias("phone_message"),
    )


def _first_valid(
    text: pl.Series,
    multi: pl.Series,
    regions: pl.Series | None,
    default_region: str,
    *,
    calling: bool,
) -> pl.DataFrame:
    """Every cell normalized, a multi-value cell by its first valid number.

    The column is normalized as it is, then the numbers of the (few) multi-value cells on
    their own, and each such cell's answer is gathered over the whole cell's.
    """
    height = len(text)
    out = _normalized(text, regions, default_region, calling=calling).with_columns(
        pl.lit(None, dtype=pl.String).alias("phone_note")
    )
    rows = multi.arg_true()
    cells = pl.DataFrame({"_i": rows, "text": text.gather(rows)})
    if regions is not None:
        cells = cells.with_columns(regions.cast(pl.String).gather(rows).alias("region"))
    parts = (
        cells.with_columns(
            pl.col("text")
            .str.split(MULTI_SEPARATOR)
            .list.eval(pl.element().str.strip_chars())
            .list.eval(pl.element().filter(pl.element() != ""))
        )
        .filter(pl.col("text").list.len() > 0)
        .with_columns(pl.col("text").list.len().alias("_n"))
        .explode("text")
    )
    if not parts.height:  # nothing but ':::' in them: the cells as they are
        return out
    answers = _normalized(
        parts["text"],
        parts["region"] if regions is not None else None,
        default_region,
        calling=calling,
    )
    scored = pl.concat([parts.select("_i", "text", "_n"), answers], how="horizontal")
    scored = scored.with_columns(pl.int_range(pl.len()).over("_i").alias("_pos"))
    chosen = (
        scored.sort(["_i", pl.col("e164").is_null(), "_pos"])
        .unique("_i", keep="first", maintain_order=True)
        .sort("_i")
    )
    others = (
        scored.join(chosen.select("_i", pl.col("_pos").alias("_kept")), on="_i")
        .filter(pl.col("_pos") != pl.col("_kept"))
        .group_by("_i", maintain_order=True)
        .agg(pl.format("'{}'", "text").str.join(", ").alias("_others"))
    )
    chosen = chosen.join(others, on="_i", how="left", maintain_order="left")
    several = pl.col("_n") > 1
    valid = pl.col("e164").is_not_null()
    note = pl.format(
        "the cell holds {} numbers (Google Contacts' ' ::: '): '{}' is used, not {}",
        "_n",
        "text",
        "_others",
    )
    none_valid = pl.format(
        "the cell holds {} numbers (Google Contacts' ' ::: '), none of them valid; the first: {}",
        "_n",
        "phone_message",
    )
    picked = chosen.select(
        *(pl.col(c) for c in answers.columns if c != "phone_message"),
        pl.when(several & ~valid)
        .then(none_valid)
        .otherwise(pl.col("phone_message"))
        .alias("phone_message"),
        pl.when(several & valid).then(note).alias("phone_note"),
    ).select(out.columns)
    at = pl.int_range(height, dtype=pl.UInt32, eager=True).scatter(
        chosen["_i"], pl.int_range(height, height + picked.height, dtype=pl.UInt32, eager=True)
    )
    return pl.concat([out, picked], how="vertical_relaxed")[at]
