"""Property tests over the whole offline pipeline: any input either reads or fails with
our own error, and every record read gets exactly one report line, in order."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import api
from pipeline.config import Settings
from pipeline.errors import ContactSyncError

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CELL = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[+(]?[0-9 ().\-]{0,18}(x[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(
        ["", "=cmd", "@x", "+44 20 7946 0958", "(415) 555-2671", "a@b.co", "Europe/Paris"]
    ),
)


def _validate(data: bytes) -> api.RunResult | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        path.write_bytes(data)
        try:
            return api.validate(Settings(input=str(path), report=str(Path(tmp) / "r.csv")))
        except ContactSyncError:
            return None


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes_read_or_fail_with_our_error(data: bytes) -> None:
    result = _validate(b"phone,name\n" + data)
    if result is not None:
        rows = result.results["row"].to_list()
        assert rows == list(range(1, result.table.frame.height + 1))


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
    assert report["row"].to_list() == list(range(1, len(records) + 1))
    assert set(report["status"].to_list()) <= {"valid", "invalid", "duplicate"}
    for (phone, _, _), status, code in zip(
        records, report["status"], report["error_code"], strict=True
    ):
        if status == "valid":
            assert code is None
        if phone.strip(" ") == "":  # empty or spaces only
            assert code in ("missing_phone", "malformed_row", "bad_encoding")
