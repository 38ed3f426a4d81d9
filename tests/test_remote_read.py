"""The remote set of a listing target is read while the file is checked, and that read is
stopped (no request after its last in-flight ones) when the run ends before using it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.sandbox import Faults, RunningSandbox
from tests.conftest import Cli

PAGES = 60  # arnis lists 100 contacts a page


def _slow_arnis(factory: Callable[..., RunningSandbox], seconds: float) -> RunningSandbox:
    """An arnis sandbox holding PAGES pages, answering every request in ``seconds``: the
    whole read takes 15 times that (4 pages at a time), far longer than the checks here
    when it is stopped."""
    sandbox = factory("arnis", faults=Faults(slow_rate=1.0, slow_seconds=seconds))
    for i in range(PAGES * 100):
        e164 = f"+1212555{i:04d}"
        sandbox.store.insert(
            e164, {"phone_number": e164, "e164_number": e164, "tags": [], "opted_out": False}
        )
    return sandbox


def _lists(sandbox: RunningSandbox) -> int:
    return sum(1 for r in sandbox.store.requests if r.method == "GET")


def _plan(cli: Cli, sandbox: RunningSandbox, source: Path, *extra: str) -> int:
    args = ["plan", source, "--target", "arnis", "--base-url", sandbox.url, "--quiet", *extra]
    return cli(*args).exit_code


def test_a_file_that_cannot_be_read_stops_the_remote_read(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = _slow_arnis(sandbox_factory, 0.5)
    source = tmp_path / "in.csv"
    source.write_text("name,email\nAnn,a@example.com\n")  # no phone column: exit 2
    assert _plan(cli, sandbox, source) == 2
    # The read had begun (the first page), and stopped after the pages then in flight.
    assert 1 <= _lists(sandbox) < PAGES // 2
    assert sandbox.store.writes() == 0


def test_a_tripped_guard_stops_the_remote_read_and_writes_nothing(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = _slow_arnis(sandbox_factory, 0.5)
    source = tmp_path / "in.csv"
    source.write_text("phone\nnot a number\n+1 202 555 0143\n")
    args = ["sync", source, "--target", "arnis", "--base-url", sandbox.url, "--quiet"]
    result = cli(*args, "--max-invalid", "0", "--state-dir", tmp_path / "state")
    assert result.exit_code == 3
    assert _lists(sandbox) < PAGES // 2
    assert sandbox.store.writes() == 0


def test_the_remote_set_read_ahead_is_the_one_diffed(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = _slow_arnis(sandbox_factory, 0.02)
    source = tmp_path / "in.csv"
    source.write_text("phone\n+1 212 555 0007\n+1 202 555 0143\n")
    report = tmp_path / "r.csv"
    assert _plan(cli, sandbox, source, "--report", report) == 0
    assert _lists(sandbox) == PAGES  # every page, each once
    lines = report.read_text().splitlines()
    assert [line.split(",")[0:1] for line in lines[1:]] == [["1"], ["2"]]
    assert ",unchanged," in lines[1] and ",create," in lines[2]
