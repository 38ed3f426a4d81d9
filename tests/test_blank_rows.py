"""Blank and short rows (issue 20 item 10), black-box through the CLI: an all-empty row is
counted and skipped, never an error; a short row reads as if its missing trailing cells
were empty, with a note. Both readers (whole file, pieces) agree."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import pipeline.cli as cli_module
import pipeline.read.encoding as read_encoding
from pipeline.read import read_chunks
from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli

EU = Path(__file__).resolve().parent.parent / "sample_data" / "layouts" / "excel_eu.csv"


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_all_empty_rows_are_counted_and_skipped_not_errors(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text(
        "Phone,Name,Email\n+1 415 555 2671,Ann,ann@example.com\n,,\n"
        "+1 415 555 2672,Bob,bob@example.com\n , ,\n,,\n,,,,\n",
        encoding="utf-8",
    )
    report, summary = tmp_path / "r.csv", tmp_path / "s.json"
    done = cli("validate", source, "--report", report, "--summary-json", summary)
    assert done.exit_code == 0, done.stderr
    assert [r["row"] for r in _report(report)] == ["1", "3"]  # the rows keep their numbers
    totals = json.loads(summary.read_text(encoding="utf-8"))
    assert totals["records"] == 2 and totals["counts"] == {"valid": 2}
    assert totals["blank_rows"] == 4 and totals["error_codes"] == {}
    assert "blank rows skipped (every cell empty): 4" in done.stderr


def test_a_short_row_reads_as_if_its_trailing_cells_were_empty(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text(
        "Phone,Name,Email,Notes\n+1 415 555 2671,Ann\n+1 415 555 2672\n"
        "+1 415 555 2673,Cy,cy@example.com,x\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.csv"
    done = cli("validate", source, "--report", report)
    assert done.exit_code == 0, done.stderr
    rows = _report(report)
    assert [(r["status"], r["error_code"]) for r in rows] == [("valid", "")] * 3
    assert rows[0]["error_message"] == (
        "too few cells: 2 of 4; the missing ones were read as empty"
    )
    assert "1 of 4" in rows[1]["error_message"] and rows[2]["error_message"] == ""
    assert "malformed_row" not in done.stderr


def test_a_short_row_with_another_problem_has_that_problem_s_code(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text("Phone,Email,Name\n+1 415 555 2671,not-an-email\n", encoding="utf-8")
    report = tmp_path / "r.csv"
    assert cli("validate", source, "--report", report).exit_code == 1
    [row] = _report(report)
    assert row["error_code"] == "invalid_email"
    assert "too few cells: 2 of 3" in row["error_message"]


def test_a_broken_json_line_is_one_malformed_row_never_a_blank_one(
    cli: Cli, tmp_path: Path
) -> None:
    """The earlier attempt's bug: a JSON line that is no object has empty cells, and got
    both blank_row and malformed_row. It is reported, once, as malformed_row."""
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"phone": "+14155552671"}\n{"phone": \n{}\n{"phone": "+14155552672"}\n',
        encoding="utf-8",
    )
    report, summary = tmp_path / "r.csv", tmp_path / "s.json"
    done = cli("validate", source, "--report", report, "--summary-json", summary)
    assert done.exit_code == 1
    rows = _report(report)
    assert [(r["row"], r["error_code"]) for r in rows] == [
        ("1", ""), ("2", "malformed_row"), ("4", ""),
    ]  # fmt: skip
    assert json.loads(summary.read_text(encoding="utf-8"))["blank_rows"] == 1  # the {}


@pytest.mark.parametrize("piece_bytes", [None, 256])
def test_excel_export_with_trailing_empty_rows_syncs_as_without_them(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    piece_bytes: int | None,
) -> None:
    """sample_data's German Excel export with the ';;;;;;;' rows Excel writes for formatted
    but empty rows: the same report as without them, and nothing more sent; read whole,
    and in pieces of 256 bytes (the blank rows spread over several)."""
    if piece_bytes:
        monkeypatch.setattr(read_encoding, "SAMPLE_CHARS", 100)  # sniffs the header
        built = cli_module.build_settings
        monkeypatch.setattr(
            cli_module,
            "build_settings",
            lambda *a: dataclasses.replace(built(*a), read_block_bytes=piece_bytes),
        )
    source = tmp_path / "excel_eu.csv"
    source.write_bytes(EU.read_bytes() + b";;;;;;;\r\n" * 5)
    if piece_bytes:
        assert len(list(read_chunks(source, block_bytes=piece_bytes))) > 2
    plain, padded = tmp_path / "plain.csv", tmp_path / "padded.csv"
    assert cli("validate", EU, "--report", plain).exit_code == 1
    checked = cli("validate", source, "--report", padded)
    assert checked.exit_code == 1
    assert padded.read_bytes() == plain.read_bytes()
    assert "blank rows skipped (every cell empty): 5" in checked.stderr
    arnis = sandbox_factory("arnis")
    report = tmp_path / "sync.csv"
    synced = cli(
        "sync", source, "--target", "arnis", "--base-url", arnis.url,
        "--report", report, "--state-dir", tmp_path / "state",
    )  # fmt: skip
    assert synced.exit_code == 1, synced.stderr
    created = [r for r in _report(report) if r["status"] == "created"]
    assert len(created) == len(arnis.store.contacts) == 18
