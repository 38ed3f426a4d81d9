"""Benchmark: batch phone normalization against the per-row phonenumbers loop.

``python -m bench.phones [n] [seed]`` prints the figures for n generated messy phones
(default 1,000,000). ``bench_phones(n, seed)`` returns them as a dict for ``make bench``.
"""

from __future__ import annotations

import functools
import random
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TypeVar

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata, PhoneNumberType, re_util

from bench.cache import iowait_seconds, shared_libraries, warm
from pipeline.normalize.phones import effective_regions, normalize_phones, reference_e164
from pipeline.normalize.phones_fast import DEFER, fast_e164

DEFAULT_REGION = "US"
T = TypeVar("T")
R = TypeVar("R")

#: every number type phonenumbers has example numbers of
NUMBER_TYPES = (
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
)
# Where contact lists come from, roughly; every other region gets a thin tail.
_COMMON = {
    "US": 30, "GB": 8, "DE": 5, "FR": 5, "IN": 5, "BR": 4, "CA": 4, "AU": 3, "MX": 3,
    "ES": 3, "IT": 3, "NL": 2, "JP": 2, "AR": 2, "ZA": 2, "NG": 2, "PH": 2, "PL": 1,
    "SE": 1, "CH": 1, "AT": 1, "BE": 1, "IE": 1, "NZ": 1, "SG": 1, "AE": 1, "CO": 1,
}  # fmt: skip
_JUNK = (
    "", "   ", "N/A", "n/a", "none", "-", "unknown", "0", "00", "tbd", "?", "x", "555",
    "call after 5pm", "see notes", "1-800-FLOWERS", "+1 800 GOT JUNK", "555-CALL-NOW",
    "＋１ ２０２ ５５５ ０１２３", "٠١٢٣٤٥٦٧٨٩", "+44 20 7946 0958 / 020 7946 0959",
    "tel:+1-202-555-0123;ext=12", "tel:555-1234;phone-context=+1-202", "555-1234 #12",
    "+49 (0)30 1234567-89", "(555) 123-4567 ext 1234567", "12", "+", "++44", "#",
)  # fmt: skip
_EXTENSIONS = (" x12", " x 5", " ext. 45", " ext 9", " Ext. 1234", "x203", " extension 7")
_LABELS = ("Tel: ", "tel:", "Mobile: ", "phone ", "(", "cell - ")


@dataclass(frozen=True)
class _Profile:
    region: str
    cc: str
    trunk: str
    idd: str
    examples: tuple[str, ...]


def _dial_prefix(meta: PhoneMetadata) -> str:
    prefix = meta.preferred_international_prefix or meta.international_prefix or ""
    return prefix if prefix.isdigit() else ""


def _examples(region: str) -> tuple[str, ...]:
    found = []
    for kind in NUMBER_TYPES:
        number = phonenumbers.example_number_for_type(region, kind)
        if number is not None:
            found.append(phonenumbers.national_significant_number(number))
    return tuple(found)


@functools.cache
def _profiles() -> tuple[_Profile, ...]:
    profiles = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        meta = PhoneMetadata.metadata_for_region(region)
        examples = _examples(region)
        if meta is None or not examples:
            continue
        cc, trunk = str(meta.country_code), meta.national_prefix or ""
        profiles.append(_Profile(region, cc, trunk, _dial_prefix(meta), examples))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            nsn = phonenumbers.national_significant_number(number)
            profiles.append(_Profile("001", str(code), "", "", (nsn,)))
    return tuple(profiles)


def _any(rng: random.Random, items: Sequence[T]) -> T:
    """rng.choice without its rejection sampling (several times faster; seeded all the same)."""
    return items[int(rng.random() * len(items))]


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _random_digits(rng: random.Random, count: int) -> str:
    return f"{int(rng.random() * 10**count):0{count}d}" if count else ""


def _mutate(rng: random.Random, nsn: str) -> str:
    roll = rng.random()
    if roll < 0.04:
        return nsn[:-1]
    if roll < 0.08:
        return nsn + _random_digits(rng, 1)
    keep = max(2, len(nsn) - _between(rng, 3, 6))
    return nsn[:keep] + _random_digits(rng, len(nsn) - keep)


def _group(rng: random.Random, digits: str, sep: str) -> str:
    parts, i = [], 0
    while i < len(digits):
        step = _between(rng, 2, 4)
        parts.append(digits[i : i + step])
        i += step
    return sep.join(parts)


def _format(rng: random.Random, p: _Profile, nsn: str, writer: _Profile) -> str:
    sep = _any(rng, (" ", " ", "-", ".", ""))
    roll = rng.random()
    if roll < 0.15 or p.region == "001":
        return f"+{p.cc}{nsn}" if rng.random() < 0.5 else f"+{p.cc} {_group(rng, nsn, sep)}"
    if roll < 0.35:
        return f"+{p.cc} {_group(rng, nsn, sep)}"
    if roll < 0.37 and p.trunk:
        return f"+{p.cc} ({p.trunk}) {_group(rng, nsn, ' ')}"
    if roll < 0.60:
        return p.trunk + _group(rng, nsn, sep)
    if roll < 0.67:
        return f"({p.trunk}{nsn[:3]}) {_group(rng, nsn[3:], sep)}"
    if roll < 0.74:
        return p.trunk + nsn
    if roll < 0.79:
        return nsn
    if roll < 0.84:
        return f"{p.cc}{nsn}" if rng.random() < 0.5 else f"{p.cc} {_group(rng, nsn, sep)}"
    if roll < 0.90 and writer.idd:
        return f"{writer.idd} {p.cc} {_group(rng, nsn, sep)}"
    if roll < 0.92:
        return f"00{p.cc}{nsn}"
    if roll < 0.95:
        return f"tel:+{p.cc}-{_group(rng, nsn, '-')}"
    return f"{p.trunk}{nsn[:3]}/{_group(rng, nsn[3:], sep)}"


def _region_hint(rng: random.Random, p: _Profile, profiles: tuple[_Profile, ...]) -> str | None:
    roll = rng.random()
    if roll < 0.85 and p.region != "001":
        return p.region
    if roll < 0.92:
        return None
    if roll < 0.96:
        return _any(rng, profiles).region
    if roll < 0.98 and p.region != "001":
        return _any(rng, (p.region.lower(), f" {p.region} ", p.region.title()))
    return _any(rng, ("UK", "USA", "", "XX", "EU", "001", "u.s."))


def _decorate(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.03:
        return text + _any(rng, _EXTENSIONS)
    if roll < 0.06:
        return _any(rng, ("  ", " ", "\t")) + text + _any(rng, ("", " ", "  ", "."))
    if roll < 0.07:
        return _any(rng, _LABELS) + text
    if roll < 0.075:
        return text.replace(" ", "\u00a0")
    return text


def _row(rng: random.Random, profiles: tuple[_Profile, ...]) -> tuple[str | None, str | None]:
    if rng.random() < 0.025:
        return _any(rng, (*_JUNK, None)), _any(rng, ("US", "GB", None))
    if rng.random() < 0.02:
        digits = _random_digits(rng, _between(rng, 1, 15)) + _random_digits(
            rng, _between(rng, 0, 7)
        )
        return digits, _any(rng, profiles).region
    p = _pick(rng, profiles)
    nsn = _mutate(rng, _any(rng, p.examples))
    hint = _region_hint(rng, p, profiles)
    writer = _writer(profiles, hint) or p
    return _decorate(rng, _format(rng, p, nsn, writer)), hint


@functools.cache
def _by_region() -> dict[str, _Profile]:
    return {p.region: p for p in _profiles() if p.region != "001"}


def _writer(profiles: tuple[_Profile, ...], hint: str | None) -> _Profile | None:
    return _by_region().get((hint or DEFAULT_REGION).strip().upper())


@functools.cache
def _common() -> tuple[_Profile, ...]:
    """The common regions, each repeated by its weight (a uniform pick is a weighted one)."""
    return tuple(_by_region()[region] for region, n in _COMMON.items() for _ in range(n))


def _pick(rng: random.Random, profiles: tuple[_Profile, ...]) -> _Profile:
    return _any(rng, _common() if rng.random() < 0.8 else profiles)


def messy_phones(n: int, seed: int) -> pl.DataFrame:
    """``n`` seeded contact rows: ``phone`` in mixed real-world shapes, ``region`` hint."""
    rng = random.Random(seed)
    profiles = _profiles()
    rows = [_row(rng, profiles) for _ in range(n)]
    return pl.DataFrame(rows, schema={"phone": pl.String, "region": pl.String}, orient="row")


def _loop(pairs: list[tuple[str | None, str]]) -> list[str | None]:
    """The per-row phonenumbers loop (parse, is_valid_number, E.164) the batch must match."""
    return [
        reference_e164(text, region)[0] if text and text.strip() else None for text, region in pairs
    ]


def _cached_loop_seconds(pairs: list[tuple[str | None, str]]) -> float:
    """The same loop with phonenumbers' own compiled-pattern cache on (run in a child)."""
    re_util.enable_pattern_cache()
    started = time.perf_counter()
    _loop(pairs)
    return time.perf_counter() - started


def _timed(work: Callable[[], R]) -> tuple[R, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def bench_phones(n: int, seed: int, *, cached_loop: bool = True) -> dict[str, float | int]:
    """Time the per-row loop and ``normalize_phones`` on the same n messy phones.

    ``batch_seconds`` is the first call in the process (metadata compiled, regexes built),
    its libraries' files read into the page cache first (``bench.cache``);
    ``batch_warm_seconds`` the best of two more. ``loop_cached_seconds`` (optional) runs the
    loop in a fresh process with phonenumbers' pattern cache enabled, the fairest baseline.
    """
    frame = messy_phones(n, seed)
    phones, hints = frame["phone"], frame["region"]
    regions = effective_regions(hints, DEFAULT_REGION, n)
    pairs = list(zip(phones.to_list(), regions.to_list(), strict=True))
    expected, loop_s = _timed(lambda: _loop(pairs))
    # The libraries back in the page cache after the loop's minutes (see bench.cache).
    warm(shared_libraries())
    waited = iowait_seconds()
    got, batch_s = _timed(lambda: normalize_phones(phones, hints, DEFAULT_REGION))
    waited = iowait_seconds() - waited
    warm_s = min(
        _timed(lambda: normalize_phones(phones, hints, DEFAULT_REGION))[1] for _ in range(2)
    )
    status = fast_e164(phones.fill_null(""), regions)["status"]
    deferred = int((status == DEFER).sum())
    e164 = got["e164"].to_list()
    figures: dict[str, float | int] = {
        "rows": n,
        "valid_rows": sum(1 for x in expected if x is not None),
        "loop_seconds": round(loop_s, 2),
        "loop_rows_per_second": round(n / loop_s),
        "batch_seconds": round(batch_s, 3),
        "batch_warm_seconds": round(warm_s, 3),
        "batch_iowait_seconds": round(waited, 2),
        "batch_rows_per_second": round(n / batch_s),
        "speedup": round(loop_s / batch_s, 1),
        "speedup_warm": round(loop_s / warm_s, 1),
        "fast_path_deferred_rows": deferred,
        "fast_path_decided_share": round(1 - deferred / n, 5),
        "disagreements": sum(1 for a, b in zip(e164, expected, strict=True) if a != b),
    }
    if cached_loop:
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            cached_s = pool.submit(_cached_loop_seconds, pairs).result()
        figures["loop_cached_seconds"] = round(cached_s, 2)
        figures["speedup_vs_cached_loop"] = round(cached_s / batch_s, 1)
    return figures


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 1_000_000
    seed = int(argv[1]) if len(argv) > 1 else 0
    print(f"phone normalization, {n:,} generated messy phones (seed {seed})", flush=True)
    for name, value in bench_phones(n, seed).items():
        print(f"{name:>24}: {value}")


if __name__ == "__main__":
    main(sys.argv[1:])
