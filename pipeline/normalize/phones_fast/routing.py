"""Rows split into the routes of a step, and the frames of steps given no rows."""

from __future__ import annotations

import polars as pl
from polars._typing import PolarsDataType

import pipeline.normalize.phones_fast.frames as frames


def routes(frame: pl.DataFrame, route: pl.Expr, count: int) -> list[pl.DataFrame]:
    """The rows of ``frame`` split by ``route`` (0 .. count-1; a bool is 0/1), order kept;
    rows whose route is null take none. Routes no row takes get empty frames, and when every
    row takes one route it gets ``frame`` itself."""
    if frame.height == 0:
        return [frame] * count
    if count == 2:
        taken = frame.select(route.cast(pl.Boolean)).to_series()
        masks = [~taken, taken]
    else:
        codes = frame.select(route.cast(pl.UInt8)).to_series()
        masks = [codes == i for i in range(count)]
    sizes = [int(mask.sum()) for mask in masks]
    if max(sizes) == frame.height:
        return [frame if size else frame.clear() for size in sizes]
    if frame.height >= frames.STREAMING_ROWS:
        return [
            frame.filter(mask) if size else frame.clear()
            for mask, size in zip(masks, sizes, strict=True)
        ]
    # Fewer rows: a gather of each route's positions costs less than a filter (a query).
    position = pl.int_range(frame.height, dtype=pl.UInt32, eager=True)
    return [
        frame[position.filter(mask)] if size else frame.clear()
        for mask, size in zip(masks, sizes, strict=True)
    ]


def grown(frame: pl.DataFrame, **dtypes: PolarsDataType) -> pl.DataFrame:
    """An empty frame with ``frame``'s columns, then ``dtypes`` (as with_columns adds them).

    Steps given no rows return this at once: the same columns and types as their work would
    give, none of its cost (every polars call costs some 20-200 µs however few its rows).
    """
    if frame.columns and not dtypes.keys() & set(frame.columns):
        added = [pl.Series(name, [], dtype=dtype) for name, dtype in dtypes.items()]
        return frame.clear().hstack(added)  # cheaper than building a frame from a schema
    return pl.DataFrame(schema={**frame.schema, **dtypes})


def no_todo(frame: pl.DataFrame) -> pl.DataFrame:
    """No rows of split_country_code's "to finish" shape (key, cc, nnn, mkey)."""
    return grown(frame[["key"]], cc=pl.String, nnn=pl.String, mkey=pl.String)


def no_settled(frame: pl.DataFrame) -> pl.DataFrame:
    """No rows of the settled shape (see settle_as)."""
    return grown(frame[["key"]], status=pl.UInt8, reason=pl.UInt8, e164=pl.String, owner=pl.UInt16)


def settle_as(frame: pl.DataFrame, status: int, reason: int | None) -> pl.DataFrame:
    if frame.height == 0:
        return no_settled(frame)
    values = {
        "status": (status, pl.UInt8),
        "reason": (reason, pl.UInt8),
        "e164": (None, pl.String),
        "owner": (None, pl.UInt16),
    }
    constant = [
        pl.Series(k, [v], dtype=t).new_from_index(0, frame.height) for k, (v, t) in values.items()
    ]
    return pl.DataFrame([frame["key"], *constant])
