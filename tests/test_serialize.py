"""pipeline.targets.serialize: bodies from frames equal body_of's, row by row."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.dedupe import check_contacts
from pipeline.mapping import map_columns, to_contact_frame
from pipeline.read import read_table
from pipeline.targets import builtin_description
from pipeline.targets.frames import body_of
from pipeline.targets.serialize import json_array, json_objects

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def _written(target: str, part: str = "create") -> dict[str, str]:
    """canonical field → API field, as a target's description writes them."""
    described = builtin_description(target)
    fields = getattr(described, part).fields
    return {f: described.fields.write.get(f) or described.fields.read[f] for f in fields}


NAME_MAPS = {
    "arnis": _written("arnis"),
    "consuelo create": _written("consuelo"),
    "consuelo update": _written("consuelo", "update"),
    "dmchamp": _written("dmchamp"),
    "oliai": _written("oliai"),
    "zexa": _written("zexa"),
}


def expected(frame: pl.DataFrame, names: dict[str, str]) -> list[dict[str, object]]:
    return [body_of(row, names) for row in frame.iter_rows(named=True)]


@pytest.mark.parametrize("target", sorted(NAME_MAPS))
@pytest.mark.parametrize("sample", ["contacts.csv", "messy.csv"])
def test_sample_contacts_serialize_as_body_of_builds_them(target: str, sample: str) -> None:
    table = read_table(SAMPLES / sample)
    columns = [c for c in table.frame.columns if c != "row"]
    checked = check_contacts(to_contact_frame(table, map_columns(columns, {})))
    names = dict(NAME_MAPS[target])
    bodies = json_objects(checked, names)
    assert [json.loads(b) for b in bodies.to_list()] == expected(checked, names)
    assert json.loads(json_array(bodies)) == expected(checked, names)


TEXT = st.one_of(st.none(), st.just(""), st.text(max_size=12))
TAGS = st.one_of(st.none(), st.lists(st.text(max_size=5), max_size=3))
META = st.one_of(
    st.none(),
    st.just(""),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2).map(json.dumps),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, TAGS, META), max_size=20))
def test_any_values_serialize_as_body_of_builds_them(
    rows: list[tuple[str | None, str | None, list[str] | None, str | None]],
) -> None:
    frame = pl.DataFrame(
        rows,
        schema={
            "first_name": pl.String,
            "email": pl.String,
            "tags": pl.List(pl.String),
            "metadata": pl.String,
        },
        orient="row",
    )
    names = {"first_name": 'first "name"', "email": "e-mail", "tags": "tags", "metadata": "meta"}
    bodies = json_objects(frame, names)
    assert [json.loads(b) for b in bodies.to_list()] == expected(frame, names)


def test_fields_choose_the_members_and_unknown_columns_give_empty_bodies() -> None:
    frame = pl.DataFrame({"first_name": ["Ann", None], "email": ["a@b.co", "c@d.co"]})
    names = {"first_name": "firstName", "email": "email"}
    assert json_objects(frame, names, ["email"]).to_list() == [
        '{"email":"a@b.co"}',
        '{"email":"c@d.co"}',
    ]
    assert json_objects(frame, {"phone": "phone"}).to_list() == ["{}", "{}"]
    assert json_objects(frame, names, []).to_list() == ["{}", "{}"]
    assert json_array(json_objects(frame.clear(), names)) == b"[]"
