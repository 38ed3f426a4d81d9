"""Every command's ``--help`` ends with an example, and the example parses."""

from __future__ import annotations

import shlex
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import main

COMMANDS = ("validate", "plan", "sync", "targets", "sandbox")


def help_text(command: str) -> str:
    result = CliRunner().invoke(main, [command, "--help"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def examples(text: str, command: str) -> list[str]:
    """The help's example lines: ``contact-sync COMMAND ...``, each kept on one line."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(f"contact-sync {command}")
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_an_example(command: str) -> None:
    text = help_text(command)
    assert "Example" in text
    assert examples(text, command), text


@pytest.mark.parametrize("command", COMMANDS)
def test_help_examples_use_real_options(command: str) -> None:
    """Each example's arguments parse as that command's: no renamed or missing flag."""
    for line in examples(help_text(command), command):
        args = shlex.split(line)[2:]
        sub = main.get_command(click.Context(main), command)
        assert sub is not None
        try:
            sub.make_context(command, args, parent=click.Context(main))
        except click.UsageError as exc:  # pragma: no cover - the failure being tested for
            pytest.fail(f"{line!r} does not parse: {exc}")


def test_the_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"], catch_exceptions=False)
    assert result.exit_code == 0
    for command in COMMANDS:
        assert f"  {command} " in result.output


def test_python_dash_m_runs_the_command_line() -> None:
    """``python -m pipeline.cli`` is ``contact-sync`` (it used to import and exit 0)."""
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "validate", "no-such-file.csv", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "no such file" in done.stderr
