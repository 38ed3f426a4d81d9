"""Workbooks read as the same sheet saved as CSV: `validate` gives the CSV's report, row for
row, and a workbook that cannot be read is a clean exit 2.

Every workbook is written for the test (tests/sheets.py) from the records of a CSV
fixture, with the cells typed as a spreadsheet user has them: digit-only phones as
numbers, TRUE/FALSE as booleans.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.read import read_chunks, read_table
from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli
from tests.sheets import (
    Sheets,
    as_sheet,
    csv_records,
    write_ods,
    write_xlsx,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
MESSY = SAMPLES / "messy.csv"
#: a second sheet that must be ignored: it has a phone column and a valid number
NOTES: list[list[object]] = [["Phone", "Note"], [14155550100, "not a contact"]]


def report_lines(cli: Cli, source: Path, tmp: Path, *extra: str) -> tuple[int, list[list[str]]]:
    report = tmp / f"report-{source.name}.csv"
    result = cli("validate", source, "--report", report, "--no-progress", *extra)
    assert "Traceback" not in result.stderr
    assert report.exists(), result.stderr
    with report.open(encoding="utf-8", newline="") as handle:
        return result.exit_code, list(csv.reader(handle))


def messy_sheets(first: str = "Contacts") -> Sheets:
    headers, records = csv_records(MESSY)
    return {first: as_sheet(headers, records), "Notes": NOTES}  # type: ignore[dict-item]


@pytest.fixture
def csv_report(cli: Cli, tmp_path: Path) -> tuple[int, list[list[str]]]:
    return report_lines(cli, MESSY, tmp_path)


@pytest.mark.parametrize(("suffix", "write"), [("xlsx", write_xlsx), ("ods", write_ods)])
def test_workbook_validates_as_the_csv_row_for_row(
    cli: Cli,
    tmp_path: Path,
    csv_report: tuple[int, list[list[str]]],
    suffix: str,
    write: Callable[..., Path],
) -> None:
    sheets = messy_sheets()
    book = write(tmp_path / f"messy.{suffix}", sheets)
    code, lines = report_lines(cli, book, tmp_path)
    assert (code, lines) == csv_report
    assert len(lines) == 1 + 244  # the Notes sheet added nothing
    phones = {str(row[2]) for row in sheets["Contacts"][1:] if isinstance(row[2], int)}
    assert len(phones) >= 5 and phones <= {line[1] for line in lines[1:]}  # digits, as typed


def test_numeric_phone_cell_is_its_digits(tmp_path: Path) -> None:
    rows = [["Phone", None, "Name"], [14155552671, 1, "Ann"], [447700900123, 2.5, "B"]]
    table = read_table(write_xlsx(tmp_path / "n.xlsx", {"S": rows}))  # type: ignore[dict-item]
    # column 2, without a header cell, holds nothing but numbers: still read as text
    assert table.frame.rows() == [(1, "14155552671", "1", "Ann"), (2, "447700900123", "2.5", "B")]
    assert table.format == "Excel workbook (.xlsx), sheet 'S'"


def test_cells_arrive_as_their_text(tmp_path: Path) -> None:
    row: list[object] = [
        1.5,
        0.1 + 0.2,
        dt.date(2024, 3, 5),
        dt.datetime(2024, 3, 5, 14, 30),
        True,
        None,
        " spaced ",
        "0044 20",
    ]
    header = ["a", "b", "c", "d", "e", "f", "g", "h"]
    book = write_xlsx(tmp_path / "c.xlsx", {"S": [header, row]})  # type: ignore[list-item]
    assert read_table(book).frame.rows() == [
        (1, "1.5", "0.3", "2024-03-05", "2024-03-05 14:30:00", "true", "", " spaced ", "0044 20")
    ]


def test_empty_rows_keep_their_place_and_trailing_ones_go(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Phone"], ["+14155552671"], [None], ["+14155552672"], [""]]
    table = read_table(write_xlsx(tmp_path / "e.xlsx", {"S": rows}))  # type: ignore[dict-item]
    assert table.frame.rows() == [(1, "+14155552671"), (3, "+14155552672")]  # issue 20.10
    assert table.blank_rows == 1


def test_header_rules_are_the_csv_reader_s(tmp_path: Path) -> None:
    rows = [["Phone", "Phone", None, "row"], ["1", "2", "3", "4"]]
    table = read_table(write_xlsx(tmp_path / "h.xlsx", {"S": rows}))  # type: ignore[dict-item]
    assert table.headers == ["Phone", "Phone", "", "row"]
    assert table.frame.columns == ["row", "Phone", "Phone (2)", "column 3", "row (2)"]


@pytest.mark.parametrize("choice", ["Contacts", "contacts", "2"])
def test_sheet_by_name_or_number(
    cli: Cli, tmp_path: Path, csv_report: tuple[int, list[list[str]]], choice: str
) -> None:
    sheets = messy_sheets()
    book = write_xlsx(tmp_path / "two.xlsx", {"Notes": NOTES, **sheets})  # type: ignore[dict-item]
    assert report_lines(cli, book, tmp_path, "--sheet", choice) == csv_report


def test_first_sheet_by_default_and_the_cli_says_which(cli: Cli, tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "two.xlsx", messy_sheets(first="Export"))
    result = cli("validate", book, "--no-progress")
    assert result.exit_code == 1
    assert "input: Excel workbook (.xlsx), sheet 'Export' (1 of 2)" in result.stderr
    assert "validate: 244 records" in result.stderr


def test_sheet_from_a_job_file(
    cli: Cli, tmp_path: Path, csv_report: tuple[int, list[list[str]]]
) -> None:
    book = write_xlsx(tmp_path / "two.xlsx", {"Notes": NOTES, **messy_sheets()})  # type: ignore[dict-item]
    job = tmp_path / "job.toml"
    job.write_text(f"input = {str(book)!r}\nsheet = 2\n", encoding="utf-8")
    report = tmp_path / "job.csv"
    result = cli("validate", "--config", job, "--report", report, "--no-progress")
    with report.open(encoding="utf-8", newline="") as handle:
        assert (result.exit_code, list(csv.reader(handle))) == csv_report


def test_unknown_sheet_lists_the_sheets(cli: Cli, tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "two.xlsx", messy_sheets())
    for choice in ("Leads", "3", "0"):
        result = cli("validate", book, "--sheet", choice)
        assert result.exit_code == 2
        assert f"--sheet {choice}: " in result.stderr
        assert "its sheets: 1 'Contacts', 2 'Notes'" in result.stderr


def test_empty_sheet_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "e.xlsx", {"Contacts": [["Phone"], ["1"]], "Empty": []})
    result = cli("validate", book, "--sheet", "Empty")
    assert result.exit_code == 2
    assert "sheet 'Empty' is empty" in result.stderr and "--sheet" in result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def test_sheet_of_a_csv_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", MESSY, "--sheet", "2")
    assert result.exit_code == 2
    assert "is CSV text, which has no sheets" in result.stderr


def _corrupt_sheet_xml(book: Path) -> bytes:
    """The workbook with its first sheet's XML cut in half (the ZIP itself is sound)."""
    out = io.BytesIO()
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            data = source.read(item)
            if item == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(item, data)
    return out.getvalue()


def test_corrupt_workbooks_are_exit_2_without_a_traceback(cli: Cli, tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "good.xlsx", messy_sheets())
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(book.read_bytes()[:4000])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(_corrupt_sheet_xml(book))
    expected = {
        cut: "corrupt or cut short",
        broken: "looks like an Excel workbook (.xlsx) but cannot",
    }
    for path, message in expected.items():
        result = cli("validate", path)
        assert result.exit_code == 2, result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def test_encrypted_workbook_is_named(cli: Cli, tmp_path: Path) -> None:
    """An OLE2 compound file with an EncryptedPackage stream is what Excel writes for a
    password-protected .xlsx (the directory entry's name only: no encrypted file is made)."""
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le")
    path = tmp_path / "locked.xlsx"
    path.write_bytes(ole + bytes(1024))
    result = cli("validate", path)
    assert result.exit_code == 2
    assert "password-protected (encrypted) workbook" in result.stderr


def test_workbook_on_stdin_and_under_a_csv_name(
    cli: Cli, tmp_path: Path, csv_report: tuple[int, list[list[str]]]
) -> None:
    book = write_xlsx(tmp_path / "contacts.csv", messy_sheets())
    assert report_lines(cli, book, tmp_path) == csv_report
    report = tmp_path / "stdin.csv"
    result = cli("validate", "-", "--report", report, stdin=book.read_bytes())
    with report.open(encoding="utf-8", newline="") as handle:
        assert (result.exit_code, list(csv.reader(handle))) == csv_report


def test_workbook_in_pieces_numbers_rows_as_one(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Phone", "Name"]]
    rows += [[14155550000 + i, f"n{i}"] for i in range(20000)]
    book = write_xlsx(tmp_path / "big.xlsx", {"S": rows})  # type: ignore[dict-item]
    pieces = list(read_chunks(book, block_bytes=16384))
    assert len(pieces) > 3
    assert [r for p in pieces for r in p.frame["row"]] == list(range(1, 20001))
    assert pieces[-1].frame.row(-1) == (20000, "14155569999", "n19999")
    assert {p.format for p in pieces} == {"Excel workbook (.xlsx), sheet 'S'"}


def test_read_table_refuses_a_zip_that_is_no_workbook(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("contacts.csv", "phone\n1\n")
    with pytest.raises(InputError, match=r"ZIP archive \(1 file\(s\): contacts.csv\)"):
        read_table(path)


def test_sync_of_an_xlsx_into_the_arnis_sandbox(
    cli: Cli, tmp_path: Path, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    arnis = sandbox_factory("arnis")
    headers, records = csv_records(SAMPLES / "contacts.csv")
    book = write_xlsx(tmp_path / "contacts.xlsx", {"Contacts": as_sheet(headers, records)})  # type: ignore[dict-item]
    report = tmp_path / "sync.csv"
    args = ["--target", "arnis", "--base-url", arnis.url, "--state-dir", tmp_path / "state"]
    result = cli("sync", book, *args, "--report", report, "--no-progress")
    assert result.exit_code == 0, result.stderr
    with report.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["status"] for line in lines] == ["created"] * 25
    assert len(arnis.store.contacts) == 25
    numeric = next(line for line in lines if line["phone_input"] == "4155550159")
    stored = arnis.store.find_e164(numeric["e164"])
    assert stored is not None and stored["id"] == numeric["remote_id"]
    again = cli("sync", book, *args, "--report", tmp_path / "again.csv", "--no-progress")
    assert again.exit_code == 0 and "unchanged" in again.stderr


@pytest.mark.parametrize(("value", "message"), [("0", "counts from 1"), ("true", "must be")])
def test_bad_sheet_in_a_job_file(cli: Cli, tmp_path: Path, value: str, message: str) -> None:
    job = tmp_path / "job.toml"
    job.write_text(f'input = "x.xlsx"\nsheet = {value}\n', encoding="utf-8")
    result = cli("validate", "--config", job)
    assert result.exit_code == 2
    assert f"job.toml:2: 'sheet' {message}" in result.stderr
