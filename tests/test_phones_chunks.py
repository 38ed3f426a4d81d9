"""``normalize_phones`` on columns held in several chunks, as a file read in parts gives
them (polars 2.1 panicked on them in the invalid rows' messages: validate of 3,000 valid
and 200 invalid rows crashed with a Rust panic)."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.phones import normalize_phones


def _in_two_chunks(first: list[str | None], second: list[str | None]) -> pl.Series:
    series = pl.concat(
        [pl.Series(first, dtype=pl.String), pl.Series(second, dtype=pl.String)], rechunk=False
    )
    assert series.n_chunks() == 2
    return series


def test_phones_and_regions_in_two_chunks_give_what_one_chunk_gives() -> None:
    valid = [f"+1 212 200 {i:04d}" for i in range(10)]
    invalid = [f"not a phone {i}" for i in range(3)]
    phones = _in_two_chunks(valid, invalid)
    regions = _in_two_chunks(["US"] * 10, [None, "GB", "us"])
    got = normalize_phones(phones, regions, "US")
    expected = normalize_phones(phones.rechunk(), regions.rechunk(), "US")
    assert_frame_equal(got, expected)
    assert got["phone_error"].to_list() == [None] * 10 + ["invalid_phone"] * 3
    assert got["phone_message"][10] == (
        "'not a phone 0' is not a valid phone number (region US): no phone number in it"
    )
    assert normalize_phones(phones, None, "US")["e164"].null_count() == 3
