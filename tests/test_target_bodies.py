"""Request bodies from canonical rows: empty values never sent, one body per row."""

import polars as pl

from pipeline.targets.base import body_of, payloads

NAMES = {
    "e164": "phone",
    "first_name": "firstName",
    "email": "email",
    "tags": "tags",
    "metadata": "meta",
}


def test_empty_values_are_left_out_and_names_translated() -> None:
    record = {
        "e164": "+14155552671",
        "first_name": "",
        "email": None,
        "tags": [],
        "metadata": '{"tier": "gold"}',
    }
    assert body_of(record, NAMES) == {"phone": "+14155552671", "meta": {"tier": "gold"}}


def test_only_the_named_fields() -> None:
    record = {"e164": "+14155552671", "first_name": "Ann", "email": "a@example.com"}
    assert body_of(record, NAMES, ["email"]) == {"email": "a@example.com"}
    assert body_of(record, NAMES, []) == {}


def test_payloads_gives_one_body_per_row_even_without_wanted_columns() -> None:
    frame = pl.DataFrame(
        {"row": [1, 2], "e164": ["+14155552671", "+14155552672"], "email": [None, "b@example.com"]}
    )
    assert payloads(frame, NAMES) == [
        {"phone": "+14155552671"},
        {"phone": "+14155552672", "email": "b@example.com"},
    ]
    assert payloads(frame, NAMES, ["notes"]) == [{}, {}]
    assert payloads(frame, NAMES, []) == [{}, {}]
