"""The zexa adapter against the zexa sandbox over loopback."""

from collections.abc import Iterator

import httpx
import polars as pl
import pytest

from pipeline.errors import AuthError
from pipeline.http import RetryPolicy
from pipeline.sandbox import EMULATORS, Faults, RunningSandbox, Store, start
from pipeline.secrets import ApiKey
from pipeline.targets import target_class
from pipeline.targets.base import RESULT_SCHEMA, TargetSettings

KEY = "zexa-test-key-123"
Zexa = target_class("zexa")
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05, budget=2.0)


@pytest.fixture(scope="module")
def _server() -> Iterator[RunningSandbox]:
    running = start("zexa", KEY)
    yield running
    running.stop()


@pytest.fixture
def sandbox(_server: RunningSandbox) -> RunningSandbox:
    """The module's server with an empty store (stopping a server costs 0.5 s)."""
    _server.emulator.store = Store(id_style=EMULATORS["zexa"][2])
    return _server


def _serve(faults: Faults) -> RunningSandbox:
    return start("zexa", KEY, faults=faults)


def _target(sandbox: RunningSandbox, key: str = KEY, concurrency: int | None = None) -> Zexa:
    settings = TargetSettings(
        base_url=sandbox.url, api_key=ApiKey(key), concurrency=concurrency, retry=FAST_RETRY
    )
    return Zexa(settings)


def _contacts(n: int, start: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": list(range(1, n + 1)),
            "e164": [f"+1415555{start + i:04d}" for i in range(n)],
            "name": [f"Person {start + i}" for i in range(n)],
        },
        schema_overrides={"row": pl.Int64},
    )


def _seed(sandbox: RunningSandbox, n: int) -> list[str]:
    """n contacts put straight into the store; their ids in insertion order."""
    return [
        sandbox.store.insert(
            f"+1415555{i:04d}",
            {"name": f"Person {i}", "phone": f"+1415555{i:04d}", "email": None, "lists": []},
            id_prefix="cnt_",
        )["id"]
        for i in range(n)
    ]


def _headers(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _posts(sandbox: RunningSandbox) -> int:
    return sum(1 for r in sandbox.store.requests if r.method == "POST")


# -- create ------------------------------------------------------------------------------
def test_create_sends_lists_and_reports_rejected_and_conflicting_rows(
    sandbox: RunningSandbox,
) -> None:
    existing = _seed(sandbox, 1)[0]  # +14155550000
    contacts = pl.DataFrame(
        {
            "row": [1, 2, 3, 4],
            "e164": ["+14155552671", "+14155552672", "+14155550000", "4155552673"],
            "name": ["Maria Santos", "Bad Email", "Already There", "No Plus"],
            "email": ["maria@example.com", "not-an-email", None, None],
            "lists": [["lst_abc123", "lst_def456"], None, None, None],
        },
        schema_overrides={"row": pl.Int64},
    )
    result = _target(sandbox).create(contacts)

    assert result.schema == pl.Schema(RESULT_SCHEMA)
    assert result["row"].to_list() == [1, 2, 3, 4]
    assert result["status"].to_list() == ["created", "failed", "failed", "failed"]
    assert result["error_code"].to_list() == [None, "rejected", "conflict", "rejected"]
    assert result["error_message"][1] == "email 'not-an-email' is malformed"
    assert result["error_message"][2] == "A contact with phone number +14155550000 already exists"
    assert "E.164" in result["error_message"][3]

    stored = sandbox.store.find_e164("+14155552671")
    assert stored is not None
    assert result["remote_id"][0] == stored["id"]
    assert stored["id"].startswith("cnt_")
    assert stored["name"] == "Maria Santos"
    assert stored["email"] == "maria@example.com"
    assert stored["lists"] == ["lst_abc123", "lst_def456"]
    assert sandbox.store.find_e164("+14155552672") is None
    assert len(sandbox.store.contacts) == 2  # the seeded one and Maria
    assert sandbox.store.get(existing) is not None


def test_create_sends_one_request_per_contact(sandbox: RunningSandbox) -> None:
    result = _target(sandbox).create(_contacts(12))
    assert (result["status"] == "created").all()
    assert result["remote_id"].n_unique() == 12
    assert _posts(sandbox) == 12
    assert sandbox.store.violations == []


# -- read --------------------------------------------------------------------------------
def test_fetch_remote_reads_every_page_in_canonical_form(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 250)
    sandbox.store.contacts[ids[7]]["lists"] = ["lst_a"]
    sandbox.store.contacts[ids[7]]["email"] = "p7@example.com"

    remote = _target(sandbox).fetch_remote()

    assert remote.height == 250
    assert sorted(remote["remote_id"].to_list()) == sorted(ids)
    assert remote["e164"].n_unique() == 250
    gets = [r for r in sandbox.store.requests if r.method == "GET"]
    assert len(gets) == 3  # 100 + 100 + 50
    seventh = remote.filter(pl.col("remote_id") == ids[7]).row(0, named=True)
    assert seventh["e164"] == "+14155550007"
    assert seventh["name"] == "Person 7"
    assert seventh["email"] == "p7@example.com"
    assert seventh["lists"] == ["lst_a"]
    assert seventh["first_name"] is None and seventh["metadata"] is None
    assert sandbox.store.violations == []


def test_fetch_remote_of_an_empty_account(sandbox: RunningSandbox) -> None:
    remote = _target(sandbox).fetch_remote()
    assert remote.height == 0
    assert "remote_id" in remote.columns


def test_lookup_finds_only_the_given_numbers(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 5)
    found = _target(sandbox).lookup(["+14155550001", "+14155550003", "+19999999999"])
    assert sorted(found["remote_id"].to_list()) == [ids[1], ids[3]]


def test_list_filter_by_list_id(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 3)
    sandbox.store.contacts[ids[2]]["lists"] = ["lst_x"]
    reply = httpx.get(f"{sandbox.url}/contacts", params={"list_id": "lst_x"}, headers=_headers())
    body = reply.json()
    assert [c["id"] for c in body["data"]] == [ids[2]]
    assert body["pagination"] == {"page": 1, "per_page": 50, "total": 1, "total_pages": 1}


# -- update, opt-out: not supported --------------------------------------------------------
def test_update_is_skipped_as_unsupported_without_any_write(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 2)
    contacts = _contacts(2).with_columns(
        pl.Series("remote_id", ids),
        pl.Series("changes", [["name"], ["email"]], dtype=pl.List(pl.String)),
    )
    result = _target(sandbox).update(contacts)
    assert result["status"].to_list() == ["skipped", "skipped"]
    assert result["error_code"].to_list() == ["update_unsupported"] * 2
    assert result["remote_id"].to_list() == ids
    assert sandbox.store.writes() == 0
    assert len(sandbox.store.contacts) == 2


def test_opt_out_is_skipped_as_unsupported_without_any_write(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 1)
    contacts = pl.DataFrame({"row": [4], "remote_id": ids, "e164": ["+14155550000"]})
    result = _target(sandbox).opt_out(contacts)
    assert result["status"].to_list() == ["skipped"]
    assert result["error_code"].to_list() == ["opt_out_unsupported"]
    assert sandbox.store.writes() == 0


# -- delete ------------------------------------------------------------------------------
def test_delete_removes_contacts_and_counts_404_as_deleted(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 3)
    contacts = pl.DataFrame(
        {
            "row": [None, 2, 3],
            "remote_id": [ids[0], ids[1], "cnt_99999999"],
            "e164": ["+14155550000", "+14155550001", "+14155559999"],
        },
        schema_overrides={"row": pl.Int64},
    )
    result = _target(sandbox).delete(contacts)
    assert result["row"].to_list() == [None, 2, 3]
    assert result["status"].to_list() == ["deleted"] * 3
    assert result["remote_id"].to_list() == [ids[0], ids[1], "cnt_99999999"]
    assert list(sandbox.store.contacts) == [ids[2]]


def test_delete_answers_204_then_404_not_found(sandbox: RunningSandbox) -> None:
    contact_id = _seed(sandbox, 1)[0]
    first = httpx.delete(f"{sandbox.url}/contacts/{contact_id}", headers=_headers())
    again = httpx.delete(f"{sandbox.url}/contacts/{contact_id}", headers=_headers())
    assert first.status_code == 204 and first.content == b""
    assert again.status_code == 404
    assert again.json()["error"] == "not_found"


# -- auth --------------------------------------------------------------------------------
def test_wrong_key_is_an_auth_error_without_the_key(sandbox: RunningSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        _target(sandbox, "wrong-secret-key").fetch_remote()
    assert caught.value.status == 401
    assert "wrong-secret-key" not in str(caught.value)
    assert KEY not in str(caught.value)


def test_wrong_key_on_create_aborts_instead_of_failing_rows(sandbox: RunningSandbox) -> None:
    with pytest.raises(AuthError):
        _target(sandbox, "wrong-secret-key").create(_contacts(2))
    assert sandbox.store.contacts == {}


def test_missing_or_non_bearer_key_gets_the_zexa_error_body(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.url}/contacts"
    for headers in ({}, {"Authorization": KEY}, {"X-API-Key": KEY}):
        reply = httpx.get(url, headers=headers)
        assert reply.status_code == 401
        assert reply.json() == {"error": "unauthorized", "message": "API key is missing or invalid"}


# -- the emulator holds to the contract ----------------------------------------------------
def test_oversized_page_is_clamped_to_100_and_recorded(sandbox: RunningSandbox) -> None:
    _seed(sandbox, 150)
    reply = httpx.get(f"{sandbox.url}/contacts", params={"per_page": 500}, headers=_headers())
    assert reply.status_code == 200
    body = reply.json()
    assert len(body["data"]) == 100
    assert body["pagination"] == {"page": 1, "per_page": 100, "total": 150, "total_pages": 2}
    assert sandbox.store.violations == ["zexa: per_page=500 > 100"]


def test_bad_page_parameter_is_an_invalid_request(sandbox: RunningSandbox) -> None:
    reply = httpx.get(f"{sandbox.url}/contacts", params={"per_page": 0}, headers=_headers())
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone": "+14155552671"}, 400, "invalid_request"),
        ({"name": "No Phone"}, 400, "invalid_request"),
        ({"name": "X", "phone": "+14155552671", "lists": "lst_a"}, 400, "invalid_request"),
        ({"name": "X", "phone": "14155552671"}, 422, "validation_error"),
        ({"name": "X", "phone": "+14155552671", "email": "a@b"}, 422, "validation_error"),
    ],
)
def test_create_validation(
    sandbox: RunningSandbox, body: dict[str, object], status: int, code: str
) -> None:
    reply = httpx.post(f"{sandbox.url}/contacts", json=body, headers=_headers())
    assert reply.status_code == status
    assert reply.json()["error"] == code
    assert sandbox.store.contacts == {}


def test_create_answers_201_with_a_cnt_id_and_409_on_the_same_phone(
    sandbox: RunningSandbox,
) -> None:
    body = {"name": "Maria Santos", "phone": "+244912345678", "lists": ["lst_abc123"]}
    first = httpx.post(f"{sandbox.url}/contacts", json=body, headers=_headers())
    again = httpx.post(f"{sandbox.url}/contacts", json=body, headers=_headers())
    assert first.status_code == 201
    created = first.json()
    assert created["id"].startswith("cnt_")
    assert {k: created[k] for k in ("name", "phone", "email", "lists")} == {
        "name": "Maria Santos",
        "phone": "+244912345678",
        "email": None,
        "lists": ["lst_abc123"],
    }
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"


# -- faults --------------------------------------------------------------------------------
def test_commit_then_fail_creates_no_duplicate_and_reports_created() -> None:
    running = _serve(Faults(commit_then_fail_rate=1.0, seed=7))
    try:
        result = _target(running).create(_contacts(6))
        assert result["row"].to_list() == [1, 2, 3, 4, 5, 6]
        assert result["status"].to_list() == ["created"] * 6
        assert len(running.store.contacts) == 6
        by_phone = {c["phone"]: c["id"] for c in running.store.all()}
        expected = [by_phone[f"+1415555{i:04d}"] for i in range(6)]
        assert result["remote_id"].to_list() == expected
        assert _posts(running) == 6  # every create landed once: none was sent again
    finally:
        running.stop()


def test_unknown_outcome_that_did_not_land_is_sent_again_and_reported_truthfully() -> None:
    # 503 before anything is done: the POST did not land, but the client cannot know it
    running = _serve(Faults(transient_rate=0.35, seed=11))
    try:
        result = _target(running, concurrency=1).create(_contacts(10))
        posts = _posts(running)
        assert posts > 10  # some creates were sent again after a read-back
        assert len(running.store.contacts) == result.filter(status="created").height
        by_phone = {c["phone"]: c["id"] for c in running.store.all()}
        for i, (status, remote_id) in enumerate(result.select("status", "remote_id").iter_rows()):
            landed = by_phone.get(f"+1415555{i:04d}")
            if status == "created":
                assert remote_id == landed
            else:
                assert status == "failed" and landed is None
        assert result.filter(status="created").height >= 8
    finally:
        running.stop()


def test_delete_under_commit_then_fail_still_reports_deleted() -> None:
    running = _serve(Faults(commit_then_fail_rate=1.0, seed=3))
    try:
        ids = _seed(running, 3)
        contacts = pl.DataFrame(
            {"row": [1, 2, 3], "remote_id": ids, "e164": ["+1", "+2", "+3"]},
            schema_overrides={"row": pl.Int64},
        )
        result = _target(running).delete(contacts)
        assert result["status"].to_list() == ["deleted"] * 3
        assert running.store.contacts == {}
    finally:
        running.stop()


def test_rate_limited_client_waits_and_completes() -> None:
    running = _serve(Faults(rate_limit=4, window_seconds=1.0))
    try:
        target = _target(running)
        created = target.create(_contacts(8))
        remote = target.fetch_remote()
        assert created["status"].to_list() == ["created"] * 8
        assert remote.height == 8
        assert any(r.status == 429 for r in running.store.requests)
        assert (
            _posts(running)
            - sum(1 for r in running.store.requests if r.method == "POST" and r.status == 429)
            == 8
        )
    finally:
        running.stop()


def test_unknown_outcome_that_cannot_be_checked_fails_every_row_truthfully() -> None:
    running = _serve(Faults(transient_rate=1.0, seed=5))
    try:
        result = _target(running).create(_contacts(3))
        assert result["row"].to_list() == [1, 2, 3]
        assert result["status"].to_list() == ["failed"] * 3
        assert result["error_code"].to_list() == ["failed"] * 3
        assert all("may have landed" in m for m in result["error_message"].to_list())
        assert _posts(running) == 3  # one attempt each: an unknown outcome is never resent blindly
        assert running.store.contacts == {}
    finally:
        running.stop()
