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
