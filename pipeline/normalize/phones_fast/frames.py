"""The fast path's frame helpers (polars calls that cost little on few rows), the sizes
at which a step changes route, and the outcomes as small integers."""

from __future__ import annotations

import functools

import polars as pl

from pipeline.normalize.phones_fast.compiled import Table
from pipeline.normalize.phones_fast.meta import LENGTHS

# Below this many rows run_columns, routing.routes and validity.check_validity skip the
# streaming engine (measured: its fixed cost is larger). Read as frames.STREAMING_ROWS (and
# frames.FEW_*) by the other modules, so that one value (a test may change it) holds for all.
STREAMING_ROWS = 50_000
# Steps whose answer is one phonenumbers function of a row ask phonenumbers row by row when
# given at most this many rows. Each polars call costs 20-200 µs however few its rows, so a
# step of a dozen calls costs milliseconds; phonenumbers costs some 10-20 µs a row for
# is_valid_number (more for calling codes shared by many regions: validity._later_regions),
# some 4 µs for the own-country-code checks and 1-4 µs for national-prefix stripping
# (measured).
FEW_VALID = 256  # validity.check_validity
FEW_LATER = 384  # validity._later_regions
FEW_OWN = 192  # calling_code._own_country_code
FEW_STRIP = 1024  # prefix.strip_national_prefix, and its rows with a transform rule

VALID = "valid"
INVALID = "invalid"
DEFER = "defer"

# Outcomes travel as small integers (cheap columns); names are attached at the end.
GO_CODE, VALID_CODE, INVALID_CODE, DEFER_CODE = 0, 1, 2, 3
_STATUS = {VALID_CODE: VALID, INVALID_CODE: INVALID, DEFER_CODE: DEFER}
_REASONS = {
    1: "no valid default region to read a national number with",
    2: "too short after the international prefix",
    3: "unknown country calling code",
    4: "wrong number of digits for its country",
    5: "not a valid number for its country",
    6: "no phone number in it",
}
NO_REGION, SHORT_IDD, UNKNOWN_CC, BAD_LENGTH, NOT_VALID, NOT_A_NUMBER = range(1, 7)
STATUS_NAMES = Table.of(_STATUS, pl.String, 256)  # by UInt8 code
REASON_NAMES = Table.of(_REASONS, pl.String, 256)


@functools.cache
def u8(value: int) -> pl.Expr:
    return pl.lit(value, pl.UInt8)


def on_code(code: str | pl.Expr, *values: str | pl.Expr) -> pl.Expr:
    """The string a keyed regex runs on: the 3-digit code, then the digits."""
    first = pl.col(code) if isinstance(code, str) else code
    return pl.concat_str([first, *(pl.col(v) if isinstance(v, str) else v for v in values)])


def length_of(column: str | pl.Expr) -> pl.Expr:
    column = pl.col(column) if isinstance(column, str) else column
    return column.str.len_bytes().cast(pl.Int64)


def length_in(pairs: pl.Series, code: str, length: pl.Expr) -> pl.Expr:
    """Is (code, length) in ``pairs`` (see compiled._pairs)? Lengths past LENGTHS count as
    the last."""
    clipped = pl.min_horizontal(length, pl.lit(LENGTHS - 1))
    return pl.lit(pairs).gather(pl.col(code).cast(pl.Int64) * LENGTHS + clipped)


def run_columns(frame: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
    """with_columns on the streaming engine (whole-column regex work on every core) for
    large frames; below ``STREAMING_ROWS`` its fixed cost outweighs that, so in memory."""
    if frame.height < STREAMING_ROWS:
        return frame.with_columns(**columns)
    return frame.lazy().with_columns(**columns).collect(engine="streaming")


def indexed(frame: pl.DataFrame, name: str = "_i") -> pl.DataFrame:
    return without(frame, name).with_row_index(name)


def stack(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """``pl.concat(frames)`` (same columns, one under the other) by ``vstack``: no checks and
    conversions in Python (some 30 µs a call)."""
    stacked = frames[0]
    for frame in frames[1:]:
        stacked = stacked.vstack(frame)
    return stacked


def without(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    """``frame.drop(*names, strict=False)`` as a plain selection of the other columns (a
    query costs some 50 µs, this some 10 µs)."""
    return frame[[name for name in frame.columns if name not in names]]


def scatter_rows(
    frame: pl.DataFrame, part: pl.DataFrame, columns: list[str], index: str = "_i"
) -> pl.DataFrame:
    """Write ``part``'s ``columns`` into ``frame`` at the positions ``part[index]``."""
    if part.height == 0:
        return frame
    updates = {}
    for name in columns:
        base = frame[name] if name in frame.columns else pl.Series(name, [None] * frame.height)
        updates[name] = base.cast(part[name].dtype).scatter(part[index], part[name])
    return put(frame, *(series.alias(name) for name, series in updates.items()))


def put(frame: pl.DataFrame, *columns: pl.Series) -> pl.DataFrame:
    """``frame.with_columns(*columns)`` for Series of its height, without a query (some 40
    µs): a column of the same name is replaced in place, a new one added at the end."""
    frame = frame.clone()  # a new frame sharing the columns: the caller's stays as it was
    for column in columns:
        if column.name in frame.columns:
            frame.replace_column(frame.get_column_index(column.name), column)
        else:
            frame.hstack([column], in_place=True)
    return frame
