"""Property tests over the whole offline pipeline: any input either reads or fails with
our own error, and every record read gets exactly one report line, in order."""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import api
from pipeline.config import Settings
from pipeline.errors import ContactSyncError
from pipeline.read import read_table

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CELL = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[+(]?[0-9 ().\-]{0,18}(x[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(
        ["", "=cmd", "@x", "+44 20 7946 0958", "(415) 555-2671", "a@b.co", "Europe/Paris"]
    ),
)


def _validate(data: bytes, block_bytes: int | None = None) -> api.RunResult | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        path.write_bytes(data)
        settings = Settings(input=str(path), report=str(Path(tmp) / "r.csv"))
        if block_bytes:
            settings = replace(settings, read_block_bytes=block_bytes)
        try:
            return api.validate(settings)
        except ContactSyncError:
            return None


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes_read_or_fail_with_our_error(data: bytes) -> None:
    result = _validate(b"phone,name\n" + data)
    if result is not None:
        rows = result.results["row"].to_list()
        assert rows == [r[0] for r in read_table_of(b"phone,name\n" + data)]


def read_table_of(data: bytes) -> list[tuple[object, ...]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        path.write_bytes(data)
        return read_table(path).frame.rows()


@SETTINGS
@given(st.lists(st.tuples(CELL, CELL, CELL), max_size=25), st.sampled_from([",", ";", "\t", "|"]))
def test_every_record_written_gets_one_report_line(
    records: list[tuple[str, str, str]], delimiter: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["Phone", "Full Name", "Email"])
    writer.writerows(records)
    result = _validate(buffer.getvalue().encode("utf-8"))
    assert result is not None
    report = result.results
    kept = [n for n, record in enumerate(records, start=1) if not all(map(_blank, record))]
    assert report["row"].to_list() == kept  # a blank record is counted, not reported
    assert result.summary.extra.get("blank_rows", 0) == len(records) - len(kept)
    records = [records[n - 1] for n in kept]
    assert set(report["status"].to_list()) <= {"valid", "invalid", "duplicate"}
    for (phone, _, _), status, code in zip(
        records, report["status"], report["error_code"], strict=True
    ):
        if status == "valid":
            assert code is None
        if phone.strip(" ") == "":  # empty or spaces only
            assert code in ("missing_phone", "malformed_row", "bad_encoding")


def _blank(cell: str) -> bool:
    """Empty or whitespace (Python's, less the separators \\x1c-\\x1f, which are no
    whitespace to a person); a NUL byte is removed, but flags its record bad_encoding."""
    return not cell.strip() and not any(c in "\x00\x1c\x1d\x1e\x1f" for c in cell)


POOL = st.sampled_from(
    ["+44 20 7946 0958", "020 7946 0958", "(415) 555-2671", "+1 415 555 2671", "12", "", "x"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.tuples(POOL, CELL, st.sampled_from(["GB", "US", ""])), max_size=40),
    st.integers(min_value=1, max_value=120),
)
def test_a_file_checked_in_pieces_gives_the_same_report_and_rejects(
    records: list[tuple[str, str, str]], block_bytes: int
) -> None:
    """Duplicates are found across pieces and every output is the same as in one piece."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([["Phone", "Full Name", "Country"], *records])
    data = ("sep=,\n" + buffer.getvalue()).encode()
    outputs = []
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as tmp:
        patch.setattr("pipeline.read.encoding.SAMPLE_CHARS", 4)  # small files in many pieces
        path = Path(tmp) / "in.csv"
        path.write_bytes(data)
        for size in (len(data) + 1, block_bytes):
            out = Path(tmp) / str(size)
            settings = Settings(
                input=str(path),
                report=str(out / "report.csv"),
                rejects=str(out / "rejects.csv"),
                read_block_bytes=size,
            )
            result = api.validate(settings)
            files = [(out / n).read_bytes() for n in ("report.csv", "rejects.csv")]
            summary = result.summary
            counts = (summary.records, summary.counts, summary.error_codes, summary.examples)
            outputs.append((result.results.rows(), counts, files))
    assert outputs[0] == outputs[1]
    rows = outputs[1][0]  # (row, phone_input, e164, status, ...)
    kept = [r[2] for r in rows if r[3] == "valid"]
    assert len(kept) == len(set(kept))  # no number kept twice, across pieces too
    assert {r[2] for r in rows if r[3] == "duplicate"} <= set(kept)
