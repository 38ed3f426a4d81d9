"""Seeded fault runs: 429s, 503s, writes applied then failed, slow answers — together.

For every target, a sync through faults must end in exactly the remote state of a
fault-free sync, with no duplicate contact and a report that tells the truth.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox import Faults, RunningSandbox
from tests.conftest import Cli

MESSY = Path(__file__).resolve().parent.parent / "sample_data" / "messy.csv"
TARGET_ARGS: dict[str, list[str]] = {
    "arnis": [],
    "consuelo": ["--option", "workspace_id=ws_test"],
    "dmchamp": [],
    "oliai": ["--rate-limit", "0"],
    "zexa": [],
}
VOLATILE = {"id", "created_at", "createdAt", "updatedAt", "updated_at", "opted_out_at"}


def _state(sandbox: RunningSandbox) -> dict[str, dict[str, Any]]:
    """The store by E.164, without ids and timestamps."""
    state = {}
    for e164, contact_id in sandbox.store.by_e164.items():
        record = sandbox.store.contacts[contact_id]
        state[e164] = {k: v for k, v in record.items() if k not in VOLATILE}
    return state


def _sync(
    cli: Cli, sandbox: RunningSandbox, target: str, tmp: Path, name: str
) -> list[dict[str, str]]:
    report = tmp / f"{name}.csv"
    result = cli(
        "sync",
        MESSY,
        "--target",
        target,
        "--base-url",
        sandbox.url,
        "--report",
        report,
        "--state-dir",
        tmp / name,
        *TARGET_ARGS[target],
    )
    assert result.exit_code in (1, 0), result.stderr
    with report.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("target", sorted(TARGET_ARGS))
def test_faulty_sync_converges_on_the_fault_free_state(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path, target: str, seed: int
) -> None:
    clean = sandbox_factory(target)
    clean_report = _sync(cli, clean, target, tmp_path, "clean")
    faults = Faults(
        seed=seed,
        rate_limit=40,
        window_seconds=1.0,
        transient_rate=0.08,
        commit_then_fail_rate=0.1,
        slow_rate=0.05,
        slow_seconds=0.1,
    )
    faulty = sandbox_factory(target, faults=faults)
    report = _sync(cli, faulty, target, tmp_path, "faulty")
    assert len(faulty.store.contacts) == len(faulty.store.by_e164)  # no duplicate contact
    for line in report:  # the report tells the truth about every row
        if line["status"] in ("created", "updated", "unchanged"):
            stored = faulty.store.find_e164(line["e164"])
            assert stored is not None and stored["id"] == line["remote_id"], line
        if line["status"] == "failed":
            assert line["error_code"] and line["error_message"]
    rerun = _sync(cli, faulty, target, tmp_path, "rerun")  # a rerun converges
    assert len(faulty.store.contacts) == len(faulty.store.by_e164)
    assert _state(faulty) == _state(clean)
    assert [r["row"] for r in rerun] == [r["row"] for r in clean_report]
    assert not [r for r in rerun if r["status"] == "failed"]
