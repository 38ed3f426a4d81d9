"""Every target end to end through the CLI against its own sandbox over loopback."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.sandbox import Faults, RunningSandbox
from tests.conftest import API_KEY, Cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
TARGETS = ("arnis", "consuelo", "dmchamp", "oliai", "zexa")
EXTRA = {"consuelo": ["--option", "workspace_id=ws_e2e"], "oliai": ["--rate-limit", "0"]}
JORDAN = "+14045550147"  # in contacts.csv (row 20), removed from contacts_edited.csv
#: what each target reports for contacts_edited.csv after contacts.csv was synced:
#: rows 4 and 15 change the email, row 9 the last name; rows 25 and 26 are new.
EDITED = {
    "arnis": {4: "updated", 9: "updated", 15: "updated"},
    "consuelo": {4: "updated", 9: "updated", 15: "updated"},
    "dmchamp": {4: "updated", 9: "updated", 15: "updated"},
    "oliai": {9: "updated"},  # oliai stores no email: only the name change counts
    "zexa": {4: "skipped", 9: "skipped", 15: "skipped"},  # no update endpoint
}


def run(
    cli: Cli,
    command: str,
    source: Path,
    target: str,
    sandbox: RunningSandbox,
    tmp: Path,
    name: str,
    *extra: str,
) -> tuple[int, str, list[dict[str, str]]]:
    report = tmp / f"{name}.csv"
    result = cli(
        command,
        source,
        "--target",
        target,
        "--base-url",
        sandbox.url,
        "--report",
        report,
        "--state-dir",
        tmp / "state",
        *EXTRA.get(target, []),
        *extra,
    )
    lines = []
    if report.exists():
        with report.open(encoding="utf-8", newline="") as handle:
            lines = list(csv.DictReader(handle))
    return result.exit_code, result.stderr + result.stdout, lines


@pytest.mark.parametrize("target", TARGETS)
def test_sync_rerun_edit_and_mirror(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path, target: str
) -> None:
    sandbox = sandbox_factory(target)
    code, out, first = run(
        cli, "sync", SAMPLES / "contacts.csv", target, sandbox, tmp_path, "first"
    )
    assert code == 0, out
    assert {line["status"] for line in first} == {"created"}
    assert len(sandbox.store.contacts) == 25
    assert sandbox.store.violations == []

    writes = sandbox.store.writes()
    code, out, again = run(
        cli, "sync", SAMPLES / "contacts.csv", target, sandbox, tmp_path, "again"
    )
    assert code == 0, out
    assert {line["status"] for line in again} == {"unchanged"}
    assert sandbox.store.writes() == writes

    code, out, edited = run(
        cli, "sync", SAMPLES / "contacts_edited.csv", target, sandbox, tmp_path, "edited"
    )
    expected = (
        {row: "unchanged" for row in range(1, 27)} | {25: "created", 26: "created"} | EDITED[target]
    )
    assert {int(line["row"]): line["status"] for line in edited} == expected, out
    assert code == (1 if "skipped" in expected.values() else 0)
    for line in edited:
        if line["status"] == "skipped":
            assert line["error_code"] == "update_unsupported"
    assert sandbox.store.violations == []

    if target == "dmchamp":
        code, out, _ = run(
            cli,
            "sync",
            SAMPLES / "contacts_edited.csv",
            target,
            sandbox,
            tmp_path,
            "m",
            "--mode",
            "mirror",
        )
        assert code == 2 and "mirror" in out
        return
    five = tmp_path / "five.csv"
    five.write_text(
        "".join((SAMPLES / "contacts.csv").read_text(encoding="utf-8").splitlines(True)[:6]),
        encoding="utf-8",
    )
    before = len(sandbox.store.contacts)
    code, out, _ = run(cli, "sync", five, target, sandbox, tmp_path, "guard", "--mode", "mirror")
    assert code == 3 and "--max-deletes" in out
    assert len(sandbox.store.contacts) == before
    code, out, mirrored = run(
        cli,
        "sync",
        SAMPLES / "contacts_edited.csv",
        target,
        sandbox,
        tmp_path,
        "mirror",
        "--mode",
        "mirror",
    )
    deleted = [line["e164"] for line in mirrored if line["status"] == "deleted"]
    assert deleted == [JORDAN], out
    assert sandbox.store.find_e164(JORDAN) is None
    assert len(sandbox.store.contacts) == 26


@pytest.mark.parametrize("target", TARGETS)
def test_key_never_leaks_even_when_requests_fail(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path, target: str
) -> None:
    ok = sandbox_factory(target)
    paths = [tmp_path / n for n in ("s.json", "rej.csv", "r.html")]
    outputs = ["--summary-json", paths[0], "--rejects", paths[1], "--html-report", paths[2]]
    code, out, lines = run(
        cli, "sync", SAMPLES / "messy.csv", target, ok, tmp_path, "ok", *map(str, outputs)
    )
    assert code == 1, out
    broken = sandbox_factory(target, faults=Faults(seed=1, transient_rate=1.0))
    code2, out2, _ = run(  # retried for as long as the budget allows: a short one
        cli,
        "sync",
        SAMPLES / "contacts.csv",
        target,
        broken,
        tmp_path,
        "broken",
        "--retry-timeout",
        "2s",
    )
    assert code2 == 3, out2
    texts = [
        out,
        out2,
        *(p.read_text(encoding="utf-8") for p in paths),
        (tmp_path / "ok.csv").read_text(encoding="utf-8"),
    ]
    texts += [p.read_text(errors="replace") for p in (tmp_path / "state").iterdir()]
    assert not [t for t in texts if API_KEY in t]


@pytest.mark.parametrize("target", TARGETS)
def test_messy_sample_syncs_and_rerun_sends_no_write(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path, target: str
) -> None:
    sandbox = sandbox_factory(target)
    code, out, first = run(cli, "sync", SAMPLES / "messy.csv", target, sandbox, tmp_path, "first")
    assert code == 1, out
    assert [int(line["row"]) for line in first] == list(range(1, len(first) + 1))
    landed = [line for line in first if line["status"] == "created"]
    assert landed and all(sandbox.store.find_e164(line["e164"]) for line in landed)
    assert len(sandbox.store.contacts) == len(landed)
    writes = sandbox.store.writes()
    code, out, again = run(cli, "sync", SAMPLES / "messy.csv", target, sandbox, tmp_path, "again")
    assert sandbox.store.writes() == writes, out
    assert [line["status"] for line in again] == [
        "unchanged" if line["status"] == "created" else line["status"] for line in first
    ]
    assert sandbox.store.violations == []
