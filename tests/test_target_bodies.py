"""Request bodies from canonical rows: empty values never sent, one body per row."""

from pipeline.targets.frames import body_of

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
