"""What a caller needs of a valid number beyond E.164, in batch: its number type and its
time zones (phonenumbers' ``number_type`` and ``time_zones_for_number``).

The fast path (``phones_fast.kinds``, ``phones_fast.zones``) decides every valid number it
normalized itself; numbers phonenumbers normalized (the fast path deferred them) get their
type from phonenumbers too, once per distinct number.
"""

from __future__ import annotations

import phonenumbers
import polars as pl

from pipeline.normalize.phones_fast.kinds import NAMES, TYPE_NAMES, calling_codes, number_types
from pipeline.normalize.phones_fast.zones import SEPARATOR, UNKNOWN_ZONE, single_zone, time_zones

__all__ = ["SEPARATOR", "TYPE_NAMES", "UNKNOWN_ZONE", "calling_columns", "single_zone"]


def reference_type(e164: str) -> int:
    """phonenumbers' own number_type of a valid number."""
    return int(phonenumbers.number_type(phonenumbers.parse(e164)))


def calling_columns(e164: pl.Series, owner: pl.Series) -> pl.DataFrame:
    """Per row: ``number_type`` (lower-case PhoneNumberType name) and ``zones`` (the
    number's time zones joined by SEPARATOR); null where ``e164`` is null.

    ``owner`` is fast_e164's (null for rows it did not decide)."""
    kind = number_types(owner, e164)
    todo = e164.is_not_null() & kind.is_null()
    if todo.any():
        frame = pl.DataFrame([e164.alias("e"), kind.alias("k")]).with_row_index("_i")
        rows = frame.filter(todo)
        distinct = rows["e"].unique()
        answers = [reference_type(text) for text in distinct.to_list()]
        looked = rows["e"].replace_strict(
            distinct, pl.Series(answers, dtype=pl.UInt8), return_dtype=pl.UInt8
        )
        kind = kind.scatter(rows["_i"], looked)
    cc = calling_codes(e164, owner)
    zones = time_zones(e164, kind, cc)
    names = pl.DataFrame([kind.alias("k")]).select(NAMES(pl.col("k").cast(pl.Int64))).to_series()
    return pl.DataFrame([names.alias("number_type"), zones.alias("zones")])
