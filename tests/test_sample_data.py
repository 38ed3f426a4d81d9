"""The shipped samples through the real CLI: record accounting and phone agreement."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import phonenumbers
import pytest

from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
MESSY = SAMPLES / "messy.csv"


def records(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def reference_e164(cell: str, region: str) -> str:
    try:
        number = phonenumbers.parse(cell, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_messy_report_has_one_line_per_record_and_phonenumbers_e164(
    cli: Cli, tmp_path: Path
) -> None:
    report = tmp_path / "r.csv"
    result = cli("validate", MESSY, "--report", report)
    assert result.exit_code == 1, result.stderr
    source = records(MESSY)
    lines = records(report)
    assert len(source) >= 200
    assert [line["row"] for line in lines] == [str(i) for i in range(1, len(source) + 1)]
    for record, line in zip(source, lines, strict=True):
        cell = record["Mobile Phone"]
        country = record["Country"].strip().upper()
        region = country if len(country) == 2 else "US"
        shown = line["phone_input"]
        if cell.strip()[:1] in ("=", "+", "-", "@") and shown.startswith("'"):
            shown = shown[1:]  # neutralised for spreadsheets (not a plain phone string)
        assert shown.strip() == cell.strip()
        assert line["e164"] == reference_e164(cell, region), (line["row"], cell, region)
    statuses = {line["status"] for line in lines}
    assert statuses == {"valid", "invalid", "duplicate"}


def test_messy_sync_into_arnis_then_rerun_sends_no_write(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    arnis = sandbox_factory("arnis")
    args = ["--target", "arnis", "--base-url", arnis.url, "--state-dir", tmp_path / "s"]
    first = cli("sync", MESSY, *args, "--report", tmp_path / "1.csv")
    assert first.exit_code == 1, first.stderr
    lines = records(tmp_path / "1.csv")
    assert len(lines) == len(records(MESSY))
    created = [line for line in lines if line["status"] == "created"]
    assert created and all(arnis.store.find_e164(line["e164"]) for line in created)
    assert len(arnis.store.contacts) == len(created)
    assert {line["status"] for line in lines} <= {"created", "invalid", "duplicate"}
    opted = [
        line["e164"]
        for r, line in zip(records(MESSY), lines, strict=True)
        if line["status"] == "created"
        and r["Opted Out"].strip().lower() in ("true", "yes", "1", "y")
    ]
    assert opted and all(arnis.store.find_e164(e164)["opted_out"] is True for e164 in opted)  # type: ignore[index]
    writes = arnis.store.writes()
    second = cli("sync", MESSY, *args, "--report", tmp_path / "2.csv")
    assert second.exit_code == 1
    assert arnis.store.writes() == writes
    again = records(tmp_path / "2.csv")
    assert [line["status"] for line in again] == [
        "unchanged" if line["status"] == "created" else line["status"] for line in lines
    ]


def test_clean_sample_validates_with_exit_0(cli: Cli) -> None:
    result = cli("validate", SAMPLES / "contacts.csv")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("layout", sorted(p.name for p in (SAMPLES / "layouts").glob("*.csv")))
def test_every_export_layout_maps_without_map_flags(cli: Cli, layout: str, tmp_path: Path) -> None:
    report = tmp_path / "r.csv"
    result = cli("validate", SAMPLES / "layouts" / layout, "--report", report)
    assert result.exit_code in (0, 1), result.stderr
    lines = records(report)
    assert sum(line["status"] == "valid" for line in lines) >= 10


def test_validate_shows_the_mapping_it_guessed_and_map_overrides_it(
    cli: Cli, tmp_path: Path
) -> None:
    outlook = SAMPLES / "layouts" / "outlook.csv"
    shown = cli("validate", outlook)
    assert "phone        <- 'Mobile Phone'" in shown.stderr
    assert "email        <- 'E-mail Address'" in shown.stderr
    report = tmp_path / "r.csv"
    cli("validate", outlook, "--map", "phone=Business Phone", "--report", report)
    source = records(outlook)
    lines = records(report)
    assert [line["phone_input"].strip() for line in lines] == [
        r["Business Phone"].strip() for r in source
    ]


def test_closing_summary_names_counts_codes_and_an_example_row(cli: Cli, tmp_path: Path) -> None:
    report = tmp_path / "r.csv"
    result = cli("validate", MESSY, "--report", report)
    lines = records(report)
    first_bad_phone = next(line["row"] for line in lines if line["error_code"] == "invalid_phone")
    count = sum(line["error_code"] == "invalid_phone" for line in lines)
    valid = sum(line["status"] == "valid" for line in lines)
    table = [line.split() for line in result.stderr.splitlines()]
    assert ["invalid_phone", str(count), first_bad_phone] in table
    assert ["valid", str(valid)] in table
    assert f"report: {report}" in result.stderr


@pytest.mark.parametrize("layout", sorted(p.name for p in (SAMPLES / "layouts").glob("*.csv")))
def test_every_export_layout_syncs_into_the_sandbox(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], layout: str, tmp_path: Path
) -> None:
    arnis = sandbox_factory("arnis")
    source = SAMPLES / "layouts" / layout
    cli("validate", source, "--report", tmp_path / "v.csv")
    result = cli(
        "sync",
        source,
        "--target",
        "arnis",
        "--base-url",
        arnis.url,
        "--report",
        tmp_path / "s.csv",
        "--state-dir",
        tmp_path / "state",
    )
    assert result.exit_code in (0, 1), result.stderr
    valid = [line["e164"] for line in records(tmp_path / "v.csv") if line["status"] == "valid"]
    created = [line["e164"] for line in records(tmp_path / "s.csv") if line["status"] == "created"]
    assert created == valid and len(created) >= 10
    assert sorted(arnis.store.by_e164) == sorted(created)


def test_targets_command_lists_every_target_and_its_limits(cli: Cli) -> None:
    result = cli("targets")
    assert result.exit_code == 0
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.split()}
    for name in ("arnis", "consuelo", "dmchamp", "oliai", "zexa"):
        assert name in rows
    assert "60/min, bulk 10/min" in rows["oliai"]
    assert "no (looks up each number)" in rows["dmchamp"]
    assert "update_unsupported" not in rows["zexa"] and "no update endpoint" in result.stdout
