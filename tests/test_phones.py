import phonenumbers
import polars as pl

from pipeline.phones import INVALID_PHONE, MISSING_PHONE, normalize_phones


def test_example_numbers_of_every_region_agree_with_phonenumbers() -> None:
    cells, regions, expected = [], [], []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region)
        if example is None:
            continue
        for fmt in (
            phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        ):
            cell = phonenumbers.format_number(example, fmt)
            cells.append(cell)
            regions.append(region)
            parsed = phonenumbers.parse(cell, region)
            expected.append(
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                if phonenumbers.is_valid_number(parsed)
                else None
            )
    got = normalize_phones(pl.Series(cells), pl.Series(regions), "US")
    assert got["e164"].to_list() == expected


def test_missing_and_invalid_get_their_codes() -> None:
    got = normalize_phones(pl.Series(["", None, "12", "+1 415 555 2671"]), None, "US")
    assert got["phone_error"].to_list() == [MISSING_PHONE, MISSING_PHONE, INVALID_PHONE, None]
    assert got["e164"].to_list() == [None, None, None, "+14155552671"]
