"""JSON Lines and JSON arrays read as the same records saved as CSV; a broken line is a
row's malformed_row, never a crash; JSON is told by its content, whatever its name."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.read import MALFORMED_ROW, read_chunks, read_table
from tests.conftest import Cli
from tests.sheets import csv_records, typed, write_jsonl

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
MESSY = SAMPLES / "messy.csv"


def report_lines(cli: Cli, source: Path, tmp: Path, *extra: str) -> tuple[int, list[list[str]]]:
    report = tmp / f"report-{source.name}.csv"
    result = cli("validate", source, "--report", report, "--no-progress", *extra)
    assert "Traceback" not in result.stderr
    assert report.exists(), result.stderr
    with report.open(encoding="utf-8", newline="") as handle:
        return result.exit_code, list(csv.reader(handle))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_json_lines_validate_as_the_csv_row_for_row(cli: Cli, tmp_path: Path) -> None:
    headers, records = csv_records(MESSY)
    source = write_jsonl(tmp_path / "messy.jsonl", headers, records)
    assert '"Mobile Phone": 2135550165' in source.read_text(encoding="utf-8")  # a JSON number
    lines = report_lines(cli, source, tmp_path)
    assert lines == report_lines(cli, MESSY, tmp_path)
    assert len(lines[1]) == 1 + 244


@pytest.mark.parametrize("suffix", ["json", "csv", "txt"])
def test_json_array_validates_as_the_csv_under_any_name(
    cli: Cli, tmp_path: Path, suffix: str
) -> None:
    headers, records = csv_records(MESSY)
    items = [{h: typed(c) for h, c in zip(headers, r, strict=True)} for r in records]
    source = write(tmp_path / f"messy.{suffix}", json.dumps(items, indent=2))
    assert report_lines(cli, source, tmp_path) == report_lines(cli, MESSY, tmp_path)


def test_values_become_their_text(tmp_path: Path) -> None:
    line = (
        '{"phone": 14155552671, "f": 1.50, "e": 1e3, "t": true, "n": null, '
        '"o": {"a": [1, 2.50, null, "x"], "b": false}, "s": " as is ", "u": "Zo\\u00eb"}'
    )
    table = read_table(write(tmp_path / "v.jsonl", line + "\n"))
    assert table.headers == ["phone", "f", "e", "t", "n", "o", "s", "u"]
    assert table.frame.rows() == [
        (
            1,
            "14155552671",
            "1.50",
            "1e3",
            "true",
            "",
            '{"a":[1,2.50,null,"x"],"b":false}',
            " as is ",
            "Zoë",
        )
    ]
    assert table.format == "JSON Lines"


def test_keys_are_the_union_in_order_of_first_appearance(tmp_path: Path) -> None:
    text = '{"phone": "1", "name": "a"}\n\n{"email": "e@x.org", "phone": "2"}\n{"row": "r"}\n'
    table = read_table(write(tmp_path / "k.ndjson", text))
    assert table.headers == ["phone", "name", "email", "row"]
    assert table.frame.columns == ["row", "phone", "name", "email", "row (2)"]
    assert table.frame.rows() == [
        (1, "1", "a", "", ""),
        (2, "2", "", "e@x.org", ""),
        (3, "", "", "", "r"),
    ]


def test_a_broken_line_is_its_row_s_malformed_row(cli: Cli, tmp_path: Path) -> None:
    lines = [
        '{"Phone": "+14155552671", "Name": "Ann"}',
        '{"Phone": "+1415555',  # cut off
        "",
        '["+14155552672", "Bob"]',  # not an object
        '{"Phone": 14155552673, "Name": "Cy"}',
    ]
    source = write(tmp_path / "broken.jsonl", "\n".join(lines) + "\n")
    code, report = report_lines(cli, source, tmp_path)
    assert code == 1
    assert [(r[0], r[2], r[3], r[5]) for r in report[1:]] == [
        ("1", "+14155552671", "valid", ""),
        ("2", "", "invalid", MALFORMED_ROW),
        ("3", "", "invalid", MALFORMED_ROW),
        ("4", "+14155552673", "valid", ""),
    ]
    assert report[2][6].startswith("line 2 is not valid JSON (Unterminated string")
    assert report[3][6].startswith("line 4 is a JSON array, not an object")


def test_invalid_utf8_in_a_line_is_flagged(tmp_path: Path) -> None:
    data = b'{"phone": "1", "name": "Zo\xeb"}\n{"phone": "2", "name": "ok"}\n'
    table = read_table(_bytes(tmp_path / "b.jsonl", data))
    assert table.frame.rows() == [(1, "1", "Zo\ufffd"), (2, "2", "ok")]
    [(row, code, message)] = table.row_errors.rows()
    assert (row, code) == (1, "bad_encoding")
    assert message.startswith("bytes that are not valid UTF-8 were replaced with \ufffd")
    assert "re-save the file as UTF-8" in message and "utf-8" not in message


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_pieces_share_every_column_and_number_rows_as_one(tmp_path: Path) -> None:
    lines = [json.dumps({"phone": str(i), "name": f"n{i}"}) for i in range(20000)]
    lines[19500] = json.dumps({"phone": "late", "tier": "gold"})  # a key of the last piece
    lines[30] = "{broken"
    source = write(tmp_path / "big.jsonl", "\n".join(lines) + "\n")
    pieces = list(read_chunks(source, block_bytes=16384))
    assert len(pieces) >= 3 and pieces[0].frame["row"][-1] < 19501
    assert {tuple(p.frame.columns) for p in pieces} == {("row", "phone", "name", "tier")}
    assert [r for p in pieces for r in p.frame["row"]] == list(range(1, 20001))
    errors = [e for p in pieces for e in p.row_errors.rows()]
    assert [(row, code) for row, code, _ in errors] == [(31, MALFORMED_ROW)]
    whole = read_table(source)
    assert whole.frame.row(19500) == (19501, "late", "", "gold")
    assert whole.row_errors.rows() == errors


def test_json_on_standard_input(cli: Cli, tmp_path: Path) -> None:
    headers, records = csv_records(MESSY)
    source = write_jsonl(tmp_path / "messy.jsonl", headers, records)
    report = tmp_path / "stdin.csv"
    result = cli("validate", "-", "--report", report, stdin=source.read_bytes())
    with report.open(encoding="utf-8", newline="") as handle:
        assert (result.exit_code, list(csv.reader(handle))) == report_lines(cli, MESSY, tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{\n  "contacts": [\n    {"phone": "1"}\n  ]\n}\n',
            "its key 'contacts' holds 1 record(s)",
        ),
        ('[{"phone": "1"},\n {"phone": ]\n', "is not valid JSON (Expecting value: line 2"),
        ('[["phone"], ["1"]]', "no record is a JSON object with keys (item 1 of the array"),
        ('["phone", "name"]\n["1", "a"]\n', "is not one JSON array: more JSON follows it"),
        ("{}\n{}\n", "no record is a JSON object with keys (every object is empty)"),
        ('{"a": 1}', None),
    ],
)
def test_json_that_holds_no_records_is_exit_2(
    cli: Cli, tmp_path: Path, text: str, message: str | None
) -> None:
    result = cli("validate", write(tmp_path / "in.json", text))
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert result.exit_code == 2
    assert (message or "no phone column") in result.stderr


def test_a_broken_first_line_is_a_row_too(tmp_path: Path) -> None:
    text = '{"phone": "1",\n' + "".join(f'{{"phone": "{i}"}}\n' for i in range(2, 400))
    pieces = list(read_chunks(write(tmp_path / "f.jsonl", text), block_bytes=512))
    assert [r for p in pieces for r in p.frame["row"]] == list(range(1, 400))
    errors = [e for p in pieces for e in p.row_errors.rows()]
    assert [(row, code) for row, code, _ in errors] == [(1, MALFORMED_ROW)]


def test_utf16_json_lines(tmp_path: Path) -> None:
    data = '{"phone": "+14155552671", "name": "Zoë"}\n'.encode("utf-16")
    assert read_table(_bytes(tmp_path / "w.jsonl", data)).frame.rows() == [
        (1, "+14155552671", "Zoë")
    ]


def test_sheet_of_json_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", write(tmp_path / "a.jsonl", '{"phone": "1"}\n'), "--sheet", "1")
    assert result.exit_code == 2 and "is JSON, which has no sheets" in result.stderr


def test_a_csv_header_in_brackets_is_still_csv(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "sql.csv", "[Phone],[Name]\n+14155552671,Ann\n"))
    assert table.headers == ["[Phone]", "[Name]"] and table.format == "CSV"
    with pytest.raises(InputError, match="is not valid JSON"):
        read_table(write(tmp_path / "bad.json", '["phone",\n'))
