"""What the flow-control tests share: contacts, the sync command line, its outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from pipeline.sandbox import RunningSandbox

TARGETS = ("arnis", "consuelo", "dmchamp", "oliai", "zexa")
#: oliai documents 60 requests and 10 bulk requests a minute: off, so that the sandbox's
#: token bucket is the only limit, as on the targets that document none
TARGET_ARGS: dict[str, list[str]] = {
    "arnis": [],
    "consuelo": ["--option", "workspace_id=ws_flow"],
    "dmchamp": [],
    "oliai": ["--rate-limit", "0"],
    "zexa": [],
}
VOLATILE = {"id", "created_at", "createdAt", "updatedAt", "updated_at", "opted_out_at"}


def contacts_csv(path: Path, rows: int) -> list[str]:
    """``rows`` valid contacts; their E.164 numbers."""
    numbers = [f"+1212300{i:04d}" for i in range(rows)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Phone", "First Name", "Last Name", "Email"])
        for i in range(rows):
            writer.writerow([f"(212) 300-{i:04d}", f"First{i}", f"Last{i}", f"p{i}@example.com"])
    return numbers


def state(sandbox: RunningSandbox) -> dict[str, dict[str, Any]]:
    """The store by E.164, without ids and timestamps."""
    found = {}
    for e164, contact_id in sandbox.store.by_e164.items():
        record = sandbox.store.contacts[contact_id]
        found[e164] = {k: v for k, v in record.items() if k not in VOLATILE}
    return found


def sync_args(target: str, sandbox: RunningSandbox, source: Path, out: Path) -> list[str]:
    return [
        "sync",
        str(source),
        "--target",
        target,
        "--base-url",
        sandbox.url,
        "--chunk-size",
        "10",
        "--report",
        str(out / "report.csv"),
        "--summary-json",
        str(out / "summary.json"),
        "--state-dir",
        str(out / "state"),
        "--no-progress",
        *TARGET_ARGS[target],
    ]


def read_report(out: Path) -> list[dict[str, str]]:
    with (out / "report.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary
