"""Small batches against plain phonenumbers.

normalize_phones has a fixed cost per call, so small frames take other routes through
pipeline.normalize.phones_fast (steps given few rows ask phonenumbers row by row; small frames skip
the streaming engine and split routes by gathers). Every expectation here is computed with
phonenumbers itself (parse with the row's region, is_valid_number, E.164), never with
pipeline code, and the answers must not depend on which route a row took.
"""

from __future__ import annotations

from collections.abc import Iterator

import phonenumbers
import polars as pl
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from polars.testing import assert_frame_equal

from pipeline.normalize import phones as phones_module
from pipeline.normalize.phones_fast import frames
from pipeline.phones import INVALID_PHONE, MISSING_PHONE, normalize_phones
from tests.test_phones_fast import effective_region, expected_e164

# Regions with their own calling code, and regions sharing one (+1, +44, +7, +262, +61...).
REGIONS = (
    "US", "CA", "JM", "PR", "GB", "GG", "JE", "IM", "DE", "FR", "IT", "ES", "NL", "BR", "AR",
    "MX", "IN", "JP", "CN", "AU", "CX", "CC", "RU", "KZ", "RE", "YT", "ZA", "NG", "SG", "CH",
)  # fmt: skip
TYPES = tuple(
    t
    for t in PhoneNumberType.values()
    if t not in (PhoneNumberType.UNKNOWN, PhoneNumberType.FIXED_LINE_OR_MOBILE)
)
FORMATS = (
    PhoneNumberFormat.E164,
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.NATIONAL,
    PhoneNumberFormat.RFC3966,
)
JUNK = (
    "12", "x", "abc", "+999 123 456", "00 44", "+1 555", "1-800-FLOWERS", "+44 20 7946",
    # too long for a number, starting with a region's own calling code (or not)
    "141555526710", "1415555267141555", "14155552671415555267", "4420794609581234",
    "442079460958123456789", "0044207946095812345678", "011 1 415 555 2671 415 555",
)  # fmt: skip
BLANK: tuple[str | None, ...] = (None, "", "   ", "\t")


def _examples() -> Iterator[phonenumbers.PhoneNumber]:
    for region in REGIONS:
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                yield number


def _written(number: phonenumbers.PhoneNumber) -> Iterator[str]:
    """The example in every format, without punctuation, after an IDD, with an extension."""
    for fmt in FORMATS:
        yield phonenumbers.format_number(number, fmt)
    nsn = phonenumbers.national_significant_number(number)
    yield nsn
    yield f"011 {number.country_code} {nsn}"
    yield f"00{number.country_code}{nsn}"
    yield f"{number.country_code}{nsn}"
    yield f"+{number.country_code} {nsn} ext. 7"


def cells() -> list[tuple[str, str]]:
    """(text, region hint): each example written every way, read with several regions."""
    found: dict[tuple[str, str], None] = {}
    for number in _examples():
        home = phonenumbers.region_code_for_number(number) or "US"
        for text in _written(number):
            for region in (home, "US", "GB"):
                found[(text, region)] = None
    return list(found)


CELLS = cells()
PLUS = [(t, r) for t, r in CELLS if t.startswith("+")]
NATIONAL = [(t, r) for t, r in CELLS if t[0].isdigit() or t[0] == "("]


def check(rows: list[tuple[str | None, str | None]], default: str = "US") -> pl.DataFrame:
    """normalize_phones on rows must give phonenumbers' E.164 and matching error codes."""
    texts = [t for t, _ in rows]
    hints = [h for _, h in rows]
    got = normalize_phones(
        pl.Series(texts, dtype=pl.String), pl.Series(hints, dtype=pl.String), default
    )
    want = [expected_e164(t, effective_region(h, default)) for t, h in rows]
    assert got["e164"].to_list() == want
    errors = [
        MISSING_PHONE if t is None or not t.strip() else None if e else INVALID_PHONE
        for t, e in zip(texts, want, strict=True)
    ]
    assert got["phone_error"].to_list() == errors
    assert got.filter(pl.col("phone_error").is_not_null())["phone_message"].null_count() == 0
    return got


def test_the_pool_is_big_and_mixed() -> None:
    assert len(CELLS) > 1000 and len(PLUS) > 200 and len(NATIONAL) > 200
    valid = sum(expected_e164(t, r) is not None for t, r in CELLS)
    assert 0.3 * len(CELLS) < valid < len(CELLS)


def test_empty_series() -> None:
    for regions in (None, pl.Series([], dtype=pl.String)):
        got = normalize_phones(pl.Series([], dtype=pl.String), regions, "US")
        assert got.columns == ["e164", "phone_error", "phone_message"]
        assert got.height == 0
        assert got.schema == {
            "e164": pl.String,
            "phone_error": pl.String,
            "phone_message": pl.String,
        }


@pytest.mark.parametrize("row", CELLS[:: max(1, len(CELLS) // 60)] + [(j, "US") for j in JUNK])
def test_one_row(row: tuple[str, str]) -> None:
    check([row])


@pytest.mark.parametrize("text", BLANK)
def test_one_blank_row(text: str | None) -> None:
    got = check([(text, None)])
    assert got["phone_message"].to_list() == ["phone is empty"]


def test_all_plus_inputs_without_regions() -> None:
    texts = [t for t, _ in PLUS[:300]]
    got = normalize_phones(pl.Series(texts, dtype=pl.String), None, "US")
    assert got["e164"].to_list() == [expected_e164(t, "US") for t in texts]


def test_all_plus_inputs() -> None:
    check(PLUS[:400])


def test_all_national_inputs() -> None:
    check(NATIONAL[:400])


def test_mixed_with_blanks_junk_and_odd_hints() -> None:
    rows: list[tuple[str | None, str | None]] = []
    odd_hints = (None, " gb ", "united kingdom", "de", "ZZ", "")
    for i, (text, region) in enumerate(CELLS[:300]):
        rows.append((text, region))
        if i % 10 == 0:
            rows.append((BLANK[i % len(BLANK)], region))
        if i % 7 == 0:
            rows.append((JUNK[i % len(JUNK)], odd_hints[i % len(odd_hints)]))
        if i % 5 == 0:
            rows.append((text, odd_hints[i % len(odd_hints)]))
    check(rows)
    check(rows, default="GB")


def test_equal_inputs_get_equal_answers() -> None:
    rows = CELLS[:50] * 4 + [(None, "US"), ("", "US")] * 3
    got = check(rows)
    assert got.head(50).equals(got.slice(50, 50))


THRESHOLDS = (
    frames.FEW_VALID,
    frames.FEW_LATER,
    frames.FEW_OWN,
    frames.FEW_STRIP,
)
SIZES = sorted({2, 3, 10, *(t + d for t in THRESHOLDS for d in (-1, 0, 1))})


@pytest.mark.parametrize("size", SIZES)
def test_batch_sizes_around_the_thresholds(size: int) -> None:
    # Spread over the pool so that each batch mixes regions, formats and outcomes.
    step = max(1, len(CELLS) // size)
    check(CELLS[::step][:size])
    check(PLUS[:size])
    check(NATIONAL[-size:])


NEVER, ALWAYS = 0, 10**9
ROUTES = {
    # every step that can ask phonenumbers row by row does
    "row by row": {
        "FEW_VALID": ALWAYS,
        "FEW_LATER": ALWAYS,
        "FEW_STRIP": ALWAYS,
        "FEW_OWN": ALWAYS,
    },
    # no step does: every step in polars
    "all polars": {
        "FEW_VALID": NEVER,
        "FEW_LATER": NEVER,
        "FEW_STRIP": NEVER,
        "FEW_OWN": NEVER,
    },
    # the code large frames take (streaming engine, routes by filters, hints cleaned once
    # per distinct value), on small frames
    "large-frame code": {
        "FEW_VALID": NEVER,
        "FEW_LATER": NEVER,
        "FEW_STRIP": NEVER,
        "FEW_OWN": NEVER,
        "STREAMING_ROWS": NEVER,
        "_CLEAN_EACH": NEVER,
    },
}


@pytest.fixture(scope="module")
def mixed_rows() -> list[tuple[str | None, str | None]]:
    rows: list[tuple[str | None, str | None]] = list(CELLS[::2][:500])
    rows += [(j, region) for j in JUNK for region in ("US", "GB")] + [(b, "FR") for b in BLANK]
    return rows


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_route_gives_the_same_answers(
    route: str, mixed_rows: list[tuple[str | None, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = pl.Series([t for t, _ in mixed_rows], dtype=pl.String)
    hints = pl.Series([h for _, h in mixed_rows], dtype=pl.String)
    usual = normalize_phones(texts, hints, "US")
    for name, value in ROUTES[route].items():
        module = phones_module if name == "_CLEAN_EACH" else frames
        monkeypatch.setattr(module, name, value)
    forced = check(mixed_rows)
    assert_frame_equal(forced, usual)  # e164, codes and messages alike
    for size in (1, 5, 64, 129):
        part = normalize_phones(texts.head(size), hints.head(size), "US")
        assert_frame_equal(part, usual.head(size))
