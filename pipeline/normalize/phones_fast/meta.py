"""What the fast path needs of one region, read from phonenumbers' metadata (``Meta``),
and the limits phonenumbers' parser applies to every number."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberDesc, phonenumberutil

MIN_NSN = phonenumberutil._MIN_LENGTH_FOR_NSN
MAX_NSN = phonenumberutil._MAX_LENGTH_FOR_NSN
MAX_INPUT = phonenumberutil._MAX_INPUT_STRING_LENGTH
LENGTHS = 64  # lengths tested per region (numbers here have at most grammar._MAX_DIGITS digits)


@dataclass(frozen=True)
class Meta:
    """What the fast path needs of one region (or non-geographic entity)."""

    code: str
    cc: str
    idd: str | None
    npfp: str | None
    npfp_groups: int
    transform: tuple[str | int, ...] | None
    general: str | None
    valid_general: str | None
    valid_types: str | None
    leading_digits: str | None
    accept: frozenset[int]
    too_long: frozenset[int]
    supported: bool


def _rx(pattern: str) -> str:
    """A metadata regex as a polars (Rust) regex over ASCII digits (smaller automata)."""
    return pattern.replace("\\d", "[0-9]")


# The regex syntax metadata patterns use, on which Python's re and polars' Rust engine agree
# (classes, groups, alternation, greedy/lazy repeats, anchors): anything else, such as a
# lookaround, a back-reference or Python's "{,n}", makes its region unsupported (deferred).
_PLAIN_SYNTAX = re.compile(r"(?:[0-9\[\]()?:|*+^$\-]|\\d|\{[0-9]+(?:,[0-9]*)?\})*")


def _plain(*patterns: str | None) -> bool:
    return all(p is None or _PLAIN_SYNTAX.fullmatch(p) for p in patterns)


def _rule(rule: str | None, groups: int) -> tuple[tuple[str | int, ...] | None, bool]:
    """A transform rule as literal/group parts; ok=False when this module cannot apply it."""
    if not rule:
        return None, True
    if groups == 0 or not re.fullmatch(r"(?:[0-9]|\\[1-9])*", rule):
        return None, False
    parts = tuple(int(g) if g else lit for g, lit in re.findall(r"\\([1-9])|([0-9]+)", rule))
    return parts, all(p <= groups for p in parts if isinstance(p, int))


def _length_tests(general: PhoneNumberDesc) -> tuple[frozenset[int], frozenset[int]]:
    """_test_number_length(n, meta) per n: lengths giving (IS_POSSIBLE or TOO_LONG, TOO_LONG)."""
    lengths, local = set(general.possible_length), set(general.possible_length_local_only)
    top = max(lengths, default=0)
    accept = frozenset(n for n in range(LENGTHS) if n not in local and (n in lengths or n > top))
    too_long = frozenset(n for n in range(LENGTHS) if n not in local and n > top)
    return accept, too_long


def desc_source(desc: PhoneNumberDesc | None) -> str | None:
    """_is_number_matching_desc as a regex over "LL" + number (LL: 2-digit length)."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = sorted(n for n in desc.possible_length if 0 < n < 100)
    if desc.possible_length and not lengths:
        return None
    prefix = "|".join(f"{n:02d}" for n in lengths) if lengths else "[0-9]{2}"
    return f"(?:{prefix})(?:{_rx(desc.national_number_pattern)})"


def _type_descs(meta: PhoneMetadata) -> list[PhoneNumberDesc | None]:
    """The descs _number_type_helper tries after the general one (any match: valid)."""
    descs = [
        meta.premium_rate,
        meta.toll_free,
        meta.shared_cost,
        meta.voip,
        meta.personal_number,
        meta.pager,
        meta.uan,
        meta.voicemail,
        meta.fixed_line,
    ]
    if not meta.same_mobile_and_fixed_line_pattern:
        descs.append(meta.mobile)
    return descs


def _union(parts: Iterable[str | None]) -> str | None:
    present = [p for p in parts if p is not None]
    return "|".join(present) if present else None


def _compile_meta(code: str, meta: PhoneMetadata) -> Meta:
    general = meta.general_desc
    assert general is not None and meta.country_code is not None
    npfp = meta.national_prefix_for_parsing or None
    groups = re.compile(npfp).groups if npfp else 0
    transform, transform_ok = _rule(meta.national_prefix_transform_rule, groups)
    accept, too_long = _length_tests(general)
    lengths_ok = bool(general.possible_length) and min(general.possible_length) > 0
    descs = [general, *_type_descs(meta)]
    patterns = [d.national_number_pattern for d in descs if d is not None]
    syntax_ok = _plain(meta.international_prefix, npfp, meta.leading_digits, *patterns)
    return Meta(
        code=code,
        cc=str(meta.country_code),
        idd=_rx(meta.international_prefix) if meta.international_prefix else None,
        npfp=_rx(npfp) if npfp else None,
        npfp_groups=groups,
        transform=transform,
        general=_rx(general.national_number_pattern) if general.national_number_pattern else None,
        valid_general=desc_source(general),
        valid_types=_union(desc_source(d) for d in _type_descs(meta)),
        leading_digits=_rx(meta.leading_digits) if meta.leading_digits is not None else None,
        accept=accept,
        too_long=too_long,
        supported=transform_ok and lengths_ok and syntax_ok,
    )


def all_metas() -> tuple[
    dict[str, Meta], dict[str, str], dict[str, tuple[str, ...]], dict[str, PhoneMetadata]
]:
    """(code → Meta, region → code, calling code → codes of its regions in order,
    code → phonenumbers' metadata)."""
    found: list[tuple[int, str, PhoneMetadata]] = []
    for cc, regions in phonenumberutil.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            meta = PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
            if meta is not None:
                found.append((cc, region, meta))
    metas: dict[str, Meta] = {}
    region_code: dict[str, str] = {}
    cc_codes: dict[str, list[str]] = {}
    metadata: dict[str, PhoneMetadata] = {}
    for i, (cc, region, meta) in enumerate(found):
        code = f"{i:03d}"
        metas[code] = _compile_meta(code, meta)
        metadata[code] = meta
        cc_codes.setdefault(str(cc), []).append(code)
        if region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            region_code[region] = code
    cc_tuples = {cc: tuple(codes) for cc, codes in cc_codes.items()}
    return metas, region_code, cc_tuples, metadata
