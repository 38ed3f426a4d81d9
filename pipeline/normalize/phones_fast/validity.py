"""Step 4: is_valid_number over the column, the region chosen by leading digits among
those sharing the calling code."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import cast

import phonenumbers
import polars as pl
from phonenumbers import phonenumberutil

import pipeline.normalize.phones_fast.frames as frames
from pipeline.normalize.phones_fast.calling_code import main_code_of
from pipeline.normalize.phones_fast.compiled import Table, code_key, keyed_alternation, rules
from pipeline.normalize.phones_fast.frames import (
    length_of,
    on_code,
    put,
    run_columns,
    stack,
    without,
)
from pipeline.normalize.phones_fast.routing import grown, routes

_LL = Table.of({n: f"{n:02d}" for n in range(100)}, pl.String, 100)  # lengths as 2 digits


def _valid_for(text: pl.Expr, codes: Iterable[str | None]) -> pl.Expr:
    """_number_type_helper(nsn, metadata) != UNKNOWN, over code + 2-digit length + nsn,
    for rows whose code is one of ``codes``."""
    general, types = validity_patterns(frozenset(c for c in codes if c is not None))
    return text.str.contains(general) & text.str.contains(types)


@functools.lru_cache(maxsize=256)
def validity_patterns(codes: frozenset[str]) -> tuple[str, str]:
    """The keyed valid-general and number-type patterns, with the branches of ``codes``
    only.

    Every row matches only its own code's branch, so leaving out the codes no row has
    changes no answer; the automaton built is that much smaller (every region's number
    types take some 90 ms to compile, in each thread that runs them; a file of a few
    countries needs a few of them).
    """
    by_code = rules().valid_by_code
    wanted = [code for code in sorted(codes) if code in by_code]
    general = keyed_alternation({code: by_code[code][0] for code in wanted}, "$")
    types = keyed_alternation({code: by_code[code][1] for code in wanted}, "$")
    return general, types


def check_validity(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds ``_valid`` = is_valid_number (the region is chosen by leading digits among those
    sharing ``cc``) and ``_k``, the metadata code of that region (region_code_for_number;
    meaningful where ``_valid``). Rows may come back in another order."""
    if frame.height == 0:
        return grown(frame, _k=pl.String, _valid=pl.Boolean)
    if frame.height <= frames.FEW_VALID:
        return _valid_by_phonenumbers(frame)
    r = rules()
    length = _LL(pl.min_horizontal(length_of("nsn"), pl.lit(99))).fill_null("99")
    frame = frame.with_columns(_k=main_code_of(), _ll=length)
    if frame.height < frames.STREAMING_ROWS:
        # Rows of one region side by side: keyed regexes run faster (see grammar.exact_key).
        # Large frames come in long runs of one region already, where sorting costs more than
        # it saves.
        frame = frame.sort("_k")
    codes = frame["_k"].unique().to_list()
    frame = run_columns(frame, _valid=_valid_for(on_code("_k", "_ll", "nsn"), codes))
    has_ld = r.has_leading_digits(code_key("_k")).fill_null(False)
    route = pl.when(pl.col("cc").is_in(r.single)).then(0).when(has_ld).then(1).otherwise(2)
    single, by_digits, by_validity = routes(frame, route, 3)
    by_digits = by_digits.with_columns(_hit=on_code("_k", "nsn").str.contains(r.leading_digits))
    missed, hit = routes(by_digits, pl.col("_hit"), 2)
    invalid, valid = routes(by_validity, pl.col("_valid"), 2)
    later = _later_regions(stack([without(missed, "_hit"), invalid]))
    return without(stack([single, without(hit, "_hit"), valid, later]), "_ll")


def _later_regions(frame: pl.DataFrame) -> pl.DataFrame:
    """``_valid`` for rows whose calling code's first region did not claim them.

    The first later region whose leading digits match (one regex, see
    _later_leading_digits) competes with the later regions without leading digits, which
    claim a number when it is valid for them; the earliest claim decides.
    """
    if frame.height == 0:
        return frame
    if frame.height <= frames.FEW_LATER:
        return _valid_by_phonenumbers(frame)
    r = rules()
    groups = on_code("_k", "nsn").str.extract_groups(r.later_leading_digits)
    frame = frame.with_columns(_g=groups)
    hits = [(pl.col("_g").struct.field(str(g)).is_not_null(), k, p) for g, k, p in r.later_groups]
    code = [pl.when(hit).then(pl.lit(k)) for hit, k, _ in hits]
    pos = [pl.when(hit).then(pl.lit(p)) for hit, _, p in hits]
    frame = frame.with_columns(_pos=pl.coalesce(pos).cast(pl.Int64), _code=pl.coalesce(code))
    codes = frame["_code"].unique().to_list()
    frame = frame.drop("_g").with_columns(
        _valid=_valid_for(on_code("_code", "_ll", "nsn"), codes).fill_null(False)
    )
    parts = frame.partition_by("cc", as_dict=True)
    claimed = [_plain_claims(part, str(cc)) for (cc,), part in parts.items()]
    return stack(claimed or [frame]).with_columns(_k="_code").drop("_pos", "_code")


def _valid_by_phonenumbers(frame: pl.DataFrame) -> pl.DataFrame:
    """``_valid`` and ``_k`` from phonenumbers itself, row by row (few rows: cheaper than
    polars)."""
    pairs = zip(frame["cc"].to_list(), frame["nsn"].to_list(), strict=True)
    answers = [_valid_and_owner(cc, nsn) for cc, nsn in pairs]
    return put(
        frame,
        pl.Series("_k", [owner for _, owner in answers], dtype=pl.String),
        pl.Series("_valid", [valid for valid, _ in answers], dtype=pl.Boolean),
    )


def _valid_and_owner(cc: str, nsn: str) -> tuple[bool, str | None]:
    """phonenumbers.is_valid_number of the number parse() makes of a calling code and a
    national significant number (leading zeros kept as parse keeps them), and the metadata
    code of the region phonenumbers reads it with (region_code_for_number)."""
    number = phonenumbers.PhoneNumber(country_code=int(cc), national_number=int(nsn))
    phonenumberutil._set_italian_leading_zeros_for_phone_number(nsn, number)
    if not phonenumbers.is_valid_number(number):
        return False, None
    return True, owner_code(int(cc), phonenumbers.region_code_for_number(number))


def owner_code(cc: int, region: str | None) -> str | None:
    """The metadata code of ``region`` (a non-geographic entity: its calling code's)."""
    r = rules()
    if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return cast("str", r.main_code.values[cc])
    if region is None or not re.fullmatch("[A-Z]{2}", region):
        return None
    return cast("str | None", r.region_code.values[int(region, 36)])


def _plain_claims(frame: pl.DataFrame, cc: str) -> pl.DataFrame:
    """Later regions without leading digits claim the numbers valid for them, in order."""
    for position, plain in rules().later_plain.get(cc, ()):
        earlier = pl.col("_pos").is_null() | (pl.col("_pos") > position)
        claims = earlier & _valid_for(on_code(pl.lit(plain), "_ll", "nsn"), [plain])
        frame = frame.with_columns(
            _pos=pl.when(claims).then(pl.lit(position, pl.Int64)).otherwise("_pos"),
            _code=pl.when(claims).then(pl.lit(plain)).otherwise("_code"),
            _valid=claims | pl.col("_valid"),
        )
    return frame
