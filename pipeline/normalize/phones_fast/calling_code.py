"""Step 2: the country calling code, after ``+``, after the default region's international
prefix, or the region's own when the number starts with it; else the number is national."""

from __future__ import annotations

import polars as pl
from phonenumbers import ValidationResult, phonenumberutil

import pipeline.normalize.phones_fast.frames as frames
from pipeline.normalize.phones_fast.compiled import cc_key, region_key, rules
from pipeline.normalize.phones_fast.frames import (
    DEFER_CODE,
    INVALID_CODE,
    NO_REGION,
    SHORT_IDD,
    UNKNOWN_CC,
    length_in,
    length_of,
    on_code,
    put,
    run_columns,
    stack,
    without,
)
from pipeline.normalize.phones_fast.meta import MIN_NSN
from pipeline.normalize.phones_fast.prefix import strip_national_prefix, strip_one_prefix
from pipeline.normalize.phones_fast.routing import grown, no_settled, no_todo, routes, settle_as


def _own_country_code(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows starting with their default region's country code: does phonenumbers strip it?

    Adds ``_own`` (it does) and ``nnn`` (the rest after national-prefix stripping).
    """
    if frame.height == 0:
        return grown(frame, _rest=pl.String, nnn=pl.String, _own=pl.Boolean)
    if frame.height <= frames.FEW_OWN and set(frame["rcode"].to_list()) <= rules().metadata.keys():
        return _own_by_phonenumbers(frame)
    r = rules()
    frame = frame.with_columns(_rest=pl.col("d").str.slice(length_of("rcc")))
    frame = strip_national_prefix(frame, "_rest", "rcode", "nnn")
    before = on_code("rcode", "d").str.contains(r.general)
    after = on_code("rcode", "nnn").str.contains(r.general)
    too_long = length_in(r.too_long, "rcode", length_of("d"))
    return frame.with_columns(_own=(~before & after) | too_long)


def _own_by_phonenumbers(frame: pl.DataFrame) -> pl.DataFrame:
    """_own_country_code row by row, in the words of phonenumbers' _maybe_extract_country_code
    (few rows of translated regions)."""
    metadata = rules().metadata
    rest, nnn, own = [], [], []
    columns = (frame[name].to_list() for name in ("d", "rcode", "rcc"))
    for d, code, cc in zip(*columns, strict=True):
        meta = metadata[code]
        rest.append(d[len(cc) :])
        nnn.append(strip_one_prefix(rest[-1], meta))
        before = phonenumberutil._match_national_number(d, meta.general_desc, False)
        after = phonenumberutil._match_national_number(nnn[-1], meta.general_desc, False)
        too_long = phonenumberutil._test_number_length(d, meta) == ValidationResult.TOO_LONG
        own.append(bool((not before and after) or too_long))
    return put(
        frame,
        pl.Series("_rest", rest, dtype=pl.String),
        pl.Series("nnn", nnn, dtype=pl.String),
        pl.Series("_own", own, dtype=pl.Boolean),
    )


def _after_idd(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows whose international prefix phonenumbers strips: (resolved, invalid)."""
    if frame.height == 0:
        return no_todo(frame), no_settled(frame)
    r = rules()
    rest = pl.col("d").str.slice(pl.col("_idd"))
    frame = frame.with_columns(cc=rest.str.extract(r.cc, 0), _rest=rest)
    short = length_of("_rest") <= MIN_NSN
    route = pl.when(short).then(1).when(pl.col("cc").is_null()).then(2).otherwise(0)
    found, too_short, unknown = routes(frame, route, 3)
    found = found.select(
        "key", "cc", nnn=pl.col("_rest").str.slice(length_of("cc")), mkey=main_code_of()
    )
    invalid = [
        settle_as(too_short, INVALID_CODE, SHORT_IDD),
        settle_as(unknown, INVALID_CODE, UNKNOWN_CC),
    ]
    return found, stack(invalid)


def main_code_of(cc: str = "cc") -> pl.Expr:
    """The metadata code phonenumbers uses for a country code: its main region's."""
    return rules().main_code(cc_key(cc))


def split_country_code(keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """parse()'s country-code step → (key, cc, nnn, mkey) to finish, and settled rows."""
    r = rules()
    d = pl.col("d")
    national, plus = routes(keys, pl.col("plus"), 2)
    plus = run_columns(plus, cc=d.str.extract(r.cc, 0))
    # An unknown code after '+': phonenumbers retries the digits as if the '+' were not there.
    retry, plus = routes(plus, pl.col("cc").is_not_null(), 2)
    plus = plus.select("key", "cc", nnn=d.str.slice(length_of("cc")), mkey=main_code_of())
    todo, settled = _without_plus(stack([national, without(retry, "cc")]))
    return stack([plus, todo]), settled


def _without_plus(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The default region's international prefix, its own country code, or national."""
    if frame.height == 0:
        return no_todo(frame), no_settled(frame)
    r = rules()
    d, region = pl.col("d"), pl.col("region")
    frame = run_columns(
        frame,
        rcode=r.region_code(region_key(region)),
        rcc=r.region_cc(region_key(region)),
    )
    frame = run_columns(frame, _idd=length_of(on_code("rcode", d).str.extract(r.idd, 0)) - 3)
    idd = pl.col("_idd").is_not_null() & (d.str.slice(pl.col("_idd"), 1) != "0")
    route = (
        pl.when(pl.col("rcode").is_null())
        .then(0)
        .when(pl.col("rcode").is_in(r.unsupported))
        .then(1)
        .when(idd)
        .then(2)
        .when(d.str.starts_with(pl.col("rcc")))
        .then(3)
        .otherwise(4)
    )
    no_region, odd, idd_rows, starts, national = routes(frame, route, 5)
    from_idd, bad_idd = _after_idd(idd_rows)
    not_own, own = routes(_own_country_code(starts), pl.col("_own"), 2)
    own = own.select("key", cc="rcc", nnn="nnn", mkey=main_code_of("rcc"))
    national = stack([national, not_own.select(national.columns)])
    national, retry = routes(national, pl.col("plus"), 2)
    national = national.select("key", cc="rcc", nnn="d", mkey="rcode")
    settled = stack(
        [
            settle_as(no_region, INVALID_CODE, NO_REGION),
            settle_as(odd, DEFER_CODE, None),
            bad_idd,
            settle_as(retry, INVALID_CODE, UNKNOWN_CC),
        ]
    )
    return stack([from_idd, own, national]), settled
