"""Time zones over the column: phonenumbers' ``time_zones_for_number`` of valid numbers of
known type, from its own prefix table (``phonenumbers.tzdata``).

A geographical number (fixed line, either, or mobile where mobile numbers are
geographical) takes the zones of the longest prefix of its E.164 digits in the table; any
other number the zones of its calling code. The longest-prefix search is one sorted
search over the table's prefixes laid out as disjoint ranges of 9-digit integers.
"""

from __future__ import annotations

import functools

import polars as pl
from phonenumbers import PhoneNumberType, phonenumberutil
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from pipeline.normalize.phones_fast.compiled import Table

UNKNOWN_ZONE = "Etc/Unknown"
SEPARATOR = "&"  # between the zones of one number (zone names never hold it)
_WIDTH = TIMEZONE_LONGEST_PREFIX
_GEOGRAPHICAL = (int(PhoneNumberType.FIXED_LINE), int(PhoneNumberType.FIXED_LINE_OR_MOBILE))
_MOBILE = int(PhoneNumberType.MOBILE)
_UNKNOWN_TYPE = int(PhoneNumberType.UNKNOWN)


def _joined(zones: tuple[str, ...]) -> str:
    return SEPARATOR.join(zones)


#: the zones of a number, joined: an Enum, so that a column of them moves as integers
ZONES = pl.Enum(sorted({UNKNOWN_ZONE, *(_joined(z) for z in TIMEZONE_DATA.values())}))


def longest_prefix(digits: str) -> tuple[str, int]:
    """time_zones_for_geographical_number's loop: the zones of the longest prefix of
    ``digits`` in the table (joined), and that prefix's length (0: none)."""
    for length in range(_WIDTH, 0, -1):
        zones = TIMEZONE_DATA.get(digits[:length])
        if zones is not None and length <= len(digits):
            return _joined(zones), length
    return UNKNOWN_ZONE, 0


@functools.cache
def _ranges() -> tuple[pl.Series, pl.Series, pl.Series]:
    """Disjoint ranges of 9-digit integers, by their starts: each range's zones and prefix
    length (a prefix of length L covers its digits followed by any 9 - L digits)."""
    bounds = {0}
    for prefix in TIMEZONE_DATA:
        scale = 10 ** (_WIDTH - len(prefix))
        bounds.update((int(prefix) * scale, (int(prefix) + 1) * scale))
    starts = sorted(bounds)
    found = [longest_prefix(f"{start:0{_WIDTH}d}"[:_WIDTH]) for start in starts]
    return (
        pl.Series(starts, dtype=pl.Int64),
        pl.Series([zones for zones, _ in found], dtype=ZONES),
        pl.Series([length for _, length in found], dtype=pl.Int64),
    )


@functools.cache
def _country_zones() -> Table:
    """_country_level_time_zones_for_number by calling code."""
    found = {}
    for cc in phonenumberutil.COUNTRY_CODE_TO_REGION_CODE:
        text = str(cc)
        found[cc] = UNKNOWN_ZONE
        for length in range(_WIDTH, 0, -1):
            zones = TIMEZONE_DATA.get(text[: length + 1])
            if zones is not None:
                found[cc] = _joined(zones)
                break
    return Table.of(found, ZONES, 1000)


def time_zones(e164: pl.Series, kind: pl.Series, cc: pl.Series) -> pl.Series:
    """Per valid number (E.164, PhoneNumberType value, calling code as Int64): its zones
    joined by SEPARATOR (as ZONES), as time_zones_for_number gives them; null where
    ``kind`` is."""
    starts, zones, lengths = _ranges()
    frame = pl.DataFrame([e164.alias("e"), kind.alias("k"), cc.alias("cc")])
    digits = pl.col("e").str.slice(1)
    padded = digits.str.slice(0, _WIDTH).str.pad_end(_WIDTH, "0").cast(pl.Int64, strict=False)
    at = (pl.lit(starts).search_sorted(padded, side="right").cast(pl.Int64) - 1).clip(0)
    geographical = pl.col("k").is_in(_GEOGRAPHICAL) | (
        (pl.col("k") == _MOBILE) & pl.col("cc").is_in(sorted(phonenumberutil._GEO_MOBILE_COUNTRIES))
    )
    frame = frame.with_columns(
        _z=pl.lit(zones).gather(at),
        _short=pl.lit(lengths).gather(at) > digits.str.len_bytes().cast(pl.Int64),
        _geo=geographical,
        _cz=_country_zones()(pl.col("cc")),
    )
    frame = frame.with_row_index("_i")
    short = frame.filter(pl.col("_geo") & pl.col("_short") & pl.col("e").is_not_null())
    if short.height:  # numbers shorter than the prefix found: the loop, row by row
        redone = [longest_prefix(e[1:])[0] for e in short["e"].to_list()]
        frame = frame.with_columns(
            frame["_z"].scatter(short["_i"], pl.Series(redone, dtype=ZONES)).alias("_z")
        )
    answer = (
        pl.when(pl.col("k").is_null() | pl.col("e").is_null())
        .then(None)
        .when(pl.col("k") == _UNKNOWN_TYPE)
        .then(pl.lit(UNKNOWN_ZONE, ZONES))
        .when("_geo")
        .then("_z")
        .otherwise(pl.col("_cz").fill_null(pl.lit(UNKNOWN_ZONE, ZONES)))
    )
    return frame.select(answer.alias("zones")).to_series()


@functools.cache
def _singles() -> tuple[pl.Series, pl.Series]:
    every = pl.Series(ZONES.categories)
    single = every.to_frame("z").select(
        pl.when(
            ~pl.col("z").str.contains(SEPARATOR, literal=True) & (pl.col("z") != UNKNOWN_ZONE)
        ).then("z")
    )
    return every, single.to_series()


def single_zone(zones: pl.Series) -> pl.Series:
    """The one zone of each number (String), or null (none, several, or Etc/Unknown)."""
    every, single = _singles()
    return single.gather(zones.to_physical()).alias("zone")
