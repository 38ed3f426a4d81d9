"""Shared fixtures: real sandboxes on loopback and the real CLI in-process."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

from pipeline.cli import main
from pipeline.sandbox import RunningSandbox, start

API_KEY = "sk_test_SECRET_0123456789abcdef"

# In CI (CI=true, as .ci/run's callers set it) the property tests draw the same examples
# every run, so that the verdict on a commit does not depend on luck; run locally, they
# draw new ones each time and keep what failed in .hypothesis/.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """Run ``contact-sync ARGS`` in-process with the test key in the environment."""
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", API_KEY)

    def run(*args: str, stdin: str | bytes | None = None) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(main, [str(a) for a in args], input=stdin, catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., RunningSandbox]]:
    running: list[RunningSandbox] = []

    def make(target: str, **kwargs: object) -> RunningSandbox:
        sandbox = start(target, API_KEY, **kwargs)  # type: ignore[arg-type]
        running.append(sandbox)
        return sandbox

    yield make
    for sandbox in running:
        sandbox.stop()
    # no request of any test may break a documented limit (page size, bulk size, ...)
    assert [v for sandbox in running for v in sandbox.store.violations] == []
