"""SIGINT and SIGTERM during a sync (issue 20 item 3, issue 22 item 9): the run stops
sending, lets the requests in flight finish, writes its report, summary and journal for
what it knows, releases its lock and exits 3 with one line."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.sandbox import Faults, RunningSandbox
from tests.conftest import API_KEY
from tests.test_crash_resume import big_file

ROWS = 3000
#: per target: the options it needs and requests that take long enough to signal mid-push
SCENES = {
    "arnis": ((), ["--chunk-size", "100", "--concurrency", "1"], 0.1),
    "consuelo": (("--option", "workspace_id=ws_1"), ["--concurrency", "4"], 0.02),
}


def sync_command(target: str, sandbox: RunningSandbox, tmp: Path) -> list[str]:
    options, pace, _ = SCENES[target]
    return [
        sys.executable,
        "-m",
        "pipeline",
        "sync",
        str(tmp / "big.csv"),
        "--target",
        target,
        "--base-url",
        sandbox.url,
        *options,
        *pace,
        "--report",
        str(tmp / "report.csv"),
        "--summary-json",
        str(tmp / "summary.json"),
        "--state-dir",
        str(tmp / "state"),
        "--no-progress",
    ]


@pytest.mark.parametrize("target", ["arnis", "consuelo"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_sync_reports_what_landed_and_releases_the_lock(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path, target: str, signum: int
) -> None:
    numbers = big_file(tmp_path / "big.csv", ROWS)
    slow = SCENES[target][2]
    sandbox = sandbox_factory(target, faults=Faults(slow_rate=1.0, slow_seconds=slow))
    env = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(
        sync_command(target, sandbox, tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(sandbox.store.contacts) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 3, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr  # one line, no traceback of any thread
    name = signal.Signals(signum).name
    assert lines[0].startswith(f"contact-sync: interrupted ({name}): stopped sending"), stderr
    assert "rerun continues safely" in lines[0] and str(tmp_path / "report.csv") in lines[0]

    assert 300 <= len(sandbox.store.contacts) < ROWS  # stopped in the middle
    with (tmp_path / "report.csv").open(encoding="utf-8", newline="") as handle:
        report = list(csv.DictReader(handle))
    assert [line["row"] for line in report] == [str(i) for i in range(1, ROWS + 1)]
    created = [line for line in report if line["status"] == "created"]
    skipped = [line for line in report if line["status"] == "skipped"]
    assert len(created) + len(skipped) == ROWS
    assert len(created) == len(sandbox.store.contacts)  # every landed create, reported
    assert {line["error_code"] for line in skipped} == {"interrupted"}
    assert sorted(sandbox.store.by_e164) == sorted(line["e164"] for line in created)

    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 3
    assert summary["counts"] == {"created": len(created), "skipped": len(skipped)}
    assert summary["error_codes"] == {"interrupted": len(skipped)}

    state = tmp_path / "state"
    assert not list(state.glob("*.lock"))  # released
    (journal,) = state.glob("*.journal.jsonl")
    events = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    confirmed = sorted(row for e in events if e["event"] == "confirmed" for row in e["rows"])
    assert confirmed == sorted(int(line["row"]) for line in created)
    assert events[-1]["event"] == "interrupted"

    sandbox.emulator.faults = Faults()
    rerun = subprocess.run(
        sync_command(target, sandbox, tmp_path), env=env, capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(sandbox.store.by_e164) == sorted(numbers)
    assert len(sandbox.store.contacts) == ROWS


def test_a_signal_before_anything_is_sent_stops_at_once(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    big_file(tmp_path / "big.csv", ROWS)
    (tmp_path / "report.csv").write_text("previous\n", encoding="utf-8")
    sandbox = sandbox_factory("arnis", faults=Faults(slow_rate=1.0, slow_seconds=1.0))
    for i in range(1000):  # ten pages to list, one by one (--concurrency 1)
        e164 = f"+1646555{i:04d}"
        record = {"phone_number": e164, "e164_number": e164, "tags": [], "opted_out": False}
        sandbox.store.insert(e164, record)
    env = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(
        sync_command("arnis", sandbox, tmp_path), env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not sandbox.store.requests and time.monotonic() < deadline:
        time.sleep(0.01)  # the listing is under way (each page takes 1 s)
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 3, stderr
    assert stderr.strip() == "contact-sync: interrupted (SIGTERM); a rerun continues safely"
    assert sandbox.store.writes() == 0
    assert len(sandbox.store.requests) < 10  # the listing was not read to its end
    assert (tmp_path / "report.csv").read_text(encoding="utf-8") == "previous\n"
    assert not list(tmp_path.glob(".*.tmp"))  # the part written, discarded
    assert not list((tmp_path / "state").glob("*.lock"))


def test_a_second_signal_stops_at_once_and_still_releases_the_lock(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    big_file(tmp_path / "big.csv", ROWS)
    (tmp_path / "report.csv").write_text("previous\n", encoding="utf-8")
    sandbox = sandbox_factory("arnis", faults=Faults(slow_rate=1.0, slow_seconds=0.1))
    env = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(
        sync_command("arnis", sandbox, tmp_path), env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while len(sandbox.store.contacts) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    sandbox.emulator.faults = Faults(slow_rate=1.0, slow_seconds=2.0)  # in flight: long
    time.sleep(0.15)
    process.send_signal(signal.SIGINT)
    time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 3, stderr
    assert stderr.strip() == (
        "contact-sync: interrupted again (SIGINT): stopped at once, without a report. "
        "A rerun continues safely."
    )
    assert (tmp_path / "report.csv").read_text(encoding="utf-8") == "previous\n"
    assert not list(tmp_path.glob(".*.tmp"))  # the part written, discarded
    assert not list((tmp_path / "state").glob("*.lock"))


def test_a_signal_while_writes_wait_for_the_rate_limit_still_reports(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    """oliai takes 10 bulk requests a minute: after the first ten, every write waits up to
    a minute for a place in the window. A signal then must not wait that minute out (it
    outlasted the grace period: no report at all); the waiting writes are not sent."""
    big_file(tmp_path / "big.csv", ROWS)
    sandbox = sandbox_factory("oliai")
    env = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY, "PYTHONPATH": os.getcwd()}
    command = [
        sys.executable, "-m", "pipeline", "sync", str(tmp_path / "big.csv"),
        "--target", "oliai", "--base-url", sandbox.url, "--chunk-size", "100",
        "--report", str(tmp_path / "report.csv"), "--summary-json", str(tmp_path / "s.json"),
        "--state-dir", str(tmp_path / "state"), "--no-progress",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(sandbox.store.contacts) < 1000 and time.monotonic() < deadline:
        time.sleep(0.01)  # the ten bulk requests of the first minute have landed
    time.sleep(0.5)  # the next ones wait for the window
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    assert stderr.startswith("contact-sync: interrupted (SIGINT): stopped sending"), stderr
    assert len(sandbox.store.contacts) == 1000
    with (tmp_path / "report.csv").open(encoding="utf-8", newline="") as handle:
        statuses = [line["status"] for line in csv.DictReader(handle)]
    assert statuses.count("created") == 1000
    assert statuses.count("skipped") == ROWS - 1000
    assert not list((tmp_path / "state").glob("*.lock"))
