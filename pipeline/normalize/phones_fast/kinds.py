"""Number types over the column: phonenumbers' ``number_type`` of valid numbers, from the
per-type patterns of the region that owns each number (``_number_type_helper``)."""

from __future__ import annotations

import functools

import polars as pl
from phonenumbers import PhoneNumberType

import pipeline.normalize.phones_fast.frames as frames
from pipeline.normalize.phones_fast.compiled import Table, keyed_alternation, rules
from pipeline.normalize.phones_fast.frames import length_of, on_code, run_columns
from pipeline.normalize.phones_fast.meta import desc_source

UNKNOWN = int(PhoneNumberType.UNKNOWN)
#: the descs _number_type_helper tries, in its order, after the general one
_SPECIAL = (
    (PhoneNumberType.PREMIUM_RATE, "premium_rate"),
    (PhoneNumberType.TOLL_FREE, "toll_free"),
    (PhoneNumberType.SHARED_COST, "shared_cost"),
    (PhoneNumberType.VOIP, "voip"),
    (PhoneNumberType.PERSONAL_NUMBER, "personal_number"),
    (PhoneNumberType.PAGER, "pager"),
    (PhoneNumberType.UAN, "uan"),
    (PhoneNumberType.VOICEMAIL, "voicemail"),
)
_FIXED, _MOBILE = "fixed_line", "mobile"
#: PhoneNumberType values → their names in lower case (``fixed_line``, ``toll_free``, ...)
TYPE_NAMES = {
    int(value): name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}
NAMES = Table.of(TYPE_NAMES, pl.String, 256)
_LL = Table.of({n: f"{n:02d}" for n in range(100)}, pl.String, 100)


@functools.cache
def _compiled() -> tuple[dict[str, dict[str, str | None]], Table, Table]:
    """(desc name → code → keyed source), cc length by code, same-mobile-and-fixed by code."""
    metadata = rules().metadata
    names = [name for _, name in _SPECIAL] + [_FIXED, _MOBILE]
    sources = {
        name: {code: desc_source(getattr(meta, name)) for code, meta in metadata.items()}
        for name in names
    }
    same = {
        int(code): bool(meta.same_mobile_and_fixed_line_pattern) for code, meta in metadata.items()
    }
    for code, flag in same.items():
        if flag:  # _number_type_helper never tries their mobile desc
            sources[_MOBILE][f"{code:03d}"] = None
    top = max(map(int, metadata), default=0) + 1
    cc_len = {int(code): len(str(meta.country_code)) for code, meta in metadata.items()}
    return sources, Table.of(cc_len, pl.Int64, top), Table.of(same, pl.Boolean, top)


@functools.lru_cache(maxsize=256)
def type_patterns(codes: frozenset[str]) -> dict[str, str]:
    """Per desc name, the keyed pattern of ``codes`` (descs none of them has: left out)."""
    sources, _, _ = _compiled()
    found = {}
    for name, by_code in sources.items():
        branches = {code: by_code.get(code) for code in sorted(codes)}
        if any(branches.values()):
            found[name] = keyed_alternation(branches, "$")
    return found


def number_types(owner: pl.Series, e164: pl.Series) -> pl.Series:
    """``number_type`` as a PhoneNumberType value (UInt8) for valid numbers with an owner
    (see fast_e164); null where either is null or the owner is not one this path knows."""
    sources, cc_len, same = _compiled()
    frame = pl.DataFrame([owner.alias("o"), e164.alias("e")]).with_row_index("_i")
    known = (
        pl.col("o").is_not_null() & pl.col("e").is_not_null() & (pl.col("o") < cc_len.values.len())
    )
    frame = frame.filter(known & cc_len(pl.col("o").cast(pl.Int64)).is_not_null())
    if frame.height == 0:
        return pl.Series("number_type", [None] * len(owner), dtype=pl.UInt8)
    if frame.height < frames.STREAMING_ROWS:
        frame = frame.sort("o")  # rows of one region side by side (see validity)
    code = pl.col("o").cast(pl.String).str.zfill(3)
    nsn = pl.col("e").str.slice(cc_len(pl.col("o").cast(pl.Int64)) + 1)
    frame = frame.with_columns(_t=on_code(code, _LL(pl.min_horizontal(length_of(nsn), 99)), nsn))
    codes = frozenset(f"{o:03d}" for o in frame["o"].unique().to_list())
    patterns = type_patterns(codes)
    hit = {name: pl.col("_t").str.contains(p) for name, p in patterns.items()}
    frame = run_columns(frame, **{f"_{name}": test for name, test in hit.items()})

    def matched(name: str) -> pl.Expr:
        return pl.col(f"_{name}") if name in patterns else pl.lit(False)

    same_pattern = same(pl.col("o").cast(pl.Int64)).fill_null(False)
    fixed, mobile = matched(_FIXED), matched(_MOBILE)
    kind: pl.Expr = (
        pl.when(fixed & (same_pattern | mobile))
        .then(pl.lit(int(PhoneNumberType.FIXED_LINE_OR_MOBILE), pl.UInt8))
        .when(fixed)
        .then(pl.lit(int(PhoneNumberType.FIXED_LINE), pl.UInt8))
        .when(mobile)
        .then(pl.lit(int(PhoneNumberType.MOBILE), pl.UInt8))
        .otherwise(pl.lit(UNKNOWN, pl.UInt8))
    )
    for value, name in reversed(_SPECIAL):  # the first special desc that matches wins
        kind = pl.when(matched(name)).then(pl.lit(int(value), pl.UInt8)).otherwise(kind)
    found = frame.select("_i", kind.alias("kind"))
    empty = pl.Series("number_type", [None] * len(owner), dtype=pl.UInt8)
    return empty.scatter(found["_i"], found["kind"])


def calling_codes(e164: pl.Series, owner: pl.Series) -> pl.Series:
    """The calling code (Int64) of valid numbers: its length from the owner's metadata where
    known, else read off the E.164 (the codes are prefix-free)."""
    _, cc_len, _ = _compiled()
    frame = pl.DataFrame([e164.alias("e"), owner.alias("o")]).with_row_index("_i")
    frame = frame.with_columns(_n=cc_len(pl.col("o").cast(pl.Int64)))
    rest = frame.filter(pl.col("_n").is_null() & pl.col("e").is_not_null())
    if rest.height:
        found = rest.select(pl.col("e").str.slice(1).str.extract(rules().cc, 0).str.len_bytes())
        frame = frame.with_columns(
            frame["_n"].scatter(rest["_i"], found.to_series().cast(pl.Int64)).alias("_n")
        )
    code = pl.col("e").str.slice(1, pl.col("_n")).cast(pl.Int64, strict=False)
    return frame.select(code.alias("cc")).to_series()
