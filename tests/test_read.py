"""pipeline.read: real files in tmp_path, every hostile input its own test."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError, UsageError
from pipeline.read import BAD_ENCODING, MALFORMED_ROW, SHORT_ROW, RawTable, read_table


def write(tmp_path: Path, data: bytes, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read(tmp_path: Path, data: bytes) -> RawTable:
    return read_table(write(tmp_path, data))


def cells(table: RawTable) -> list[tuple[object, ...]]:
    return table.frame.rows()


def errors(table: RawTable) -> list[tuple[object, ...]]:
    return table.row_errors.select("row", "error_code").rows()


# -- the plain case ------------------------------------------------------------------


def test_plain_file_reads_every_cell_as_string_with_row_numbers(tmp_path: Path) -> None:
    table = read(tmp_path, b"Phone,Name\n+1 555 123 4567, Bob \n07700 900123,\n")
    assert table.frame.columns == ["row", "Phone", "Name"]
    assert table.frame.schema == {"row": pl.Int64, "Phone": pl.String, "Name": pl.String}
    assert cells(table) == [(1, "+1 555 123 4567", " Bob "), (2, "07700 900123", "")]
    assert table.headers == ["Phone", "Name"]
    assert (table.encoding, table.delimiter) == ("utf-8", ",")
    assert table.row_errors.schema == {
        "row": pl.Int64,
        "error_code": pl.String,
        "error_message": pl.String,
    }
    assert table.row_errors.height == 0


def test_path_objects_and_strings_both_work(tmp_path: Path) -> None:
    path = write(tmp_path, b"phone\n1\n")
    assert cells(read_table(path)) == cells(read_table(str(path))) == [(1, "1")]


def test_standard_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = "phone;name\n1;José\n".encode("cp1252")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    table = read_table("-")
    assert cells(table) == [(1, "1", "José")]
    assert (table.encoding, table.delimiter) == ("cp1252", ";")


def test_progress_is_reported(tmp_path: Path) -> None:
    updates: list[int] = []

    class Bar:
        def update(self, n: int = 1) -> None:
            updates.append(n)

        def close(self) -> None:
            updates.append(-1)

    class Progress:
        def bar(self, description: str, total: int | None, unit: str) -> Bar:
            return Bar()

    read_table(write(tmp_path, b"phone\n1\n"), progress=Progress())
    assert updates == [8, -1]


# -- encodings -----------------------------------------------------------------------


def test_utf8_with_bom(tmp_path: Path) -> None:
    table = read(tmp_path, b"\xef\xbb\xbfPhone,Name\n1,J\xc3\xbcrgen\n")
    assert table.encoding == "utf-8-sig"
    assert table.headers == ["Phone", "Name"]
    assert cells(table) == [(1, "1", "Jürgen")]


def test_utf8_bom_on_a_windows_1252_file_falls_back_with_a_note(tmp_path: Path) -> None:
    data = "Name,Phone\n" + "".join(f"José Müller {i},{i}\n" for i in range(10))
    table = read(tmp_path, codecs.BOM_UTF8 + data.encode("cp1252"))
    assert table.encoding == "cp1252"
    assert table.headers == ["Name", "Phone"]
    assert cells(table)[9] == (10, "José Müller 9", "9")
    assert table.row_errors.height == 0
    [note] = table.notes
    assert "the file says UTF-8 (it starts with a UTF-8 byte order mark) but is not" in note
    assert "re-save it as CSV UTF-8 or pass --encoding" in note and "utf-8-sig" not in note


def test_utf8_bom_on_a_utf8_file_with_a_bad_byte_stays_utf8(tmp_path: Path) -> None:
    data = "Name,Phone\n" + "".join(f"Zoë {i},{i}\n" for i in range(10))
    table = read(tmp_path, codecs.BOM_UTF8 + data.encode() + b"Bad \xff,11\n")
    assert table.encoding == "utf-8-sig"
    assert errors(table) == [(11, BAD_ENCODING)]
    message = table.row_errors["error_message"][0]
    assert "not valid UTF-8" in message and "--encoding" in message and "utf-8-sig" not in message
    assert table.notes == ()


def test_forced_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF8 + "Name,Phone\nJosé,1\n".encode("cp1252"))
    table = read_table(path, encoding="cp1252")
    assert (table.headers, cells(table), table.notes) == (["Name", "Phone"], [(1, "José", "1")], ())
    with pytest.raises(UsageError, match="not a text encoding"):
        read_table(path, encoding="rot13")


def test_windows_1252_is_detected(tmp_path: Path) -> None:
    table = read(tmp_path, "Name,Phone\nJosé,1\nMüller “Mü”,2\n€uro,3\n".encode("cp1252"))
    assert table.encoding == "cp1252"
    assert cells(table) == [(1, "José", "1"), (2, "Müller “Mü”", "2"), (3, "€uro", "3")]
    assert table.row_errors.height == 0


def test_latin1_when_cp1252_cannot_decode(tmp_path: Path) -> None:
    table = read(tmp_path, b"Name,Phone\nJos\xe9,1\nx\x81,2\n")
    assert table.encoding == "latin-1"
    assert cells(table) == [(1, "José", "1"), (2, "x\x81", "2")]


def test_invalid_utf8_in_a_utf8_file_flags_only_those_records(tmp_path: Path) -> None:
    good = "Name,Phone\nJosé,1\nMüller,2\nZoë,3\n".encode()
    table = read(tmp_path, good + b"Bad \xff\xfe name,4\nRen\xc3\xa9,5\n")
    assert table.encoding == "utf-8"
    assert cells(table)[3] == (4, "Bad \ufffd\ufffd name", "4")
    assert cells(table)[4] == (5, "René", "5")
    assert errors(table) == [(4, BAD_ENCODING)]
    assert "replaced" in table.row_errors["error_message"][0]


def test_utf16_with_bom(tmp_path: Path) -> None:
    table = read(tmp_path, "Name\tPhone\nJosé\t1\n".encode("utf-16"))
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert cells(table) == [(1, "José", "1")]


def test_utf16_without_bom(tmp_path: Path) -> None:
    table = read(tmp_path, "Name,Phone\nJosé,1\n".encode("utf-16-le"))
    assert table.encoding == "utf-16-le"
    assert cells(table) == [(1, "José", "1")]


# -- delimiters ----------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    lines = ["Name", "Phone", "Notes, misc; more|x"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(lines)
    writer.writerow(["Bob", "+1 555", "a, b; c | d\te"])
    table = read(tmp_path, buffer.getvalue().encode())
    assert table.delimiter == delimiter
    assert cells(table) == [(1, "Bob", "+1 555", "a, b; c | d\te")]


def test_semicolon_file_with_decimal_commas_in_cells(tmp_path: Path) -> None:
    table = read(tmp_path, b"Name;Phone;Score\nBob;1;1,5\nAl;2;2,75\n")
    assert table.delimiter == ";"
    assert cells(table) == [(1, "Bob", "1", "1,5"), (2, "Al", "2", "2,75")]


def test_excel_sep_line_is_obeyed(tmp_path: Path) -> None:
    table = read(tmp_path, b"sep=|\nName|Phone,Mobile\nBob|1,2\n")
    assert table.delimiter == "|"
    assert table.headers == ["Name", "Phone,Mobile"]
    assert cells(table) == [(1, "Bob", "1,2")]


def test_single_column_file(tmp_path: Path) -> None:
    table = read(tmp_path, b"phone\n+15551234567\n\n+15551234568\n")
    assert cells(table) == [(1, "+15551234567"), (2, "+15551234568")]


# -- records and lines ---------------------------------------------------------------


def test_quoted_multiline_cell_is_one_record(tmp_path: Path) -> None:
    data = b'Phone,Notes\r\n1,"line one\r\nline two\nline ""three"""\r\n2,x\r\n'
    table = read(tmp_path, data)
    assert cells(table) == [(1, "1", 'line one\r\nline two\nline "three"'), (2, "2", "x")]


def test_mixed_line_endings(tmp_path: Path) -> None:
    table = read(tmp_path, b"Phone,Name\r\n1,a\n2,b\r3,c\r\n4,d")
    assert cells(table) == [(1, "1", "a"), (2, "2", "b"), (3, "3", "c"), (4, "4", "d")]
    assert table.row_errors.height == 0


def test_blank_lines_are_not_records(tmp_path: Path) -> None:
    table = read(tmp_path, b"\n\nPhone,Name\n\n1,a\n\r\n2,b\n\n\n")
    assert cells(table) == [(1, "1", "a"), (2, "2", "b")]
    assert table.row_errors.height == 0


def test_delimiter_only_line_is_a_blank_record_left_out(tmp_path: Path) -> None:
    """Issue 20 item 10: counted (the next record keeps its number), not in the table."""
    table = read(tmp_path, b"Phone,Name\n,\n1,a\n , \n,,,\n")
    assert cells(table) == [(2, "1", "a")]
    assert table.blank_rows == 3
    assert table.row_errors.height == 0


def test_header_only_gives_an_empty_frame(tmp_path: Path) -> None:
    table = read(tmp_path, b"Phone,Name\n")
    assert table.frame.columns == ["row", "Phone", "Name"]
    assert table.frame.height == 0
    assert table.row_errors.height == 0


def test_header_only_without_newline(tmp_path: Path) -> None:
    assert read(tmp_path, b"Phone,Name").frame.height == 0


# -- headers -------------------------------------------------------------------------


def test_duplicate_header_names_are_disambiguated(tmp_path: Path) -> None:
    table = read(tmp_path, b"Phone,Name,Phone,Phone,row,,x\n1,2,3,4,5,6,7\n")
    assert table.headers == ["Phone", "Name", "Phone", "Phone", "row", "", "x"]
    assert table.frame.columns == [
        "row",
        "Phone",
        "Name",
        "Phone (2)",
        "Phone (3)",
        "row (2)",
        "column 6",
        "x",
    ]
    assert cells(table) == [(1, "1", "2", "3", "4", "5", "6", "7")]


def test_header_names_that_look_like_patterns(tmp_path: Path) -> None:
    table = read(tmp_path, b"*,^.*$,Phone\na,b\n\n")
    assert table.frame.columns == ["row", "*", "^.*$", "Phone"]
    assert cells(table) == [(1, "a", "b", None)]


def test_trailing_delimiter_on_header_is_dropped(tmp_path: Path) -> None:
    table = read(tmp_path, b"Phone,Name,\n1,a,\n2,b\n")
    assert table.headers == ["Phone", "Name"]
    assert cells(table) == [(1, "1", "a"), (2, "2", "b")]
    assert table.row_errors.height == 0


@pytest.mark.parametrize("magic", [b"x\x01", b"x^", b"x\x9c", b"x\xda", b"(\xb5/\xfd"])
def test_text_that_starts_like_compressed_data(tmp_path: Path, magic: bytes) -> None:
    table = read(tmp_path, magic + b"2,phone\n1,2\n3,4\n")
    assert [r[1:] for r in cells(table)] == [("1", "2"), ("3", "4")]


def test_header_cells_are_kept_exactly(tmp_path: Path) -> None:
    table = read(tmp_path, b' Phone ,"Name, full"\n1,a\n')
    assert table.headers == [" Phone ", "Name, full"]
    assert table.frame.columns == ["row", " Phone ", "Name, full"]


def test_no_header_first_line_is_data(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read(tmp_path, b"+1 555 123 4567,Bob,bob@example.com\n+1 555 123 4568,Al,al@x.org\n")
    message = str(err.value)
    assert "looks like data, not a header" in message
    assert "add a header line" in message


def test_no_header_email_first(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header"):
        read(tmp_path, b"bob@example.com;Bob\n")


def test_empty_header_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header line is empty"):
        read(tmp_path, b",,,\n1,2,3,4\n")


# -- ragged records ------------------------------------------------------------------


def test_short_rows_are_padded_with_null_and_noted(tmp_path: Path) -> None:
    table = read(tmp_path, b"Phone,First,Last\n1,a,b\n2,c\n3\n4,,\n")
    assert cells(table) == [
        (1, "1", "a", "b"),
        (2, "2", "c", None),
        (3, "3", None, None),
        (4, "4", "", ""),
    ]
    assert errors(table) == [(2, SHORT_ROW), (3, SHORT_ROW)]
    assert "too few cells: 2 of 3" in table.row_errors["error_message"][0]
    assert "read as empty" in table.row_errors["error_message"][0]


def test_long_rows_keep_the_first_cells_and_are_flagged(tmp_path: Path) -> None:
    table = read(tmp_path, b"Phone,Name\n1,a,extra,more\n2,b\n3,c,,\n")
    assert cells(table) == [(1, "1", "a"), (2, "2", "b"), (3, "3", "c")]
    assert errors(table) == [(1, MALFORMED_ROW)]
    message = table.row_errors["error_message"][0]
    assert "too many cells: 4 for 2 columns" in message
    assert "2 non-empty extra cell(s) dropped" in message


def test_ragged_rows_keep_row_numbers_across_multiline_cells(tmp_path: Path) -> None:
    table = read(tmp_path, b'Phone,Notes\n1,"a\nb"\n2\n\n3,"c\r\nd",x\n4,e\n')
    assert [r[0] for r in cells(table)] == [1, 2, 3, 4]
    assert errors(table) == [(2, SHORT_ROW), (3, MALFORMED_ROW)]


def test_unclosed_quote_swallows_the_rest_and_is_flagged(tmp_path: Path) -> None:
    table = read(tmp_path, b'Phone,Name\n1,"Bob\n2,Al\n3,Cy\n')
    assert cells(table) == [(1, "1", "Bob\n2,Al\n3,Cy\n")]
    assert errors(table) == [(1, MALFORMED_ROW)]
    assert "never closed" in table.row_errors["error_message"][0]


def test_unclosed_quote_on_the_last_line(tmp_path: Path) -> None:
    table = read(tmp_path, b'Phone,Name\n1,a\n2,"Bob')
    assert cells(table) == [(1, "1", "a"), (2, "2", "Bob")]
    assert errors(table) == [(2, MALFORMED_ROW)]


def test_quote_inside_an_unquoted_cell_is_literal(tmp_path: Path) -> None:
    table = read(tmp_path, b'Phone,Notes\n1,5" screen\n2,ok\n')
    assert cells(table) == [(1, "1", '5" screen'), (2, "2", "ok")]
    assert table.row_errors.height == 0


def test_ragged_rows_in_a_big_quoted_file(tmp_path: Path) -> None:
    lines = [f'{i},"Name, {i}","a\nb"' for i in range(5000)]
    lines[10] = "short"
    lines[20] = ""
    lines[30] = '31,"x",y,"z"'
    table = read(tmp_path, ("Phone,Name,Notes\n" + "\n".join(lines)).encode())
    assert table.frame.height == 4999
    assert table.frame.row(10) == (11, "short", None, None)
    assert table.frame.row(20) == (21, "21", "Name, 21", "a\nb")
    assert table.frame.row(29) == (30, "31", "x", "y")
    assert errors(table) == [(11, SHORT_ROW), (30, MALFORMED_ROW)]


def test_salesforce_report_footer_is_dropped(tmp_path: Path) -> None:
    data = (
        b'"Contact ID","Phone","Name"\n"1","+1 555 0100","Ann"\n"2","+1 555 0101","Bob"\n'
        b'\n"Grand Totals (2 records)"\n\n"Confidential Information - Do Not Distribute"\n'
        b'"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
    )
    table = read(tmp_path, data)
    assert cells(table) == [(1, "1", "+1 555 0100", "Ann"), (2, "2", "+1 555 0101", "Bob")]
    assert table.row_errors.height == 0


def test_one_cell_records_at_the_end_without_a_footer_are_kept(tmp_path: Path) -> None:
    table = read(tmp_path, b"Phone,Name\n1,a\nTotal: 1\nconfidential\n")
    assert cells(table) == [(1, "1", "a"), (2, "Total: 1", None), (3, "confidential", None)]
    assert errors(table) == [(2, SHORT_ROW), (3, SHORT_ROW)]


# -- big and odd ---------------------------------------------------------------------


def test_a_ten_megabyte_cell(tmp_path: Path) -> None:
    big = "x" * (10 * 1024 * 1024)
    table = read(tmp_path, f'Phone,Notes\n1,"{big}"\n2,{big}\n3,small\n'.encode())
    assert table.frame["Notes"].str.len_chars().to_list() == [len(big), len(big), 5]
    assert table.row_errors.height == 0


def test_a_ten_megabyte_cell_in_a_ragged_file(tmp_path: Path) -> None:
    big = "y" * (10 * 1024 * 1024)
    table = read(tmp_path, f"Phone,Notes,Tags\n1,{big}\n".encode())
    assert table.frame["Notes"].str.len_chars().to_list() == [len(big)]
    assert errors(table) == [(1, SHORT_ROW)]


def test_ten_thousand_columns(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join(str(i) for i in range(10_000))
    table = read(tmp_path, f"{header}\n{row}\n{row}\n".encode())
    assert table.frame.width == 10_001
    assert table.frame.row(1)[-1] == "9999"
    assert len(table.headers) == 10_000


def test_nul_bytes_are_removed_and_flagged(tmp_path: Path) -> None:
    table = read(tmp_path, b"Phone,Name\n1,a\x00b\n2,c\n3\x00,d\x00\n\x00\x00\x00")
    assert cells(table) == [(1, "1", "ab"), (2, "2", "c"), (3, "3", "d")]
    assert errors(table) == [(1, BAD_ENCODING), (3, BAD_ENCODING)]
    assert "NUL" in table.row_errors["error_message"][0]


def test_gzip_file_is_decompressed(tmp_path: Path) -> None:
    data = gzip.compress("Phone,Name\n1,Zoë\n".encode())
    table = read_table(write(tmp_path, data, "contacts.csv.gz"))
    assert cells(table) == [(1, "1", "Zoë")]


def test_broken_gzip_file(tmp_path: Path) -> None:
    data = gzip.compress(b"Phone,Name\n1,a\n" * 100)[:30]
    with pytest.raises(InputError, match="gzip-compressed") as err:
        read(tmp_path, data)
    assert "gunzip" in str(err.value)


def test_xlsx_given_as_csv(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="xlsx") as err:
        read(tmp_path, b"PK\x03\x04\x14\x00\x06\x00" + bytes(200))
    assert "export the sheet as CSV" in str(err.value)


def test_binary_garbage(tmp_path: Path) -> None:
    garbage = bytes((i * 7919 + 13) % 256 for i in range(5000))
    with pytest.raises(InputError, match="does not look like a CSV text file"):
        read(tmp_path, garbage)


# -- files that cannot be read -------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the file is empty"):
        read(tmp_path, b"")


def test_blank_lines_only(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the file is empty"):
        read(tmp_path, b"\r\n\n\n")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        read_table(tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "nope.csv")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, b"phone\n1\n")
    path.chmod(0)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # root reads anything: stand in for the OS refusing, as it does for other users
        def refuse(self: Path, *args: object, **kwargs: object) -> bytes:
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "open", refuse)
    try:
        with pytest.raises(InputError, match="permission denied"):
            read_table(path)
    finally:
        path.chmod(0o600)


# -- properties ----------------------------------------------------------------------

_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(data=st.binary(max_size=2000))
def test_any_bytes_give_a_table_or_an_input_error(tmp_path: Path, data: bytes) -> None:
    try:
        table = read(tmp_path, data)
    except InputError:
        return
    assert table.frame.columns[0] == "row"
    assert table.frame["row"].to_list() == list(range(1, table.frame.height + 1))
    assert len(table.headers) == table.frame.width - 1
    assert len(set(table.frame.columns)) == table.frame.width


_cell = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\r\n"),
    max_size=20,
)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[list[str], list[list[str]], str, str, bool]:
    width = draw(st.integers(min_value=1, max_value=6))
    header = draw(
        st.lists(
            st.text(alphabet="abcdefghij XYZ_-", min_size=1, max_size=8).filter(str.strip),
            min_size=width,
            max_size=width,
        )
    )
    rows = draw(st.lists(st.lists(_cell, min_size=width, max_size=width), max_size=20))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    # Python 3.11's writer leaves a lone CR unquoted under a LF terminator: that output
    # is two records for every reader, so LF files are written with every cell quoted.
    terminator, quote_all = draw(st.sampled_from([("\r\n", False), ("\r\n", True), ("\n", True)]))
    return header, rows, delimiter, terminator, quote_all


@_SETTINGS
@given(spec=csv_files())
def test_csv_writer_output_reads_back_exactly(
    tmp_path: Path, spec: tuple[list[str], list[list[str]], str, str, bool]
) -> None:
    header, rows, delimiter, terminator, quote_all = spec
    buffer = io.StringIO()
    if quote_all:
        writer = csv.writer(
            buffer, delimiter=delimiter, lineterminator=terminator, quoting=csv.QUOTE_ALL
        )
    else:
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(rows)
    table = read(tmp_path, buffer.getvalue().encode())
    assert table.headers == header
    kept = [(n, row) for n, row in enumerate(rows, start=1) if not all(map(_blank, row))]
    assert [(r[0], list(r[1:])) for r in table.frame.rows()] == kept
    assert table.blank_rows == len(rows) - len(kept)
    assert table.row_errors.height == 0


_plain = st.text(alphabet="ab c1+-é", max_size=6)
_any = st.text(alphabet='ab ,;|\t"\r\né', max_size=8)
_tidy = st.text(alphabet='ab ,;|\t"\né', max_size=8)


@st.composite
def messy_cell(draw: st.DrawFn, tidy: bool) -> str:
    kind = draw(st.sampled_from(["plain", "quoted"] if tidy else ["plain", "quoted", "stray"]))
    if kind == "plain":
        return draw(_plain)
    if kind == "quoted":
        return '"' + draw(_tidy if tidy else _any).replace('"', '""') + '"'
    prefix = draw(st.text(alphabet="ab c1+-é", min_size=1, max_size=6))
    return prefix + '"' + draw(_plain)  # a quote inside an unquoted cell: literal


@st.composite
def messy_files(draw: st.DrawFn) -> tuple[str, str]:
    """Ragged CSV text. Tidy files (well-formed quotes, LF or CRLF) exercise the polars
    readers; the others (stray quotes, bare CR) the csv module."""
    tidy = draw(st.booleans())
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(min_value=1, max_value=4))
    header = delimiter.join(f"h{i}" for i in range(width))
    lines = [header + draw(st.sampled_from(["", delimiter, delimiter * 2]))]
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        if draw(st.integers(0, 9)) == 0:
            lines.append("")  # a blank line
            continue
        count = draw(st.sampled_from([width, width, width - 1, width + 1, 1]))
        lines.append(delimiter.join(draw(messy_cell(tidy)) for _ in range(max(count, 1))))
    if tidy:
        end = draw(st.sampled_from(["\n", "\r\n"]))
        text = end.join(lines) + draw(st.sampled_from(["", end, end * 2]))
    else:
        endings = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines)))
        text = "".join(line + end for line, end in zip(lines, endings, strict=False))
    return f"sep={delimiter}\n{text}", delimiter


def _blank(cell: str | None) -> bool:
    return cell is None or not cell.strip()


def reference(
    text: str, delimiter: str
) -> tuple[list[tuple[int, list[str | None]]], list[int], list[int]]:
    """What the csv module reads, fitted to the header the way the docstring says: the
    records kept (numbered; blank ones left out), the malformed ones, the short ones."""
    body = text.split("\n", 1)[1]
    records = [r for r in csv.reader(io.StringIO(body, newline=""), delimiter=delimiter) if r]
    header = records[0]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    rows: list[tuple[int, list[str | None]]] = []
    bad, short = [], []
    for number, record in enumerate(records[1:], start=1):
        cells: list[str | None] = list(record[:width])
        lost = any(c.strip() for c in record[width:])
        if lost:
            bad.append(number)
        elif all(map(_blank, cells)):
            continue  # a blank record (a short one's note goes with it)
        if len(record) < width:
            short.append(number)
            cells += [None] * (width - len(record))
        rows.append((number, cells))
    return rows, bad, short


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=messy_files())
def test_messy_files_read_like_the_csv_module(tmp_path: Path, spec: tuple[str, str]) -> None:
    text, delimiter = spec
    expected_rows, expected_bad, expected_short = reference(text, delimiter)
    table = read(tmp_path, text.encode())
    assert table.delimiter == delimiter
    assert [(r[0], list(r[1:])) for r in table.frame.rows()] == expected_rows
    malformed = table.row_errors.filter(pl.col("error_code") == MALFORMED_ROW)
    assert malformed["row"].to_list() == expected_bad
    short = table.row_errors.filter(pl.col("error_code") == SHORT_ROW)
    assert short["row"].to_list() == expected_short


SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def _documented_counts() -> list[tuple[str, int]]:
    readme = SAMPLES / "README.md"
    if not readme.exists():
        return []
    found = re.findall(r"^## `([^`]+)`\n(?:.*\n)*?- records: (\d+)", readme.read_text(), re.M)
    return [(name, int(count)) for name, count in found]


@pytest.mark.parametrize(("name", "count"), _documented_counts())
def test_sample_files_read_cleanly_with_their_documented_record_counts(
    name: str, count: int
) -> None:
    table = read_table(SAMPLES / name)
    assert table.frame.height == count
    assert table.row_errors.height == 0
