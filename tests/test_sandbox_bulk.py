"""The emulators' bulk endpoints over loopback: cheap per item, and still strict."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pipeline.sandbox import RunningSandbox, start
from pipeline.sandbox.store import Store
from tests.conftest import API_KEY


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as http:
        yield http


def _people(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {"phone_number": f"(415) 555-{i:04d}", "first_name": f"P{i}"}
        for i in range(start, start + count)
    ]


def _batch(client: httpx.Client, sandbox: RunningSandbox, body: Any) -> httpx.Response:
    return client.post(f"{sandbox.url}/contacts/batch", json=body, headers={"X-API-Key": API_KEY})


def test_arnis_batch_ids_are_distinct_v4_uuids_and_one_request_shares_a_timestamp(
    sandbox_factory: Callable[..., RunningSandbox], client: httpx.Client
) -> None:
    arnis = sandbox_factory("arnis")
    for first in (0, 1000):
        answer = _batch(client, arnis, {"contacts": _people(first, 1000)})
        assert answer.status_code == 200
        assert answer.json() == {
            "total_submitted": 1000,
            "created": 1000,
            "duplicates_skipped": 0,
            "errors": 0,
        }
    contacts = list(arnis.store.contacts.values())
    ids = [c["id"] for c in contacts]
    assert len(set(ids)) == 2000
    for contact_id in ids:
        parsed = uuid.UUID(contact_id)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, contact_id)
    stamps = [c["created_at"] for c in contacts]
    assert len(set(stamps[:1000])) == 1 and len(set(stamps[1000:])) == 1
    assert stamps[0] <= stamps[1000]
    assert [(r.method, r.status, r.items) for r in arnis.store.requests] == [
        ("POST", 200, 1000),
        ("POST", 200, 1000),
    ]


def test_arnis_batch_still_checks_every_item(
    sandbox_factory: Callable[..., RunningSandbox], client: httpx.Client
) -> None:
    arnis = sandbox_factory("arnis")
    _batch(client, arnis, {"contacts": _people(0, 1)})
    items = [
        *_people(0, 2),  # the first exists already
        {"phone_number": "not a phone"},
        {"phone_number": "(415) 555-0100", "email": "nope"},
        {"phone_number": "(415) 555-0101", "timezone": "Mars/Base"},
        {"phone_number": "(415) 555-0102", "tags": "vip"},
        {"first_name": "no phone"},
        "not an object",
    ]
    answer = _batch(client, arnis, {"contacts": items})
    assert answer.json() == {
        "total_submitted": 8,
        "created": 1,
        "duplicates_skipped": 1,
        "errors": 6,
    }
    assert sorted(arnis.store.by_e164) == ["+14155550000", "+14155550001"]
    record = arnis.store.find_e164("+14155550001")
    assert record is not None
    assert record["phone_number"] == "(415) 555-0001"
    assert record["tags"] == [] and record["opted_out"] is False


def test_arnis_batch_over_the_limit_is_refused_and_recorded() -> None:
    arnis = start("arnis", API_KEY)
    try:
        with httpx.Client(timeout=30) as client:
            answer = _batch(client, arnis, {"contacts": _people(0, 1001)})
            empty = _batch(client, arnis, {"contacts": []})
    finally:
        arnis.stop()
    assert answer.status_code == 422
    assert answer.json() == {"detail": "at most 1000 contacts per batch"}
    assert empty.status_code == 422
    assert arnis.store.violations == ["arnis: batch of 1001 > 1000"]
    assert arnis.store.contacts == {}
    assert [(r.status, r.items) for r in arnis.store.requests] == [(422, 1001), (422, 0)]


def test_oliai_bulk_upsert_answers_copies_with_one_timestamp_per_request(
    sandbox_factory: Callable[..., RunningSandbox], client: httpx.Client
) -> None:
    oliai = sandbox_factory("oliai")
    url, headers = f"{oliai.url}/contacts/bulk", {"x-api-key": API_KEY}
    people = [{"name": f"P{i}", "phoneNumber": f"+1415555{i:04d}"} for i in range(600)]
    first = client.post(url, json={"contacts": people[:500]}, headers=headers).json()
    mixed = [*people[250:600], {"name": "", "phoneNumber": "+14155550999"}]
    second = client.post(url, json={"contacts": mixed}, headers=headers).json()
    assert (first["created"], first["updated"], first["failed"]) == (500, 0, 0)
    assert (second["created"], second["updated"], second["failed"]) == (100, 250, 1)
    assert second["errors"] == [{"index": 350, "reason": "name should not be empty"}]
    ids = [c["id"] for c in first["contacts"]]
    assert ids == [f"cl{n:08d}" for n in range(1, 501)]
    assert len({c["createdAt"] for c in first["contacts"]}) == 1
    assert len({c["updatedAt"] for c in second["contacts"]}) == 1
    stored = oliai.store.find_e164("+14155550300")
    assert stored is not None
    assert stored["createdAt"] == first["contacts"][0]["createdAt"]
    assert stored["updatedAt"] == second["contacts"][0]["updatedAt"]
    assert len(oliai.store.contacts) == 600


def test_seeded_stores_repeat_their_ids_and_counters_skip_ids_in_use() -> None:
    one, two = Store(seed=7), Store(seed=7)
    assert [one.new_id() for _ in range(3)] == [two.new_id() for _ in range(3)]
    assert Store().new_id() != Store().new_id()
    counter = Store(id_style="counter")
    counter.contacts["cnt_00000001"] = {"id": "cnt_00000001", "phone": "+14155550000"}
    added = counter.insert("+14155550001", {"phone": "+14155550001"}, id_prefix="cnt_")
    assert added["id"] == "cnt_00000002"
    record = {"phone": "+14155550002"}
    stored = counter.insert("+14155550002", record, id_prefix="cnt_", owned=True)
    assert stored is record and record["id"] == "cnt_00000003"
    copied = {"phone": "+14155550003"}
    assert counter.insert("+14155550003", copied, id_prefix="cnt_") is not copied
    assert "id" not in copied
