"""Phone cells that are not one number as typed, before and around ``normalize_phones``.

Excel's scientific notation
    A cell such as ``4.91523E+11`` or ``4,91523E+11`` (a decimal comma) is what Excel
    writes for a long number in a General-formatted column: six significant digits are
    left, the others are gone for good. Such a cell is never read as a number (it could
    even be a valid one by chance, shorter than the real one): its error is
    ``scientific_notation``, and its message says to export the column as text.

:func:`cell_phones` returns ``normalize_phones``'s columns.
"""

from __future__ import annotations

import polars as pl

from pipeline.normalize.phones import normalize_phones

#: error_code of a phone cell in Excel's scientific notation (its digits are lost)
SCIENTIFIC_NOTATION = "scientific_notation"

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
    """``normalize_phones`` of each cell (see the module docstring)."""
    text = phones.cast(pl.String).rechunk()
    # one pass tells the usual column (no exponent in it) at once
    if not text.str.contains(r"[eE]").any():
        return normalize_phones(text, regions, default_region, calling=calling)
    return _normalized(text, regions, default_region, calling=calling)


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
