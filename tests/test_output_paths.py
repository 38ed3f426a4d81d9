"""Output paths checked before anything is read or sent (issue 20, items 1 and 2).

Every refusal is exit 2, names the flag and the path, leaves the input byte for byte as
it was and sends no request to the sandbox.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli

CONTENT = b"First Name,Phone\nAnn,+1 415 555 2671\nBob,+44 20 7946 0958\n"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test in its own directory (``--state-dir state`` lands there)."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def arnis(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    return sandbox_factory("arnis")


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.csv"
    path.write_bytes(CONTENT)
    return path


def run(cli: Cli, command: str, source: str | Path, sandbox: RunningSandbox, *extra: str | Path):
    """``contact-sync COMMAND SOURCE ...`` (with the target flags for plan and sync)."""
    target: tuple[str | Path, ...] = ()
    if command != "validate":
        target = ("--target", "arnis", "--base-url", sandbox.url, "--state-dir", "state")
    return cli(command, source, *target, *extra)


def refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.stderr
    assert "unexpected error" not in result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


COMMANDS = ["validate", "plan", "sync"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("flag", ["--report", "--rejects", "--html-report", "--summary-json"])
def test_an_output_that_is_the_input_file_is_refused(
    cli: Cli, arnis: RunningSandbox, victim: Path, command: str, flag: str
) -> None:
    result = run(cli, command, victim, arnis, flag, victim)
    refused(result, flag, str(victim), "input file")
    assert victim.read_bytes() == CONTENT
    assert arnis.store.requests == []


@pytest.mark.parametrize("command", COMMANDS)
def test_the_input_under_another_name_is_recognised(
    cli: Cli,
    arnis: RunningSandbox,
    victim: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(victim)
    os.link(victim, tmp_path / "hard.csv")
    monkeypatch.chdir(tmp_path / "sub")
    for source, output in [
        ("../victim.csv", "../victim.csv"),
        ("../victim.csv", str(victim)),
        (str(victim), "./../victim.csv"),
        ("../victim.csv", "../sub/../victim.csv"),
        ("../victim.csv", "../link.csv"),  # a symlink to the input
        ("../link.csv", "../victim.csv"),  # the input through a symlink
        ("../victim.csv", "../hard.csv"),  # a hard link: same device and inode
    ]:
        result = run(cli, command, source, arnis, "--report", output)
        refused(result, "--report", output, "input file")
    assert victim.read_bytes() == CONTENT
    assert arnis.store.requests == []


def test_a_date_pattern_that_becomes_the_input_is_refused(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    source = tmp_path / f"in-{dt.date.today().isoformat()}.csv"
    source.write_bytes(CONTENT)
    result = run(cli, "sync", source, arnis, "--rejects", tmp_path / "in-{date}.csv")
    refused(result, "--rejects", str(source), "input file")
    assert source.read_bytes() == CONTENT
    assert arnis.store.requests == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_job_file_whose_report_is_its_input_is_refused(
    cli: Cli, arnis: RunningSandbox, victim: Path, tmp_path: Path, command: str
) -> None:
    job = tmp_path / "job.toml"
    extra = "" if command == "validate" else f'target = "arnis"\nbase_url = "{arnis.url}"\n'
    job.write_text(f'input = "{victim}"\nhtml_report = "{victim}"\n{extra}', encoding="utf-8")
    result = cli(command, "--config", job)
    refused(result, "--html-report", str(victim), "input file")
    assert victim.read_bytes() == CONTENT
    assert arnis.store.requests == []


def test_an_output_that_is_the_job_file_is_refused(
    cli: Cli, arnis: RunningSandbox, victim: Path, tmp_path: Path
) -> None:
    job = tmp_path / "job.toml"
    text = f'input = "{victim}"\ntarget = "arnis"\nbase_url = "{arnis.url}"\n'
    job.write_text(text, encoding="utf-8")
    result = cli("sync", "--config", job, "--summary-json", job)
    refused(result, "--summary-json", str(job), "job file")
    assert job.read_text(encoding="utf-8") == text
    assert arnis.store.requests == []


@pytest.mark.parametrize("command", COMMANDS)
def test_two_outputs_that_are_one_file_are_refused(
    cli: Cli, arnis: RunningSandbox, victim: Path, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous\n", encoding="utf-8")
    (tmp_path / "out-link.csv").symlink_to(out)
    for other in (out, tmp_path / "out-link.csv", tmp_path / "." / "out.csv"):
        result = run(cli, command, victim, arnis, "--report", out, "--rejects", other)
        refused(result, "--report", "--rejects", "same file", str(out))
    result = run(cli, command, victim, arnis, "--report", out, "--summary-json", out)
    refused(result, "--report", "--summary-json", "same file")
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert victim.read_bytes() == CONTENT
    assert arnis.store.requests == []


def test_standard_input_has_no_file_to_collide_with(cli: Cli, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    result = cli("validate", "-", "--report", report, stdin=CONTENT)
    assert result.exit_code == 0, result.stderr
    assert report.read_text(encoding="utf-8").startswith("row,phone_input")


def test_dev_null_takes_several_outputs(cli: Cli, victim: Path) -> None:
    result = cli("validate", victim, "--report", "/dev/null", "--rejects", "/dev/null")
    assert result.exit_code == 0, result.stderr
    assert victim.read_bytes() == CONTENT


# -- item 2: every output can be written -----------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_that_is_a_directory_is_refused_before_any_request(
    cli: Cli, arnis: RunningSandbox, victim: Path, tmp_path: Path, command: str
) -> None:
    (tmp_path / "out").mkdir()
    for flag in ("--report", "--rejects", "--html-report", "--summary-json"):
        for value in (tmp_path / "out", f"{tmp_path / 'out'}/", f"{tmp_path / 'new'}/"):
            result = run(cli, command, victim, arnis, flag, value)
            refused(result, flag, "is a directory", "give a file path")
    assert not (tmp_path / "new").exists()
    assert victim.read_bytes() == CONTENT
    assert arnis.store.requests == []


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_under_a_file_is_refused(
    cli: Cli, arnis: RunningSandbox, victim: Path, tmp_path: Path, command: str
) -> None:
    result = run(cli, command, victim, arnis, "--summary-json", victim / "deeper" / "s.json")
    refused(result, "--summary-json", f"{victim} is a file, not a directory")
    assert victim.read_bytes() == CONTENT
    assert arnis.store.requests == []


@contextlib.contextmanager
def without_write_permission(directory: Path) -> Iterator[None]:
    """``directory`` not writable for this process while inside: by its mode, or, for
    root (whom modes do not stop), by running as ``nobody`` with root kept as the saved
    user id to come back to."""
    directory.chmod(0o555)
    root = os.getuid() == 0
    try:
        if root:
            os.setresgid(65534, 65534, 0)
            os.setresuid(65534, 65534, 0)
        yield
    finally:
        if root:
            os.setresuid(0, 0, 0)
            os.setresgid(0, 0, 0)
        directory.chmod(0o755)


def test_an_output_in_a_directory_without_write_permission_is_refused(cli: Cli) -> None:
    with tempfile.TemporaryDirectory() as name:  # /tmp: reachable for nobody
        base = Path(name)
        base.chmod(0o755)
        source = base / "in.csv"
        source.write_bytes(CONTENT)
        source.chmod(0o644)
        locked = base / "locked"
        locked.mkdir()
        with without_write_permission(locked):
            into = cli("validate", source, "--report", locked / "r.csv")
            below = cli("validate", source, "--rejects", locked / "new" / "r.csv")
        refused(into, "--report", "no permission to write in", str(locked))
        refused(below, "--rejects", f"to create {locked / 'new'}")
        assert source.read_bytes() == CONTENT
        assert list(locked.iterdir()) == []


def test_missing_directories_are_created_for_the_outputs(
    cli: Cli, arnis: RunningSandbox, victim: Path, tmp_path: Path
) -> None:
    deep = tmp_path / "a" / "b" / "c"
    result = run(
        cli,
        "sync",
        victim,
        arnis,
        "--report",
        deep / "r.csv",
        "--summary-json",
        deep / "s" / "s.json",
    )
    assert result.exit_code == 0, result.stderr
    assert (deep / "r.csv").exists() and (deep / "s" / "s.json").exists()
    assert len(arnis.store.contacts) == 2


# -- issue 20 item 17: the summary names every file written, once ---------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_the_summary_names_every_file_written_once(
    cli: Cli, arnis: RunningSandbox, victim: Path, tmp_path: Path, command: str
) -> None:
    files = {
        "report": tmp_path / "out" / "r.jsonl",
        "rejects": tmp_path / "out" / "rejects.csv",
        "html report": tmp_path / "out" / "r.html",
        "summary json": tmp_path / "out" / "s.json",
    }
    flags = ["--report", "--rejects", "--html-report", "--summary-json"]
    args = [a for flag, path in zip(flags, files.values(), strict=True) for a in (flag, path)]
    result = run(cli, command, victim, arnis, *args)
    assert result.exit_code == 0, result.stderr
    for label, path in files.items():
        assert path.exists()
        assert result.stderr.count(str(path)) == 1, result.stderr
        assert f"  {label}: {path}\n" in result.stderr


def test_the_demo_prints_each_file_once(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    (tmp_path / "sample_data").symlink_to(repo / "sample_data")
    env = {**os.environ, "PYTHONPATH": str(repo)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in (done.stdout + done.stderr).splitlines() if not line.startswith("$")]
    for name in ("first-sync.csv", "first-sync.json", "second-sync.csv", "second-sync.json"):
        assert (tmp_path / "out" / "demo" / name).exists()
        assert sum(f"out/demo/{name}" in line for line in said) == 1, said


def test_dev_stdout_on_a_pipe_is_written_in_place(victim: Path, tmp_path: Path) -> None:
    """``--report /dev/stdout | less``: /dev/stdout resolves to ``pipe:[...]``, no name
    to stat or to rename a file over; it is written where it is, several outputs too."""
    repo = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "pipeline", "validate", str(victim), "--quiet"]
    outputs = ["--report", "/dev/stdout", "--summary-json", "/dev/stdout"]
    done = subprocess.run(
        [*command, *outputs],
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,  # stdout: a pipe
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("row,phone_input,e164,status")
    assert done.stdout.count("+14155552671,valid") == 1
    assert '"exit_code": 0' in done.stdout
    assert victim.read_bytes() == CONTENT
    assert not list(tmp_path.glob(".*.tmp"))


TYPES = "(mobile, generic, work, home, other)"


def test_the_phone_columns_line_says_how_each_row_chooses(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "phones.csv"
    source.write_text(
        "Name,Home Phone,Work Phone,Mobile Phone\n"
        "Ann,+1 415 555 2672,+1 415 555 2673,\n"  # no mobile: work comes before home
        "Bob,+1 415 555 2674,,+1 415 555 2675\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.csv"
    result = cli("validate", source, "--report", report)
    assert result.exit_code == 0, result.stderr
    assert (
        f"  phone columns, by type {TYPES}; each row takes the first non-empty: "
        "'Mobile Phone', 'Work Phone', 'Home Phone' (--phone-preference COLUMN to put one "
        "first)\n"
    ) in result.stderr
    assert "first non-empty wins" not in result.stderr
    lines = report.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[2] for line in lines[1:]] == ["+14155552673", "+14155552675"]

    given = cli("validate", source, "--phone-preference", "Home Phone")
    assert (
        f"  phone columns, --phone-preference first, then by type {TYPES}; each row takes "
        "the first non-empty: 'Home Phone', 'Mobile Phone', 'Work Phone'\n"
    ) in given.stderr


def test_the_phone_columns_line_names_google_labels_and_shows_without_guesses(
    cli: Cli, tmp_path: Path
) -> None:
    google = tmp_path / "google.csv"
    google.write_text(
        "Name,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value\n"
        "Ann,Work,+1 415 555 2672,Mobile,+1 415 555 2673\n",
        encoding="utf-8",
    )
    result = cli("validate", google, "--report", tmp_path / "g.csv")
    assert (
        f"  phone columns, by each row's '- Label' {TYPES}, then in this order; each row "
        "takes the first non-empty: 'Phone 1 - Value', 'Phone 2 - Value'"
    ) in result.stderr
    assert "+14155552673" in (tmp_path / "g.csv").read_text(encoding="utf-8")  # the mobile

    plain = tmp_path / "plain.csv"  # 'Phone' by its exact name: nothing guessed
    plain.write_text("Phone,Home Phone\n+1 415 555 2671,\n", encoding="utf-8")
    result = cli("validate", plain)
    assert "columns mapped by guess" not in result.stderr
    assert (
        f"  phone columns, by type {TYPES}; each row takes the first non-empty: 'Phone', "
        "'Home Phone'"
    ) in result.stderr
