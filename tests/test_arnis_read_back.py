"""arnis batch creates answer counts only, so the adapter reads the new contacts back.

In creation order (the sandbox's default) they are on the list pages after the remote set
seen before the creates, and only those pages are read; in any other order (the vendor's
docs say nothing of it) the numbers not found there are looked up, so ids stay right.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import polars as pl

from pipeline.sandbox import RunningSandbox
from pipeline.secrets import ApiKey
from pipeline.targets import target_class
from pipeline.targets.base import TargetSettings
from tests.conftest import API_KEY, Cli

Arnis = target_class("arnis")

REMOTE = 1000  # ten list pages of 100
NEW = 150  # two more pages: 1001-1100 and 1101-1150


def _preload(sandbox: RunningSandbox, count: int = REMOTE) -> None:
    for i in range(count):
        e164 = f"+1212555{i:04d}"
        sandbox.store.insert(
            e164,
            {"phone_number": e164, "e164_number": e164, "tags": [], "opted_out": False},
        )


def _new_numbers(count: int) -> list[str]:
    return [f"+1415555{i:04d}" for i in range(count)]


def _sync(cli: Cli, sandbox: RunningSandbox, tmp: Path, count: int) -> list[dict[str, str]]:
    source = tmp / "in.csv"
    rows = [f"P{i},{e164}" for i, e164 in enumerate(_new_numbers(count))]
    source.write_text("First Name,Phone\n" + "\n".join(rows) + "\n", encoding="utf-8")
    report = tmp / "report.csv"
    result = cli(
        "sync",
        source,
        "--target",
        "arnis",
        "--base-url",
        sandbox.url,
        "--report",
        report,
        "--state-dir",
        tmp / "state",
    )
    assert result.exit_code == 0, result.stderr
    with report.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _after_first_write(sandbox: RunningSandbox) -> list[str]:
    methods = [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in sandbox.store.requests]
    return methods[methods.index("POST batch") :]


def _assert_ids_match_the_store(sandbox: RunningSandbox, report: list[dict[str, str]]) -> None:
    assert [r["status"] for r in report] == ["created"] * len(report)
    for row, e164 in zip(report, _new_numbers(len(report)), strict=True):
        stored = sandbox.store.find_e164(e164)
        assert stored is not None
        assert row["remote_id"] == stored["id"]


def test_sync_reads_back_only_the_pages_after_the_remote_set(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    arnis = sandbox_factory("arnis")
    _preload(arnis)
    report = _sync(cli, arnis, tmp_path, NEW)
    _assert_ids_match_the_store(arnis, report)
    requests = arnis.store.requests
    assert sum(1 for r in requests if r.method == "GET") == 10 + 2
    # one batch, then list pages 11 and 12 only: not the 12 pages of the whole set
    assert _after_first_write(arnis) == ["POST batch", "GET contacts", "GET contacts"]


def test_read_back_falls_back_to_the_whole_listing_when_it_is_not_in_creation_order(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    arnis = sandbox_factory("arnis", list_order="newest")
    _preload(arnis)
    report = _sync(cli, arnis, tmp_path, NEW)
    _assert_ids_match_the_store(arnis, report)
    assert len(arnis.store.contacts) == REMOTE + NEW
    # pages 11-12 hold the oldest contacts here; none of the new ones is there, so all
    # 12 pages are listed (cheaper than 150 searches); nothing is created twice
    after = _after_first_write(arnis)
    assert after == ["POST batch"] + ["GET contacts"] * (2 + 12)


def test_a_few_numbers_missing_from_the_tail_are_searched_one_by_one(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    arnis = sandbox_factory("arnis", list_order="newest")
    _preload(arnis)
    target = Arnis(TargetSettings(base_url=arnis.url, api_key=ApiKey(API_KEY)))
    try:
        assert target.fetch_remote().height == REMOTE
        before = len(arnis.store.requests)
        contacts = pl.DataFrame({"row": [1, 2, 3], "e164": _new_numbers(3)})
        result = target.create(contacts)
    finally:
        target.close()
    assert result["status"].to_list() == ["created"] * 3
    stored = [arnis.store.find_e164(e164) for e164 in _new_numbers(3)]
    assert result["remote_id"].to_list() == [s["id"] for s in stored if s is not None]
    after = [r.method for r in arnis.store.requests[before:]]
    assert after == ["POST", "GET", "GET", "GET", "GET"]  # batch, page 11, 3 searches


def test_a_contact_the_batch_refused_is_sent_alone_and_reported_with_the_reason(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    arnis = sandbox_factory("arnis")
    _preload(arnis, 250)
    target = Arnis(TargetSettings(base_url=arnis.url, api_key=ApiKey(API_KEY)))
    try:
        target.fetch_remote()
        before = len(arnis.store.requests)
        contacts = pl.DataFrame(
            {
                "row": [1, 2],
                "e164": _new_numbers(2),
                "timezone": ["America/New_York", "Mars/Olympus_Mons"],
            }
        )
        result = target.create(contacts)
    finally:
        target.close()
    assert result["status"].to_list() == ["created", "failed"]
    assert result["error_code"].to_list() == [None, "rejected"]
    assert "timezone" in result["error_message"][1]
    # batch, tail page 3, one search for the missing number, its single create (422)
    after = [f"{r.method} {r.status}" for r in arnis.store.requests[before:]]
    assert after == ["POST 200", "GET 200", "GET 200", "POST 422"]
