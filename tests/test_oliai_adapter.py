"""The oliai adapter against the oliai sandbox over loopback."""

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import polars as pl
import pytest

from pipeline.errors import AuthError
from pipeline.http import RetryPolicy
from pipeline.sandbox import Faults, RunningSandbox, start
from pipeline.sandbox.server import Reply, Request
from pipeline.secrets import ApiKey
from pipeline.targets import target_class
from pipeline.targets.base import TargetSettings

KEY = "sk_live_oliai-test-key-123"
Oliai = target_class("oliai")
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05, budget=2.0)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    running = start("oliai", KEY, audiences=["aud_1"])
    yield running
    running.stop()


def _target(sandbox: RunningSandbox, key: str = KEY, **settings: Any) -> Any:
    # a high client rate limit keeps tests fast; the emulator's Faults test the real limits
    options: dict[str, Any] = {"rate_limit": 60_000, "retry": FAST_RETRY, **settings}
    return Oliai(TargetSettings(base_url=sandbox.url, api_key=ApiKey(key), **options))


def _contacts(n: int, start: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": list(range(1, n + 1)),
            "e164": [f"+1415555{start + i:04d}" for i in range(n)],
            "name": [f"Person {i}" for i in range(n)],
        }
    )


def _seed(sandbox: RunningSandbox, n: int, **fields: Any) -> list[str]:
    """Contacts put straight into the store, in oliai's own field names; their ids."""
    ids = []
    for i in range(n):
        phone = f"+1415555{i:04d}"
        record = {"name": f"Person {i}", "phoneNumber": phone, "language": None, **fields}
        ids.append(sandbox.store.insert(phone, {"metadata": None, **record}, "cl")["id"])
    return ids


def _bulk_sizes(sandbox: RunningSandbox, path: str = "/v1/contacts/bulk") -> list[int]:
    return [r.items for r in sandbox.store.requests if r.path == path and r.status == 200]


def _stored(sandbox: RunningSandbox, e164: str) -> dict[str, Any]:
    contact = sandbox.store.find_e164(e164)
    assert contact is not None, f"{e164} is not in the sandbox"
    return contact


# -- create ------------------------------------------------------------------------------
def test_create_maps_per_index_errors_to_the_right_rows(sandbox: RunningSandbox) -> None:
    contacts = pl.DataFrame(
        {
            "row": [1, 2, 3, 4, 5],
            "e164": ["+14155550001", "+14155550002", "+14155550003", "+1415555", "+14155550005"],
            "name": ["Priya Sharma", None, None, "Bad Number", "Ravi Kumar"],
            "first_name": [None, "Bo", None, None, None],
            "last_name": [None, "Li", None, None, None],
            "language": ["hi-IN", None, None, None, "en-IN"],
            "metadata": ['{"city": "Mumbai", "tier": "premium"}', None, None, None, None],
        }
    )
    result = _target(sandbox, chunk_size=2).create(contacts)
    assert result["row"].to_list() == [1, 2, 3, 4, 5]
    assert result["status"].to_list() == ["created", "created", "created", "failed", "created"]
    assert result["error_code"].to_list() == [None, None, None, "rejected", None]
    assert "E.164" in result["error_message"][3]
    # row 4 was index 1 of the second request: its neighbours landed
    assert sorted(_bulk_sizes(sandbox)) == [1, 2, 2]
    for row, phone in ((1, "+14155550001"), (2, "+14155550002"), (5, "+14155550005")):
        assert result["remote_id"][row - 1] == _stored(sandbox, phone)["id"]
    priya = _stored(sandbox, "+14155550001")
    assert priya["metadata"] == {"city": "Mumbai", "tier": "premium"}
    assert priya["language"] == "hi-IN"
    assert _stored(sandbox, "+14155550002")["name"] == "Bo Li"
    assert _stored(sandbox, "+14155550003")["name"] == "+14155550003"
    assert sandbox.store.find_e164("+1415555") is None


def test_create_splits_into_requests_of_at_most_1000(sandbox: RunningSandbox) -> None:
    result = _target(sandbox).create(_contacts(2500))
    assert (result["status"] == "created").all()
    assert result["remote_id"].n_unique() == 2500
    assert sorted(_bulk_sizes(sandbox)) == [500, 1000, 1000]
    assert len(sandbox.store.all()) == 2500
    assert sandbox.store.violations == []


def test_create_of_a_contact_that_appeared_meanwhile_is_reported_updated(
    sandbox: RunningSandbox,
) -> None:
    ids = _seed(sandbox, 1)  # +14155550000 was created by someone else after the diff
    result = _target(sandbox).create(_contacts(2).with_columns(pl.lit("hi-IN").alias("language")))
    assert result["status"].to_list() == ["updated", "created"]
    assert result["remote_id"][0] == ids[0]
    assert result["remote_id"][1] == _stored(sandbox, "+14155550001")["id"]
    assert _stored(sandbox, "+14155550000")["language"] == "hi-IN"
    assert len(sandbox.store.all()) == 2


def test_contacts_missing_from_the_bulk_answer_are_read_back(sandbox: RunningSandbox) -> None:
    emulator = sandbox.emulator
    bulk = next(r for r in emulator.routes if r.pattern.pattern.endswith("/contacts/bulk$"))

    def terse(request: Request) -> Reply:  # an answer with counts and errors only
        reply = bulk.handler(request)
        return Reply(reply.status, {**reply.body, "contacts": []})

    emulator.routes[emulator.routes.index(bulk)] = replace(bulk, handler=terse)
    contacts = _contacts(3).with_columns(
        pl.when(pl.col("row") == 2).then(pl.lit("+1415")).otherwise("e164").alias("e164")
    )
    result = _target(sandbox).create(contacts)
    assert result["status"].to_list() == ["created", "failed", "created"]
    assert result["error_code"].to_list() == [None, "rejected", None]
    assert result["remote_id"][0] == _stored(sandbox, "+14155550000")["id"]
    assert result["remote_id"][2] == _stored(sandbox, "+14155550002")["id"]
    assert _bulk_sizes(sandbox) == [3]


def test_ambiguous_bulk_create_reads_back_and_never_resends_what_landed() -> None:
    sandbox = start("oliai", KEY, faults=Faults(commit_then_fail_rate=1.0, seed=7))
    try:
        contacts = _contacts(4).with_columns(
            pl.when(pl.col("row") == 2).then(pl.lit("+1415")).otherwise("e164").alias("e164")
        )
        # limits off: row 2 never lands, and is sent again as long as the budget allows
        result = _target(sandbox, rate_limit=0).create(contacts)
    finally:
        sandbox.stop()
    assert result["status"].to_list() == ["created", "failed", "created", "created"]
    assert result["error_code"][1] == "failed"
    assert "not on oliai" in result["error_message"][1]
    for row, phone in ((1, "+14155550000"), (3, "+14155550002"), (4, "+14155550003")):
        assert result["remote_id"][row - 1] == _stored(sandbox, phone)["id"]
    assert len(sandbox.store.all()) == 3
    bulk = [r.items for r in sandbox.store.requests if r.path == "/v1/contacts/bulk"]
    assert bulk[0] == 4
    assert len(bulk) > 1 and all(items == 1 for items in bulk[1:])


def test_rate_limited_bulk_waits_for_retry_after_and_completes() -> None:
    faults = Faults(bulk_rate_limit=1, window_seconds=1.0)
    sandbox = start("oliai", KEY, faults=faults)
    try:
        started = time.monotonic()
        result = _target(sandbox, chunk_size=2).create(_contacts(4))
        elapsed = time.monotonic() - started
    finally:
        sandbox.stop()
    assert (result["status"] == "created").all()
    assert any(r.status == 429 for r in sandbox.store.requests)
    assert _bulk_sizes(sandbox) == [2, 2]
    assert elapsed >= 0.9
    assert len(sandbox.store.all()) == 4


def test_capabilities_declare_the_documented_limits() -> None:
    caps = Oliai.capabilities
    assert (caps.rate_limit, caps.bulk_rate_limit) == (60, 10)  # requests per minute
    assert (caps.bulk_create, caps.bulk_delete, caps.page_size) == (1000, 1000, 100)
    assert caps.default_base_url == "https://api.oliai.in/v1"
    assert set(caps.fields) == {"name", "language", "metadata"}


# -- audiences ---------------------------------------------------------------------------
def test_lists_are_added_as_audiences_and_failures_reported(sandbox: RunningSandbox) -> None:
    contacts = _contacts(3).with_columns(
        pl.Series("lists", [["aud_1"], ["aud_missing"], ["aud_1"]]),
        pl.Series("opted_out", [False, False, True]),
    )
    result = _target(sandbox).create(contacts)
    assert result["status"].to_list() == ["created", "created", "created"]
    assert result["error_code"].to_list() == [None, "audience_failed", None]
    assert "aud_missing" in result["error_message"][1]
    assert "not found" in result["error_message"][1].lower()
    first = _stored(sandbox, "+14155550000")["id"]
    assert sandbox.store.lists["aud_1"]["contactIds"] == [first]  # not the opted-out row 3


# -- read --------------------------------------------------------------------------------
def test_fetch_remote_reads_every_page(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 250, language="hi-IN", metadata={"tier": "gold"})
    sandbox.store.contacts[ids[7]]["name"] = "+14155550007"  # the nameless fallback
    sandbox.store.contacts[ids[8]]["metadata"] = {}
    remote = _target(sandbox).fetch_remote()
    assert remote.height == 250
    assert remote["remote_id"].to_list() == ids
    assert remote["e164"].n_unique() == 250
    assert remote["name"][0] == "Person 0" and remote["name"][7] is None
    assert json.loads(remote["metadata"][0]) == {"tier": "gold"}
    assert remote["metadata"][8] is None
    assert remote["language"][0] == "hi-IN"
    pages = [r for r in sandbox.store.requests if r.method == "GET"]
    assert len(pages) == 3
    assert sandbox.store.violations == []


def test_fetch_remote_of_an_empty_organization(sandbox: RunningSandbox) -> None:
    assert _target(sandbox).fetch_remote().height == 0


def test_lookup_searches_by_phone_when_that_is_cheaper(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 350)  # 4 pages: one search beats listing 3 more pages
    found = _target(sandbox).lookup(["+14155550012", "+19999999999"])
    assert found["remote_id"].to_list() == [ids[12]]
    assert found["e164"].to_list() == ["+14155550012"]
    assert len([r for r in sandbox.store.requests if r.method == "GET"]) == 3


# -- update ------------------------------------------------------------------------------
def test_update_sends_only_the_changed_fields(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 2, language="hi-IN", metadata={"city": "Mumbai", "tier": "premium"})
    contacts = pl.DataFrame(
        {
            "row": [1, 2],
            "remote_id": ids,
            "e164": ["+14155550000", "+14155550001"],
            "name": ["Person 0", None],
            "language": ["fr-FR", "en-IN"],
            "metadata": ['{"city": "Delhi", "tier": "premium"}', None],
            "changes": [["metadata"], ["language"]],
        }
    )
    result = _target(sandbox).update(contacts)
    assert result["status"].to_list() == ["updated", "updated"]
    assert result["remote_id"].to_list() == ids
    first, second = sandbox.store.get(ids[0]), sandbox.store.get(ids[1])
    assert first is not None and second is not None
    assert first["metadata"] == {"city": "Delhi", "tier": "premium"}
    assert first["language"] == "hi-IN"  # not in changes: not sent
    assert second["language"] == "en-IN"
    assert second["name"] == "Person 1"  # no name in the file: the remote one is kept
    assert second["metadata"] == {"city": "Mumbai", "tier": "premium"}
    assert _bulk_sizes(sandbox) == [1]
    assert [r.method for r in sandbox.store.requests] == ["POST", "PATCH"]


def test_update_reports_a_rejected_row_with_the_server_message(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 2)
    contacts = pl.DataFrame(
        {
            "row": [1, 2],
            "remote_id": ids,
            "e164": ["+14155550000", "+14155550001"],
            "name": ["Person 0", "Renamed"],
            "metadata": ["[1, 2]", None],
            "changes": [["metadata"], ["name"]],
        }
    )
    result = _target(sandbox).update(contacts)
    assert result["status"].to_list() == ["failed", "updated"]
    assert result["error_code"].to_list() == ["rejected", None]
    assert result["error_message"][0] == "metadata must be an object"
    assert result["remote_id"].to_list() == ids
    assert _stored(sandbox, "+14155550001")["name"] == "Renamed"


# -- delete and opt-out ------------------------------------------------------------------
def test_delete_goes_through_bulk_delete_in_chunks_of_1000(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 1001)
    gone = "cl99999999"  # deleted already: counts as deleted
    contacts = pl.DataFrame(
        {
            "row": [*range(1, 1001), None, 1002],
            "remote_id": [*ids[:1000], ids[1000], gone],
            "e164": [f"+1415555{i:04d}" for i in range(1002)],
        },
        schema_overrides={"row": pl.Int64},
    )
    result = _target(sandbox).delete(contacts)
    assert result.height == 1002
    assert (result["status"] == "deleted").all()
    assert set(result["remote_id"].to_list()) == {*ids, gone}
    assert sandbox.store.all() == []
    assert sorted(_bulk_sizes(sandbox, "/v1/contacts/bulk-delete")) == [2, 1000]
    assert sandbox.store.violations == []


def test_delete_without_a_remote_id_fails_that_row_only(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 1)
    contacts = pl.DataFrame(
        {"row": [1, 2], "remote_id": [ids[0], None], "e164": ["+14155550000", "+14155550001"]}
    )
    result = _target(sandbox).delete(contacts).sort("row")
    assert result["status"].to_list() == ["deleted", "failed"]
    assert result["error_code"].to_list() == [None, "rejected"]
    assert sandbox.store.all() == []


def test_opt_out_is_unsupported_and_sends_nothing(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 1)
    contacts = pl.DataFrame({"row": [1], "remote_id": ids, "e164": ["+14155550000"]})
    result = _target(sandbox).opt_out(contacts)
    assert result["status"].to_list() == ["skipped"]
    assert result["error_code"].to_list() == ["opt_out_unsupported"]
    assert Oliai.capabilities.opt_out == "none"
    assert sandbox.store.requests == []


# -- auth --------------------------------------------------------------------------------
def test_wrong_key_is_an_auth_error_without_the_key(sandbox: RunningSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        _target(sandbox, "sk_live_wrong-secret").fetch_remote()
    assert caught.value.status == 401
    assert "sk_live_wrong-secret" not in str(caught.value)
    assert "Invalid or missing API key" in str(caught.value)


def test_wrong_key_aborts_a_create_instead_of_failing_rows(sandbox: RunningSandbox) -> None:
    with pytest.raises(AuthError):
        _target(sandbox, "sk_live_wrong-secret").create(_contacts(3))
    assert sandbox.store.all() == []


# -- the emulator's contract -------------------------------------------------------------
def test_emulator_answers_401_with_oliai_error_body(sandbox: RunningSandbox) -> None:
    missing = httpx.get(f"{sandbox.url}/contacts")
    wrong = httpx.get(f"{sandbox.url}/contacts", headers={"Authorization": f"Bearer {KEY}"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json() == {
            "statusCode": 401,
            "message": "Invalid or missing API key",
            "error": "Unauthorized",
        }


def test_emulator_refuses_oversized_requests_and_records_violations(
    sandbox: RunningSandbox,
) -> None:
    headers = {"x-api-key": KEY}
    items = [{"name": f"P{i}", "phoneNumber": f"+1415555{i:04d}"} for i in range(1001)]
    bulk = httpx.post(f"{sandbox.url}/contacts/bulk", json={"contacts": items}, headers=headers)
    page = httpx.get(f"{sandbox.url}/contacts", params={"limit": 101}, headers=headers)
    assert bulk.status_code == 400 and bulk.json()["error"] == "Bad Request"
    assert "1000" in bulk.json()["message"]
    assert page.status_code == 400 and "100" in page.json()["message"]
    assert sandbox.store.all() == []
    assert len(sandbox.store.violations) == 2


def test_emulator_bulk_upserts_by_phone_and_reports_invalid_items(
    sandbox: RunningSandbox,
) -> None:
    _seed(sandbox, 1)
    items = [
        {"name": "Renamed", "phoneNumber": "+14155550000", "metadata": {"k": "v"}},
        {"phoneNumber": "+14155550001"},
        {"name": "Local Format", "phoneNumber": "4155550002"},
        {"name": "New", "phoneNumber": "+14155550003", "language": "en-IN"},
    ]
    response = httpx.post(
        f"{sandbox.url}/contacts/bulk", json={"contacts": items}, headers={"x-api-key": KEY}
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["created"], body["updated"], body["failed"]) == (1, 1, 2)
    assert [e["index"] for e in body["errors"]] == [1, 2]
    assert [c["phoneNumber"] for c in body["contacts"]] == ["+14155550000", "+14155550003"]
    assert _stored(sandbox, "+14155550000")["name"] == "Renamed"
    assert _stored(sandbox, "+14155550003")["id"].startswith("cl")
    assert len(sandbox.store.all()) == 2


def test_emulator_single_create_conflicts_on_an_existing_phone(sandbox: RunningSandbox) -> None:
    _seed(sandbox, 1)
    response = httpx.post(
        f"{sandbox.url}/contacts",
        json={"name": "Again", "phoneNumber": "+14155550000"},
        headers={"x-api-key": KEY},
    )
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"
