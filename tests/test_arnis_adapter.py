"""The arnis adapter against the arnis sandbox over loopback."""

from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

from pipeline.errors import AuthError
from pipeline.sandbox import RunningSandbox, start
from pipeline.secrets import ApiKey
from pipeline.targets import target_class
from pipeline.targets.base import TargetSettings

Arnis = target_class("arnis")

KEY = "arnis-test-key-123"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    running = start("arnis", KEY, scoped_keys={"read-key": "read", "contacts-key": "contacts"})
    yield running
    running.stop()


def _target(sandbox: RunningSandbox, key: str = KEY) -> Any:
    return Arnis(TargetSettings(base_url=sandbox.url, api_key=ApiKey(key)))


def _contacts(n: int, start: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": list(range(1, n + 1)),
            "e164": [f"+1415555{start + i:04d}" for i in range(n)],
            "first_name": [f"P{i}" for i in range(n)],
        }
    )


def test_create_reads_back_ids_and_reports_rejected_rows(sandbox: RunningSandbox) -> None:
    contacts = pl.DataFrame(
        {
            "row": [1, 2],
            "e164": ["+14155552671", "+14155552672"],
            "email": ["a@example.com", "nope"],
        }
    )
    result = _target(sandbox).create(contacts)
    assert result["status"].to_list() == ["created", "failed"]
    assert result["error_code"].to_list() == [None, "rejected"]
    assert "email" in result["error_message"][1]
    stored = sandbox.store.find_e164("+14155552671")
    assert stored is not None and result["remote_id"][0] == stored["id"]
    assert sandbox.store.find_e164("+14155552672") is None


def test_create_splits_into_batches_of_at_most_1000(sandbox: RunningSandbox) -> None:
    result = _target(sandbox).create(_contacts(2500))
    assert (result["status"] == "created").all()
    batches = [r for r in sandbox.store.requests if r.path.endswith("/batch")]
    assert sorted(r.items for r in batches) == [500, 1000, 1000]
    assert sandbox.store.violations == []


def test_fetch_remote_reads_every_page(sandbox: RunningSandbox) -> None:
    _target(sandbox).create(_contacts(250))
    remote = _target(sandbox).fetch_remote()
    assert remote.height == 250
    assert remote["e164"].n_unique() == 250


def test_wrong_key_is_an_auth_error_without_the_key(sandbox: RunningSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        _target(sandbox, "wrong-secret-key").fetch_remote()
    assert caught.value.status == 401
    assert "wrong-secret-key" not in str(caught.value)


def test_read_only_key_cannot_write(sandbox: RunningSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        _target(sandbox, "read-key").create(_contacts(1))
    assert caught.value.status == 403


def test_create_puts_contacts_in_their_lists_one_batch_per_list_set(
    sandbox: RunningSandbox,
) -> None:
    sandbox.store.lists.update({"L1": {"id": "L1"}, "L2": {"id": "L2"}})
    contacts = _contacts(5).with_columns(
        pl.Series(
            "lists", [["L1"], ["L2", "L1"], None, ["L1"], ["L1", "L2"]], dtype=pl.List(pl.String)
        )
    )
    result = _target(sandbox).create(contacts)
    assert (result["status"] == "created").all()
    batches = sorted(r.items for r in sandbox.store.requests if r.path.endswith("/batch"))
    assert batches == [1, 2, 2]  # {L1}: rows 1 and 4; {L1, L2}: rows 2 and 5; none: row 3
    ids = dict(zip(result["row"].to_list(), result["remote_id"].to_list(), strict=True))
    members = sandbox.emulator.members  # type: ignore[attr-defined]
    assert members["L1"] == {ids[1], ids[2], ids[4], ids[5]}
    assert members["L2"] == {ids[2], ids[5]}


def test_create_into_an_unknown_list_is_rejected_with_the_reason(sandbox: RunningSandbox) -> None:
    contacts = _contacts(1).with_columns(pl.Series("lists", [["nope"]], dtype=pl.List(pl.String)))
    result = _target(sandbox).create(contacts)
    assert result["status"].to_list() == ["failed"]
    assert result["error_code"].to_list() == ["rejected"]
    assert "nope" in result["error_message"][0]


def test_a_few_creates_into_a_large_remote_set_read_back_only_the_tail_page(
    sandbox: RunningSandbox,
) -> None:
    for i in range(1000):
        e164 = f"+1212555{i:04d}"
        sandbox.store.insert(
            e164, {"phone_number": e164, "e164_number": e164, "tags": [], "opted_out": False}
        )
    target = _target(sandbox)
    assert target.fetch_remote().height == 1000  # 10 pages
    before = len(sandbox.store.requests)
    result = target.create(_contacts(2))
    assert result["status"].to_list() == ["created", "created"]
    after = [r.method for r in sandbox.store.requests[before:]]
    assert after == ["POST", "GET"]  # one batch, then the one page after the 1,000 known
