"""The dmchamp adapter against the dmchamp sandbox over loopback."""

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import polars as pl
import pytest

from pipeline.errors import AuthError, TerminalError, TransientError
from pipeline.http import RetryPolicy
from pipeline.sandbox import Faults, RunningSandbox, start
from pipeline.secrets import ApiKey
from pipeline.targets import target_class
from pipeline.targets.base import RESULT_SCHEMA, TargetSettings

KEY = "dmchamp-SECRET-key-4242"
Dmchamp = target_class("dmchamp")
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05, budget=1.0)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    running = start("dmchamp", KEY, lists=["lst_a", "lst_b"])
    yield running
    running.stop()


def _target(
    url: str,
    key: str = KEY,
    concurrency: int | None = None,
    retry: RetryPolicy = FAST,
    **options: str,
) -> Any:
    settings = TargetSettings(
        base_url=url, api_key=ApiKey(key), options=options, concurrency=concurrency, retry=retry
    )
    return Dmchamp(settings)


def _contacts(n: int, start: int = 0, **columns: list[Any]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "row": list(range(1, n + 1)),
            "e164": [f"+1415555{start + i:04d}" for i in range(n)],
        },
        schema={"row": pl.Int64, "e164": pl.String},
    )
    return frame.with_columns(pl.Series(name, values) for name, values in columns.items())


def _plan_rows(remote_id: str, changes: list[str], **fields: Any) -> pl.DataFrame:
    return pl.DataFrame(
        [{"row": 1, "e164": "+14155550000", "remote_id": remote_id, **fields, "changes": changes}]
    )


def _stored(sandbox: RunningSandbox, e164: str) -> dict[str, Any]:
    found = sandbox.store.find_e164(e164)
    assert found is not None, f"{e164} is not in the sandbox"
    return found


def _every_cell(frame: pl.DataFrame) -> str:
    return " ".join(str(value) for row in frame.iter_rows() for value in row)


# -- create ----------------------------------------------------------------------------
def test_create_reports_created_and_rejected_rows(sandbox: RunningSandbox) -> None:
    contacts = _contacts(2, first_name=["Ada", "Bob"], email=["ada@example.com", "not-an-email"])
    result = _target(sandbox.url).create(contacts)
    assert result.schema == pl.Schema(RESULT_SCHEMA)
    assert result["status"].to_list() == ["created", "failed"]
    assert result["error_code"].to_list() == [None, "rejected"]
    assert "not-an-email" in result["error_message"][1]
    stored = _stored(sandbox, "+14155550000")
    assert result["remote_id"][0] == stored["id"]
    assert (stored["firstName"], stored["lastName"]) == ("Ada", "Unknown")  # server default
    assert sandbox.store.find_e164("+14155550001") is None


def test_create_adds_lists_and_reports_a_failed_list_on_the_row(sandbox: RunningSandbox) -> None:
    contacts = _contacts(
        3,
        lists=[["lst_a"], ["lst_a", "lst_nope"], ["lst_b"]],
        opted_out=[False, False, True],
    )
    result = _target(sandbox.url).create(contacts)
    assert result["status"].to_list() == ["created", "created", "created"]
    assert result["error_code"].to_list() == [None, "list_failed", None]
    assert "lst_nope" in result["error_message"][1]
    assert "not found" in result["error_message"][1]
    first, second, third = (_stored(sandbox, f"+1415555{i:04d}") for i in range(3))
    assert set(sandbox.store.lists["lst_a"]["contactIds"]) == {first["id"], second["id"]}
    assert third["do_not_disturb"] is True
    assert "lst_b" not in sandbox.store.lists  # an opted-out contact joins no list


def test_create_of_an_existing_phone_updates_it_in_place(sandbox: RunningSandbox) -> None:
    target = _target(sandbox.url)
    target.create(_contacts(2, first_name=["Old", "Same"], lists=[[], []]))
    again = _contacts(2, first_name=["New", "Same"], lists=[["lst_a"], []])
    result = target.create(again)
    first, second = _stored(sandbox, "+14155550000"), _stored(sandbox, "+14155550001")
    assert result["status"].to_list() == ["updated", "unchanged"]
    assert result["remote_id"].to_list() == [first["id"], second["id"]]
    assert first["firstName"] == "New"
    assert len(sandbox.store.contacts) == 2
    assert sandbox.store.lists["lst_a"]["contactIds"] == [first["id"]]


# -- read ------------------------------------------------------------------------------
def test_fetch_remote_refuses_because_dmchamp_cannot_list(sandbox: RunningSandbox) -> None:
    target = _target(sandbox.url)
    assert Dmchamp.capabilities.can_list is False
    with pytest.raises(TerminalError, match="no endpoint that lists contacts"):
        target.fetch_remote()
    assert sandbox.store.requests == []


def test_lookup_finds_present_numbers_and_reads_defaults_as_null(
    sandbox: RunningSandbox,
) -> None:
    target = _target(sandbox.url)
    target.create(
        _contacts(
            20,
            first_name=["Ada"] + [None] * 19,
            email=["ada@example.com"] + [None] * 19,
            external_id=["crm-1"] + [None] * 19,
        )
    )
    wanted = [f"+1415555{i:04d}" for i in range(30)]  # the last 10 are absent
    remote = target.lookup(wanted).sort("e164")
    assert remote.height == 20
    assert remote["e164"].to_list() == wanted[:20]
    assert remote["remote_id"][0] == _stored(sandbox, wanted[0])["id"]
    ada = remote.row(0, named=True)
    assert (ada["first_name"], ada["last_name"], ada["email"]) == ("Ada", None, "ada@example.com")
    assert (ada["external_id"], ada["opted_out"]) == ("crm-1", False)
    others = remote.slice(1)
    assert others["first_name"].null_count() == 19
    assert others["email"].null_count() == 19  # the server's default email reads as null
    assert _stored(sandbox, wanted[1])["email"] == "unknown@dmchamp.com"
    gets = [r for r in sandbox.store.requests if r.method == "GET"]
    assert len(gets) == 30
    assert sandbox.store.violations == []


def test_a_configured_default_email_is_read_as_null(sandbox: RunningSandbox) -> None:
    _target(sandbox.url).create(_contacts(1, email=["placeholder@example.com"]))
    plain = _target(sandbox.url).lookup(["+14155550000"])
    configured = _target(sandbox.url, default_email="placeholder@example.com")
    assert plain["email"].to_list() == ["placeholder@example.com"]
    assert configured.lookup(["+14155550000"])["email"].to_list() == [None]


# -- update, delete, opt-out -----------------------------------------------------------
def test_update_sends_only_the_changed_fields(sandbox: RunningSandbox) -> None:
    target = _target(sandbox.url)
    created = target.create(
        _contacts(1, first_name=["Ada"], last_name=["Lovelace"], email=["ada@example.com"])
    )
    remote_id = created["remote_id"][0]
    plan = _plan_rows(
        remote_id,
        ["first_name", "last_name"],
        first_name="Augusta",
        last_name=None,
        email="other@example.com",
    )
    result = target.update(plan)
    assert result.rows() == [(1, "updated", remote_id, None, None)]
    stored = _stored(sandbox, "+14155550000")
    assert stored["firstName"] == "Augusta"
    assert stored["lastName"] == "Unknown"  # cleared → back to the server default
    assert stored["email"] == "ada@example.com"  # not among the changes: not sent
    assert target.lookup(["+14155550000"])["last_name"].to_list() == [None]


def test_update_applies_an_opt_out_and_never_undoes_one(sandbox: RunningSandbox) -> None:
    target = _target(sandbox.url)
    remote_id = target.create(_contacts(1))["remote_id"][0]
    opting_out = target.update(_plan_rows(remote_id, ["opted_out"], opted_out=True))
    assert opting_out["status"].to_list() == ["updated"]
    assert _stored(sandbox, "+14155550000")["do_not_disturb"] is True
    opting_in = target.update(_plan_rows(remote_id, ["opted_out"], opted_out=False))
    assert opting_in["status"].to_list() == ["skipped"]
    assert opting_in["error_code"].to_list() == ["opted_out_remotely"]
    tags_only = target.update(_plan_rows(remote_id, ["tags"], tags=["vip"]))
    assert tags_only["error_code"].to_list() == ["update_unsupported"]
    assert tags_only["error_message"].to_list() == ["dmchamp cannot update tags"]
    assert _stored(sandbox, "+14155550000")["do_not_disturb"] is True


def test_update_of_a_missing_contact_fails_with_the_server_message(
    sandbox: RunningSandbox,
) -> None:
    result = _target(sandbox.url).update(_plan_rows("99999999", ["first_name"], first_name="X"))
    assert result["status"].to_list() == ["failed"]
    assert result["error_code"].to_list() == ["rejected"]
    assert result["error_message"].to_list() == ["Contact not found"]


def test_delete_is_unsupported_and_sends_nothing(sandbox: RunningSandbox) -> None:
    rows = pl.DataFrame({"row": [1, None], "remote_id": ["1", "2"], "e164": ["+1", "+2"]})
    result = _target(sandbox.url).delete(rows)
    assert result["status"].to_list() == ["skipped", "skipped"]
    assert result["error_code"].to_list() == ["delete_unsupported"] * 2
    assert Dmchamp.capabilities.can_delete is False
    assert sandbox.store.requests == []


def test_opt_out_sets_do_not_disturb(sandbox: RunningSandbox) -> None:
    target = _target(sandbox.url)
    remote_id = target.create(_contacts(1))["remote_id"][0]
    rows = pl.DataFrame({"row": [1], "remote_id": [remote_id], "e164": ["+14155550000"]})
    result = target.opt_out(rows)
    assert result.rows() == [(1, "opted_out", remote_id, None, None)]
    assert _stored(sandbox, "+14155550000")["do_not_disturb"] is True
    assert target.lookup(["+14155550000"])["opted_out"].to_list() == [True]


# -- auth and the key ------------------------------------------------------------------
def test_wrong_key_is_an_auth_error_without_the_key(sandbox: RunningSandbox) -> None:
    target = _target(sandbox.url, "wrong-SECRET-key-9")
    with pytest.raises(AuthError) as caught:
        target.lookup(["+14155550000"])
    assert caught.value.status == 401
    assert "wrong-SECRET-key-9" not in str(caught.value)
    with pytest.raises(AuthError):
        target.create(_contacts(1))
    assert sandbox.store.contacts == {}


def test_the_key_never_shows_in_errors_or_results(sandbox: RunningSandbox) -> None:
    rejected = _target(sandbox.url).create(_contacts(1, email=["bad"]))
    assert rejected["status"].to_list() == ["failed"]
    assert KEY not in _every_cell(rejected)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    unreachable = _target(dead)
    with pytest.raises(TransientError) as caught:
        unreachable.lookup(["+14155550000"])
    assert KEY not in str(caught.value) and "apiKey" not in str(caught.value)
    failed = unreachable.create(_contacts(2))
    assert failed["status"].to_list() == ["failed", "failed"]
    assert failed["error_code"].to_list() == ["failed", "failed"]
    assert KEY not in _every_cell(failed)


# -- the emulator holds the contract ---------------------------------------------------
def test_emulator_refuses_listing_bad_keys_and_undocumented_fields(
    sandbox: RunningSandbox,
) -> None:
    with httpx.Client(base_url=sandbox.url) as client:
        listing = client.get("/contacts", params={"apiKey": KEY})
        keyless = client.get("/contacts", params={"phoneNumber": "+14155550000"})
        no_plus = client.post(
            "/contacts", params={"apiKey": KEY}, json={"phoneNumber": "4155550000"}
        )
        extra = client.post(
            "/contacts", params={"apiKey": KEY}, json={"phoneNumber": "+14155550000", "tags": []}
        )
        absent = client.get("/contacts", params={"apiKey": KEY, "phoneNumber": "+14155550000"})
    assert listing.status_code == 400
    assert listing.json() == {"message": "phoneNumber or email is required"}
    assert len(sandbox.store.violations) == 1
    assert keyless.status_code == 401 and set(keyless.json()) == {"message"}
    assert no_plus.status_code == 400 and "country code" in no_plus.json()["message"]
    assert extra.status_code == 400 and "tags" in extra.json()["message"]
    assert absent.status_code == 404 and absent.json() == {"message": "Contact not found"}
    assert sandbox.store.contacts == {}


def test_emulator_answers_409_for_an_existing_phone(sandbox: RunningSandbox) -> None:
    with httpx.Client(base_url=sandbox.url, params={"apiKey": KEY}) as client:
        first = client.post("/contacts", json={"phoneNumber": "+14155550000"})
        second = client.post("/contacts", json={"phoneNumber": "+1 415 555 0000"})
    assert first.status_code == 200
    assert first.json()["firstName"] == "Unknown" and first.json()["is_bot_active"] is True
    assert second.status_code == 409
    assert second.json() == {"message": "Contact already exists"}


# -- faults ----------------------------------------------------------------------------
def test_ambiguous_creates_are_looked_up_never_resent() -> None:
    running = start("dmchamp", KEY, faults=Faults(commit_then_fail_rate=1.0, seed=7))
    try:
        result = _target(running.url).create(_contacts(5, first_name=["A"] * 5))
        posts = [r for r in running.store.requests if r.method == "POST"]
        assert result["status"].to_list() == ["created"] * 5
        assert len(posts) == 5  # each create sent once: what landed was looked up
        for e164, remote_id in zip(_contacts(5)["e164"], result["remote_id"], strict=True):
            assert _stored(running, e164)["id"] == remote_id
        assert len(running.store.contacts) == 5
    finally:
        running.stop()


def test_flaky_writes_give_every_row_a_truthful_status() -> None:
    faults = Faults(commit_then_fail_rate=0.4, transient_rate=0.3, seed=11)
    running = start("dmchamp", KEY, faults=faults)
    try:
        contacts = _contacts(12)
        result = _target(running.url, concurrency=1).create(contacts)
        assert result["row"].to_list() == contacts["row"].to_list()
        for e164, status, remote_id in zip(
            contacts["e164"], result["status"], result["remote_id"], strict=True
        ):
            stored = running.store.find_e164(e164)
            if status == "created":
                assert stored is not None and stored["id"] == remote_id
            else:
                assert status == "failed" and stored is None
        assert len(running.store.contacts) == (result["status"] == "created").sum() == 12
        refused = [r for r in running.store.requests if r.method == "POST" and r.status == 503]
        assert refused  # some creates did not land and had to be sent again
        assert not [r for r in running.store.requests if r.status == 409]
    finally:
        running.stop()


def test_rows_fail_truthfully_when_nothing_gets_through() -> None:
    running = start("dmchamp", KEY, faults=Faults(transient_rate=1.0, seed=3))
    try:
        result = _target(running.url).create(_contacts(2))
        assert result["status"].to_list() == ["failed", "failed"]
        assert result["error_code"].to_list() == ["failed", "failed"]
        assert result["remote_id"].to_list() == [None, None]
        assert running.store.contacts == {}
    finally:
        running.stop()


def test_rate_limited_client_waits_and_completes() -> None:
    running = start("dmchamp", KEY, faults=Faults(rate_limit=4, window_seconds=1.0))
    try:
        # a budget that allows the Retry-After (1 or 2 s) the sandbox answers
        target = _target(running.url, concurrency=2, retry=RetryPolicy(budget=10.0))
        result = target.create(_contacts(6))
        assert result["status"].to_list() == ["created"] * 6
        assert len(running.store.contacts) == 6
        assert any(r.status == 429 for r in running.store.requests)
        assert target.lookup(_contacts(6)["e164"].to_list()).height == 6
    finally:
        running.stop()


# -- reading the vendor's other answer shapes ------------------------------------------
def test_error_messages_and_ids_in_the_published_answer_shapes() -> None:
    target = _target("http://127.0.0.1:9")
    create = target.description.create

    def _contact_id(body: object) -> str | None:
        return target.record_id(body, create.answer, create.ids)  # type: ignore[no-any-return]

    assert target.error_message({"message": "Contact not found"}) == "Contact not found"
    assert target.error_message({"error": "Invalid request"}) == "Invalid request"
    assert target.error_message("Unauthorized") == "Unauthorized"
    assert _contact_id({"success": True, "contactId": "abc123"}) == "abc123"
    assert _contact_id({"success": True, "data": {"contactId": "abc123"}}) == "abc123"
    assert _contact_id({"success": True}) is None
