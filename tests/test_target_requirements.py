"""What a target requires is checked before anything is sent (issue 20 item 11): zexa's
name, E.164's 15 digits on consuelo, oliai and zexa. ``validate --target``, ``plan`` and
``sync`` agree: such rows are ``invalid`` with a code naming the requirement, the plan
promises only what the push can do, and a rerun sends nothing again."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Cli

ROWS = (
    "phone,first_name,last_name,email\n"
    "+14155550101,Ann,Lee,a@example.com\n"
    "+14155550102,,,b@example.com\n"
    "+4980012345678906,Cy,Do,c@example.com\n"
    "+14155550104,,Ray,d@example.com\n"
)
EXTRA = {"consuelo": ["--option", "workspace_id=ws_1"], "oliai": ["--rate-limit", "0"]}


def _source(tmp: Path) -> Path:
    path = tmp / "contacts.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def _report(path: Path) -> dict[str, tuple[str, str]]:
    with path.open(encoding="utf-8") as f:
        return {r["row"]: (r["status"], r["error_code"]) for r in csv.DictReader(f)}


def test_validate_target_checks_what_zexa_requires_without_a_key(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTACT_SYNC_API_KEY")
    report = tmp_path / "report.csv"
    result = cli("validate", _source(tmp_path), "--target", "zexa", "--report", report)
    assert result.exit_code == 1, result.stderr
    rows = _report(report)
    assert rows["1"] == ("valid", "") and rows["4"] == ("valid", "")
    assert rows["2"] == ("invalid", "missing_required")
    assert rows["3"] == ("invalid", "number_too_long")
    text = report.read_text(encoding="utf-8")
    assert "zexa requires a name" in text and "has 16 digits; zexa takes at most 15" in text
    plain = cli("validate", _source(tmp_path))
    assert plain.exit_code == 0, "without a target, phonenumbers' validity alone"


@pytest.mark.parametrize(
    ("target", "refused"),
    [
        ("zexa", {"2": "missing_required", "3": "number_too_long"}),
        ("consuelo", {"3": "number_too_long"}),
        ("oliai", {"3": "number_too_long"}),
        ("arnis", {}),
    ],
)
def test_plan_and_sync_promise_only_what_the_push_can_do(
    cli: Cli, sandbox_factory: Callable, tmp_path: Path, target: str, refused: dict[str, str]
) -> None:
    sandbox = sandbox_factory(target)
    source = _source(tmp_path)
    common = ["--target", target, "--base-url", sandbox.url, "--state-dir", tmp_path / "state"]
    common += EXTRA.get(target, [])
    planned = cli("plan", source, *common, "--report", tmp_path / "plan.csv")
    plan = _report(tmp_path / "plan.csv")
    assert {row: code for row, (_, code) in plan.items() if code} == refused, planned.stderr
    creates = sum(1 for status, _ in plan.values() if status == "create")
    assert creates == 4 - len(refused)
    synced = cli("sync", source, *common, "--report", tmp_path / "sync.csv")
    assert synced.exit_code == (1 if refused else 0), synced.stderr
    done = _report(tmp_path / "sync.csv")
    assert sum(1 for status, _ in done.values() if status == "created") == creates
    assert not [row for row, (status, _) in done.items() if status == "failed"]
    assert len(sandbox.store.all()) == creates
    before = len(sandbox.store.requests)
    again = cli("sync", source, *common, "--report", tmp_path / "again.csv")
    assert again.exit_code == (1 if refused else 0), again.stderr
    writes = [r for r in sandbox.store.requests[before:] if r.method != "GET"]
    assert writes == [], "a rerun sends nothing again"
