"""Outputs are renamed into place when complete (issue 22, item 8): whatever stops a run,
the final name holds the previous file or the whole new one, never a part of it."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import api
from pipeline.config import Settings
from pipeline.errors import AuthError
from pipeline.progress import Bar, NullProgress
from pipeline.sandbox import Faults, RunningSandbox
from tests.conftest import API_KEY, Cli
from tests.test_crash_resume import big_file

OLD = "the previous report, whole\n"

#: the real command in a process of its own, reading its file in pieces of 8 KB (as
#: tests/test_piecewise_runs.py does in-process), so that its report is written piece by
#: piece while the push goes on
SMALL_PIECES = """
import dataclasses, sys
import pipeline.cli as cli, pipeline.read.encoding as encoding
encoding.SAMPLE_CHARS = 4
built = cli.build_settings
cli.build_settings = lambda *a: dataclasses.replace(built(*a), read_block_bytes=8192)
cli.run(sys.argv[1:])
"""


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_kill_9_mid_sync_leaves_the_previous_report_and_rejects_whole(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    source = tmp_path / "big.csv"
    big_file(source, 3000)
    with source.open("a", encoding="utf-8") as handle:
        handle.writelines(f"Bad{i},not a phone {i}\n" for i in range(200))
    out = tmp_path / "out"
    out.mkdir()
    for name in ("report.csv", "rejects.csv", "summary.json"):
        (out / name).write_text(OLD, encoding="utf-8")
    sandbox = sandbox_factory("arnis", faults=Faults(slow_rate=1.0, slow_seconds=0.1))
    command = [sys.executable, "-c", SMALL_PIECES, "sync", str(source), "--target", "arnis"]
    command += ["--base-url", sandbox.url, "--state-dir", str(tmp_path / "state")]
    command += ["--report", str(out / "report.csv"), "--rejects", str(out / "rejects.csv")]
    command += ["--summary-json", str(out / "summary.json"), "--chunk-size", "100"]
    command += ["--concurrency", "1", "--quiet"]
    env = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(command, env=env)

    def writing() -> bool:  # some pieces settled: the report is being written
        changed = (out / "report.csv").read_text(encoding="utf-8") != OLD
        return changed or bool(leftovers(out))

    deadline = time.monotonic() + 60
    while not writing() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # a few more pieces in
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < len(sandbox.store.contacts) < 3000  # killed in the middle of the push
    assert leftovers(out)  # the part written so far, under a temporary name
    for name in ("report.csv", "rejects.csv", "summary.json"):
        assert (out / name).read_text(encoding="utf-8") == OLD


def test_a_finished_run_replaces_the_files_keeping_their_mode_and_links(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("Phone\n+1 415 555 2671\nabc\n", encoding="utf-8")
    report = tmp_path / "report.csv"
    report.write_text(OLD, encoding="utf-8")
    report.chmod(0o600)
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "rejects.csv").write_text(OLD, encoding="utf-8")
    (tmp_path / "rejects.csv").symlink_to(kept / "rejects.csv")
    result = cli(
        "validate",
        source,
        "--report",
        report,
        "--rejects",
        tmp_path / "rejects.csv",
        "--html-report",
        tmp_path / "new" / "r.html",
        "--summary-json",
        tmp_path / "s.json",
    )
    assert result.exit_code == 1, result.stderr
    with report.open(encoding="utf-8", newline="") as handle:
        assert [r["status"] for r in csv.DictReader(handle)] == ["valid", "invalid"]
    assert report.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "rejects.csv").is_symlink()  # the link stays, its file is replaced
    assert (kept / "rejects.csv").read_text(encoding="utf-8").splitlines()[1].startswith("abc,")
    assert (tmp_path / "new" / "r.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    assert (tmp_path / "s.json").exists()
    assert leftovers(tmp_path) == leftovers(kept) == leftovers(tmp_path / "new") == []


class RevokeKeyAt:
    """Progress that revokes the sandbox's key when the ``nth`` bar of create requests
    starts: the run is refused (exit 3) in the middle of its push."""

    def __init__(self, sandbox: RunningSandbox, nth: int) -> None:
        self.sandbox, self.left = sandbox, nth

    def bar(self, description: str, total: int | None, unit: str) -> Bar:
        if "creat" in description:
            self.left -= 1
            if self.left == 0:
                self.sandbox.emulator.api_key = "revoked"
        return NullProgress().bar(description, total, unit)


def test_a_sync_refused_mid_push_leaves_the_previous_report_and_no_temporary_file(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", API_KEY)
    monkeypatch.setattr("pipeline.read.encoding.SAMPLE_CHARS", 4)  # small files in many pieces
    sandbox = sandbox_factory("consuelo")
    source = tmp_path / "in.csv"
    big_file(source, 300)
    report = tmp_path / "report.csv"
    report.write_text(OLD, encoding="utf-8")
    settings = Settings(
        input=str(source),
        target="consuelo",
        base_url=sandbox.url,
        options={"workspace_id": "ws_1"},
        report=str(report),
        state_dir=str(tmp_path / "state"),
        read_block_bytes=1024,
    )
    with pytest.raises(AuthError):
        api.sync(settings, RevokeKeyAt(sandbox, 3), keep_results=False)
    assert 0 < len(sandbox.store.contacts) < 300
    assert report.read_text(encoding="utf-8") == OLD
    assert leftovers(tmp_path) == []
