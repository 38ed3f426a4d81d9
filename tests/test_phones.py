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


def test_edge_shapes_keep_the_contract() -> None:
    empty = normalize_phones(pl.Series([], dtype=pl.String), None, "US")
    assert empty.columns == ["e164", "phone_error", "phone_message"] and empty.height == 0
    nulls = normalize_phones(pl.Series([None, None]), pl.Series([None, None]), "US")
    assert nulls["phone_error"].to_list() == [MISSING_PHONE, MISSING_PHONE]
    numbers = normalize_phones(pl.Series([4155552671, None]), None, "US")
    assert numbers["e164"].to_list() == ["+14155552671", None]


def test_region_hints_are_cleaned_and_fall_back_to_the_default() -> None:
    cells = ["020 7946 0958", "020 7946 0958", "020 7946 0958", "(415) 555-2671"]
    got = normalize_phones(
        pl.Series(cells), pl.Series([" gb ", "GB", "united kingdom", None]), "US"
    )
    expected = [
        phonenumbers.format_number(
            phonenumbers.parse(cells[0], "GB"), phonenumbers.PhoneNumberFormat.E164
        ),
        phonenumbers.format_number(
            phonenumbers.parse(cells[1], "GB"), phonenumbers.PhoneNumberFormat.E164
        ),
        None,  # "united kingdom" is no ISO code: read with default US, not a valid US number
        "+14155552671",
    ]
    assert got["e164"].to_list() == expected


def test_every_invalid_row_says_why() -> None:
    cells = ["12", "+999 123 456", "1-800-FLOWERS-AND-MORE-LETTERS", "00 44", "x", "+1 555"]
    got = normalize_phones(pl.Series(cells), None, "US")
    invalid = got.filter(pl.col("phone_error") == INVALID_PHONE)
    assert invalid.height > 0
    assert invalid["phone_message"].null_count() == 0
