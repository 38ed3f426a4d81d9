"""Crashes, reruns and the single-instance lock, with real processes."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import phonenumbers

from pipeline.journal import state_key
from pipeline.sandbox import Faults, RunningSandbox
from tests.conftest import API_KEY, Cli

ROWS = 4000


def big_file(path: Path, rows: int = ROWS) -> list[str]:
    """A file of ``rows`` distinct valid US numbers (checked with phonenumbers); returns them."""
    numbers: list[str] = []
    candidate = 0
    while len(numbers) < rows:
        text = f"+1 212 {200 + candidate // 10000:03d} {candidate % 10000:04d}"
        candidate += 1
        parsed = phonenumbers.parse(text, "US")
        if phonenumbers.is_valid_number(parsed):
            numbers.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First Name", "Phone"])
        writer.writerows([f"P{i}", n] for i, n in enumerate(numbers))
    return numbers


def sync_command(source: Path, sandbox: RunningSandbox, tmp: Path, report: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipeline",
        "sync",
        str(source),
        "--target",
        "arnis",
        "--base-url",
        sandbox.url,
        "--report",
        str(tmp / report),
        "--state-dir",
        str(tmp / "state"),
        "--chunk-size",
        "250",
        "--concurrency",
        "1",
        "--quiet",
    ]


def test_sigkill_mid_sync_then_rerun_converges(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    numbers = big_file(tmp_path / "big.csv")
    sandbox = sandbox_factory("arnis", faults=Faults(slow_rate=1.0, slow_seconds=0.15))
    env = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY}
    process = subprocess.Popen(
        sync_command(tmp_path / "big.csv", sandbox, tmp_path, "first.csv"), env=env
    )
    deadline = time.monotonic() + 60
    while len(sandbox.store.contacts) < 1000 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(1.0)  # a request the dead client had in flight may still land on the server
    landed = len(sandbox.store.contacts)
    assert 1000 <= landed < ROWS  # killed in the middle, with several chunks in
    assert list((tmp_path / "state").glob("*.lock"))  # the dead run left its lock behind

    sandbox.emulator.faults = Faults()
    done = subprocess.run(
        sync_command(tmp_path / "big.csv", sandbox, tmp_path, "second.csv"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(sandbox.store.by_e164) == sorted(numbers)
    assert len(sandbox.store.contacts) == ROWS  # no duplicate
    with (tmp_path / "second.csv").open(encoding="utf-8", newline="") as handle:
        report = list(csv.DictReader(handle))
    assert [line["row"] for line in report] == [str(i) for i in range(1, ROWS + 1)]
    statuses = [line["status"] for line in report]
    assert statuses.count("unchanged") == landed
    assert statuses.count("created") == ROWS - landed


def test_a_second_run_exits_3_naming_the_lock_holder(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    source = tmp_path / "in.csv"
    source.write_text("Phone\n+1 415 555 2671\n", encoding="utf-8")
    lock = tmp_path / "state" / f"{state_key('arnis', sandbox.url)}.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(
        json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()})
    )
    result = cli(
        "sync",
        source,
        "--target",
        "arnis",
        "--base-url",
        sandbox.url,
        "--state-dir",
        tmp_path / "state",
    )
    assert result.exit_code == 3
    assert f"pid {os.getpid()}" in result.stderr
    assert sandbox.store.writes() == 0


def test_a_lock_left_by_a_dead_process_is_taken_over(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    source = tmp_path / "in.csv"
    source.write_text("Phone\n+1 415 555 2671\n", encoding="utf-8")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / "state" / f"{state_key('arnis', sandbox.url)}.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": 0}))
    result = cli(
        "sync",
        source,
        "--target",
        "arnis",
        "--base-url",
        sandbox.url,
        "--state-dir",
        tmp_path / "state",
    )
    assert result.exit_code == 0, result.stderr
    assert sandbox.store.find_e164("+14155552671") is not None
    assert not lock.exists()
