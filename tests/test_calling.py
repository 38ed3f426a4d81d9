"""Calling-ready contacts: number_type, timezone and timezone_source in the report,
--fill-timezone into the arnis sandbox, --reject-types, and the summary's counts.

Expected types and zones come from phonenumbers itself, never from pipeline code.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType
from phonenumbers.timezone import time_zones_for_number

from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli

# Numbers of several types (a New York fixed line, a Paris mobile, a London fixed line,
# a Sydney fixed line, US premium-rate and toll-free numbers, a Mexico City number).
NUMBERS = [
    "+1 212 555 0100",
    "+33 6 12 34 56 78",
    "+44 20 7946 0958",
    "+61 2 9374 4000",
    "+1 900 555 0199",
    "+1 800 555 0199",
    "+52 55 1234 5678",
]
REPORT_TAIL = ["error_message", "number_type", "timezone", "timezone_source"]


def kind_of(text: str) -> str:
    number = phonenumbers.parse(text)
    return str(PhoneNumberType.to_string(phonenumbers.number_type(number))).lower()


def zone_of(text: str) -> str:
    """The zone --fill-timezone gives: phonenumbers' one zone, else empty."""
    zones = time_zones_for_number(phonenumbers.parse(text))
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else ""


def e164_of(text: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(text), phonenumbers.PhoneNumberFormat.E164)


def write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["First Name,Phone,Time Zone", *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture
def arnis(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    return sandbox_factory("arnis")


def test_the_numbers_cover_what_the_tests_need() -> None:
    kinds = {kind_of(n) for n in NUMBERS}
    assert {"premium_rate", "toll_free", "mobile", "fixed_line"} <= kinds
    assert all(zone_of(n) for n in NUMBERS[1:4])  # single-zone numbers
    assert zone_of(NUMBERS[4]) == ""  # +1 premium rate: the zones of all of +1


def test_validate_reports_type_and_zone_columns_after_the_others(cli: Cli, tmp_path: Path) -> None:
    rows = [(f"P{i}", n, "") for i, n in enumerate(NUMBERS)]
    rows += [("Given", NUMBERS[0], "Europe/Paris"), ("Bad", "not a phone", "")]
    source = write(tmp_path / "in.csv", rows)
    result = cli(
        "validate", source, "--fill-timezone", "--report", tmp_path / "r.csv",
        "--summary-json", tmp_path / "s.json",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    header, report = read(tmp_path / "r.csv")
    assert header[-4:] == REPORT_TAIL
    assert header[:5] == ["row", "phone_input", "e164", "status", "remote_id"]
    for line, number in zip(report, NUMBERS, strict=False):
        assert line["number_type"] == kind_of(number)
        assert line["timezone"] == zone_of(number)
        assert line["timezone_source"] == ("phone" if zone_of(number) else "")
    given, bad = report[-2], report[-1]
    assert (given["status"], given["timezone"], given["timezone_source"]) == (
        "duplicate",
        "Europe/Paris",
        "file",
    )
    assert (bad["number_type"], bad["timezone"], bad["timezone_source"]) == ("", "", "")
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["number_types"]["premium_rate"] == 1
    assert sum(summary["number_types"].values()) == len(NUMBERS) + 1
    assert summary["timezones"][zone_of(NUMBERS[1])] == 2  # one filled, one from the file
    assert summary["timezones"][zone_of(NUMBERS[2])] == 1


def test_without_fill_timezone_no_zone_is_invented(cli: Cli, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", [("A", NUMBERS[1], ""), ("B", NUMBERS[2], "Europe/London")])
    result = cli("validate", source, "--report", tmp_path / "r.jsonl")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert list(lines[0])[-4:] == REPORT_TAIL
    assert [(x["number_type"], x["timezone"], x["timezone_source"]) for x in lines] == [
        (kind_of(NUMBERS[1]), None, None),
        (kind_of(NUMBERS[2]), "Europe/London", "file"),
    ]


def test_reject_types_refuses_exactly_those_rows(cli: Cli, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", [(f"P{i}", n, "") for i, n in enumerate(NUMBERS)])
    result = cli(
        "validate", source, "--reject-types", "premium_rate,toll_free",
        "--report", tmp_path / "r.csv",
    )  # fmt: skip
    assert result.exit_code == 1
    _, report = read(tmp_path / "r.csv")
    refused = {"premium_rate", "toll_free"}
    for line, number in zip(report, NUMBERS, strict=True):
        if kind_of(number) in refused:
            assert (line["status"], line["error_code"]) == ("invalid", "number_type")
            assert f"{kind_of(number)} number" in line["error_message"]
        else:
            assert (line["status"], line["error_code"]) == ("valid", "")


def test_reject_types_from_a_job_file(cli: Cli, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", [("A", NUMBERS[4], ""), ("B", NUMBERS[1], "")])
    job = tmp_path / "job.toml"
    job.write_text(f'input = "{source}"\nreject_types = ["premium_rate"]\nfill_timezone = true\n')
    result = cli("validate", "--config", job, "--report", tmp_path / "r.csv")
    assert result.exit_code == 1
    _, report = read(tmp_path / "r.csv")
    assert [r["error_code"] for r in report] == ["number_type", ""]
    assert report[1]["timezone_source"] == "phone"


@pytest.mark.parametrize("given", [("--reject-types", "premium_rate,fax"), ("--config", "JOB")])
def test_an_unknown_type_is_a_usage_error_naming_the_valid_ones(
    cli: Cli, tmp_path: Path, given: tuple[str, str]
) -> None:
    source = write(tmp_path / "in.csv", [("A", NUMBERS[0], "")])
    job = tmp_path / "job.toml"
    job.write_text('reject_types = ["fax"]\n')
    flag, value = given
    result = cli("validate", source, flag, job if value == "JOB" else value)
    assert result.exit_code == 2
    assert "fax" in result.stderr and "premium_rate" in result.stderr
    assert "toll_free" in result.stderr and "Traceback" not in result.stderr


def _sync(cli: Cli, arnis: RunningSandbox, source: Path, tmp: Path, name: str):
    report = tmp / f"{name}.csv"
    result = cli(
        "sync", source, "--target", "arnis", "--base-url", arnis.url, "--fill-timezone",
        "--report", report, "--state-dir", tmp / "state",
    )  # fmt: skip
    return result, read(report)[1]


def test_sync_fills_zones_into_arnis_and_never_overwrites_a_remote_one(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    fresh = NUMBERS[1:4]
    # On the target already: one contact with another zone, one with none.
    kept, empty = e164_of("+1 212 555 0100"), e164_of("+52 55 1234 5678")
    for e164, zone in ((kept, "America/Chicago"), (empty, None)):
        arnis.store.insert(
            e164,
            {"phone_number": e164, "e164_number": e164, "first_name": "Old", "timezone": zone,
             "tags": [], "opted_out": False},
        )  # fmt: skip
    rows = [("New", n, "") for n in [*fresh, NUMBERS[0], NUMBERS[6]]]
    source = write(tmp_path / "in.csv", rows)
    result, report = _sync(cli, arnis, source, tmp_path, "first")
    assert result.exit_code == 0, result.stderr
    assert [r["status"] for r in report] == ["created"] * 3 + ["updated"] * 2
    for number in fresh:
        contact = arnis.store.find_e164(e164_of(number))
        assert contact is not None and contact["timezone"] == zone_of(number) != ""
    remote_kept = arnis.store.find_e164(kept)
    assert remote_kept is not None
    assert (remote_kept["first_name"], remote_kept["timezone"]) == ("New", "America/Chicago")
    remote_empty = arnis.store.find_e164(empty)
    assert remote_empty is not None and remote_empty["timezone"] == zone_of(NUMBERS[6]) != ""

    writes = arnis.store.writes()
    again, report2 = _sync(cli, arnis, source, tmp_path, "again")
    assert again.exit_code == 0, again.stderr
    assert arnis.store.writes() == writes
    assert {r["status"] for r in report2} == {"unchanged"}
    assert report2[3]["timezone_source"] == "phone"  # reported as inferred, not sent


def test_a_target_without_a_zone_field_says_so(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    zexa = sandbox_factory("zexa")
    source = write(tmp_path / "in.csv", [("A", NUMBERS[1], "")])
    result = cli(
        "plan", source, "--target", "zexa", "--base-url", zexa.url, "--fill-timezone",
        "--summary-json", tmp_path / "s.json", "--state-dir", tmp_path / "state",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert "zexa stores no time zone" in summary["timezone_not_sent"]
