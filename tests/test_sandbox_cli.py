"""``contact-sync sandbox`` stops on Ctrl-C, and a port in use gets exit 2 and what to do
(issue 20 item 15), with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import API_KEY, Cli


def _sandbox(*args: str, ignore_sigint: bool = False) -> subprocess.Popen[str]:
    def ignore() -> None:  # as a background job of a script starts it
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "sandbox", "--target", "arnis", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ignore if ignore_sigint else None,
        env={**os.environ, "CONTACT_SYNC_API_KEY": API_KEY},
    )


@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["plain", "sigint-ignored"])
def test_ctrl_c_stops_the_sandbox_cleanly(ignore_sigint: bool) -> None:
    server = _sandbox(ignore_sigint=ignore_sigint)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith("http://127.0.0.1:")
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
    finally:
        server.kill()
        server.wait()
    assert server.stderr is not None and server.stderr.read() == ""


def test_a_port_in_use_says_so_and_how_to_pick_another() -> None:
    first = _sandbox()
    try:
        assert first.stdout is not None
        port = first.stdout.readline().strip().split(":")[2].split("/")[0]
        second = _sandbox("--port", port)
        _, err = second.communicate(timeout=30)
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 2
    assert f"port {port} is in use; pick another --port (0: any free port)" in err
    assert "unexpected error" not in err


def _refused(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "sandbox", "--target", "arnis", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""  # no URL: it never served
    assert "unexpected error" not in done.stderr and "Traceback" not in done.stderr
    return done.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--port", "99999"), "Invalid value for '--port': 99999 is not in the range 0<=x<=65535"),
        (("--port", "-1"), "Invalid value for '--port'"),
        (("--fail-rate", "2"), "Invalid value for '--fail-rate'"),
        (("--rate-limit", "0"), "Invalid value for '--rate-limit'"),
        (("--window", "0"), "Invalid value for '--window'"),
    ],
)
def test_a_knob_out_of_range_is_refused(args: tuple[str, ...], says: str) -> None:
    assert says in _refused(*args)


def test_a_db_that_is_no_contacts_file_is_refused_and_kept(tmp_path: Path) -> None:
    for text in ("First Name,Phone\nAnn,+14155552671\n", "[1, 2]", '{"contacts": [1]}'):
        db = tmp_path / "contacts.csv"
        db.write_text(text, encoding="utf-8")
        err = _refused("--db", str(db))
        assert f"--db {db} is not a sandbox's contacts file" in err
        assert "move it away to start empty" in err
        assert db.read_text(encoding="utf-8") == text  # not overwritten on the way out


def test_a_db_where_it_cannot_be_kept_is_refused_at_once(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "db.json"
    assert f"--db {missing}: the directory {missing.parent} does not exist" in _refused(
        "--db", str(missing)
    )
    (tmp_path / "file").write_text("x", encoding="utf-8")
    under_file = tmp_path / "file" / "db.json"
    assert f"the directory {tmp_path / 'file'} is a file" in _refused("--db", str(under_file))


def test_the_db_keeps_the_contacts_between_runs(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    source = tmp_path / "in.csv"
    source.write_text("Phone\n+1 415 555 2671\n+44 20 7946 0958\n", encoding="utf-8")
    state = tmp_path / "state"
    for run, command, expected in ((1, "sync", "created"), (2, "plan", "unchanged")):
        server = _sandbox("--db", str(db))
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            result = cli(command, source, "--target", "arnis", "--base-url", url,
                         "--state-dir", state / str(run), "--summary-json", tmp_path / "s.json")  # fmt: skip
            assert result.exit_code == 0, result.stderr
            assert f'"{expected}": 2' in (tmp_path / "s.json").read_text(encoding="utf-8")
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=10) == 0
        finally:
            server.kill()
            server.wait()
    assert db.exists()
