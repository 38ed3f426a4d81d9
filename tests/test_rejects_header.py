"""A formula in a header cell is neutralised in the rejects file like a data cell, and the
file still reads back the same (issue 22 item 11)."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import Cli


def test_a_formula_header_is_neutralised_in_rejects_and_reads_back(
    cli: Cli, tmp_path: Path
) -> None:
    formula = '=HYPERLINK("http://evil.example","x")'
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Phone", formula, "Name"])
        writer.writerows([["+1 415 555 2671", "a", "Ann"], ["not a phone", "b", "Bo"]])
    rejects, again = tmp_path / "rej.csv", tmp_path / "rej2.csv"
    assert cli("validate", source, "--rejects", rejects).exit_code == 1
    with rejects.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["Phone", "'" + formula, "Name", "error_code", "error_message"]
    # read back: the phone column maps as before, and --map still finds the column by the
    # name it had in the original file
    back = cli("validate", rejects, "--map", f"notes={formula}", "--rejects", again)
    assert back.exit_code == 1, back.stderr
    with again.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == header  # not quoted twice
    assert [r[0] for r in rows[1:]] == ["not a phone"]
    assert rows[1][3] == "invalid_phone"
