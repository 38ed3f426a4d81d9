"""The batch normalizer against plain phonenumbers: zero disagreements, or a bug.

Every expectation here is computed with phonenumbers itself (parse with the row's region,
``is_valid_number``, E.164), never with pipeline code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context

import phonenumbers
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType, re_util
from phonenumbers.timezone import time_zones_for_number

from bench.phones import messy_phones
from pipeline.normalize import phones as phones_module
from pipeline.normalize.phones import normalize_phones
from pipeline.normalize.phones_fast import DEFER, fast_e164, rules, validity_patterns
from pipeline.normalize.phones_fast import meta as meta_module
from pipeline.normalize.phones_fast.meta import Meta

DEFAULTS = ("US", "GB", "DE", "BR", "AU", "IN", "JP", "AR")
FORMATS = (
    PhoneNumberFormat.E164,
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.NATIONAL,
    PhoneNumberFormat.RFC3966,
)
TYPES = tuple(
    t
    for t in PhoneNumberType.values()
    if t not in (PhoneNumberType.UNKNOWN, PhoneNumberType.FIXED_LINE_OR_MOBILE)
)


# ----------------------------------------------------------------------------- reference


def effective_region(hint: str | None, default: str) -> str:
    """The contract's region rule: stripped, upper-cased, two letters, else the default."""
    cleaned = hint.strip().upper() if hint is not None else ""
    return cleaned if re.fullmatch("[A-Z]{2}", cleaned) else default


def expected_e164(text: str | None, region: str) -> str | None:
    """Plain phonenumbers: parse with the region, is_valid_number, E.164."""
    if text is None or not text.strip():
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def expected_calling(text: str | None, region: str) -> str | None:
    """Plain phonenumbers for a valid number: number_type's name and time_zones_for_number
    joined by '&', as ``"type|zones"``; None when not valid."""
    if expected_e164(text, region) is None:
        return None
    number = phonenumbers.parse(text, region)
    kind = PhoneNumberType.to_string(phonenumbers.number_type(number)).lower()
    return f"{kind}|{'&'.join(time_zones_for_number(number))}"


def _expected_chunk(pairs: list[tuple[str | None, str]]) -> list[tuple[str | None, str | None]]:
    return [(expected_e164(text, region), expected_calling(text, region)) for text, region in pairs]


def _worker_setup() -> None:
    """Keep compiled metadata regexes (phonenumbers' own switch; same answers, faster)."""
    re_util.enable_pattern_cache()


def expected_many(
    pairs: list[tuple[str | None, str]], workers: int = 2
) -> list[tuple[str | None, str | None]]:
    """expected_e164 over many pairs, in worker processes (fresh interpreters)."""
    if len(pairs) < 50_000:
        return _expected_chunk(pairs)
    size = -(-len(pairs) // (workers * 8))
    chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_setup) as pool:
        return [e164 for part in pool.map(_expected_chunk, chunks) for e164 in part]


def assert_agrees(
    texts: Sequence[str | None], hints: Sequence[str | None], default: str = "US"
) -> pl.DataFrame:
    """normalize_phones(texts, hints, default) must give phonenumbers' E.164 on every row,
    and for valid numbers its number_type and time_zones_for_number."""
    got = normalize_phones(
        pl.Series(texts, dtype=pl.String),
        pl.Series(hints, dtype=pl.String),
        default,
        calling=True,
    )
    calling = pl.concat_str(got["number_type"], got["zones"].cast(pl.String), separator="|")
    frame = pl.DataFrame(
        {"text": texts, "region": [effective_region(h, default) for h in hints]},
        schema={"text": pl.String, "region": pl.String},
    ).with_columns(got=got["e164"], got_calling=calling)
    pairs = frame.select("text", "region").unique()
    answers = expected_many(list(pairs.iter_rows()))
    truth = pairs.with_columns(
        want=pl.Series([e164 for e164, _ in answers], dtype=pl.String),
        want_calling=pl.Series([c for _, c in answers], dtype=pl.String),
    )
    frame = frame.join(truth, on=["text", "region"], how="left", nulls_equal=True)
    wrong = frame.filter(
        pl.col("got").ne_missing(pl.col("want"))
        | pl.col("got_calling").ne_missing(pl.col("want_calling"))
    )
    assert wrong.height == 0, f"{wrong.height} disagreements, e.g.\n{wrong.head(20)}"
    return got


def decided_share(texts: list[str], regions: list[str]) -> float:
    status = fast_e164(pl.Series(texts, dtype=pl.String), pl.Series(regions))["status"]
    return int((status != DEFER).sum()) / len(status)


# ----------------------------------------------------------------------------- examples


def _punctuation_variants(text: str) -> Iterator[str]:
    yield text
    yield re.sub(r"[^\d+]", "", text)
    yield re.sub(r"[ ]", "-", text)
    yield re.sub(r"[ \-]", ".", text)
    yield re.sub(r"[ \-]", "", text)


def _written_forms(number: phonenumbers.PhoneNumber, region: str) -> Iterator[str]:
    """Every format, with/without punctuation, trunk prefix, IDDs, cc without '+', ext."""
    for fmt in FORMATS:
        yield from _punctuation_variants(phonenumbers.format_number(number, fmt))
    cc = number.country_code
    nsn = phonenumbers.national_significant_number(number)
    meta = PhoneMetadata.metadata_for_region(region)
    trunk = (meta.national_prefix or "") if meta is not None else ""
    yield from (nsn, trunk + nsn, f"({trunk}{nsn[:3]}) {nsn[3:]}", f"{cc}{nsn}", f"{cc} {nsn}")
    yield from (f"011 {cc} {nsn}", f"00{cc}{nsn}", f"00 {cc} {nsn}", f"+{cc} (0) {nsn}")
    yield from (f"+{cc} {nsn} ext. 12", f"+{cc}{nsn}x3", f"tel:+{cc}-{nsn}", f"'+{cc}{nsn}")
    if meta is not None and meta.preferred_international_prefix:
        yield f"{meta.preferred_international_prefix} {cc} {nsn}"


def example_cells() -> list[tuple[str, str]]:
    """(text, region) for every example number of every region and type, written every way."""
    cells: set[tuple[str, str]] = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                cells.update((text, region) for text in _written_forms(number, region))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            cells.update((text, "US") for text in _written_forms(number, "US"))
    return sorted(cells)


@pytest.fixture(scope="module")
def examples() -> list[tuple[str, str]]:
    return example_cells()


def test_every_example_number_in_every_form_with_its_own_region(examples: list) -> None:
    texts, regions = [t for t, _ in examples], [r for _, r in examples]
    assert_agrees(texts, regions)
    assert decided_share(texts, regions) > 0.97


@pytest.mark.parametrize("default", DEFAULTS)
def test_every_example_number_in_every_form_read_from_elsewhere(
    examples: list, default: str
) -> None:
    texts = [t for t, _ in examples]
    assert_agrees(texts, [None] * len(texts), default)


def test_idd_of_every_region_in_front_of_every_example() -> None:
    texts, hints = [], []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        meta = PhoneMetadata.metadata_for_region(region)
        assert meta is not None
        prefix = meta.preferred_international_prefix or meta.international_prefix or ""
        if not prefix.isdigit():
            continue
        for other in ("US", "GB", "FR", "JP", "BR", region):
            number = phonenumbers.example_number(other)
            if number is not None:
                nsn = phonenumbers.national_significant_number(number)
                texts += [f"{prefix} {number.country_code} {nsn}", f"{prefix}0{nsn}"]
                hints += [region, region]
    assert_agrees(texts, hints)


# ----------------------------------------------------------------------------- hypothesis

HINTS = st.one_of(
    st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
    st.sampled_from(["us", " gb ", "Uk", "XX", "ZZ", "001", "", "usa", "de"]),
    st.none(),
)


@st.composite
def phone_like(draw: st.DrawFn) -> str:
    """Digits, punctuation, '+', prefixes, extensions and odd characters, in any order."""
    pieces = st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=12),
        st.sampled_from(["+", "++", " ", "-", ".", "/", "(", ")", "(0)", "\u00a0", "\t"]),
        st.sampled_from(["0", "00", "011", "8~10", "1", "44", "49", "55", "54", "81", "7"]),
        st.sampled_from([" x", "x", " ext. ", " EXT ", "ext:", " extension ", ";ext=", "#"]),
        st.sampled_from(["tel:", "Tel: ", "'", '"', "=", ",", ";", "*", "~", "abc", "X"]),
        st.sampled_from(["\uff11", "\u0661", "\uff0b", "\u2013", "\u3000", "15", "9", "80"]),
    )
    return "".join(draw(st.lists(pieces, max_size=10)))


@st.composite
def mutated_example(draw: st.DrawFn) -> tuple[str, str | None]:
    """An example number written some way, then a few characters changed."""
    region = draw(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
    kind = draw(st.sampled_from(TYPES))
    number = phonenumbers.example_number_for_type(region, kind)
    number = number or phonenumbers.example_number(region) or phonenumbers.parse("+12015550123")
    chars = list(draw(st.sampled_from(list(_written_forms(number, region)))))
    for _ in range(draw(st.integers(0, 3))):
        if not chars:
            break
        i = draw(st.integers(0, len(chars) - 1))
        chars[i] = draw(st.sampled_from("0123456789 +-()x"))
    return "".join(chars), draw(st.one_of(st.just(region), HINTS))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.text(max_size=30), HINTS), min_size=1, max_size=60))
def test_arbitrary_text_agrees(rows: list[tuple[str, str | None]]) -> None:
    assert_agrees([t for t, _ in rows], [h for _, h in rows])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(phone_like(), HINTS), min_size=1, max_size=80))
def test_phone_like_text_agrees(rows: list[tuple[str, str | None]]) -> None:
    assert_agrees([t for t, _ in rows], [h for _, h in rows])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_example(), min_size=1, max_size=80), st.sampled_from(DEFAULTS))
def test_mutated_examples_agree(rows: list[tuple[str, str | None]], default: str) -> None:
    assert_agrees([t for t, _ in rows], [h for _, h in rows], default)


# ----------------------------------------------------------------------------- corpus


def test_a_million_messy_phones_agree() -> None:
    frame = messy_phones(1_000_000, seed=20261124)
    texts, hints = frame["phone"].to_list(), frame["region"].to_list()
    assert_agrees(texts, hints)
    regions = [effective_region(h, "US") for h in hints]
    assert decided_share([t or "" for t in texts], regions) > 0.98


# ----------------------------------------------------------------------------- building blocks


def test_every_keyed_pattern_compiles_in_polars() -> None:
    r = rules()
    probe = pl.Series(["0001234567"])
    for pattern in (r.cc, r.idd, r.national_prefix, r.general, r.leading_digits):
        probe.str.contains(pattern)
    every_region = validity_patterns(frozenset(r.valid_by_code))
    for pattern in (*every_region, r.transform, r.later_leading_digits):
        probe.str.contains(pattern)


def test_polars_digits_include_every_python_digit() -> None:
    """_settle_rest counts digits with polars' \\d; it must see every digit Python's does."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    python = [c for c in chars if re.fullmatch(r"\d", c)]
    assert pl.Series(python).str.contains(r"^\d$").all()


def test_one_row_at_a_time(examples: list) -> None:
    """Tiny batches leave most routes empty; each must still answer like phonenumbers."""
    picked = examples[:: max(1, len(examples) // 40)]
    extra = [("", "US"), ("+999 1234", "US"), ("12", "GB"), ("00 44", "GB"), ("x", "ZZ")]
    extra += [("+ x", "US"), ("+abc", "US"), ("+12 ab", "FR"), ("+\u0663\u0664\u0665", "EG")]
    for text, region in [*picked, *extra]:
        assert_agrees([text], [region])


def test_untranslatable_regions_are_deferred_not_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A region whose metadata the fast path cannot translate (here: pretend GB, CA, AR)
    sends its rows, and the rows of calling codes it shares, to phonenumbers."""
    compile_meta = meta_module._compile_meta

    def pretend(code: str, meta: PhoneMetadata) -> Meta:
        compiled = compile_meta(code, meta)
        return replace(compiled, supported=compiled.supported and meta.id not in {"GB", "CA", "AR"})

    monkeypatch.setattr(meta_module, "_compile_meta", pretend)
    rules.cache_clear()
    try:
        texts = ["+44 20 7946 0958", "020 7946 0958", "(415) 555-2671", "+54 9 11 1234 5678"]
        hints = ["US", "GB", "US", "US"]
        assert set(fast_e164(pl.Series(texts), pl.Series(hints))["status"]) == {DEFER}
        assert_agrees([*texts, "+33 1 23 45 67 89"], [*hints, "FR"])
    finally:
        monkeypatch.undo()
        rules.cache_clear()


def test_a_failing_fast_path_costs_speed_not_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(phones: pl.Series, regions: pl.Series) -> pl.DataFrame:
        raise pl.exceptions.ComputeError("simulated")

    monkeypatch.setattr(phones_module, "fast_e164", broken)
    with pytest.warns(UserWarning, match="fast path failed"):
        assert_agrees(["+1 415 555 2671", "020 7946 0958", "x", ""], ["US", "GB", None, None])
