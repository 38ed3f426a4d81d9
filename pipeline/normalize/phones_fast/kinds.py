"""Number types over the column: phonenumbers' ``number_type`` of valid numbers, from the
per-type patterns of the region that owns each number (``_number_type_helper``)."""

from __future__ import annotations

import functools

import polars as pl
from phonenumbers import PhoneNumberType

from pipeline.normalize.phones_fast.compiled import Table, keyed_alternation, rules
from pipeline.normalize.phones_fast.frames import length_of
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
_CODES = Table.of({n: f"{n:03d}" for n in range(1000)}, pl.String, 1000)
#: marks removed (see type_pattern) → PhoneNumberType value; 0 or more than all: unknown
_KIND = Table.of(
    {
        **{t: int(value) for t, (value, _) in enumerate(_SPECIAL, start=1)},
        len(_SPECIAL) + 1: int(PhoneNumberType.FIXED_LINE),
        len(_SPECIAL) + 2: int(PhoneNumberType.MOBILE),
    },
    pl.UInt8,
    len(_SPECIAL) + 4,
)


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


#: marks the end of the number in the string the type pattern runs on; each type's
#: branch then takes its own count of marks (see type_pattern)
_MARKS = "#" * (len(_SPECIAL) + 2)


@functools.lru_cache(maxsize=256)
def type_pattern(codes: frozenset[str]) -> tuple[str, str]:
    """One pattern for _number_type_helper's order, and the keyed mobile pattern.

    The branch of the t-th desc (premium rate, toll free, ..., fixed line, mobile) is its
    keyed pattern followed by exactly t marks: the first branch that matches (leftmost
    first) is removed by ``str.replace``, so the marks left say which desc matched, in one
    pass (a lazy DFA, no captures) however many descs there are.
    """
    sources, _, _ = _compiled()
    names = [name for _, name in _SPECIAL] + [_FIXED, _MOBILE]
    branches = []
    for t, name in enumerate(names, start=1):
        keyed = keyed_alternation({code: sources[name].get(code) for code in sorted(codes)})
        if keyed.startswith("^(?:~)"):
            continue
        branches.append(f"(?:{keyed[1:]})#{{{t}}}")
    mobile = keyed_alternation({code: sources[_MOBILE].get(code) for code in sorted(codes)})
    return "^(?:" + "|".join(branches or ["~"]) + ")", mobile + "#"


def number_types(owner: pl.Series, e164: pl.Series) -> pl.Series:
    """``number_type`` as a PhoneNumberType value (UInt8) for valid numbers with an owner
    (see fast_e164); null where either is null or the owner is not one this path knows."""
    _, cc_len, same = _compiled()
    empty = pl.Series("number_type", [None] * len(owner), dtype=pl.UInt8)
    frame = pl.DataFrame([owner.alias("o"), e164.alias("e")]).with_row_index("_i")
    known = pl.col("o").is_not_null() & pl.col("e").is_not_null()
    frame = frame.filter(known & (pl.col("o") < cc_len.values.len()))
    frame = frame.with_columns(_n=cc_len(pl.col("o").cast(pl.Int64))).filter(
        pl.col("_n").is_not_null()
    )
    if frame.height == 0:
        return empty
    owner_key = pl.col("o").cast(pl.Int64)
    nsn = pl.col("e").str.slice(pl.col("_n") + 1)
    length = _LL(pl.min_horizontal(length_of(nsn), 99))
    text = pl.concat_str(_CODES(owner_key), length, nsn, pl.lit(_MARKS))
    codes = frozenset(f"{o:03d}" for o in frame["o"].unique().to_list())
    pattern, mobile = type_pattern(codes)
    left = pl.col("_t").str.replace(pattern, "").str.len_bytes().cast(pl.Int64)
    # In memory: over the streaming engine's chunks the replace ran slower (1M rows).
    frame = frame.with_columns(_t=text).with_columns(_k=len(_MARKS) - left)
    # A fixed line is fixed-or-mobile where the mobile desc matches too (or is the same).
    fixed = frame.filter(pl.col("_k") == len(_SPECIAL) + 1)
    both = same(pl.col("o").cast(pl.Int64)).fill_null(False) | pl.col("_t").str.contains(mobile)
    fixed = fixed.select("_i", _both=both)
    kinds = frame.select(
        "_i", _KIND(pl.col("_k").clip(0, len(_MARKS) + 1)).fill_null(UNKNOWN).alias("k")
    )
    kind = empty.scatter(kinds["_i"], kinds["k"])
    if fixed.height:
        either = fixed.filter("_both")["_i"]
        kind = kind.scatter(either, int(PhoneNumberType.FIXED_LINE_OR_MOBILE))
    return kind


def calling_codes(e164: pl.Series, owner: pl.Series) -> pl.Series:
    """The calling code (Int64) of valid numbers: the owner's where known, else read off
    the E.164 (the codes are prefix-free)."""
    frame = pl.DataFrame([e164.alias("e"), owner.alias("o")]).with_row_index("_i")
    frame = frame.with_columns(cc=_calling_code()(pl.col("o").cast(pl.Int64)))
    rest = frame.filter(pl.col("cc").is_null() & pl.col("e").is_not_null())
    if rest.height:
        read = rest.select(pl.col("e").str.slice(1).str.extract(rules().cc, 0).cast(pl.Int64))
        frame = frame.with_columns(frame["cc"].scatter(rest["_i"], read.to_series()))
    return frame["cc"]


@functools.cache
def _calling_code() -> Table:
    """The calling code by metadata code (the owner)."""
    metadata = rules().metadata
    return Table.of(
        {int(code): meta.country_code for code, meta in metadata.items()}, pl.Int64, 1000
    )
