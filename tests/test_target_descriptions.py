"""Targets as descriptions, from the outside: ``targets --describe`` prints a built-in
description as TOML, a copy of it under another name drives a sync through
``--target PATH.toml``, and a description that is wrong stops the run (exit 2) naming
the file, the line and the key."""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.sandbox import RunningSandbox
from pipeline.targets import REGISTRY
from tests.conftest import Cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture
def arnis(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    return sandbox_factory("arnis")


def _copy_of(cli: Cli, target: str, folder: Path, **edits: str) -> Path:
    """``targets --describe TARGET``, renamed ``copy`` (and lines replaced: ``edits``)."""
    described = cli("targets", "--describe", target)
    assert described.exit_code == 0, described.stderr
    text = described.stdout.replace(f'name = "{target}"', 'name = "copy"', 1)
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new, 1)
    path = folder / "copy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _statuses(report: Path) -> dict[str, int]:
    with report.open(encoding="utf-8", newline="") as handle:
        counts: dict[str, int] = {}
        for row in csv.DictReader(handle):
            counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


@pytest.mark.parametrize("target", REGISTRY)
def test_every_builtin_description_prints_as_valid_toml(cli: Cli, target: str) -> None:
    described = cli("targets", "--describe", target)
    assert described.exit_code == 0
    assert tomllib.loads(described.stdout)["name"] == target


def test_a_renamed_copy_of_arnis_syncs_the_sample_into_the_arnis_sandbox(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _copy_of(cli, "arnis", tmp_path)
    common = ["--target", "./copy.toml", "--base-url", arnis.url, "--state-dir", "state"]
    first = cli("sync", SAMPLES / "contacts.csv", *common, "--report", "first.csv")
    assert first.exit_code == 0, first.stderr
    assert _statuses(tmp_path / "first.csv") == {"created": 25}
    assert len(arnis.store.contacts) == 25
    writes = arnis.store.writes()
    again = cli("sync", SAMPLES / "contacts.csv", *common, "--report", "again.csv")
    assert again.exit_code == 0, again.stderr
    assert _statuses(tmp_path / "again.csv") == {"unchanged": 25}
    assert arnis.store.writes() == writes
    assert (tmp_path / "state").is_dir() and any(
        "copy-" in p.name for p in (tmp_path / "state").iterdir()
    )


def test_an_option_of_the_description_is_overridden_by_option(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    """``page_size`` (100 in arnis.toml): 25 contacts are one list page, or 4 of 7."""
    copy = _copy_of(cli, "arnis", tmp_path)
    args = ["--target", copy, "--base-url", arnis.url, "--state-dir", tmp_path / "state"]
    assert cli("sync", SAMPLES / "contacts.csv", *args).exit_code == 0

    def pages_listed(*extra: str) -> int:
        before = len(arnis.store.requests)
        result = cli("plan", SAMPLES / "contacts.csv", *args, *extra)
        assert result.exit_code == 0, result.stderr
        return sum(1 for r in arnis.store.requests[before:] if r.method == "GET")

    assert pages_listed() == 1
    assert pages_listed("--option", "page_size=7") == 4


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # an unknown key, with the closest known one offered
        (('records = "items"', 'record = "items"'), "'listing.record' is not a key"),
        # a value of the wrong type
        (("concurrency = 4 ", 'concurrency = "four" '), "'limits.concurrency' must be a whole"),
        # a missing value
        (('paging = "pages"', ""), "'listing.paging' is missing"),
        # a strategy that does not exist
        (('how = "each"', 'how = "sometimes"'), "'update.how' must be one of"),
        # a hook set that does not exist
        (('quirks = "arnis"', 'quirks = "acme"'), "'quirks' names no built-in hooks"),
        # a key of earlier descriptions: the rounds are the retry budget's now
        (
            ('resolve = "each"', 'resolve = "each"\nrounds = 3'),
            "'create.ambiguous.rounds' is no longer a key",
        ),
    ],
)
def test_a_wrong_description_is_exit_2_naming_file_line_and_key(
    cli: Cli, tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    copy = _copy_of(cli, "arnis", tmp_path, **{edit[0]: edit[1]})
    result = cli("plan", SAMPLES / "contacts.csv", "--target", copy, "--base-url", "http://x")
    assert result.exit_code == 2
    assert f"{copy}:" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_the_line_named_is_the_line_of_the_key(cli: Cli, tmp_path: Path) -> None:
    copy = _copy_of(cli, "arnis", tmp_path, **{"concurrency = 4 ": 'concurrency = "four" '})
    line = next(
        n
        for n, text in enumerate(copy.read_text(encoding="utf-8").splitlines(), 1)
        if text.startswith("concurrency")
    )
    result = cli("plan", SAMPLES / "contacts.csv", "--target", copy, "--base-url", "http://x")
    assert f"{copy}:{line}: 'limits.concurrency'" in result.stderr


def test_a_description_file_that_is_missing_or_no_toml(cli: Cli, tmp_path: Path) -> None:
    gone = cli("plan", SAMPLES / "contacts.csv", "--target", tmp_path / "gone.toml")
    assert gone.exit_code == 2 and "gone.toml does not exist" in gone.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\n[api\n', encoding="utf-8")
    result = cli("plan", SAMPLES / "contacts.csv", "--target", broken)
    assert result.exit_code == 2 and f"{broken}:2: not a valid TOML" in result.stderr


def test_describe_an_unknown_name_is_exit_2(cli: Cli) -> None:
    result = cli("targets", "--describe", "acme")
    assert result.exit_code == 2
    assert "choose one of arnis, consuelo, dmchamp, oliai, zexa" in result.stderr
