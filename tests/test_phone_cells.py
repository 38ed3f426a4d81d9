"""Phone cells that are not one number as typed (issue 20 items 5 and 7), black-box through
the CLI: Excel's scientific notation gets its own code and says what to do; a Google
Contacts multi-value cell gives its first valid number and a note."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "layouts"


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- item 7: Excel's scientific notation ---------------------------------------------


def test_scientific_notation_is_its_own_error_saying_the_digits_are_lost(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "excel.csv"
    source.write_text(
        "Name;Phone\nAnn;4,91523E+11\nBob;4.91523E+11\nCy;1.20256e10\nDi;+1 415 555 2671\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.csv"
    done = cli("validate", source, "--report", report)
    assert done.exit_code == 1
    rows = _report(report)
    assert [r["error_code"] for r in rows] == ["scientific_notation"] * 3 + [""]
    for row in rows[:3]:
        assert row["status"] == "invalid" and row["e164"] == ""
        assert "Excel's scientific notation" in row["error_message"]
        assert "digits are lost" in row["error_message"]
        assert "Export the phone column as text" in row["error_message"]
        assert "did not seem to be a phone number" not in row["error_message"]
    assert "'4,91523E+11'" in rows[0]["error_message"]
    assert ["scientific_notation", "3", "1"] in [line.split() for line in done.stderr.splitlines()]


def test_scientific_notation_in_the_excel_eu_export(cli: Cli, tmp_path: Path) -> None:
    """sample_data's German Excel export (';', decimal comma): row 18's Mobil cell."""
    report = tmp_path / "r.csv"
    done = cli("validate", SAMPLES / "excel_eu.csv", "--report", report)
    assert done.exit_code == 1
    row = _report(report)[17]
    assert (row["row"], row["phone_input"]) == ("18", "4,91523E+11")
    assert row["error_code"] == "scientific_notation"
    assert "digits are lost" in row["error_message"]


# -- item 5: Google Contacts' multi-value phone cells ---------------------------------


def test_a_multi_value_phone_cell_gives_its_first_valid_number_and_a_note(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "google.csv"
    source.write_text(
        "First Name,Phone 1 - Label,Phone 1 - Value\n"
        "Ann,Mobile,(312) 555-0103 ::: (312) 555-0104\n"
        "Bob,Work,555 ::: (312) 555-0105\n"
        "Cy,Mobile,+1 415 555 2671\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.csv"
    done = cli("validate", source, "--report", report)
    assert done.exit_code == 0, done.stderr
    rows = _report(report)
    assert [r["e164"] for r in rows] == ["+13125550103", "+13125550105", "+14155552671"]
    assert [r["status"] for r in rows] == ["valid"] * 3
    assert [r["error_code"] for r in rows] == ["", "", ""]
    assert "holds 2 numbers" in rows[0]["error_message"]
    assert "'(312) 555-0103' is used, not '(312) 555-0104'" in rows[0]["error_message"]
    assert "'(312) 555-0105' is used, not '555'" in rows[1]["error_message"]
    assert rows[2]["error_message"] == ""
    assert "invalid" not in done.stderr


def test_a_multi_value_cell_without_a_valid_number_says_how_many_it_held(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "google.csv"
    source.write_text("Name,Phone\nAnn,555 ::: 0199\n", encoding="utf-8")
    report = tmp_path / "r.csv"
    assert cli("validate", source, "--report", report).exit_code == 1
    [row] = _report(report)
    assert row["error_code"] == "invalid_phone"
    assert (
        "holds 2 numbers" in row["error_message"] and "none of them valid" in row["error_message"]
    )


def test_google_export_multi_value_cell_syncs_its_first_number(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    """sample_data's Google Contacts export: row 18's Phone 1 - Value holds two numbers."""
    source = tmp_path / "google_contacts.csv"
    shutil.copy(SAMPLES / "google_contacts.csv", source)
    arnis = sandbox_factory("arnis")
    report = tmp_path / "r.csv"
    done = cli(
        "sync", source, "--target", "arnis", "--base-url", arnis.url,
        "--report", report, "--state-dir", tmp_path / "state",
    )  # fmt: skip
    assert done.exit_code == 1, done.stderr  # the file's invalid and duplicate rows
    row = _report(report)[17]
    assert row["row"] == "18" and ":::" in row["phone_input"]
    assert (row["status"], row["e164"], row["error_code"]) == ("created", "+12125550170", "")
    assert "'+1 212-555-0133'" in row["error_message"]
    assert arnis.store.find_e164("+12125550170") is not None
    assert arnis.store.find_e164("+12125550133") is None
