"""Dedupe: the first valid record of a number wins, across the pieces of a file.

A checked record (:func:`pipeline.validate.check_records`) is ``valid`` or ``invalid``;
here a valid record whose E.164 number an earlier valid record holds becomes a
``duplicate`` (``duplicate_in_file``, the message naming the row kept). Numbers are
compared as integers (:func:`number_key`: the digits of the E.164 number, 8 bytes each).

A big file is checked in pieces, in threads, in any order; dedupe comes in two parts so
that only the cheap one waits for the pieces' order:

- :func:`first_valid_rows`, each piece alone: the first valid row of each number within
  the piece (``e164_key``, ``first_row``);
- :func:`settle_duplicates`, piece after piece: the duplicates marked against the numbers
  kept by the earlier pieces as well (:class:`Deduper` carries them from one to the next).

:func:`check_contacts` is the whole check of one contact frame, validate then dedupe.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from pipeline.outcomes import Code
from pipeline.validate import check_records


def check_contacts(
    contacts: pl.DataFrame,
    *,
    default_region: str = "US",
    read_errors: pl.DataFrame | None = None,
    kept_before: pl.DataFrame | None = None,
    phones: pl.DataFrame | None = None,
    wanted: Collection[str] | None = None,
) -> pl.DataFrame:
    """The checked frame for a contact frame (see :mod:`pipeline.validate`):
    :func:`~pipeline.validate.check_records`, then :func:`mark_duplicates`.

    ``kept_before`` (see :func:`kept_numbers`) holds the numbers kept from earlier pieces
    of the same file: a valid row with one of them is a duplicate of that earlier row.
    """
    checked = check_records(
        contacts,
        default_region=default_region,
        read_errors=read_errors,
        phones=phones,
        wanted=wanted,
    )
    return mark_duplicates(first_valid_rows(checked), kept_before)


class Deduper:
    """The duplicates of a file checked piece by piece, the pieces settled in order.

    Carries the numbers kept so far from piece to piece; with ``all_numbers`` it gathers
    every number in the file too (:meth:`numbers`: what mirror mode keeps remotely).
    """

    def __init__(self, *, all_numbers: bool = False) -> None:
        self._kept = pl.DataFrame(schema={"e164_key": pl.Int64, "first_row": pl.Int64})
        self._all_numbers = all_numbers
        #: the numbers of records not kept (invalid for another reason)
        self._others: list[pl.Series] = []

    def settle(self, records: pl.DataFrame) -> pl.DataFrame:
        """The next piece's records (:func:`first_valid_rows` of its checked records) with
        their duplicates marked, of this piece's rows and of the earlier pieces'."""
        checked, kept_here = settle_duplicates(records, self._kept)
        self._kept = pl.concat([self._kept, kept_here])
        if self._all_numbers:
            not_kept = ~pl.col("status").is_in(["valid", "duplicate"])
            self._others.append(checked.filter(not_kept).select(number_key()).to_series())
        return checked

    def numbers(self) -> pl.Series:
        """Every number of the pieces settled so far, as ``number_key`` (``all_numbers``)."""
        return pl.concat([self._kept["e164_key"], *self._others]).drop_nulls()


def kept_numbers(checked: pl.DataFrame) -> pl.DataFrame:
    """The numbers a checked piece keeps, as ``e164_key`` (Int64: E.164 digits fit in 15)
    and ``first_row``: what the later pieces of the file are deduplicated against."""
    return checked.filter(pl.col("status") == "valid").select(
        _e164_key(), pl.col("row").alias("first_row")
    )


def number_key(column: str = "e164") -> pl.Expr:
    """An E.164 number as an integer (its digits: at most 15), null for anything else:
    what the numbers of a big file are kept as, at 8 bytes each."""
    is_e164 = pl.col(column).str.contains(r"^\+[1-9][0-9]{0,17}$")
    return pl.when(is_e164).then(_digits(column)).alias("number_key")


def _e164_key() -> pl.Expr:
    """``number_key`` of a checked record's ``e164``, which is E.164 or null already."""
    return _digits("e164").alias("e164_key")


def _digits(column: str) -> pl.Expr:
    return pl.col(column).str.slice(1).cast(pl.Int64, strict=False)


def mark_duplicates(frame: pl.DataFrame, kept_before: pl.DataFrame | None = None) -> pl.DataFrame:
    """Among valid rows, the first of each E.164 wins; later ones are duplicates of it
    (of the earlier piece's row, with ``kept_before``).

    ``frame`` is :func:`first_valid_rows` of checked records: its ``first_row`` column
    names the first valid row of each number within the piece already (the order-free
    part)."""
    return settle_duplicates(frame, kept_before)[0]


def settle_duplicates(
    frame: pl.DataFrame, kept_before: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`mark_duplicates`, and the numbers the piece keeps (what :func:`kept_numbers`
    gives of its result), found from the integer keys rather than the texts: pieces are
    settled one after another while the next ones wait (some 15 ms a piece of 336k rows)."""
    joined = frame
    if kept_before is not None and kept_before.height:
        earlier = kept_before.rename({"first_row": "_earlier"})
        joined = (
            joined.join(earlier, on="e164_key", how="left", maintain_order="left")
            .with_columns(pl.coalesce("_earlier", "first_row").alias("first_row"))
            .drop("_earlier")
        )
    # first_row is null on the rows that are not valid: they compare null, never true
    kept = joined.filter(pl.col("row") == pl.col("first_row")).select(
        "e164_key", pl.col("row").alias("first_row")
    )
    is_dup = (pl.col("status") == "valid") & (pl.col("row") != pl.col("first_row"))
    marked = joined.with_columns(
        pl.when(is_dup).then(pl.lit("duplicate")).otherwise(pl.col("status")).alias("status"),
        pl.when(is_dup)
        .then(pl.lit(Code.DUPLICATE_IN_FILE, pl.String))
        .otherwise(pl.col("error_code"))
        .alias("error_code"),
        pl.when(is_dup)
        .then(
            pl.format(
                "same number {} as row {}, which is kept", pl.col("e164"), pl.col("first_row")
            )
        )
        .otherwise(pl.col("error_message"))
        .alias("error_message"),
    ).drop("first_row", "e164_key")
    return marked, kept


def first_valid_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """``e164_key`` and ``first_row``: the first valid row of the piece with the same
    number, for :func:`mark_duplicates`."""
    valid = pl.col("status") == "valid"
    key = pl.when(valid).then(_e164_key())
    # The rows that are not valid share the null key: their minimum is dropped after.
    first = pl.col("row").min().over("e164_key")
    return frame.with_columns(key).with_columns(
        pl.when(pl.col("e164_key").is_not_null()).then(first).alias("first_row")
    )
