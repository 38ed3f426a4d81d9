"""The check's shortcuts agree with the plain way: fields worked out only when wanted,
country hints mapped once per distinct cell, and phones worked out ahead of the check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.dedupe import (
    Deduper,
    check_contacts,
    first_valid_rows,
    kept_numbers,
    number_key,
    settle_duplicates,
)
from pipeline.mapping import map_columns, to_contact_frame
from pipeline.normalize.country import country_code, country_codes
from pipeline.normalize.fields import clean_fields
from pipeline.read import read_table
from pipeline.validate import (
    _attach_problems,
    _phone_problems,
    check_records,
    contact_phones,
    schema_problems,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
REPORT_COLUMNS = ["row", "phone_input", "e164", "status", "error_code", "error_message", "name"]


def _contacts(name: str) -> pl.DataFrame:
    table = read_table(SAMPLES / name)
    columns = [c for c in table.frame.columns if c != "row"]
    return to_contact_frame(table, map_columns(columns, {}, None))


def test_only_the_wanted_fields_are_worked_out_and_they_are_the_same() -> None:
    contacts = _contacts("messy.csv")
    whole = check_contacts(contacts)
    wanted = check_contacts(contacts, wanted=REPORT_COLUMNS)
    assert_frame_equal(wanted.select(REPORT_COLUMNS), whole.select(REPORT_COLUMNS))
    assert wanted["tags"].dtype == pl.String  # as read: not split, nobody asked for it
    assert whole["tags"].dtype == pl.List(pl.String)


def test_phones_worked_out_ahead_give_the_same_check() -> None:
    contacts = _contacts("messy.csv")
    ahead = check_contacts(contacts, phones=contact_phones(contacts, "GB"), default_region="US")
    assert_frame_equal(ahead, check_contacts(contacts, default_region="GB"))


def test_pieces_settled_in_order_give_the_check_of_the_whole() -> None:
    """Duplicates within a piece and of earlier pieces' rows, settled piece by piece with
    the numbers kept so far: the same records as the whole checked at once, and the kept
    numbers settle_duplicates carries are kept_numbers' of each settled piece."""
    once = _contacts("messy.csv")
    twice = pl.concat([once, once.with_columns(pl.col("row") + once.height)])
    whole = check_contacts(twice)
    assert (whole["error_code"] == "duplicate_in_file").sum() > once.height // 2
    kept = pl.DataFrame(schema={"e164_key": pl.Int64, "first_row": pl.Int64})
    settled = []
    for start, length in ((0, 7), (7, once.height), (7 + once.height, twice.height)):
        records = first_valid_rows(check_records(twice.slice(start, length)))
        marked, kept_here = settle_duplicates(records, kept)
        assert_frame_equal(kept_here, kept_numbers(marked))
        kept = pl.concat([kept, kept_here])
        settled.append(marked)
    assert_frame_equal(pl.concat(settled), whole)


def test_a_deduper_settles_pieces_as_the_whole_and_gathers_every_number() -> None:
    """Deduper (what a run uses) settles the pieces as check_contacts does the whole, and
    gathers every number of the file: the kept ones and those of records invalid for
    another reason than the phone (mirror mode keeps them remotely)."""
    once = _contacts("messy.csv")
    twice = pl.concat([once, once.with_columns(pl.col("row") + once.height)])
    whole = check_contacts(twice)
    dedupe = Deduper(all_numbers=True)
    settled = [
        dedupe.settle(first_valid_rows(check_records(twice.slice(start, length))))
        for start, length in ((0, 7), (7, once.height), (7 + once.height, twice.height))
    ]
    assert_frame_equal(pl.concat(settled), whole)
    numbers = whole.select(number_key()).to_series().drop_nulls()
    invalid = whole.filter(pl.col("status") == "invalid").select(number_key()).to_series()
    assert invalid.drop_nulls().len() > 0  # some records have a number and another problem
    assert set(dedupe.numbers().to_list()) == set(numbers.to_list())


def _plainly_attached(frame: pl.DataFrame, problems: pl.DataFrame) -> pl.DataFrame:
    """The plain way: every row's problems grouped (first code in check order, messages
    joined), then joined to the rows."""
    order = pl.col("field").replace_strict(
        {"read": 0, "phone": 1, "email": 2, "timezone": 3, "language": 4, "opted_out": 5},
        default=6,
        return_dtype=pl.Int32,
    )
    per_row = (
        problems.sort(["row", order])
        .group_by("row", maintain_order=True)
        .agg(pl.col("error_code").first(), pl.col("error_message").str.join("; "))
    )
    joined = frame.join(per_row, on="row", how="left", maintain_order="left")
    status = (
        pl.when(pl.col("error_code").is_null()).then(pl.lit("valid")).otherwise(pl.lit("invalid"))
    )
    return joined.with_columns(status.alias("status"))


def test_problems_attach_by_place_as_by_a_join() -> None:
    """Rows with one problem, with several, and none; numbered as pieces are (one after
    another: placed by position) and with gaps (joined)."""
    contacts = _contacts("messy.csv")
    phones = contact_phones(contacts)
    frame = clean_fields(contacts.with_columns(phones["e164"]))
    problems = pl.concat([_phone_problems(contacts["row"], phones), schema_problems(frame)])
    rows = contacts["row"]
    extra = pl.DataFrame(
        {
            "row": rows.gather([0, 0, 3, rows.len() - 1]),
            "field": ["read", "timezone", "read", "language"],
            "error_code": ["malformed_row", "invalid_timezone", "bad_encoding", "invalid_language"],
            "error_message": ["too few cells", "tz", "bytes replaced", "lang"],
        }
    )
    problems = pl.concat([problems, extra])
    assert problems["row"].is_duplicated().any() and problems["row"].n_unique() > 4
    for numbered in (frame, frame.with_columns(pl.col("row") * 3 + 5)):
        renumbered = problems.with_columns(
            pl.col("row").replace_strict(frame["row"], numbered["row"])
        )
        assert_frame_equal(
            _attach_problems(numbered, renumbered), _plainly_attached(numbered, renumbered)
        )


def test_country_hints_map_as_cell_by_cell() -> None:
    cells = ["United Kingdom", " gb ", "GB", "Deutschland", "nowhere", "", None, "U.S.A.", "gb"]
    table = read_table(SAMPLES / "messy.csv")
    frame = pl.DataFrame({"row": range(1, len(cells) + 1), "Phone": "1", "Country": cells})
    mapping = map_columns(["Phone", "Country"], {}, None)
    mapped = country_codes(to_contact_frame(replace(table, frame=frame), mapping)["country"])
    one_by_one = [
        pl.DataFrame({"c": [c]}, schema={"c": pl.String})
        .select(country_code(pl.col("c").str.strip_chars().replace("", None)))
        .item()
        for c in cells
    ]
    assert mapped.to_list() == one_by_one
    assert one_by_one[:4] == ["GB", "GB", "GB", "DE"]


def test_the_checked_records_carry_country_codes() -> None:
    """The contact frame holds the country cells as read; the check makes them codes."""
    contacts = _contacts("messy.csv")
    assert not contacts["country"].drop_nulls().str.contains("^[A-Z]{2}$").all()
    checked = check_contacts(contacts)
    assert checked["country"].to_list() == country_codes(contacts["country"]).to_list()
