"""The lock and the journal in --state-dir (issue 22 items 5-7), through the CLI and with
real processes: one run per account however its URL is spelled, stale locks taken over
(pid reuse, a holder killed), and a damaged journal with a clear way out."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.journal import read_events, state_key
from pipeline.sandbox import RunningSandbox
from tests.conftest import API_KEY, Cli

ENV = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY}


def _file(path: Path, rows: list[str], header: str = "Phone,Name") -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _sync_args(source: Path, url: str, state: Path, *extra: str) -> list[str]:
    args = ["sync", str(source), "--target", "arnis", "--base-url", url, "--state-dir", str(state)]
    return args + list(extra)


def _gate_first_listing(sandbox: RunningSandbox) -> tuple[threading.Event, threading.Event]:
    """The sandbox holds its first GET until ``release`` is set; ``entered`` says it came."""
    entered, release = threading.Event(), threading.Event()
    original = sandbox.emulator.dispatch

    def gated(request: Any) -> Any:
        if request.method == "GET" and not entered.is_set():
            entered.set()
            release.wait(30)
        return original(request)

    sandbox.emulator.dispatch = gated  # type: ignore[method-assign]
    return entered, release


def test_two_spellings_of_one_url_never_run_at_once(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    entered, release = _gate_first_listing(sandbox)
    source = _file(tmp_path / "in.csv", ["+1 415 555 2671,Ann", "+1 415 555 2672,Bo"])
    state = tmp_path / "state"
    first = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *_sync_args(source, sandbox.url, state)],
        env=ENV,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert entered.wait(30), "the first run never listed the contacts"
        other = sandbox.url.replace("http://", "HTTP://") + "/"  # same URL, other spelling
        second = cli(*_sync_args(source, other, state))
        served_meanwhile = len(sandbox.store.requests)  # the first run's GET is still held
    finally:
        release.set()
        first_err = first.communicate(timeout=60)[1]
    assert second.exit_code == 3, second.stderr
    assert "another run holds the lock" in second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert first.returncode == 0, first_err
    assert len(sandbox.store.contacts) == 2
    assert served_meanwhile == 0  # the second run sent nothing
    assert list(state.glob("*.lock")) == []  # released at the end


def _hold_lock(state: Path, key: str) -> subprocess.Popen[str]:
    """Another process holding the lock, as a run does; returns once it holds it."""
    code = (
        "import sys, time; from pathlib import Path; from pipeline.lock import RunLock\n"
        "with RunLock(Path(sys.argv[1]), sys.argv[2], describe='arnis test'):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(state), key], stdout=subprocess.PIPE, text=True, env=ENV
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_held_lock_refuses_and_is_free_once_its_holder_is_killed(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    source = _file(tmp_path / "in.csv", ["+1 415 555 2671,Ann"])
    state = tmp_path / "state"
    holder = _hold_lock(state, state_key("arnis", sandbox.url))
    refused = cli(*_sync_args(source, sandbox.url + "/", state))
    assert refused.exit_code == 3
    assert f"pid {holder.pid} on {socket.gethostname()}" in refused.stderr
    assert "for arnis test" in refused.stderr
    assert sandbox.store.requests == []
    holder.send_signal(signal.SIGKILL)  # no clean-up: the lock file stays behind
    holder.wait()
    assert list(state.glob("*.lock"))
    done = cli(*_sync_args(source, sandbox.url, state))
    assert done.exit_code == 0, done.stderr
    assert sandbox.store.find_e164("+14155552671") is not None
    assert list(state.glob("*.lock")) == []


def _live_process() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


@pytest.mark.parametrize(
    "holder",
    [
        # written by this version: its holder held the OS lock, which nobody holds now,
        # although the pid is alive (another process got it)
        lambda pid: {"lock": "flock", "pid": pid, "host": socket.gethostname(), "started": 0},
        # written by an earlier version, pid as text, started an hour before that process
        lambda pid: {"pid": str(pid), "host": socket.gethostname(), "started": time.time() - 3600},
        # an earlier version's, its pid dead
        lambda pid: {"pid": 2**22 + 12345, "host": socket.gethostname(), "started": 0},
    ],
    ids=["flock-pid-reused", "old-pid-as-text-reused", "old-pid-dead"],
)
def test_a_stale_lock_is_taken_over(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    holder: Callable[[int], dict[str, Any]],
) -> None:
    sandbox = sandbox_factory("arnis")
    source = _file(tmp_path / "in.csv", ["+1 415 555 2671,Ann"])
    state = tmp_path / "state"
    state.mkdir()
    lock = state / f"{state_key('arnis', sandbox.url)}.lock"
    live = _live_process()  # the pid the lock names now belongs to this process
    try:
        lock.write_text(json.dumps(holder(live.pid)))
        result = cli(*_sync_args(source, sandbox.url, state))
    finally:
        live.kill()
        live.wait()
    assert result.exit_code == 0, result.stderr
    assert sandbox.store.find_e164("+14155552671") is not None
    assert not lock.exists()


def test_an_old_lock_of_another_spelling_still_held_refuses(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    """An earlier version keyed its lock on the URL's text: while its run lives (this
    test's own process, started before the lock), a run with the same URL waits for it."""
    sandbox = sandbox_factory("arnis")
    source = _file(tmp_path / "in.csv", ["+1 415 555 2671,Ann"])
    state = tmp_path / "state"
    state.mkdir()
    spelled = sandbox.url + "/"
    old = state / f"arnis-{hashlib.sha256(spelled.encode()).hexdigest()[:10]}.lock"
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    old.write_text(json.dumps(holder))
    result = cli(*_sync_args(source, spelled, state))
    assert result.exit_code == 3
    assert f"another run holds the lock {old}" in result.stderr
    assert sandbox.store.requests == []


# -- the journal ---------------------------------------------------------------------


def _consuelo(source: Path, url: str, state: Path, *extra: str) -> list[str]:
    return [
        "sync",
        str(source),
        "--target",
        "consuelo",
        "--base-url",
        url,
        "--option",
        "workspace_id=ws_1",
        "--state-dir",
        str(state),
        *extra,
    ]


def _damage_a_byte(journal: Path) -> int:
    data = bytearray(journal.read_bytes())
    second_line = data.index(b"\n") + 1
    data[second_line + 3] = 0xFF
    journal.write_bytes(bytes(data))
    return 2


def _wrong_shape_line(journal: Path) -> int:
    lines = journal.read_text(encoding="utf-8").splitlines()
    with journal.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"time": 1.0, "event": "opted_out", "numbers": "+1415"}) + "\n")
    return len(lines) + 1


@pytest.mark.parametrize("damage", [_damage_a_byte, _wrong_shape_line], ids=["byte", "shape"])
def test_a_damaged_journal_says_where_and_reset_state_gets_out(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    damage: Callable[[Path], int],
) -> None:
    sandbox = sandbox_factory("consuelo")
    source = _file(
        tmp_path / "in.csv",
        ["+1 415 555 2671,Ann,true", "+1 415 555 2672,Bo,"],
        "Phone,Name,Opted Out",
    )
    state = tmp_path / "state"
    assert cli(*_consuelo(source, sandbox.url, state)).exit_code == 0
    writes = sandbox.store.writes()
    (journal,) = state.glob("*.journal.jsonl")
    line = damage(journal)
    before = len(sandbox.store.requests)

    blocked = cli(*_consuelo(source, sandbox.url, state))
    assert blocked.exit_code == 2
    assert f"the journal {journal} is damaged at line {line}" in blocked.stderr
    assert "--reset-state" in blocked.stderr and "unexpected error" not in blocked.stderr
    assert len(sandbox.store.requests) == before  # nothing sent, not even a listing

    reset = cli(*_consuelo(source, sandbox.url, state, "--reset-state"))
    assert reset.exit_code == 0, reset.stderr
    (aside,) = state.glob("*.journal.jsonl.reset-*")
    assert f"journal moved aside to {aside} (1 opt-out kept)" in reset.stderr
    assert aside.read_bytes() != b""  # kept, for a person to look at
    events = read_events(journal)  # the fresh journal reads cleanly
    assert {n for e in events if e["event"] == "opted_out" for n in e["numbers"]} == {
        "+14155552671"
    }
    assert sandbox.store.writes() == writes  # the opt-out kept: not sent to the DNC again
    again = cli(*_consuelo(source, sandbox.url, state))
    assert again.exit_code == 0, again.stderr


def test_a_torn_last_line_is_no_damage(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory("consuelo")
    source = _file(tmp_path / "in.csv", ["+1 415 555 2671,Ann"])
    state = tmp_path / "state"
    assert cli(*_consuelo(source, sandbox.url, state)).exit_code == 0
    (journal,) = state.glob("*.journal.jsonl")
    with journal.open("ab") as handle:
        handle.write(b'{"time": 1.0, "event": "opted_o')  # a crash in the middle of a write
    result = cli(*_consuelo(source, sandbox.url, state))
    assert result.exit_code == 0, result.stderr
    assert b'"opted_o\n' not in journal.read_bytes() and b"opted_o{" not in journal.read_bytes()
    assert [e["event"] for e in read_events(journal)][-1] == "done"


def test_a_journal_keyed_on_the_old_url_text_is_still_read(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    """An earlier version keyed the journal on the URL's text (and not on the workspace):
    the opt-outs it remembers still keep mirror mode from deleting those contacts."""
    sandbox = sandbox_factory("consuelo")
    both = _file(tmp_path / "both.csv", ["+1 415 555 2671,Ann", "+1 415 555 2672,Bo"])
    state = tmp_path / "state"
    assert cli(*_consuelo(both, sandbox.url, state)).exit_code == 0
    for path in state.glob("*.journal.jsonl"):
        path.unlink()
    spelled = sandbox.url + "/"
    old = state / f"consuelo-{hashlib.sha256(spelled.encode()).hexdigest()[:10]}.journal.jsonl"
    old.write_text(json.dumps({"time": 1.0, "event": "opted_out", "numbers": ["+14155552672"]}))
    one = _file(tmp_path / "one.csv", ["+1 415 555 2671,Ann"])
    report = tmp_path / "plan.csv"
    args = _consuelo(one, spelled, state, "--mode", "mirror", "--max-deletes", "100%")
    result = cli("plan", *args[1:], "--report", report)
    assert result.exit_code == 1, result.stderr
    with report.open(encoding="utf-8", newline="") as handle:
        lines = {r["e164"]: r for r in csv.DictReader(handle)}
    assert lines["+14155552672"]["status"] == "skip"
    assert lines["+14155552672"]["error_code"] == "opted_out_remotely"


def test_a_journal_that_cannot_be_read_is_exit_2_naming_it(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory("consuelo")
    source = _file(tmp_path / "in.csv", ["+1 415 555 2671,Ann"])
    state = tmp_path / "state"
    assert cli(*_consuelo(source, sandbox.url, state)).exit_code == 0
    (journal,) = state.glob("*.journal.jsonl")
    journal.unlink()
    journal.mkdir()  # not a file any more
    before = len(sandbox.store.requests)
    result = cli(*_consuelo(source, sandbox.url, state))
    assert result.exit_code == 2, result.stderr
    assert f"cannot read the journal {journal}" in result.stderr
    assert "unexpected error" not in result.stderr
    assert len(sandbox.store.requests) == before
    assert list(state.glob("*.lock")) == []
