"""`contact-sync` end to end against the arnis sandbox over loopback."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.sandbox import RunningSandbox
from tests.conftest import API_KEY, Cli

HEADER = "First Name,Last Name,Phone,Email,Tags,Time Zone,Opted Out\n"
ROWS = [
    "Ann,Lee,(415) 555-2671,ann@example.com,lead;vip,America/Los_Angeles,",
    "Bob,Ray,+44 20 7946 0958,bob@example.com,,Europe/London,",
    "Cy,Dee,abc,cy@example.com,,,",
    "Dup,Ann,415.555.2671,,,,",
    "Eve,Moe,+1 415 555 2672,bad-email,,,",
    "=cmd,Zed,+1 415 555 2673,zed@example.com,,,yes",
]


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def arnis(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    return sandbox_factory("arnis")


def sync(cli: Cli, arnis: RunningSandbox, source: Path, tmp: Path, *extra: str, name: str = "r"):
    report = tmp / f"{name}.csv"
    result = cli(
        "sync",
        source,
        "--target",
        "arnis",
        "--base-url",
        arnis.url,
        "--report",
        report,
        "--state-dir",
        tmp / "state",
        *extra,
    )
    return result, read_report(report) if report.exists() else []


def test_sync_creates_reports_every_row_and_rerun_writes_nothing(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", ROWS)
    result, report = sync(cli, arnis, source, tmp_path)
    assert result.exit_code == 1, result.stderr
    assert [r["row"] for r in report] == ["1", "2", "3", "4", "5", "6"]
    assert [r["status"] for r in report] == [
        "created",
        "created",
        "invalid",
        "duplicate",
        "invalid",
        "created",
    ]
    assert [r["error_code"] for r in report] == [
        "",
        "",
        "invalid_phone",
        "duplicate_in_file",
        "invalid_email",
        "",
    ]
    assert "row 1" in report[3]["error_message"]
    ann = arnis.store.find_e164("+14155552671")
    assert ann is not None and ann["first_name"] == "Ann" and ann["tags"] == ["lead", "vip"]
    assert report[0]["remote_id"] == ann["id"]
    zed = arnis.store.find_e164("+14155552673")
    assert zed is not None and zed["opted_out"] is True  # sent through the opt-out endpoint
    assert report[5]["phone_input"] == "+1 415 555 2673"  # a phone stays as it is
    assert len(arnis.store.contacts) == 3
    writes = [
        (r.method, r.path.rsplit("/", 1)[-1]) for r in arnis.store.requests if r.method != "GET"
    ]
    assert sorted(writes) == [
        ("POST", "batch"),
        ("POST", "opt-out"),
    ]  # one batch, read back by listing

    writes_before = arnis.store.writes()
    again, report2 = sync(cli, arnis, source, tmp_path, name="r2")
    assert again.exit_code == 1
    assert arnis.store.writes() == writes_before
    assert [r["status"] for r in report2] == [
        "unchanged",
        "unchanged",
        "invalid",
        "duplicate",
        "invalid",
        "unchanged",
    ]


def test_clean_file_exits_0_and_rerun_is_all_unchanged(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [ROWS[0], ROWS[1]])
    first, _ = sync(cli, arnis, source, tmp_path)
    assert first.exit_code == 0, first.stderr
    second, report = sync(cli, arnis, source, tmp_path, name="again")
    assert second.exit_code == 0
    assert {r["status"] for r in report} == {"unchanged"}


def test_edit_updates_only_changed_fields_and_empty_cells_never_blank(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    sync(cli, arnis, write_csv(tmp_path / "a.csv", [ROWS[0], ROWS[1]]), tmp_path)
    edited = [
        "Ann,Lee,(415) 555-2671,ann.lee@example.com,lead;vip,America/Los_Angeles,",
        "Bob,,+44 20 7946 0958,,,,",
    ]
    result, report = sync(cli, arnis, write_csv(tmp_path / "b.csv", edited), tmp_path, name="rb")
    assert result.exit_code == 0, result.stderr
    assert [r["status"] for r in report] == ["updated", "unchanged"]
    ann = arnis.store.find_e164("+14155552671")
    bob = arnis.store.find_e164("+442079460958")
    assert ann is not None and ann["email"] == "ann.lee@example.com"
    assert bob is not None and bob["last_name"] == "Ray" and bob["email"] == "bob@example.com"


def test_remote_opt_out_is_never_undone(cli: Cli, arnis: RunningSandbox, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [ROWS[0]])
    sync(cli, arnis, source, tmp_path)
    ann = arnis.store.find_e164("+14155552671")
    assert ann is not None
    ann["opted_out"] = True
    result, report = sync(cli, arnis, source, tmp_path, name="again")
    assert report[0]["status"] == "unchanged"
    assert arnis.store.find_e164("+14155552671")["opted_out"] is True  # type: ignore[index]
    assert not any("opt-in" in r.path for r in arnis.store.requests)


def test_mirror_guard_trips_then_passes_and_keeps_opted_out(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    extra = [f"Person{i},X,+1 415 555 {2700 + i},,,," for i in range(4)]
    sync(cli, arnis, write_csv(tmp_path / "all.csv", [ROWS[0], *extra]), tmp_path)
    opted = arnis.store.find_e164("+14155552700")
    assert opted is not None
    opted["opted_out"] = True
    only_ann = write_csv(tmp_path / "ann.csv", [ROWS[0]])
    tripped, _ = sync(cli, arnis, only_ann, tmp_path, "--mode", "mirror", name="m1")
    assert tripped.exit_code == 3
    assert "max-deletes" in tripped.stderr
    assert len(arnis.store.contacts) == 5
    passed, report = sync(
        cli, arnis, only_ann, tmp_path, "--mode", "mirror", "--max-deletes", "3", name="m2"
    )
    assert passed.exit_code == 1, passed.stderr  # the opted-out contact is skipped
    statuses = sorted((r["e164"], r["status"], r["error_code"]) for r in report if r["row"] == "")
    assert statuses == [
        ("+14155552700", "skipped", "opted_out_remotely"),
        ("+14155552701", "deleted", ""),
        ("+14155552702", "deleted", ""),
        ("+14155552703", "deleted", ""),
    ]
    assert sorted(arnis.store.by_e164) == ["+14155552671", "+14155552700"]


def test_plan_writes_nothing_and_names_the_actions(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", ROWS[:2])
    report = tmp_path / "plan.csv"
    result = cli("plan", source, "--target", "arnis", "--base-url", arnis.url, "--report", report)
    assert result.exit_code == 0, result.stderr
    assert [r["status"] for r in read_report(report)] == ["create", "create"]
    assert arnis.store.writes() == 0


def test_key_never_appears_in_any_output(cli: Cli, arnis: RunningSandbox, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", ROWS)
    outputs = [tmp_path / n for n in ("r.csv", "s.json", "rej.csv", "r.html")]
    result = cli(
        "sync",
        source,
        "--target",
        "arnis",
        "--base-url",
        arnis.url,
        "--report",
        outputs[0],
        "--summary-json",
        outputs[1],
        "--rejects",
        outputs[2],
        "--html-report",
        outputs[3],
        "--state-dir",
        tmp_path / "state",
    )
    assert result.exit_code == 1
    texts = [result.stdout, result.stderr] + [p.read_text(encoding="utf-8") for p in outputs]
    assert all(API_KEY not in text for text in texts)
    assert all(API_KEY not in p.read_text(errors="replace") for p in (tmp_path / "state").iterdir())


def test_wrong_key_exits_3_without_leaking(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_KEY", "not-the-right-key-999")
    source = write_csv(tmp_path / "in.csv", ROWS[:1])
    result, _ = sync(cli, arnis, source, tmp_path, "--api-key-env", "OTHER_KEY")
    assert result.exit_code == 3
    assert "authentication refused" in result.stderr
    assert "not-the-right-key-999" not in result.stderr + result.stdout


def test_rejects_and_summary_json(cli: Cli, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", ROWS)
    rejects, summary = tmp_path / "rej.csv", tmp_path / "s.json"
    result = cli("validate", source, "--rejects", rejects, "--summary-json", summary)
    assert result.exit_code == 1
    with rejects.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADER.strip().split(",") + ["error_code", "error_message"]
    assert [r[2] for r in rows[1:]] == ["abc", "415.555.2671", "+1 415 555 2672"]
    data = json.loads(summary.read_text())
    assert data["records"] == 6
    assert data["counts"] == {"valid": 3, "invalid": 2, "duplicate": 1}
    assert data["exit_code"] == 1


def test_formula_cells_are_neutralised_in_report_and_rejects(cli: Cli, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", ["=HYPERLINK(1),X,=2+3,,,,", "@SUM,Y,-12,,,,"])
    report, rejects = tmp_path / "r.csv", tmp_path / "rej.csv"
    cli("validate", source, "--report", report, "--rejects", rejects)
    assert [r["phone_input"] for r in read_report(report)] == ["'=2+3", "-12"]
    text = rejects.read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in text and "'@SUM" in text


def test_validate_exit_codes(cli: Cli, tmp_path: Path) -> None:
    assert cli("validate", write_csv(tmp_path / "ok.csv", ROWS[:2])).exit_code == 0
    assert cli("validate", write_csv(tmp_path / "bad.csv", ROWS)).exit_code == 1
    missing = cli("validate", tmp_path / "nope.csv")
    assert missing.exit_code == 2
    assert "Traceback" not in missing.stderr


def test_no_phone_column_exits_2_naming_columns_and_the_fix(cli: Cli, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", ["Ann,ann@example.com"], header="Who,Mail Box\n")
    result = cli("validate", source)
    assert result.exit_code == 2
    assert "Who" in result.stderr and "--map phone=" in result.stderr
    mapped = cli(
        "validate",
        write_csv(tmp_path / "m.csv", ["Ann,+14155552671"], header="Who,Digits\n"),
        "--map",
        "phone=Digits",
    )
    assert mapped.exit_code == 0, mapped.stderr


def test_stdin_input(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", "-", "--report", tmp_path / "r.csv", stdin=HEADER + ROWS[0] + "\n")
    assert result.exit_code == 0, result.stderr
    assert read_report(tmp_path / "r.csv")[0]["e164"] == "+14155552671"


def test_max_invalid_guard_aborts_before_any_write(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", ROWS)
    result, _ = sync(cli, arnis, source, tmp_path, "--max-invalid", "1")
    assert result.exit_code == 3
    assert "max-invalid" in result.stderr
    assert arnis.store.writes() == 0


def test_rejects_fed_back_in_keep_one_pair_of_error_columns(cli: Cli, tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "in.csv", ROWS, header="*,Last Name,Phone,Email,Tags,Time Zone,Opted Out\n"
    )
    first, second = tmp_path / "rej1.csv", tmp_path / "rej2.csv"
    assert cli("validate", source, "--rejects", first).exit_code == 1
    assert cli("validate", first, "--rejects", second).exit_code == 1
    with second.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "*",
        "Last Name",
        "Phone",
        "Email",
        "Tags",
        "Time Zone",
        "Opted Out",
        "error_code",
        "error_message",
    ]
    # the duplicate of row 1 is valid on its own now; the two broken records come back
    assert [r[0] for r in rows[1:]] == ["Cy", "Eve"]
    assert [r[7] for r in rows[1:]] == ["invalid_phone", "invalid_email"]


def test_contacts_only_key_is_told_how_to_create_without_reading(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arnis = sandbox_factory("arnis", scoped_keys={"contacts-only-key-42": "contacts"})
    monkeypatch.setenv("SCOPED_KEY", "contacts-only-key-42")
    source = write_csv(tmp_path / "in.csv", [ROWS[0], ROWS[1]])
    refused, _ = sync(cli, arnis, source, tmp_path, "--api-key-env", "SCOPED_KEY")
    assert refused.exit_code == 3
    assert "--skip-remote-read" in refused.stderr and "contacts-only-key-42" not in refused.stderr
    assert arnis.store.writes() == 0
    arnis.store.insert(
        "+442079460958", {"phone_number": "+442079460958", "e164_number": "+442079460958"}
    )
    blind, report = sync(
        cli,
        arnis,
        source,
        tmp_path,
        "--api-key-env",
        "SCOPED_KEY",
        "--mode",
        "create-only",
        "--skip-remote-read",
        name="blind",
    )
    assert blind.exit_code == 1, blind.stderr
    assert [(r["status"], r["error_code"]) for r in report] == [
        ("created", ""),
        ("skipped", "exists_remotely"),
    ]
    created = arnis.store.find_e164("+14155552671")
    assert created is not None and report[0]["remote_id"] == created["id"]


def test_skip_remote_read_needs_create_only(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    result, _ = sync(
        cli, arnis, write_csv(tmp_path / "in.csv", ROWS[:1]), tmp_path, "--skip-remote-read"
    )
    assert result.exit_code == 2
    assert "create-only" in result.stderr


def test_validate_max_invalid_exits_3_and_still_writes_its_outputs(
    cli: Cli, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", ROWS)
    summary, report = tmp_path / "s.json", tmp_path / "r.csv"
    result = cli(
        "validate", source, "--max-invalid", "10%", "--summary-json", summary, "--report", report
    )
    assert result.exit_code == 3
    assert json.loads(summary.read_text())["exit_code"] == 3
    assert len(read_report(report)) == len(ROWS)


def test_the_journal_keeps_the_plan_and_each_confirmed_step(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    import polars as pl

    result, report = sync(cli, arnis, write_csv(tmp_path / "in.csv", ROWS), tmp_path)
    assert result.exit_code == 1
    state = tmp_path / "state"
    (plan_file,) = state.glob("*.plan.parquet")
    plan = pl.read_parquet(plan_file)
    assert plan["row"].to_list() == [1, 2, 3, 4, 5, 6]
    assert plan["action"].to_list() == [
        "create",
        "create",
        "invalid",
        "duplicate",
        "invalid",
        "create",
    ]
    (journal,) = state.glob("*.journal.jsonl")
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    steps = {e["step"]: e for e in events if e["event"] == "confirmed"}
    assert steps["create"]["rows"] == [1, 2, 6]
    assert steps["create"]["remote_ids"] == [
        report[0]["remote_id"],
        report[1]["remote_id"],
        report[5]["remote_id"],
    ]
    assert steps["opt_out"]["rows"] == [6]
    assert [e["event"] for e in events][-1] == "done"
