"""pipeline.read.read_chunks: a big file read in pieces reads exactly as read_table reads it.

Every test compares the pieces, put back together, with ``read_table`` on the same bytes
(the whole-file reader, itself tested against the csv module in test_read.py), for piece
sizes small enough to cut almost every record boundary.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError
from pipeline.read import RawTable, read_chunks, read_table
from pipeline.read import encoding as read_encoding
from pipeline.read.table import FOOTER_ROWS
from tests.test_read import csv_files, messy_files

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(autouse=True)
def small_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first piece holds the delimiter-sniffing sample (4 bytes a character at most):
    a small sample, the same for both readers, lets small files be cut into pieces."""
    monkeypatch.setattr(read_encoding, "SAMPLE_CHARS", 8)


def joined(pieces: list[RawTable]) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    frame = pl.concat([p.frame for p in pieces])
    errors = pl.concat([p.row_errors for p in pieces])
    headers = pieces[0].headers
    assert all(p.headers == headers for p in pieces)
    return frame, errors, headers


def assert_same_as_whole(path: Path, block_bytes: int) -> list[RawTable]:
    whole = read_table(path)
    pieces = list(read_chunks(path, block_bytes=block_bytes))
    frame, errors, headers = joined(pieces)
    assert headers == whole.headers
    assert frame.rows() == whole.frame.rows()
    assert errors.rows() == whole.row_errors.rows()
    assert whole.encoding in {p.encoding for p in pieces}
    assert pieces[0].delimiter == whole.delimiter
    return pieces


def write(tmp_path: Path, data: bytes, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "path",
    sorted(SAMPLES.glob("*.csv")) + sorted((SAMPLES / "layouts").glob("*.csv")),
    ids=lambda p: p.name,
)
@pytest.mark.parametrize("block_bytes", [1, 97, 4096])
def test_every_sample_file_reads_the_same_in_pieces(path: Path, block_bytes: int) -> None:
    pieces = assert_same_as_whole(path, block_bytes)
    if path.stat().st_size > block_bytes * 3:
        assert len(pieces) > 1


def test_a_small_file_is_one_piece(tmp_path: Path) -> None:
    path = write(tmp_path, b"phone,name\n+14155550100,Ann\n")
    assert len(list(read_chunks(path))) == 1


def test_a_file_of_known_size_is_cut_into_pieces_of_one_size(tmp_path: Path) -> None:
    """Read a block ahead, the last piece would be the rest (one block to two): 2.4 blocks
    of records would be two pieces, the second twice the first. Cut evenly they are one
    size, give or take a record and the few records a piece holds back for the next one
    (the footer rule: FOOTER_ROWS)."""
    record = b"+14155550100,Ann Example,ann@example.com\n"  # 41 bytes
    slack = 2 + 2 * FOOTER_ROWS
    data = b"phone,name,email\n" + record * 2400
    path = write(tmp_path, data)
    for block, count in ((41_000, 2), (4_100, 24)):  # 2.4 and 24 blocks
        heights = [p.frame.height for p in assert_same_as_whole(path, block)]
        assert len(heights) == count
        assert max(heights) - min(heights) <= slack, heights


def test_rows_are_numbered_across_pieces(tmp_path: Path) -> None:
    body = "".join(f"+1415555{i:04d},name {i}\n" for i in range(1, 501))
    path = write(tmp_path, ("phone,name\n" + body).encode())
    pieces = list(read_chunks(path, block_bytes=1000))
    assert len(pieces) > 5
    rows = pl.concat([p.frame for p in pieces])["row"].to_list()
    assert rows == list(range(1, 501))
    assert pl.concat([p.frame for p in pieces])["name"].to_list() == [
        f"name {i}" for i in range(1, 501)
    ]


def test_multi_line_cells_are_never_cut(tmp_path: Path) -> None:
    records = [f'+1415555{i:04d},"line one\nline two, {i}\n""quoted""",x\n' for i in range(300)]
    path = write(tmp_path, ("phone,note,other\n" + "".join(records)).encode())
    pieces = assert_same_as_whole(path, 50)
    assert len(pieces) > 10
    assert all(p.parser != "python" for p in pieces)


def test_a_record_longer_than_a_piece(tmp_path: Path) -> None:
    big = "x" * 5000
    path = write(tmp_path, f'phone,note\n1,"{big}\n{big}"\n2,b\n3,c\n'.encode())
    assert_same_as_whole(path, 64)


def test_a_stray_quote_reads_the_rest_whole(tmp_path: Path) -> None:
    lines = [f"+1415555{i:04d},ok {i}" for i in range(200)]
    lines[120] = '+14155550999,5" screen'
    path = write(tmp_path, ("phone,note\n" + "\n".join(lines) + "\n").encode())
    pieces = assert_same_as_whole(path, 300)
    assert pieces[-1].parser == "python"


def test_an_unclosed_quote_swallows_the_rest_as_whole(tmp_path: Path) -> None:
    lines = [f"+1415555{i:04d},ok {i}" for i in range(200)]
    lines[150] = '+14155550999,"never closed'
    path = write(tmp_path, ("phone,note\n" + "\n".join(lines) + "\n").encode())
    assert_same_as_whole(path, 256)


def test_bare_cr_line_ends(tmp_path: Path) -> None:
    body = "".join(f"+1415555{i:04d},n{i}\r" for i in range(300))
    assert_same_as_whole(write(tmp_path, ("phone,name\r" + body).encode()), 200)


def test_report_footer_is_dropped_only_at_the_end(tmp_path: Path) -> None:
    rows = "".join(f"+1415555{i:04d},n{i}\n" for i in range(300))
    footer = '\n"Grand Totals (300 records)"\n\n"Confidential Information - Do Not Distribute"\n'
    path = write(tmp_path, ("phone,name\n" + rows + footer).encode())
    pieces = assert_same_as_whole(path, 100)
    assert pl.concat([p.frame for p in pieces]).height == 300


def test_one_cell_records_in_the_middle_are_kept(tmp_path: Path) -> None:
    rows = [f"+1415555{i:04d},n{i}" for i in range(300)]
    rows[100:102] = ['"Grand Totals (3 records)"', "x"]
    path = write(tmp_path, ("phone,name\n" + "\n".join(rows) + "\n").encode())
    assert_same_as_whole(path, 40)


@pytest.mark.parametrize(
    "encoding,bom", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("cp1252", b"")]
)
def test_encodings_and_non_ascii_headers(
    tmp_path: Path, encoding: str, bom: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_encoding, "SAMPLE_CHARS", 60)
    text = "Téléphone;Prénom\n" + "".join(
        f"+33 1 42 68 {i:02d} {i:02d};Zoé {i}\n" for i in range(99)
    )
    path = write(tmp_path, bom + text.encode(encoding))
    pieces = assert_same_as_whole(path, 128)
    assert len(pieces) > 3
    assert pieces[0].headers == ["Téléphone", "Prénom"]


@pytest.mark.parametrize("ascii_rows", [0, 150])
def test_a_windows_1252_file_with_a_utf8_bom_is_read_as_windows_1252(
    tmp_path: Path, ascii_rows: int
) -> None:
    """Issue 20 item 6: the BOM says UTF-8, the bytes are cp1252 (in the first piece, or
    only after ``ascii_rows`` plain ones): both readers read cp1252, with one note."""
    rows = [f"+1415555{i:04d},Ann {i}" for i in range(ascii_rows)]
    rows += [f"+1415556{i:04d},José Müller {i}" for i in range(150)]
    path = write(
        tmp_path, codecs.BOM_UTF8 + ("phone,name\n" + "\n".join(rows) + "\n").encode("cp1252")
    )
    pieces = assert_same_as_whole(path, 256)
    assert len(pieces) > 3
    assert pieces[-1].frame.row(-1)[2] == "José Müller 149"
    assert [n for p in pieces for n in p.notes] == list(read_table(path).notes)
    [note] = read_table(path).notes
    assert "says UTF-8" in note and "--encoding cp1252" in note


def test_encoding_forced_reads_every_piece_in_it(tmp_path: Path) -> None:
    rows = [f"+1415556{i:04d},Zoé {i}" for i in range(150)]
    path = write(tmp_path, ("phone,name\n" + "\n".join(rows) + "\n").encode("cp1252"))
    whole = read_table(path, encoding="latin-1")
    pieces = list(read_chunks(path, block_bytes=256, encoding="latin-1"))
    assert len(pieces) > 3
    assert joined(pieces)[0].rows() == whole.frame.rows()
    assert {p.encoding for p in pieces} == {whole.encoding} == {"iso8859-1"}


def test_corrupt_bytes_in_a_later_piece_of_a_utf8_file(tmp_path: Path) -> None:
    rows = [f"+1415555{i:04d},Zoé {i}".encode() for i in range(200)]
    rows[150] = b"+14155550999,Zo\xe9 bad"
    path = write(tmp_path, b"phone,name\n" + b"\n".join(rows) + b"\n")
    assert_same_as_whole(path, 300)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_is_read_whole(tmp_path: Path, encoding: str) -> None:
    text = "phone,name\n" + "".join(f"+1415555{i:04d},n{i}\n" for i in range(100))
    pieces = assert_same_as_whole(write(tmp_path, text.encode(encoding)), 64)
    assert len(pieces) == 1


def test_sep_line_and_nul_bytes(tmp_path: Path) -> None:
    rows = "".join(f"+1415555{i:04d}|n\x00{i}\n" for i in range(200))
    path = write(tmp_path, ("sep=|\nphone|name\n" + rows).encode())
    pieces = assert_same_as_whole(path, 256)
    assert len(pieces) > 3


def test_gzip_is_decompressed_as_it_is_read(tmp_path: Path) -> None:
    text = "phone,name\n" + "".join(f"+1415555{i:04d},n{i}\n" for i in range(2000))
    path = write(tmp_path, gzip.compress(text.encode()), "contacts.csv.gz")
    pieces = assert_same_as_whole(path, 2048)
    assert len(pieces) > 5


def test_broken_gzip_is_an_input_error(tmp_path: Path) -> None:
    data = gzip.compress(b"phone\n" + b"1\n" * 5000)[:-40]
    with pytest.raises(InputError, match="gzip-compressed"):
        list(read_chunks(write(tmp_path, data, "x.csv.gz"), block_bytes=256))


def test_standard_input_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "phone,name\n" + "".join(f"+1415555{i:04d},n{i}\n" for i in range(500))
    path = write(tmp_path, text.encode())
    with path.open("rb") as handle:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(handle)))
        pieces = list(read_chunks("-", block_bytes=512))
    assert len(pieces) > 5
    assert joined(pieces)[0].rows() == read_table(path).frame.rows()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(read_chunks(tmp_path / "nope.csv"))


@_SETTINGS
@given(spec=messy_files(), block_bytes=st.integers(min_value=1, max_value=80))
def test_messy_text_reads_the_same_in_pieces(
    tmp_path: Path, spec: tuple[str, str], block_bytes: int
) -> None:
    text, _ = spec
    path = write(tmp_path, text.encode())
    try:
        read_table(path)
    except InputError:
        with pytest.raises(InputError):
            list(read_chunks(path, block_bytes=block_bytes))
        return
    assert_same_as_whole(path, block_bytes)


@_SETTINGS
@given(spec=csv_files(), block_bytes=st.integers(min_value=1, max_value=80))
def test_csv_writer_output_reads_the_same_in_pieces(
    tmp_path: Path, spec: tuple[list[str], list[list[str]], str, str, bool], block_bytes: int
) -> None:
    header, rows, delimiter, terminator, quote_all = spec
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    # With the tiny sniffing sample of these tests the delimiter is given (the sniffer
    # has its own tests): a wrong guess would read malformed quoting, not this file.
    text = f"sep={delimiter}{terminator}" + buffer.getvalue()
    assert_same_as_whole(write(tmp_path, text.encode()), block_bytes)
