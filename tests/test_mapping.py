"""pipeline.mapping: header aliases, overrides, phone preference, the contact frame."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError
from pipeline.fields import CANONICAL_FIELDS
from pipeline.mapping import ColumnMapping, map_columns, to_contact_frame
from pipeline.normalize.country import with_country_codes
from pipeline.read import RawTable, read_table

ALIASES = {
    "phone": [
        "Phone", "Phone Number", "Mobile", "Mobile Phone", "Mobile Number", "Cell",
        "Cell Phone", "Tel", "Telephone", "Phone 1 - Value", "Phone 2 - Value",
        "Business Phone", "Home Phone", "Work Phone", "Primary Phone",
        "Phone Number (HubSpot)", "Mobile Phone Number", "Telefon", "Téléphone", "Handy",
        "Móvil", "Teléfono", "Celular", "phone", "PHONE", "MobilePhone", "mobile_phone",
    ],
    "first_name": [
        "First Name", "Given Name", "Firstname", "Vorname", "Prénom", "Nombre", "first_name",
        "FirstName",
    ],
    "last_name": [
        "Last Name", "Surname", "Family Name", "Lastname", "Nachname", "Nom", "Apellido",
        "Apellidos", "last_name", "LastName",
    ],
    "name": ["Name", "Full Name", "Display Name", "Contact Name", "name"],
    "email": [
        "Email", "E-mail", "E-mail Address", "Email Address", "E-mail 1 - Value", "Mail",
        "E-Mail", "email",
    ],
    "company": [
        "Company", "Company Name", "Organization", "Organization 1 - Name", "Account Name",
        "Firma", "Société", "Empresa", "company",
    ],
    "tags": ["Tags", "Labels", "Group Membership", "TAGS", "tags"],
    "lists": ["Lists", "List IDs", "lists"],
    "timezone": ["Time Zone", "Timezone", "TZ", "timezone"],
    "language": ["Language", "Locale", "Preferred Language", "language"],
    "opted_out": [
        "Opted Out", "Opt Out", "DNC", "Do Not Call", "Unsubscribed", "opted_out", "DoNotCall",
    ],
    "notes": ["Notes", "Note", "Description", "Comments", "notes", "Bemerkung"],
    "external_id": ["External ID", "ID", "Record ID", "Contact ID", "Contact Id", "external_id"],
    "country": [
        "Country", "Country Code", "Mailing Country", "Country/Region", "Address 1 - Country",
        "Business Country/Region", "Land", "País", "country", "CC",
    ],
}  # fmt: skip


def test_every_canonical_field_has_aliases_under_test() -> None:
    assert set(ALIASES) == set(CANONICAL_FIELDS)


@pytest.mark.parametrize(
    ("fieldname", "header"), [(f, h) for f, headers in ALIASES.items() for h in headers]
)
def test_alias_is_mapped(fieldname: str, header: str) -> None:
    columns = [header] if fieldname == "phone" else ["Phone", header]
    mapping = map_columns(columns)
    if fieldname == "phone":
        assert mapping.phone_columns == [header]
        assert mapping.fields["phone"] == header
    else:
        assert mapping.fields[fieldname] == header
        assert [f for f, c in mapping.fields.items() if c == header] == [fieldname]


@pytest.mark.parametrize("fieldname", [f for f in CANONICAL_FIELDS if f != "phone"])
def test_exact_canonical_names_map_and_are_not_guessed(fieldname: str) -> None:
    mapping = map_columns(["phone", fieldname])
    assert mapping.fields == {"phone": "phone", fieldname: fieldname}
    assert mapping.guessed == {}


def test_aliases_are_reported_as_guessed() -> None:
    mapping = map_columns(["Mobile Phone", "Given Name", "Email", "E-mail 2 - Value"])
    assert mapping.guessed == {"phone": "Mobile Phone", "first_name": "Given Name"}
    assert mapping.fields["email"] == "Email"


def test_email_opt_out_is_not_a_call_opt_out() -> None:
    mapping = map_columns(
        ["Phone", "HasOptedOutOfEmail", "Email Opt Out", "Unsubscribed from emails"]
    )
    assert "opted_out" not in mapping.fields
    assert "email" not in mapping.fields


def test_columns_about_a_phone_are_not_phone_candidates() -> None:
    columns = [
        "Phone 1 - Type", "Phone 1 - Value", "Phone Type", "Phone Extension",
        "Phone Opt Out", "Phone Country Code", "Business Fax", "Mobile Phone",
    ]  # fmt: skip
    mapping = map_columns(columns)
    assert mapping.phone_columns == ["Mobile Phone", "Phone 1 - Value"]
    assert "country" not in mapping.fields


@pytest.mark.parametrize(
    "header",
    [
        "Phone Verified", "Last Phone Call Date", "Number of Phone Calls", "Is Mobile",
        "Mobile App Installed", "Mobile Device ID", "Cell Phone Opt Out", "Phone Carrier",
        "Phone Line Type", "Mobile Opt-In", "Phone Status", "Telefax", "Hotel", "Cellar",
    ],
)  # fmt: skip
def test_not_a_phone_number_column(header: str) -> None:
    assert map_columns(["Phone", header]).phone_columns == ["Phone"]


@pytest.mark.parametrize(
    "header",
    [
        "Car Phone", "Company Main Phone", "Business Phone 2",
        "Home Phone 2", "Radio Phone", "TTY/TDD Phone", "SMS Phone", "Mobile Line",
        "Phone (Work)", "Direct Phone Number", "Contact Phone", "WhatsApp",
    ],
)  # fmt: skip
def test_other_phone_columns_are_candidates(header: str) -> None:
    assert header in map_columns(["Phone", header]).phone_columns


@pytest.mark.parametrize(
    "header",
    [
        "Assistant's Phone", "Asst Phone", "Mum-home-mobile", "Mother's Mobile", "Spouse Phone",
        "Emergency Contact Phone", "Partner Mobile", "Husband Cell", "Next of Kin Phone",
        "Father Tel", "Dad's Phone", "Parent/Guardian Phone", "Sister-phone", "Notfall Handy",
    ],
)  # fmt: skip
def test_columns_naming_another_person_are_never_phone_candidates(header: str) -> None:
    """Issue 20 item 9: another person's number is never the contact's by guess."""
    mapping = map_columns([header, "Phone"])
    assert mapping.phone_columns == ["Phone"]
    assert header in mapping.others


def test_default_phone_preference_mobile_generic_work_home_other() -> None:
    columns = [
        "Other Phone", "Home Phone", "Business Phone", "Phone", "Mobile Phone", "Cell",
        "Car Phone", "Work Phone",
    ]  # fmt: skip
    mapping = map_columns(columns)
    assert mapping.phone_columns == [
        "Mobile Phone", "Cell", "Phone", "Business Phone", "Work Phone", "Home Phone",
        "Other Phone", "Car Phone",
    ]  # fmt: skip
    assert mapping.fields["phone"] == "Mobile Phone"


def test_phone_preference_puts_named_columns_first() -> None:
    mapping = map_columns(["Mobile", "Phone", "Home Phone"], phone_preference=["Home Phone"])
    assert mapping.phone_columns == ["Home Phone", "Mobile", "Phone"]
    assert "phone" not in mapping.guessed


def test_phone_preference_naming_a_missing_column() -> None:
    with pytest.raises(InputError, match="'Fax'"):
        map_columns(["Mobile", "Phone"], phone_preference=["Fax"])


def test_first_column_in_file_order_wins() -> None:
    mapping = map_columns(["Phone", "Email Address", "E-mail", "Company", "Organization"])
    assert mapping.fields["email"] == "E-mail"  # same key as the field name: tier 1
    assert mapping.fields["company"] == "Company"
    mapping = map_columns(["Phone", "Email Address", "Mail"])
    assert mapping.fields["email"] == "Email Address"


def test_each_column_feeds_one_field() -> None:
    mapping = map_columns(["Name", "Phone", "First Name", "Last Name"])
    assert mapping.fields == {
        "phone": "Phone",
        "first_name": "First Name",
        "last_name": "Last Name",
        "name": "Name",
    }


def test_metadata_columns() -> None:
    mapping = map_columns(["Phone", "metadata.plan", "Metadata.Tier", "metadata.plan (2)"])
    assert mapping.metadata == {
        "plan": "metadata.plan",
        "Tier": "Metadata.Tier",
        "plan (2)": "metadata.plan (2)",
    }


def test_row_column_is_ignored() -> None:
    mapping = map_columns(["row", "Phone"])
    assert mapping.fields == {"phone": "Phone"}


# -- overrides -----------------------------------------------------------------------


def test_map_override_wins() -> None:
    columns = ["Phone", "Mobile", "Email", "Kontakt E-Post", "Kunde"]
    overrides = {"phone": "Phone", "email": "Kontakt E-Post", "name": "Kunde"}
    mapping = map_columns(columns, overrides)
    assert mapping.phone_columns == ["Phone"]
    assert mapping.fields["email"] == "Kontakt E-Post"
    assert mapping.fields["name"] == "Kunde"
    assert mapping.guessed == {}


def test_override_column_is_taken_out_of_automatic_matching() -> None:
    mapping = map_columns(["Phone", "Name", "Company"], {"company": "Name"})
    assert mapping.fields["company"] == "Name"
    assert "name" not in mapping.fields


def test_override_can_name_a_metadata_key() -> None:
    mapping = map_columns(["Phone", "Plan Type"], {"metadata.plan": "Plan Type"})
    assert mapping.metadata == {"plan": "Plan Type"}


def test_empty_override_unmaps_a_field() -> None:
    mapping = map_columns(["Phone", "Email"], {"email": ""})
    assert "email" not in mapping.fields


def test_override_matches_a_column_case_insensitively() -> None:
    assert map_columns(["Tel 1", "x"], {"phone": "tel 1"}).phone_columns == ["Tel 1"]


def test_override_with_an_unknown_field() -> None:
    with pytest.raises(InputError) as err:
        map_columns(["Phone"], {"fone": "Phone"})
    message = str(err.value)
    assert "unknown field 'fone'" in message
    assert "first_name" in message and "metadata.KEY" in message


def test_override_with_a_column_not_in_the_file() -> None:
    with pytest.raises(InputError) as err:
        map_columns(["Phone", "Name"], {"email": "Mail Address"})
    message = str(err.value)
    assert "no column 'Mail Address'" in message
    assert "'Phone', 'Name'" in message


def test_no_phone_column() -> None:
    with pytest.raises(InputError) as err:
        map_columns(["row", "A", "B", "C"])
    assert str(err.value) == (
        "no phone column found among: 'A', 'B', 'C'. Name the column with --map phone=COLUMN"
    )


def test_phone_override_to_nothing_means_no_phone_column() -> None:
    with pytest.raises(InputError, match="--map phone=COLUMN"):
        map_columns(["Phone"], {"phone": ""})


# -- to_contact_frame ----------------------------------------------------------------


def table_of(tmp_path: Path, text: str) -> RawTable:
    path = tmp_path / "contacts.csv"
    path.write_bytes(text.encode())
    return read_table(path)


def test_contact_frame_columns_and_values(tmp_path: Path) -> None:
    table = table_of(
        tmp_path,
        "Mobile,Phone,First Name,Email,metadata.plan,Notes\n"
        "  ,+1 555 0100,  Ann ,ann@x.org, gold ,\n"
        "+1 555 0101 ,,Bob,, ,  \n"
        ",,,,,x\n",  # no phone, no name (an all-empty row would be no record: issue 20.10)
    )
    mapping = map_columns(table.frame.columns)
    frame = to_contact_frame(table, mapping)
    expected_columns = ["row", "phone_input", "phone_column"]
    expected_columns += [f for f in CANONICAL_FIELDS if f != "phone"] + ["metadata.plan"]
    assert frame.columns == expected_columns
    assert all(dtype == pl.String for name, dtype in frame.schema.items() if name != "row")
    assert frame.schema["row"] == pl.Int64
    assert frame.select("row", "phone_input", "phone_column").rows() == [
        (1, "+1 555 0100", "Phone"),
        (2, "+1 555 0101 ", "Mobile"),
        (3, None, None),
    ]
    assert frame["first_name"].to_list() == ["Ann", "Bob", None]
    assert frame["email"].to_list() == ["ann@x.org", None, None]
    assert frame["notes"].to_list() == [None, None, "x"]
    assert frame["metadata.plan"].to_list() == ["gold", None, None]
    assert frame["company"].to_list() == [None, None, None]


def test_one_phone_column_chooses_as_with_more(tmp_path: Path) -> None:
    """One candidate is not ranked: its non-blank cells are chosen, as the ranking of
    several candidates (here with an empty second one) chooses them."""
    cells = ["+1 555 0100", "   ", '""', " 0101 ", "\u00a0", "x"]  # "" quoted: not a blank line
    # a Name in every row: a row of blank cells only would be no record (issue 20.10)
    one = table_of(tmp_path, "Phone,Name\n" + "".join(f"{c},n\n" for c in cells))
    two = table_of(tmp_path, "Phone,Other Phone,Name\n" + "".join(f"{c},,n\n" for c in cells))
    chosen = to_contact_frame(one, map_columns(one.frame.columns))
    ranked = to_contact_frame(two, map_columns(two.frame.columns))
    assert ranked.select("phone_input", "phone_column").rows() == [
        ("+1 555 0100", "Phone"),
        (None, None),
        (None, None),
        (" 0101 ", "Phone"),
        (None, None),
        ("x", "Phone"),
    ]
    columns = ["row", "phone_input", "phone_column"]
    assert chosen.select(columns).rows() == ranked.select(columns).rows()


def test_contact_frame_of_ragged_rows_has_nulls(tmp_path: Path) -> None:
    table = table_of(tmp_path, "Phone,Name,Email\n1,a\n2\n")
    frame = to_contact_frame(table, map_columns(table.frame.columns))
    assert frame.select("row", "phone_input", "name", "email").rows() == [
        (1, "1", "a", None),
        (2, "2", None, None),
    ]


def test_contact_frame_of_an_empty_table(tmp_path: Path) -> None:
    table = table_of(tmp_path, "Phone,Country\n")
    frame = to_contact_frame(table, map_columns(table.frame.columns))
    assert frame.height == 0
    assert frame.schema["country"] == pl.String


def test_country_names_and_codes_become_alpha2(tmp_path: Path) -> None:
    values = [
        "US", "us", " de ", "Germany", "United States", "United Kingdom", "UK", "france",
        "Brasil", "México", "Atlantis", "", "+1", "Côte d'Ivoire", "IN", "India",
    ]  # fmt: skip
    table = table_of(tmp_path, "Phone,Country\n" + "".join(f"1,{v}\n" for v in values))
    frame = with_country_codes(to_contact_frame(table, map_columns(table.frame.columns)))
    assert frame["country"].to_list() == [
        "US", "US", "DE", "DE", "US", "GB", "GB", "FR", "BR", "MX", None, None, None, "CI",
        "IN", "IN",
    ]  # fmt: skip


def test_handmade_mapping(tmp_path: Path) -> None:
    table = table_of(tmp_path, "a,b,c\n1,2,3\n,5,6\n")
    mapping = ColumnMapping(
        fields={"phone": "a", "notes": "c"},
        phone_columns=["a", "b"],
        metadata={"x": "c"},
        guessed={},
    )
    frame = to_contact_frame(table, mapping)
    assert frame.select("phone_input", "phone_column", "notes", "metadata.x").rows() == [
        ("1", "a", "3", "3"),
        ("5", "b", "6", "6"),
    ]


def test_column_names_that_look_like_patterns_are_taken_literally(tmp_path: Path) -> None:
    table = table_of(tmp_path, "*,^.*$,Phone,Notes\nstar,regex,1,n\n")
    mapping = map_columns(table.frame.columns, {"notes": "*", "metadata.x": "^.*$"})
    frame = to_contact_frame(table, mapping)
    assert frame.select("phone_input", "notes", "metadata.x").rows() == [("1", "star", "regex")]


_header_words = st.sampled_from(
    ["Phone", "Mobile", "Home", "Work", "E-mail", "Name", "First", "Last", "ID", "Type",
     "Opt Out", "Country", "metadata.", "row", "Tags", "1", "-", " ", "Value", "é", "*"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(columns=st.lists(st.lists(_header_words, max_size=4).map("".join), max_size=12, unique=True))
def test_any_columns_map_consistently_or_raise_input_error(columns: list[str]) -> None:
    try:
        mapping = map_columns(columns)
    except InputError as err:
        assert "--map phone=COLUMN" in str(err)
        return
    used = [c for f, c in mapping.fields.items() if f != "phone"]
    used += mapping.phone_columns + list(mapping.metadata.values())
    assert len(used) == len(set(used)), "a column feeds one field at most"
    assert set(used) <= set(columns) - {"row"}
    assert mapping.fields["phone"] == mapping.phone_columns[0]
    assert set(mapping.guessed.items()) <= set(mapping.fields.items())


GOOGLE = (
    "Name,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value\n"
    "a,Work,+1 555 0101,Mobile,+1 555 0102\n"
    "b,* Mobile,+1 555 0201,Home,+1 555 0202\n"
    "c,Home,+1 555 0301,Work,+1 555 0302\n"
    "d,Mobile,,Móvil,+1 555 0402\n"
    "e,,+1 555 0501,,+1 555 0502\n"
)


def test_google_phone_labels_pick_the_mobile_number_row_by_row(tmp_path: Path) -> None:
    table = table_of(tmp_path, GOOGLE)
    frame = to_contact_frame(table, map_columns(table.frame.columns))
    assert frame.select("phone_input", "phone_column").rows() == [
        ("+1 555 0102", "Phone 2 - Value"),
        ("+1 555 0201", "Phone 1 - Value"),
        ("+1 555 0302", "Phone 2 - Value"),
        ("+1 555 0402", "Phone 2 - Value"),
        ("+1 555 0501", "Phone 1 - Value"),
    ]


def test_labelled_and_unlabelled_phone_columns_together(tmp_path: Path) -> None:
    table = table_of(
        tmp_path,
        "Phone 1 - Label,Phone 1 - Value,Home Phone,Mobile Phone\n"
        "Work,+1 555 0101,+1 555 0102,\n"
        "Mobile,+1 555 0201,+1 555 0202,+1 555 0203\n"
        "Home,+1 555 0301,,\n",
    )
    mapping = map_columns(table.frame.columns)
    assert mapping.phone_columns == ["Mobile Phone", "Phone 1 - Value", "Home Phone"]
    frame = to_contact_frame(table, mapping)
    assert frame["phone_input"].to_list() == ["+1 555 0101", "+1 555 0203", "+1 555 0301"]


def test_an_explicit_phone_preference_ignores_labels(tmp_path: Path) -> None:
    table = table_of(tmp_path, GOOGLE)
    mapping = map_columns(table.frame.columns, phone_preference=["Phone 1 - Value"])
    frame = to_contact_frame(table, mapping)
    assert frame["phone_column"].to_list() == ["Phone 1 - Value"] * 3 + ["Phone 2 - Value"] + [
        "Phone 1 - Value"
    ]
