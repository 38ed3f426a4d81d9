"""The retry budget (``--retry-timeout``), through the CLI against the sandboxes and
loopback servers (issues 16, 21.5, 22.12): an API down for longer than the budget, one
that never answers, or one asking to wait longer than the budget allows ends the run
within the budget, and a rerun then sends exactly what is missing; the waits are shown
to a person watching, and never with ``--quiet``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.sandbox import Faults, RunningSandbox, start
from tests.conftest import API_KEY, Cli
from tests.flow import (
    TARGET_ARGS,
    TARGETS,
    contacts_csv,
    read_report,
    read_summary,
    sync_args,
)


def _in_process(
    cli: Cli, target: str, sandbox: RunningSandbox, source: Path, out: Path, *extra: str
) -> tuple[int, str, float]:
    began = time.monotonic()
    result = cli(*sync_args(target, sandbox, source, out), *extra)
    return result.exit_code, result.stderr, time.monotonic() - began


#: the requests each target answers before it goes down: the remote read (dmchamp: a
#: lookup a contact), and a first batch (arnis, oliai) or a few creates
UP_FOR = {"arnis": 3, "consuelo": 9, "dmchamp": 40 + 8, "oliai": 2, "zexa": 9}


@pytest.mark.parametrize("target", TARGETS)
def test_an_api_down_past_the_budget_ends_the_run_and_a_rerun_sends_the_missing(
    cli: Cli, tmp_path: Path, target: str
) -> None:
    numbers = contacts_csv(tmp_path / "contacts.csv", 40)
    # the API goes down once the remote set is read and a few writes went through
    sandbox = start(target, API_KEY, faults=Faults(down_after=UP_FOR[target]))
    try:
        out = tmp_path / "down"
        budget = 2.0
        code, stderr, seconds = _in_process(
            cli, target, sandbox, tmp_path / "contacts.csv", out, "--retry-timeout", f"{budget:g}s"
        )
        # within the budget, plus one wait (at most the budget: no wait is longer)
        assert seconds < 2 * budget + 1.5, stderr
        assert code in (1, 3), stderr  # as before: rows failed (1), or the run aborted (3)
        summary = read_summary(out) if (out / "summary.json").exists() else None
        if code == 1:
            assert summary is not None
            report = read_report(out)
            failed = [line for line in report if line["status"] == "failed"]
            assert failed and all("--retry-timeout" in line["error_message"] for line in failed)
            assert summary["retry"]["budget_s"] == budget and "spent" in summary["retry"]
            for line in report:
                if line["status"] == "created":
                    assert sandbox.store.find_e164(line["e164"]) is not None
        else:
            assert "unreachable after retries" in stderr and "--retry-timeout" in stderr
        before = dict(sandbox.store.by_e164)
        sandbox.emulator.faults = Faults()  # the API is back
        again = tmp_path / "again"
        code, stderr, _ = _in_process(cli, target, sandbox, tmp_path / "contacts.csv", again)
        assert code == 0, stderr
        report = read_report(again)
        created = sorted(line["e164"] for line in report if line["status"] == "created")
        assert created == sorted(set(numbers) - set(before))  # exactly the missing ones
        assert sorted(sandbox.store.by_e164) == sorted(numbers)
        assert len(sandbox.store.contacts) == len(numbers)  # none twice
    finally:
        sandbox.stop()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that takes connections and never answers (its base URL)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for connection in held:
        connection.close()
    listener.close()


@pytest.mark.parametrize("target", TARGETS)
def test_one_budget_for_every_target_against_a_server_that_never_answers(
    cli: Cli, tmp_path: Path, silent_server: str, target: str
) -> None:
    contacts_csv(tmp_path / "contacts.csv", 5)
    url = silent_server + {"arnis": "/api/v1", "dmchamp": ""}.get(target, "/v1")
    began = time.monotonic()
    result = cli(
        "sync",
        tmp_path / "contacts.csv",
        "--target",
        target,
        "--base-url",
        url,
        "--retry-timeout",
        "1s",
        "--state-dir",
        tmp_path / "state",
        *TARGET_ARGS[target],
    )
    seconds = time.monotonic() - began
    assert result.exit_code in (1, 3), result.stderr
    assert seconds < 1 + 1 + 1.5, result.stderr  # the budget, one attempt, and slack
    assert "--retry-timeout 1 s" in result.stderr


@pytest.mark.parametrize("http_date", [False, True], ids=["seconds", "http-date"])
def test_a_retry_after_longer_than_the_budget_ends_the_run_at_once(
    cli: Cli, tmp_path: Path, http_date: bool
) -> None:
    numbers = contacts_csv(tmp_path / "contacts.csv", 20)
    faults = Faults(
        bucket_per_minute=60, bucket_burst=4, retry_after=3600, retry_after_http_date=http_date
    )
    sandbox = start("zexa", API_KEY, faults=faults)
    try:
        out = tmp_path / "asked"
        page = ("--html-report", str(out / "report.html"))
        code, stderr, seconds = _in_process(
            cli, "zexa", sandbox, tmp_path / "contacts.csv", out, "--retry-timeout", "10s", *page
        )
        assert code == 3, stderr
        assert seconds < 5, stderr  # at once: neither an hour nor the budget
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("contact-sync: zexa: "), stderr
        assert re.search(r"asked to wait 3(59\d|60\d) s", stderr), stderr  # an hour
        assert "10 s left of the retry budget" in stderr and "--retry-timeout" in stderr
        assert str(out / "report.csv") in stderr  # what was known is written
        report = read_report(out)
        landed = [line for line in report if line["status"] == "created"]
        assert landed and len(landed) < len(numbers)
        assert {line["status"] for line in report} == {"created", "failed"}
        summary = read_summary(out)
        assert summary["exit_code"] == 3 and "Retry-After" in summary["aborted"]
        assert summary["retry"]["responses_429"] >= 1
        assert "429 (throttled)" in (out / "report.html").read_text(encoding="utf-8")
        sandbox.emulator.faults = Faults()
        again = tmp_path / "again"
        code, stderr, _ = _in_process(cli, "zexa", sandbox, tmp_path / "contacts.csv", again)
        assert code == 0, stderr
        created = [line for line in read_report(again) if line["status"] == "created"]
        assert len(created) == len(numbers) - len(landed)
        assert len(sandbox.store.contacts) == len(numbers)
    finally:
        sandbox.stop()


def _on_a_terminal(args: list[str], timeout: float = 60) -> tuple[int, str]:
    """``contact-sync ARGS`` with stderr on a terminal (a pty): its exit code and what it
    wrote there."""
    env = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY, "PYTHONPATH": os.getcwd()}
    env.pop("CI", None)
    main, other = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=other,
        stdin=subprocess.DEVNULL,
    )
    os.close(other)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the other end closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    code = process.wait(timeout=timeout)
    reader.join(timeout=5)
    os.close(main)
    return code, b"".join(chunks).decode("utf-8", errors="replace")


@pytest.mark.parametrize("quiet", [False, True], ids=["watched", "quiet"])
def test_waiting_on_the_limit_is_shown_to_a_person_watching_and_quiet_stays_silent(
    tmp_path: Path, quiet: bool
) -> None:
    contacts_csv(tmp_path / "contacts.csv", 3)
    sandbox = start("zexa", API_KEY, faults=Faults(bucket_per_minute=120, bucket_burst=1))
    try:
        args = sync_args("zexa", sandbox, tmp_path / "contacts.csv", tmp_path)
        args.remove("--no-progress")
        code, shown = _on_a_terminal([*args, *(["--quiet"] if quiet else [])])
    finally:
        sandbox.stop()
    assert code == 0, shown
    assert any(r.status == 429 for r in sandbox.store.requests)
    if quiet:
        assert shown == ""
    else:
        assert "zexa: throttled: waiting 1 s" in shown, shown


def test_the_budget_comes_from_the_flag_or_the_job_file(cli: Cli, tmp_path: Path) -> None:
    contacts_csv(tmp_path / "contacts.csv", 3)
    sandbox = start("zexa", API_KEY)
    try:
        job = tmp_path / "job.toml"
        job.write_text('target = "zexa"\nretry_timeout = "90s"\n', encoding="utf-8")
        base = [*sync_args("zexa", sandbox, tmp_path / "contacts.csv", tmp_path), "--config", job]
        assert cli(*base).exit_code == 0
        assert read_summary(tmp_path)["retry"]["budget_s"] == 90
        assert cli(*base, "--retry-timeout", "0.5h").exit_code == 0  # the flag wins
        assert read_summary(tmp_path)["retry"]["budget_s"] == 1800
        wrong = cli(*base, "--retry-timeout", "soon")
        assert wrong.exit_code == 2 and "--retry-timeout takes a duration" in wrong.stderr
        job.write_text('target = "zexa"\nretry_timeout = "a while"\n', encoding="utf-8")
        bad = cli(*base)
        assert bad.exit_code == 2 and f"{job}:2: 'retry_timeout'" in bad.stderr, bad.stderr
    finally:
        sandbox.stop()
