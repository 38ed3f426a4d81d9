"""Real-world export quirks (issue 20 items 4-10), black-box through the CLI: exit code,
report and message."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli

EXPORTS = Path(__file__).resolve().parent / "exports"


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_country_names_resolve_from_phonenumbers_data(cli: Cli, tmp_path: Path) -> None:
    """HubSpot's Country/Region names (Cuba, Honduras, Lebanon, Algeria, El Salvador) give
    each national number its region; a name that is no country is unknown_country."""
    report = tmp_path / "report.csv"
    done = cli("validate", EXPORTS / "hubspot_countries.csv", "--report", report)
    assert done.exit_code == 1
    rows = _report(report)
    assert [r["e164"] for r in rows[:5]] == [
        "+5378331234",
        "+50422345678",
        "+9613123456",
        "+213551234567",
        "+50370123456",
    ]
    assert all(r["status"] == "valid" for r in rows[:5])
    assert rows[5]["status"] == "invalid"
    assert rows[5]["error_code"] == "unknown_country"
    assert "'Atlantis'" in rows[5]["error_message"]
    assert "unknown_country" in done.stdout + done.stderr


GOOGLE = Path(__file__).resolve().parent.parent / "sample_data" / "layouts" / "google_contacts.csv"


def test_google_labels_become_clean_tags(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    """Google's ``* starred ::: * myContacts`` and ``* myContacts ::: Leads`` labels give
    no junk tags: split on ``:::``, ``* `` system groups dropped, user labels kept."""
    arnis = sandbox_factory("arnis")
    done = cli(
        "sync", GOOGLE, "--target", "arnis", "--base-url", arnis.url,
        "--report", tmp_path / "r.csv", "--state-dir", tmp_path / "state",
    )  # fmt: skip
    assert done.exit_code in (0, 1), done.stderr
    tags = {tag for contact in arnis.store.contacts.values() for tag in contact["tags"] or []}
    assert "Leads" in tags
    assert not [tag for tag in tags if ":::" in tag or tag.startswith("*")], tags
    assert not tags & {"myContacts", "starred"}


# -- item 9: another person's phone is never the contact's by guess ------------------

#: CiviCRM's import fixture layout (civicrm-core, tests/phpunit/CRM/Contact/Import/Form/
#: data/individual_locations_with_related.csv): its header, with rows of our own
CIVICRM = EXPORTS / "civicrm_related.csv"


def test_civicrm_export_takes_the_contacts_own_phone_not_the_mothers(
    cli: Cli, tmp_path: Path
) -> None:
    report = tmp_path / "r.csv"
    done = cli("validate", CIVICRM, "--report", report)
    assert done.exit_code == 1  # the third contact has no phone of her own
    rows = _report(report)
    assert [r["e164"] for r in rows] == ["+61293744000", "+61396001234", ""]
    assert rows[2]["error_code"] == "missing_phone"  # never her mother's 0414 555 666
    assert (
        "no phone of its own; 'Mum-phone' holds another person's number"
        in (rows[2]["error_message"])
    )
    assert "phone        <- 'Phone' (the contact's only phone column)" in done.stderr
    line = next(x for x in done.stderr.splitlines() if "another person" in x)
    for column in ("'Mum-phone' (mum)", "'Mum-home-mobile' (mum)", "'Sister-phone' (sister)"):
        assert column in line
    assert "--map phone=COLUMN" in line


def test_another_persons_column_is_taken_only_when_mapped(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "Name,Emergency Contact Phone,Spouse Mobile\nAnn,+1 415 555 2671,+1 415 555 2672\n",
        encoding="utf-8",
    )
    refused = cli("validate", source)
    assert refused.exit_code == 2
    assert "'Emergency Contact Phone', 'Spouse Mobile' name another person" in refused.stderr
    assert "--map phone=COLUMN" in refused.stderr
    report = tmp_path / "r.csv"
    done = cli("validate", source, "--map", "phone=Spouse Mobile", "--report", report)
    assert done.exit_code == 0, done.stderr
    assert _report(report)[0]["e164"] == "+14155552672"


def test_a_google_label_naming_another_person_is_skipped_row_by_row(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "google.csv"
    source.write_text(
        "Name,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value\n"
        "Ann,Mum,+1 415 555 2671,Home,+1 415 555 2672\n"
        "Bob,Mobile,+1 415 555 2673,Assistant,+1 415 555 2674\n"
        "Cy,Emergency,+1 415 555 2675,,\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.csv"
    done = cli("validate", source, "--report", report)
    assert done.exit_code == 1
    rows = _report(report)
    assert [r["e164"] for r in rows] == ["+14155552672", "+14155552673", ""]
    assert rows[2]["error_code"] == "missing_phone"
