"""Progress is passed in: stages tick the bars they are given and never print."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import api
from pipeline.config import Settings
from pipeline.progress import NullProgress, TqdmProgress, choose_progress
from pipeline.sandbox import RunningSandbox
from tests.conftest import API_KEY

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


class RecordingBar:
    def __init__(
        self, log: list[tuple[str, int | None, str]], name: str, total: int | None, unit: str
    ) -> None:
        self.log, self.name, self.done = log, name, 0
        log.append((name, total, unit))

    def update(self, n: int = 1) -> None:
        self.done += n

    def close(self) -> None:
        self.log.append((f"closed {self.name}", self.done, ""))


class RecordingProgress:
    def __init__(self) -> None:
        self.log: list[tuple[str, int | None, str]] = []

    def bar(self, description: str, total: int | None, unit: str) -> RecordingBar:
        return RecordingBar(self.log, description, total, unit)


def test_sync_ticks_read_check_fetch_and_push_bars(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", API_KEY)
    sandbox = sandbox_factory("arnis")
    progress = RecordingProgress()
    settings = Settings(
        input=str(SAMPLES / "contacts.csv"),
        target="arnis",
        base_url=sandbox.url,
        state_dir=str(tmp_path / "state"),
    )
    api.sync(settings, progress)
    opened = [name for name, _, _ in progress.log if not name.startswith("closed")]
    # the remote set is read while the file is read and checked: their bars in any order
    assert opened.index("read") < opened.index("checking")
    assert set(opened[:3]) == {"read", "checking", "fetching"}
    assert "creating" in opened[3:]
    closed = {
        name[len("closed ") :]: done for name, done, _ in progress.log if name.startswith("closed")
    }
    assert closed["checking"] == 25
    assert closed["read"] == (SAMPLES / "contacts.csv").stat().st_size
    assert capsys.readouterr() == ("", "")  # stages never print


def test_bars_only_on_a_terminal_and_never_when_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(
        choose_progress(quiet=False), NullProgress
    )  # stderr is not a TTY under pytest
    read_fd, write_fd = os.openpty()
    try:
        with os.fdopen(write_fd, "w") as tty:
            monkeypatch.setattr("sys.stderr", tty)
            assert isinstance(choose_progress(quiet=False), TqdmProgress)
            assert isinstance(choose_progress(quiet=True), NullProgress)
            monkeypatch.undo()
    finally:
        os.close(read_fd)
