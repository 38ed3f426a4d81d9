"""A listing that never ends (issue 21 item 4): the same page for ever, pages past the
total the first one gave, or new contacts without end. The read stops with exit 3 and a
message, before any write, and the process's memory stays bounded (the test kills it
past 1 GB, so that the suite never exhausts the machine)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.targets import target_class
from tests.bounded import BOUND, run_bounded
from tests.tamper import Rewrite, tampered

LISTING = ("arnis", "consuelo", "oliai", "zexa")
EXTRA = {"consuelo": ["--option", "workspace_id=ws_1"], "oliai": ["--rate-limit", "0"]}


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def _listing(target: str, ids: Callable[[int], range], total: int | None) -> Rewrite:
    """Every listing page answered with the contacts ``ids(position)`` (the page number
    or the offset asked for), saying ``total`` contacts and a billion pages."""
    d = target_class(target).description  # type: ignore[attr-defined]
    listing, read = d.listing, d.fields.read

    def rewrite(method: str, path: str, status: int, data: bytes) -> tuple[int, bytes] | None:
        query = parse_qs(urlsplit(path).query)
        if method != "GET" or listing.page not in query:
            return None
        position = int(query[listing.page][0])
        body: dict[str, Any] = {}
        records = [{read["remote_id"]: f"c{n}", read["e164"]: f"+1{n:010d}"} for n in ids(position)]
        _put(body, listing.records, records)
        for where, value in ((listing.total, total), (listing.pages, 10**9)):
            if where and value is not None:
                _put(body, where, value)
        if listing.per_page:
            _put(body, listing.per_page, 100)
        if listing.more:
            _put(body, listing.more, True)
        return 200, json.dumps(body).encode()

    return rewrite


def _page_ids(target: str) -> Callable[[int], range]:
    """Distinct ids on every page: page numbers or offsets as asked."""
    offset = target_class(target).description.listing.paging == "offset"  # type: ignore[attr-defined]
    return (lambda at: range(at, at + 100)) if offset else (lambda p: range(p * 100, p * 100 + 100))


def _sync(tmp: Path, target: str, url: str, *more: str) -> tuple[int, str, int]:
    source = tmp / "contacts.csv"
    source.write_text("phone\n+14155550101\n", encoding="utf-8")
    return run_bounded(
        [
            "sync",
            str(source),
            "--target",
            target,
            "--base-url",
            url,
            "--state-dir",
            str(tmp / "state"),
            "--quiet",
            *EXTRA.get(target, []),
            *more,
        ]
    )


@pytest.mark.parametrize("target", LISTING)
def test_the_same_page_for_ever_stops_the_read(
    sandbox_factory: Callable, tmp_path: Path, target: str
) -> None:
    sandbox = sandbox_factory(target)
    with tampered(sandbox.url, _listing(target, lambda _: range(100), None)) as server:
        code, stderr, peak = _sync(tmp_path, target, server.url)
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB"
    assert code == 3, stderr
    assert "same contacts as an earlier page" in stderr, stderr
    assert server.count("POST", "PUT", "PATCH", "DELETE") == 0
    assert sandbox.store.all() == []


@pytest.mark.parametrize("target", LISTING)
def test_pages_past_the_first_total_stop_the_read(
    sandbox_factory: Callable, tmp_path: Path, target: str
) -> None:
    sandbox = sandbox_factory(target)
    with tampered(sandbox.url, _listing(target, _page_ids(target), 1000)) as server:
        code, stderr, peak = _sync(tmp_path, target, server.url)
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB"
    assert code == 3, stderr
    assert "its first page said there are 1,000" in stderr, stderr
    assert server.count("POST", "PUT", "PATCH", "DELETE") == 0


@pytest.mark.parametrize("target", LISTING)
def test_new_contacts_without_end_stop_at_the_cap_a_user_can_raise(
    sandbox_factory: Callable, tmp_path: Path, target: str
) -> None:
    sandbox = sandbox_factory(target)
    with tampered(sandbox.url, _listing(target, _page_ids(target), None)) as server:
        code, stderr, peak = _sync(
            tmp_path, target, server.url, "--option", "max_remote_contacts=3000"
        )
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB"
    assert code == 3, stderr
    assert "past 3,000 remote contacts" in stderr and "max_remote_contacts=6000" in stderr
    assert server.count("POST", "PUT", "PATCH", "DELETE") == 0
