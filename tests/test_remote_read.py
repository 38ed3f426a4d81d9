"""The remote set of a listing target is read while the file is checked, and that read is
stopped (no request after its last in-flight ones) when the run ends before using it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    ("command", "text", "extra", "exit_code", "least_lists"),
    [
        # no phone column: the file cannot be read (exit 2); the read begins once the
        # header is mapped, so it never began (issue 20 item 18: exit 2, nothing sent)
        ("plan", "name,email\nAnn,a@example.com\n", [], 2, 0),
        # an invalid record against --max-invalid 0: the guard trips (exit 3)
        ("sync", "phone\nnot a number\n+1 202 555 0143\n", ["--max-invalid", "0"], 3, 0),
    ],
    ids=["unreadable-file", "tripped-guard"],
)
def test_a_run_that_ends_before_the_diff_stops_the_remote_read_and_writes_nothing(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    command: str,
    text: str,
    extra: list[str],
    exit_code: int,
    least_lists: int,
) -> None:
    sandbox = _slow_arnis(sandbox_factory, 0.5)
    source = tmp_path / "in.csv"
    source.write_text(text)
    args = [command, source, "--target", "arnis", "--base-url", sandbox.url, "--quiet", *extra]
    assert cli(*args, "--state-dir", tmp_path / "state").exit_code == exit_code
    assert least_lists <= _lists(sandbox) < PAGES // 2
    if exit_code == 2:
        assert sandbox.store.requests == []
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
