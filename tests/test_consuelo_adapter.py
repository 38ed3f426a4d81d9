"""The consuelo adapter against the consuelo sandbox over loopback."""

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import polars as pl
import pytest

from pipeline.errors import AuthError, UsageError
from pipeline.http import RetryPolicy
from pipeline.sandbox import Faults, RunningSandbox, start
from pipeline.sandbox.consuelo import ConsueloEmulator
from pipeline.sandbox.server import ApiError, Reply, Request, serve
from pipeline.sandbox.store import Store
from pipeline.secrets import ApiKey
from pipeline.targets import target_class
from pipeline.targets.base import TargetSettings

KEY = "consuelo-test-token-456"
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05, budget=1.0)
WS = "ws_abc123"
Consuelo = target_class("consuelo")


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    running = start("consuelo", KEY)
    yield running
    running.stop()


def _target(sandbox: RunningSandbox, key: str = KEY, **settings: Any) -> Consuelo:
    options = {"workspace_id": WS, **settings.pop("options", {})}
    return Consuelo(
        TargetSettings(base_url=sandbox.url, api_key=ApiKey(key), options=options, **settings)
    )


def _contacts(n: int, start: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": list(range(1, n + 1)),
            "e164": [f"+1415555{start + i:04d}" for i in range(n)],
            "first_name": [f"P{i}" for i in range(n)],
        }
    )


def _seed(sandbox: RunningSandbox, n: int, workspace: str = WS) -> None:
    for i in range(n):
        phone = f"+1650555{i:04d}"
        record = {"workspaceId": workspace, "phone": phone, "firstName": f"S{i}", "notes": None}
        sandbox.store.insert(phone, record, id_prefix="contact_")


def _id(sandbox: RunningSandbox, e164: str) -> str:
    stored = sandbox.store.find_e164(e164)
    assert stored is not None
    return str(stored["id"])


def _posts(sandbox: RunningSandbox, path: str = "/v1/contacts") -> list[int]:
    return [r.status for r in sandbox.store.requests if r.method == "POST" and r.path == path]


def test_create_sends_one_request_per_contact_and_reports_rejected_rows(
    sandbox: RunningSandbox,
) -> None:
    contacts = pl.DataFrame(
        {
            "row": [1, 2, 3],
            "e164": ["+14155552671", "+14155552672", "4155552673"],
            "first_name": ["Ann", "Bob", "Cy"],
            "last_name": ["Lee", None, None],
            "company": ["Acme Inc", None, None],
            "email": ["ann@example.com", "not-an-email", None],
            "notes": ["VIP", None, None],
        }
    )
    result = _target(sandbox).create(contacts)
    assert result["row"].to_list() == [1, 2, 3]
    assert result["status"].to_list() == ["created", "failed", "failed"]
    assert result["error_code"].to_list() == [None, "rejected", "rejected"]
    assert "'not-an-email' is not a valid email address" in result["error_message"][1]
    assert "must be in E.164 format" in result["error_message"][2]
    stored = sandbox.store.find_e164("+14155552671")
    assert stored is not None
    assert result["remote_id"][0] == stored["id"]
    assert stored["id"].startswith("contact_")
    assert (stored["workspaceId"], stored["firstName"], stored["lastName"]) == (WS, "Ann", "Lee")
    assert (stored["company"], stored["email"]) == ("Acme Inc", "ann@example.com")
    assert stored["notes"] == "VIP"  # create does not take notes: the PATCH after it did
    assert len(sandbox.store.contacts) == 1
    assert sorted(_posts(sandbox)) == [201, 400, 400]
    assert sandbox.store.violations == []


def test_create_of_an_existing_phone_is_a_conflict(sandbox: RunningSandbox) -> None:
    _target(sandbox).create(_contacts(1))
    result = _target(sandbox).create(_contacts(1))
    assert result["status"].to_list() == ["failed"]
    assert result["error_code"].to_list() == ["conflict"]
    assert "+14155550000 already exists" in result["error_message"][0]
    assert len(sandbox.store.contacts) == 1


def test_fetch_remote_reads_every_page_of_the_workspace(sandbox: RunningSandbox) -> None:
    _seed(sandbox, 250)
    sandbox.store.insert("+16505559999", {"workspaceId": "ws_other", "phone": "+16505559999"})
    remote = _target(sandbox).fetch_remote()
    assert remote.height == 250
    assert remote["e164"].n_unique() == 250
    assert "+16505559999" not in remote["e164"].to_list()
    first = remote.filter(pl.col("e164") == "+16505550007").row(0, named=True)
    assert first["first_name"] == "S7"
    assert first["remote_id"] == _id(sandbox, "+16505550007")
    gets = [r for r in sandbox.store.requests if r.method == "GET"]
    assert len(gets) == 3  # limit 100: offsets 0, 100, 200
    assert sandbox.store.violations == []


def test_fetch_remote_follows_has_more_with_a_smaller_page_size(sandbox: RunningSandbox) -> None:
    _seed(sandbox, 45)
    remote = _target(sandbox, options={"page_size": "20"}).fetch_remote()
    assert sorted(remote["e164"].to_list()) == [f"+1650555{i:04d}" for i in range(45)]
    assert len([r for r in sandbox.store.requests if r.method == "GET"]) == 3


def test_update_sends_only_the_changed_fields(sandbox: RunningSandbox) -> None:
    _seed(sandbox, 1)
    contact = sandbox.store.find_e164("+16505550000")
    assert contact is not None
    contact["email"] = "old@example.com"
    contacts = pl.DataFrame(
        {
            "row": [4, 5],
            "remote_id": [contact["id"], "contact_missing"],
            "e164": ["+16505550000", "+16505550001"],
            "first_name": ["Sue", "X"],
            "email": ["new@example.com", None],
            "notes": ["call after 5pm", None],
            "changes": [["first_name", "notes"], ["first_name"]],
        }
    )
    result = _target(sandbox).update(contacts)
    assert result["status"].to_list() == ["updated", "failed"]
    assert result["error_code"].to_list() == [None, "rejected"]
    assert "Contact contact_missing not found" in result["error_message"][1]
    assert contact["firstName"] == "Sue"
    assert contact["notes"] == "call after 5pm"
    assert contact["email"] == "old@example.com"  # not among the changes: not sent


def test_delete_counts_an_absent_contact_as_deleted(sandbox: RunningSandbox) -> None:
    _seed(sandbox, 2)
    ids = [_id(sandbox, "+16505550000"), _id(sandbox, "+16505550001")]
    contacts = pl.DataFrame(
        {
            "row": [1, None, 3],
            "remote_id": [ids[0], ids[1], "contact_gone"],
            "e164": ["+16505550000", "+16505550001", "+16505550002"],
        },
        schema_overrides={"row": pl.Int64},
    )
    result = _target(sandbox).delete(contacts)
    assert result["row"].to_list() == [1, None, 3]
    assert result["status"].to_list() == ["deleted", "deleted", "deleted"]
    assert sandbox.store.contacts == {}
    deletes = [r.status for r in sandbox.store.requests if r.method == "DELETE"]
    assert sorted(deletes) == [204, 204, 404]


def test_opt_out_adds_the_number_to_the_workspace_dnc_list(sandbox: RunningSandbox) -> None:
    contacts = pl.DataFrame(
        {"row": [1, 2], "remote_id": ["contact_1", None], "e164": ["+14155552671", "12345"]}
    )
    result = _target(sandbox, options={"dnc_reason": "asked to stop"}).opt_out(contacts)
    assert result["status"].to_list() == ["opted_out", "failed"]
    assert result["remote_id"].to_list() == ["contact_1", None]
    assert "must be in E.164 format" in result["error_message"][1]
    dnc = sandbox.emulator.dnc  # type: ignore[attr-defined]
    assert dnc[(WS, "+14155552671")]["reason"] == "asked to stop"
    again = _target(sandbox).opt_out(contacts.head(1))
    assert again["status"].to_list() == ["opted_out"]
    assert len(dnc) == 1


def test_wrong_key_is_an_auth_error_without_the_key(sandbox: RunningSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        _target(sandbox, "wrong-secret-token").fetch_remote()
    assert caught.value.status == 401
    assert "wrong-secret-token" not in str(caught.value)
    assert "Invalid or missing access token" in str(caught.value)
    with pytest.raises(AuthError):
        _target(sandbox, "wrong-secret-token").create(_contacts(1))
    assert sandbox.store.contacts == {}


def test_emulator_answers_401_without_a_bearer_token(sandbox: RunningSandbox) -> None:
    answer = httpx.get(f"{sandbox.url}/contacts", params={"workspaceId": WS})
    assert answer.status_code == 401
    assert answer.json() == {
        "error": {"code": "unauthorized", "message": "Invalid or missing access token"}
    }
    raw_key = httpx.get(f"{sandbox.url}/contacts", headers={"Authorization": KEY})
    assert raw_key.status_code == 401


def test_a_missing_workspace_is_a_usage_error() -> None:
    settings = TargetSettings(base_url="http://127.0.0.1:9/v1", api_key=ApiKey(KEY))
    with pytest.raises(UsageError, match="consuelo needs --option workspace_id="):
        Consuelo(settings)


def test_emulator_refuses_a_page_over_100_and_records_it(sandbox: RunningSandbox) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    answer = httpx.get(
        f"{sandbox.url}/contacts", params={"workspaceId": WS, "limit": 500}, headers=auth
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "code": "validation_error",
        "message": "limit must be at most 100",
    }
    assert sandbox.store.violations == ["consuelo: limit=500 > 100"]
    no_workspace = httpx.get(f"{sandbox.url}/contacts", params={"limit": 10}, headers=auth)
    assert no_workspace.status_code == 400
    assert no_workspace.json()["error"]["message"] == "workspaceId is required"


def test_unsure_creates_are_looked_up_not_resent_blindly() -> None:
    # every write is applied then answered 500 or dropped half the time, and a fifth of
    # the requests get a 503 before anything happens (those creates did not land)
    faults = Faults(seed=11, commit_then_fail_rate=0.5, transient_rate=0.2)
    running = start("consuelo", KEY, faults=faults)
    try:
        contacts = _contacts(30).with_columns(
            notes=pl.when(pl.col("row") % 3 == 0).then(pl.lit("note")).otherwise(None)
        )
        result = _target(running, concurrency=1, retry=FAST).create(contacts)
        posts = _posts(running)
        assert 500 in posts and 503 in posts  # both kinds of unknown outcome happened
        assert 409 not in posts  # nothing that had landed was sent again
        assert result["row"].to_list() == list(range(1, 31))
        for row, e164, status, remote_id in (
            result.join(contacts, on="row").select("row", "e164", "status", "remote_id").iter_rows()
        ):
            stored = running.store.find_e164(e164)
            if status == "created":
                assert stored is not None and stored["id"] == remote_id
                assert stored["notes"] == ("note" if row % 3 == 0 else None)
            else:
                assert stored is None and remote_id is None
        assert (result["status"] == "created").all()
        assert len(running.store.contacts) == 30
    finally:
        running.stop()


def test_unsure_creates_that_cannot_be_checked_are_failed_not_resent() -> None:
    running = start("consuelo", KEY, faults=Faults(transient_rate=1.0))
    try:
        result = _target(running, retry=FAST).create(_contacts(3))
        assert result["status"].to_list() == ["failed"] * 3
        assert result["error_code"].to_list() == ["failed"] * 3
        assert "may have landed, and checking failed" in result["error_message"][0]
        assert _posts(running) == [503] * 3  # each sent once: nothing resent unchecked
    finally:
        running.stop()


class _CreateAlways503(ConsueloEmulator):
    def create_contact(self, request: Request) -> Reply:
        raise ApiError(503, "unavailable", "service temporarily unavailable")


def test_creates_that_never_land_are_sent_again_until_the_budget_then_failed() -> None:
    emulator = _CreateAlways503(Store(id_style="counter"), KEY)
    running = serve(emulator, prefix="/v1")
    try:
        result = _target(running, retry=FAST).create(_contacts(2))
        assert result["status"].to_list() == ["failed", "failed"]
        message = result["error_message"][1]
        found = re.search(r"failed (\d+) times and the contact is absent", message)
        assert found and int(found.group(1)) > 3, message  # more than the 3 there were
        assert "--retry-timeout 1 s" in message
        assert _posts(running) == [503] * 2 * int(found.group(1))  # each row, each round
        assert running.store.contacts == {}
    finally:
        running.stop()


def test_rate_limited_creates_wait_and_complete() -> None:
    running = start("consuelo", KEY, faults=Faults(rate_limit=4, window_seconds=1.0))
    try:
        started = time.monotonic()
        result = _target(running, concurrency=4).create(_contacts(10))
        elapsed = time.monotonic() - started
        assert (result["status"] == "created").all()
        assert len(running.store.contacts) == 10
        assert 429 in _posts(running)
        assert elapsed >= 1.0  # 10 creates at 4 per second cannot finish sooner
    finally:
        running.stop()
