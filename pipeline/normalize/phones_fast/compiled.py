"""phonenumbers' metadata compiled into keyed polars regexes and lookup tables, once per
process (:func:`rules`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from phonenumbers import PhoneMetadata, phonenumberutil
from polars._typing import PolarsDataType

from pipeline.normalize.phones_fast.meta import LENGTHS, Meta, all_metas

_NEVER = "~"  # an alternation branch no digit string matches


@dataclass(frozen=True)
class Slot:
    """Where one region's national-prefix groups sit in the transform alternation."""

    code: str
    base: int
    groups: int
    rule: tuple[str | int, ...]


@dataclass(frozen=True, eq=False)
class Table:
    """A lookup by small integer keys held as one Series: ``values[key]`` is one gather per
    row, where ``replace_strict`` costs some 0.2 ms a call however few the rows.

    A key outside the table is a polars error (so phonenumbers answers, see
    pipeline.normalize.phones): tables cover every key their callers can form (see cc_key,
    code_key, region_key).
    """

    values: pl.Series

    @staticmethod
    def of(mapping: Mapping[int, Any], dtype: PolarsDataType, size: int) -> Table:
        return Table(pl.Series([mapping.get(key) for key in range(size)], dtype=dtype))

    def __call__(self, key: pl.Expr) -> pl.Expr:
        """The value at ``key`` (null: null or unmapped)."""
        return pl.lit(self.values).gather(key)


def cc_key(cc: str | pl.Expr) -> pl.Expr:
    """A country calling code's key (tables of 1000): the code itself. Calling codes here
    come from the metadata (1 to 3 digits, no leading zero), never from the input as is."""
    cc = pl.col(cc) if isinstance(cc, str) else cc
    return cc.cast(pl.Int64, strict=False)


def code_key(code: str | pl.Expr) -> pl.Expr:
    """A metadata code's key (tables of every code): "000" → 0."""
    code = pl.col(code) if isinstance(code, str) else code
    return code.cast(pl.Int64, strict=False)


def region_key(region: str | pl.Expr) -> pl.Expr:
    """A region's key (tables of 36 * 36): its two letters in base 36. decide() only sees
    regions of two upper-case letters (see grammar.exact_key)."""
    region = pl.col(region) if isinstance(region, str) else region
    return region.str.to_integer(base=36, strict=False)


@dataclass(frozen=True, eq=False)
class Rules:
    """Everything the fast path needs, compiled once per process."""

    metadata: dict[str, PhoneMetadata]  # of the codes the fast path translates
    region_code: Table  # by region_key
    region_cc: Table  # by region_key
    main_code: Table  # by cc_key
    later_leading_digits: str
    later_groups: tuple[tuple[int, str, int], ...]
    later_plain: dict[str, tuple[tuple[int, str], ...]]
    single: pl.Series
    unsupported: pl.Series
    cc: str
    idd: str
    national_prefix: str
    transform: str
    slots: tuple[Slot, ...]
    slot_codes: list[str]
    slot_set: pl.Series
    general: str
    leading_digits: str
    has_leading_digits: Table  # by code_key
    valid_by_code: dict[str, tuple[str | None, str | None]]  # see validity_patterns
    accept: pl.Series
    too_long: pl.Series


def keyed_alternation(branches: dict[str, str | None], suffix: str = "") -> str:
    """One alternation: a code + that code's pattern; codes sharing a pattern share a branch."""
    by_pattern: dict[str, list[str]] = {}
    for code, pattern in branches.items():
        if pattern is not None:
            by_pattern.setdefault(pattern, []).append(code)
    alts = [f"(?:{'|'.join(codes)})(?:{p})" for p, codes in by_pattern.items()]
    return f"^(?:{'|'.join(alts) or _NEVER}){suffix}"


def _transform_alternation(metas: Iterable[Meta]) -> tuple[str, tuple[Slot, ...]]:
    """National-prefix patterns of the regions with a transform rule, each in a group."""
    alts, slots, base = [], [], 1
    for meta in metas:
        if meta.transform is None or meta.npfp is None or not meta.supported:
            continue
        alts.append(f"{meta.code}((?:{meta.npfp}))")
        slots.append(Slot(meta.code, base, meta.npfp_groups, meta.transform))
        base += 1 + meta.npfp_groups
    return f"^(?:{'|'.join(alts) or _NEVER})", tuple(slots)


def _later_leading_digits(
    metas: dict[str, Meta], cc_codes: dict[str, tuple[str, ...]]
) -> tuple[str, tuple[tuple[int, str, int], ...]]:
    """Leading digits of the 2nd, 3rd, ... regions of each shared calling code, in order.

    Keyed by the calling code's first region; each pattern sits in a capturing group, so
    the first group that captured names the first region (in phonenumbers' order) whose
    leading digits match. Returns the pattern and (group, code, position) triples.
    """
    alts, groups, group = [], [], 1
    for codes in cc_codes.values():
        branch = []
        for position, code in enumerate(codes[1:], start=1):
            pattern = metas[code].leading_digits if code in metas else None
            if pattern is not None:
                branch.append(f"({pattern})")
                groups.append((group, code, position))
                group += 1 + re.compile(pattern).groups
        if branch:
            alts.append(f"{codes[0]}(?:{'|'.join(branch)})")
    return f"^(?:{'|'.join(alts) or _NEVER})", tuple(groups)


def _later_plain(
    metas: dict[str, Meta], cc_codes: dict[str, tuple[str, ...]]
) -> dict[str, tuple[tuple[int, str], ...]]:
    """Per calling code, (position, code) of its 2nd, 3rd, ... regions without leading digits."""
    found: dict[str, tuple[tuple[int, str], ...]] = {}
    for cc, codes in cc_codes.items():
        plain = tuple(
            (position, code)
            for position, code in enumerate(codes[1:], start=1)
            if code in metas and metas[code].leading_digits is None
        )
        if plain:
            found[cc] = plain
    return found


def set_of(values: Iterable[Any], dtype: PolarsDataType) -> pl.Series:
    """The argument of ``is_in``, built once: one list holding ``values``."""
    return pl.Series(list(values), dtype=dtype).implode()


def _pairs(lengths: dict[str, frozenset[int]]) -> pl.Series:
    """Is (code, length) in ``lengths``, at code * LENGTHS + length: one gather per row."""
    flags = [False] * ((max(map(int, lengths), default=0) + 1) * LENGTHS)
    for code, found in lengths.items():
        for n in found:
            flags[int(code) * LENGTHS + n] = True
    return pl.Series(flags, dtype=pl.Boolean)


@functools.cache
def rules() -> Rules:
    """Compile phonenumbers' metadata into keyed polars regexes, once per process.

    Regions this module cannot translate get no branch in any pattern; their rows, and rows
    of calling codes they share, are deferred.
    """
    metas, region_code, cc_codes, metadata = all_metas()
    ok = {code: m for code, m in metas.items() if m.supported}
    codes = sorted(phonenumberutil.COUNTRY_CODE_TO_REGION_CODE, key=lambda c: (len(str(c)), c))
    transform, slots = _transform_alternation(ok.values())
    later, groups = _later_leading_digits(ok, cc_codes)
    geo = {code: ok[code] for code in region_code.values() if code in ok}
    shared = {
        code for found in cc_codes.values() if not all(c in ok for c in found) for code in found
    }
    text = pl.String
    return Rules(
        metadata={code: metadata[code] for code in ok},
        region_code=Table.of({int(r, 36): c for r, c in region_code.items()}, text, 36 * 36),
        region_cc=Table.of(
            {int(r, 36): metas[c].cc for r, c in region_code.items()}, text, 36 * 36
        ),
        main_code=Table.of({int(cc): found[0] for cc, found in cc_codes.items()}, text, 1000),
        later_leading_digits=later,
        later_groups=groups,
        later_plain=_later_plain(ok, cc_codes),
        single=set_of(sorted(cc for cc, found in cc_codes.items() if len(found) == 1), text),
        unsupported=set_of(sorted(shared), text),
        cc="^(?:" + "|".join(str(c) for c in codes) + ")",
        idd=keyed_alternation({code: m.idd for code, m in geo.items()}),
        national_prefix=keyed_alternation(
            {c: m.npfp if m.transform is None else None for c, m in ok.items()}
        ),
        transform=transform,
        slots=slots,
        slot_codes=[slot.code for slot in slots],
        slot_set=set_of([slot.code for slot in slots], text),
        general=keyed_alternation({code: m.general for code, m in ok.items()}, "$"),
        leading_digits=keyed_alternation({code: m.leading_digits for code, m in ok.items()}),
        has_leading_digits=Table.of(
            {int(code): m.leading_digits is not None for code, m in metas.items()},
            pl.Boolean,
            len(metas),
        ),
        valid_by_code={code: (m.valid_general, m.valid_types) for code, m in ok.items()},
        accept=_pairs({code: m.accept for code, m in metas.items()}),
        too_long=_pairs({code: m.too_long for code, m in metas.items()}),
    )
