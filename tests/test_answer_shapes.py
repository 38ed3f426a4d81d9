"""Answers outside a target's documented API (issue 21 item 3, issue 22 item 4): a listing
that is a bare array or not JSON stops the run before any write; a write answered with
the wrong shape stops the writes, what it did is read back, the report and summary are
written, and the run ends with exit 3 naming the endpoint. A rerun converges."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.targets import target_class
from tests.conftest import Cli
from tests.tamper import Rewrite, tampered

TARGETS = ("arnis", "consuelo", "dmchamp", "oliai", "zexa")
EXTRA = {"consuelo": ["--option", "workspace_id=ws_1"], "oliai": ["--rate-limit", "0"]}
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _csv(tmp: Path, first: int, count: int) -> Path:
    path = tmp / f"contacts_{first}.csv"
    rows = "".join(f"+1415555{n:04d},Ann{n},Lee\n" for n in range(first, first + count))
    path.write_text("phone,first_name,last_name\n" + rows, encoding="utf-8")
    return path


def _sync(cli: Cli, tmp: Path, target: str, url: str, source: Path, name: str = "run") -> tuple:
    out = tmp / name
    result = cli(
        "sync",
        source,
        "--target",
        target,
        "--base-url",
        url,
        "--report",
        out / "report.csv",
        "--summary-json",
        out / "summary.json",
        "--state-dir",
        tmp / "state",
        *EXTRA.get(target, []),
    )
    return result, out


def _numbers(sandbox: object, target: str) -> list[str]:
    phone = target_class(target).description.fields.read["e164"]  # type: ignore[attr-defined]
    return [c[phone] for c in sandbox.store.all()]  # type: ignore[attr-defined]


def _reads(answer: bytes) -> Rewrite:
    """Every successful read answered with ``answer``."""
    return lambda m, p, s, b: (200, answer) if m == "GET" and s == 200 else None


def _writes(change: Callable[[bytes], bytes]) -> Rewrite:
    """Every successful write's answer changed by ``change``."""
    return lambda m, p, s, b: (s, change(b)) if m in WRITES and 200 <= s < 300 else None


@pytest.mark.parametrize("answer", [b"[]", b"<html>busy</html>", b'{"items": "none"}'])
@pytest.mark.parametrize("target", TARGETS)
def test_a_read_of_the_wrong_shape_stops_the_run_before_any_write(
    cli: Cli, sandbox_factory: Callable, tmp_path: Path, target: str, answer: bytes
) -> None:
    sandbox = sandbox_factory(target)
    first, _ = _sync(cli, tmp_path, target, sandbox.url, _csv(tmp_path, 1, 4), "first")
    assert first.exit_code == 0, first.stderr
    with tampered(sandbox.url, _reads(answer)) as server:
        result, out = _sync(cli, tmp_path, target, server.url, _csv(tmp_path, 1, 6))
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "outside its documented API" in result.stderr
    assert "GET /" in result.stderr and "unexpected error" not in result.stderr
    assert "Traceback" not in result.stderr
    assert server.rewritten, "the tampered read was made"
    assert server.count(*WRITES) == 0, server.requests
    assert sorted(_numbers(sandbox, target)) == [f"+1415555{n:04d}" for n in range(1, 5)]


@pytest.mark.parametrize("answer", [b"[]", b"not json at all"])
@pytest.mark.parametrize("target", TARGETS)
def test_a_write_answered_outside_the_api_halts_and_reports_what_landed(
    cli: Cli, sandbox_factory: Callable, tmp_path: Path, target: str, answer: bytes
) -> None:
    sandbox = sandbox_factory(target)
    source = _csv(tmp_path, 1, 5)
    with tampered(sandbox.url, _writes(lambda _: answer)) as server:
        result, out = _sync(cli, tmp_path, target, server.url, source)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "outside its documented API" in result.stderr and "HTTP 2" in result.stderr
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    landed = set(_numbers(sandbox, target))
    assert landed, "the write reached the sandbox"
    with (out / "report.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5
    for row in rows:  # the report tells the truth about every row
        if row["status"] == "created":
            assert row["e164"] in landed, row
        else:
            assert row["status"] in ("failed", "skipped"), row
            assert row["e164"] not in landed or row["status"] == "failed", row
    assert {r["error_code"] for r in rows if r["status"] == "skipped"} <= {"halted"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "answered HTTP" in summary["protocol_error"]
    again, _ = _sync(cli, tmp_path, target, sandbox.url, source, "again")
    assert again.exit_code == 0, again.stdout + again.stderr
    numbers = _numbers(sandbox, target)
    assert sorted(numbers) == [f"+1415555{n:04d}" for n in range(1, 6)]  # none twice


def _without_ids(body: bytes) -> bytes:
    answer = json.loads(body)
    for record in answer.get("contacts") or []:
        record.pop("id", None)
    return json.dumps(answer).encode()


@pytest.mark.parametrize(
    ("target", "change"),
    [("oliai", _without_ids), ("zexa", lambda _: b"{}"), ("consuelo", lambda _: b"{}")],
)
def test_an_answer_missing_the_ids_is_a_protocol_error(
    cli: Cli, sandbox_factory: Callable, tmp_path: Path, target: str, change: Callable
) -> None:
    sandbox = sandbox_factory(target)
    with tampered(sandbox.url, _writes(change)) as server:
        result, out = _sync(cli, tmp_path, target, server.url, _csv(tmp_path, 1, 3))
    assert server.rewritten
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "no id" in result.stderr or "no record" in result.stderr or "no list" in result.stderr
    assert (out / "report.csv").exists() and (out / "summary.json").exists()
