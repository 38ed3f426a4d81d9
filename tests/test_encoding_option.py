"""A Windows-1252 file that starts with a UTF-8 BOM, and --encoding (issue 20 item 6),
black-box through the CLI: exit code, message, and what reached the sandbox."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable
from pathlib import Path

from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli

LATIN1 = Path(__file__).resolve().parent.parent / "sample_data" / "layouts" / "excel_latin1.csv"
NAMES = [f"José Müller {i}" for i in range(10)]


def _bom_cp1252(path: Path) -> Path:
    rows = "".join(f"{n},+1 415 555 {2600 + i}\r\n" for i, n in enumerate(NAMES))
    path.write_bytes(codecs.BOM_UTF8 + ("Name,Phone\r\n" + rows).encode("cp1252"))
    return path


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_bom_on_a_windows_1252_file_loses_no_row_and_says_so_in_one_line(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    source = _bom_cp1252(tmp_path / "excel.csv")
    arnis = sandbox_factory("arnis")
    report = tmp_path / "r.csv"
    done = cli(
        "sync", source, "--target", "arnis", "--base-url", arnis.url,
        "--report", report, "--state-dir", tmp_path / "state",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert [r["status"] for r in _report(report)] == ["created"] * 10
    names = sorted(f"{c['first_name']} {c['last_name']}" for c in arnis.store.contacts.values())
    assert names == sorted(NAMES)
    said = [line for line in done.stderr.splitlines() if "says UTF-8" in line]
    assert len(said) == 1
    assert "re-save it as CSV UTF-8 or pass --encoding" in said[0]
    assert "--encoding cp1252" in said[0]
    assert "utf-8-sig" not in done.stderr and "bad_encoding" not in done.stderr


def test_encoding_forced_by_flag_and_by_job_file(cli: Cli, tmp_path: Path) -> None:
    source = _bom_cp1252(tmp_path / "excel.csv")
    forced = cli("validate", source, "--encoding", "cp1252")
    assert forced.exit_code == 0, forced.stderr
    assert "says UTF-8" not in forced.stderr
    job = tmp_path / "job.toml"
    job.write_text('encoding = "windows-1252"\n', encoding="utf-8")
    assert cli("validate", source, "--config", job).exit_code == 0
    report = tmp_path / "r.csv"
    wrong = cli("validate", source, "--encoding", "utf-8", "--report", report)
    assert wrong.exit_code == 1
    rows = _report(report)
    assert {r["error_code"] for r in rows} == {"bad_encoding"}
    assert "not valid UTF-8" in rows[0]["error_message"]
    assert "--encoding" in rows[0]["error_message"]
    assert "utf-8-sig" not in rows[0]["error_message"]


def test_an_unknown_encoding_is_exit_2_naming_the_flag_or_the_key(cli: Cli, tmp_path: Path) -> None:
    source = _bom_cp1252(tmp_path / "excel.csv")
    bad = cli("validate", source, "--encoding", "windows-1525")
    assert bad.exit_code == 2
    assert "--encoding 'windows-1525' is not a text encoding" in bad.stderr
    assert "cp1252" in bad.stderr
    job = tmp_path / "job.toml"
    job.write_text('default_region = "US"\nencoding = "base64"\n', encoding="utf-8")
    from_job = cli("validate", source, "--config", job)
    assert from_job.exit_code == 2
    assert f"{job}:2: 'encoding' is not a text encoding" in from_job.stderr
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"phone": "+14155552671"}\n', encoding="utf-8")
    not_csv = cli("validate", jsonl, "--encoding", "cp1252")
    assert not_csv.exit_code == 2
    assert "is not CSV text" in not_csv.stderr and "drop --encoding" in not_csv.stderr


def test_excel_latin1_export_saved_with_a_bom_reads_as_without(cli: Cli, tmp_path: Path) -> None:
    """sample_data's Windows-1252 Excel export, with a UTF-8 BOM put in front of it: the
    same report as the file without it (before: every non-ASCII row bad_encoding)."""
    source = tmp_path / "excel_latin1.csv"
    source.write_bytes(codecs.BOM_UTF8 + LATIN1.read_bytes())
    plain, marked = tmp_path / "plain.csv", tmp_path / "marked.csv"
    first = cli("validate", LATIN1, "--report", plain)
    second = cli("validate", source, "--report", marked)
    assert second.exit_code == first.exit_code == 1
    assert marked.read_bytes() == plain.read_bytes()
    assert "bad_encoding" not in marked.read_text(encoding="utf-8")
    assert "says UTF-8" in second.stderr
