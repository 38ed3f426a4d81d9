"""phonenumbers' own answer for a phone already written ``+digits``, at a fraction of its cost.

``any_format_to_e164`` (common.py) asks what ``phonenumbers.parse(text, "US")``, then
``is_valid_number`` and E.164 formatting make of a phone. Clients mostly send E.164
already, and for such text (``+``, then 3 to 20 ASCII digits, no leading 0) this module
follows the same steps as phonenumbers with the same metadata: the calling code (the
shortest known one of 1-3 digits), the national prefix stripped when phonenumbers would
strip it, the region picked among those sharing the calling code, and the number-type
patterns. What differs is cost: the
metadata patterns are compiled once and kept (phonenumbers recompiles them through the
``re`` module's bounded cache, which thrashes over 250 regions), and a bulk request no
longer needs the batch normalizer. Anything else (``SLOW``) is left to phonenumbers.
tests/test_sandbox_speed_paths.py checks the agreement.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from phonenumbers import phonenumberutil as pnu
from phonenumbers.phonemetadata import REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata

#: what this module answers itself (anything else: phonenumbers)
_PLUS_DIGITS = re.compile(r"\+[1-9][0-9]{2,19}")
_NON_GEO = REGION_CODE_FOR_NON_GEO_ENTITY
_KEEP_PREFIX = (
    pnu.ValidationResult.TOO_SHORT,
    pnu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    pnu.ValidationResult.INVALID_LENGTH,
)

#: "phonenumbers' answer is needed": returned instead of an E.164 string or None
SLOW: Any = object()

Matcher = Callable[[str], Any]


def _never(number: str) -> bool:
    return False


def _pattern_matcher(desc: Any) -> Matcher:
    """phonenumbers' ``_match_national_number(number, desc, False)`` (``match`` then
    ``fullmatch`` of the same pattern, which is ``fullmatch``)."""
    if desc is None or not desc.national_number_pattern:
        return _never
    return re.compile(desc.national_number_pattern).fullmatch


def _fits(desc: Any, length: int) -> bool:
    """Could ``_is_number_matching_desc`` hold for a number of this length (a pattern, and
    the length among the possible ones when they are given)?"""
    if desc is None or not desc.national_number_pattern:
        return False
    return not desc.possible_length or length in desc.possible_length


class _Validity:
    """``_number_type_helper(nsn, metadata) != UNKNOWN`` for one metadata: the general
    description matches and so does one of the number types (mobile only when its pattern
    differs from the fixed line's). Per length, one regular expression: the general
    pattern as a lookahead, then the types whose possible lengths allow it, as branches
    (``fullmatch`` of ``(?=G\\Z)(?:A|B)`` is ``fullmatch(G) and (fullmatch(A) or
    fullmatch(B))``)."""

    def __init__(self, md: Any) -> None:
        self.md = md
        self.general = md.general_desc
        self.types = [
            md.premium_rate,
            md.toll_free,
            md.shared_cost,
            md.voip,
            md.personal_number,
            md.pager,
            md.uan,
            md.voicemail,
            md.fixed_line,
        ]
        if not md.same_mobile_and_fixed_line_pattern:
            self.types.append(md.mobile)
        self.by_length: dict[int, Matcher] = {}

    def __call__(self, nsn: str) -> bool:
        matcher = self.by_length.get(len(nsn))
        if matcher is None:
            matcher = self.by_length[len(nsn)] = self._for_length(len(nsn))
        return matcher(nsn) is not None

    def _for_length(self, length: int) -> Matcher:
        if not _fits(self.general, length):
            return _none
        branches = [d.national_number_pattern for d in self.types if _fits(d, length)]
        if not branches:
            return _none
        either = "|".join(f"(?:{b})" for b in branches)
        return re.compile(
            f"(?=(?:{self.general.national_number_pattern})\\Z)(?:{either})"
        ).fullmatch


def _none(number: str) -> None:
    return None


class _Region:
    """One region of a calling code: how it claims a number (``leading_digits``, else its
    number types: ``_region_code_for_number_from_list``) and ``is_valid_number_for_region``
    (None: always False)."""

    def __init__(self, md: Any, valid: _Validity | None) -> None:
        leading = md.leading_digits if md is not None else None
        self.leading = re.compile(leading).match if leading is not None else None
        self.claims: _Validity | None = None
        if md is not None and leading is None:
            self.claims = valid if valid is not None and valid.md is md else _Validity(md)
        self.valid = valid


class _Country:
    """What parsing and validating a number with one calling code needs."""

    def __init__(self, cc: int) -> None:
        self.cc = str(cc)
        region = pnu.region_code_for_country_code(cc)
        self.md = PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
        md = self.md
        self.prefix = (
            re.compile(md.national_prefix_for_parsing)
            if md is not None and md.national_prefix_for_parsing
            else None
        )
        self.transform = md.national_prefix_transform_rule if md is not None else None
        self.general = _pattern_matcher(md.general_desc) if md is not None else _never
        # is_valid_number: the region (region_code_for_number), then that region's check
        regions = pnu.COUNTRY_CODE_TO_REGION_CODE.get(cc, ())
        self.regions: list[_Region] = []
        for code in regions:
            valid = _region_validity(cc, code)
            region_md = PhoneMetadata.metadata_for_region(code.upper(), None)
            if len(regions) > 1 and region_md is None:
                continue  # _region_code_for_number_from_list skips it
            self.regions.append(_Region(region_md, valid))
        self.single = len(regions) == 1
        self.stripped_kept: dict[int, bool] = {}

    def may_strip(self, length: int) -> bool:
        """Whether parse keeps a number stripped of its national prefix: it does unless
        ``_test_number_length`` (which looks at the length only) says too short, local
        only or invalid length."""
        kept = self.stripped_kept.get(length)
        if kept is None:
            assert self.md is not None  # plus_digits_e164 checked
            result = pnu._test_number_length("0" * length, self.md)
            kept = self.stripped_kept[length] = result not in _KEEP_PREFIX
        return kept

    def strip_national_prefix(self, number: str) -> str:
        """``_maybe_strip_national_prefix_carrier_code(number, md)[1]``."""
        if self.prefix is None or not number:
            return number
        found = self.prefix.match(number)
        if not found:
            return number
        viable = self.general(number)
        groups = found.groups()
        if not self.transform or groups[len(groups) - 1] is None:
            if viable and not self.general(number[found.end() :]):
                return number
            return number[found.end() :]
        transformed = self.prefix.sub(self.transform, number, count=1)
        if viable and not self.general(transformed):
            return number
        return transformed

    def valid(self, nsn: str) -> bool:
        """``is_valid_number`` of this calling code and national significant number."""
        chosen: _Region | None = None
        if self.single:
            chosen = self.regions[0] if self.regions else None
        else:
            for region in self.regions:
                if region.leading is not None:
                    if region.leading(nsn):
                        chosen = region
                        break
                elif region.claims is not None and region.claims(nsn):
                    if region.claims is region.valid:
                        return True  # the same check, on the same metadata
                    chosen = region
                    break
        return chosen is not None and chosen.valid is not None and chosen.valid(nsn)


def _region_validity(cc: int, region: str) -> _Validity | None:
    """``is_valid_number_for_region`` without the number: None when it is always False."""
    md = PhoneMetadata.metadata_for_region_or_calling_code(cc, region.upper())
    if md is None:
        return None
    if region != _NON_GEO and cc != pnu.country_code_for_valid_region(region):
        return None
    return _Validity(md)


def _calling_code(first: str) -> tuple[int, int] | None:
    """``_extract_country_code``: the first of 1, 2, 3 leading digits that is a known
    calling code, and how many digits it has."""
    for size in (1, 2, 3):
        if int(first[:size]) in pnu.COUNTRY_CODE_TO_REGION_CODE:
            return int(first[:size]), size
    return None


#: the first three digits of a number (no leading 0) → its calling code and its length
_CALLING_CODES = {str(n): _calling_code(str(n)) for n in range(100, 1000)}
_COUNTRIES: dict[int, _Country] = {}
_LOCK = threading.Lock()


def _country(cc: int) -> _Country:
    country = _COUNTRIES.get(cc)
    if country is None:
        with _LOCK:
            country = _COUNTRIES.get(cc)
            if country is None:
                country = _COUNTRIES[cc] = _Country(cc)
    return country


def plus_digits(text: str) -> bool:
    """Whether ``text`` is written as plus_digits_e164 handles (it may still say SLOW,
    when no calling code is known for its first digits)."""
    return _PLUS_DIGITS.fullmatch(text) is not None


def plus_digits_e164(text: str) -> Any:
    """What ``parse(text, "US")`` + ``is_valid_number`` + E.164 give (None: invalid or
    unparseable), or ``SLOW`` when ``text`` is not ``+digits`` as this module handles."""
    if not _PLUS_DIGITS.fullmatch(text):
        return SLOW
    code = _CALLING_CODES.get(text[1:4])
    if code is None:
        return SLOW  # no calling code: phonenumbers retries without the plus
    cc, size = code
    nsn = text[1 + size :]
    if len(nsn) < pnu._MIN_LENGTH_FOR_NSN:
        return None
    country = _country(cc)
    md = country.md
    if md is None:
        return SLOW
    stripped = country.strip_national_prefix(nsn)
    if stripped is not nsn and country.may_strip(len(stripped)):
        nsn = stripped
    if not (nsn.isascii() and nsn.isdigit()):
        return SLOW
    if not pnu._MIN_LENGTH_FOR_NSN <= len(nsn) <= pnu._MAX_LENGTH_FOR_NSN:
        return None
    # the national significant number phonenumbers rebuilds from the parsed number
    # (leading zeros kept as "italian leading zeros") is this same digit string
    return f"+{country.cc}{nsn}" if country.valid(nsn) else None
