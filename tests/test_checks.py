"""The check's shortcuts agree with the plain way: fields worked out only when wanted,
country hints mapped once per distinct cell, and phones worked out ahead of the check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.mapping import country_code, map_columns, to_contact_frame
from pipeline.read import read_table
from pipeline.validate import check_contacts, contact_phones

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


def test_country_hints_map_as_cell_by_cell() -> None:
    cells = ["United Kingdom", " gb ", "GB", "Deutschland", "nowhere", "", None, "U.S.A.", "gb"]
    table = read_table(SAMPLES / "messy.csv")
    frame = pl.DataFrame({"row": range(1, len(cells) + 1), "Phone": "1", "Country": cells})
    mapping = map_columns(["Phone", "Country"], {}, None)
    mapped = to_contact_frame(replace(table, frame=frame), mapping)
    one_by_one = [
        pl.DataFrame({"c": [c]}, schema={"c": pl.String})
        .select(country_code(pl.col("c").str.strip_chars().replace("", None)))
        .item()
        for c in cells
    ]
    assert mapped["country"].to_list() == one_by_one
    assert one_by_one[:4] == ["GB", "GB", "GB", "DE"]
