"""Phone cells that are not one number as typed (issue 20 item 7), black-box through the
CLI: Excel's scientific notation gets its own code and says what to do."""

from __future__ import annotations

import csv
from pathlib import Path

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
