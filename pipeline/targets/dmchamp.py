"""dmchamp: the key rides in the ``apiKey`` query parameter (``ApiClient`` redacts it from
every message), and the API cannot list contacts: the remote set is read by looking each
number of the file up (``GET /contacts?phoneNumber=``, ``404`` when absent). No delete;
opt-out is ``do_not_disturb`` via ``PUT``; lists are one ``POST /contacts/lists`` per
(contact, list) after the create.

Server defaults never read as values: dmchamp fills a missing first or last name with
"Unknown" and a missing email with a default address; ``lookup`` maps them back to null,
so a contact created without them does not show up as changed on the next run (and an
update that clears such a field writes the default back). Both defaults can be
overridden with ``--option default_name=...`` / ``--option default_email=...``.

A create answered ``409 "Contact already exists"`` is looked up and brought in line with
the file right away (``PUT``, reported ``updated``, or ``unchanged`` when it already
matches). A create that may have landed is looked up before it is ever sent again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import polars as pl

from pipeline.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    TargetError,
    TerminalError,
)
from pipeline.http import AmbiguousWriteError, Auth, error_detail
from pipeline.progress import Progress
from pipeline.targets.base import (
    REMOTE_SCHEMA,
    Capabilities,
    Outcome,
    Target,
    TargetSettings,
    failure_outcome,
    outcomes_frame,
    payloads,
    remote_frame,
)

#: documented server default for a missing first or last name
DEFAULT_NAME = "Unknown"
#: assumed: the published docs show a default email but hide the address itself
DEFAULT_EMAIL = "unknown@dmchamp.com"

#: canonical field → dmchamp field, as a lookup reads a contact
NAMES = {
    "remote_id": "id",
    "e164": "phoneNumber",
    "first_name": "firstName",
    "last_name": "lastName",
    "email": "email",
    "external_id": "externalId",
    "opted_out": "do_not_disturb",
}
#: what a create sends (``do_not_disturb`` is added for contacts opted out in the file)
CREATE_NAMES = {k: v for k, v in NAMES.items() if k not in ("remote_id", "opted_out")}
#: what ``PUT /contacts/{id}`` accepts besides ``do_not_disturb`` (and ``is_bot_active``)
UPDATE_NAMES = {"first_name": "firstName", "last_name": "lastName", "email": "email"}


class Dmchamp(Target):
    name = "dmchamp"
    auth = Auth(query="apiKey")
    capabilities = Capabilities(
        can_list=False,
        bulk_create=1,
        can_update=True,
        can_delete=False,
        bulk_delete=0,
        opt_out="do_not_disturb=true via PUT /contacts/{id}",
        lists="POST /contacts/lists per list after create",
        page_size=1,
        rate_limit=None,
        bulk_rate_limit=None,
        default_concurrency=8,
        fields=("first_name", "last_name", "email"),
        default_base_url="https://api.dmchamp.com/v1",
        known_options=("default_name", "default_email"),
        notes="cannot list: contacts are looked up one by one by phone; no delete (no mirror)",
    )

    def __init__(self, settings: TargetSettings, progress: Progress | None = None) -> None:
        super().__init__(settings, progress)
        self.defaults = {
            "first_name": settings.options.get("default_name", DEFAULT_NAME),
            "last_name": settings.options.get("default_name", DEFAULT_NAME),
            "email": settings.options.get("default_email", DEFAULT_EMAIL),
        }

    @staticmethod
    def error_message(body: Any) -> str | None:
        if isinstance(body, str):
            return body
        if not isinstance(body, dict):
            return None
        message = body.get("message") or body.get("error")
        return message if isinstance(message, str) else None

    # -- read --------------------------------------------------------------------------
    def fetch_remote(self) -> pl.DataFrame:
        raise TerminalError(
            "dmchamp has no endpoint that lists contacts: it can only look contacts up by "
            "phone number, so the remote set is read with lookup() on the file's numbers "
            "and mirror mode is not possible"
        )

    def lookup(self, e164s: Sequence[str]) -> pl.DataFrame:
        numbers = list(dict.fromkeys(n for n in e164s if n))
        found = self.fetch_pages(self._found, numbers, NAMES, label="looking up")
        return self._without_defaults(found)

    def _found(self, e164: str) -> list[dict[str, Any]]:
        record = self._find(e164)
        return [] if record is None else [record]

    def _find(self, e164: str) -> dict[str, Any] | None:
        """The contact with this number in dmchamp's field names, or None when absent."""
        try:
            body = self.client.request_json("GET", "/contacts", params={"phoneNumber": e164})
        except NotFoundError:
            return None
        except TerminalError as exc:
            if exc.status == 400:  # dmchamp refuses the number: nothing can be there
                return None
            raise
        record = _contact(body)
        return None if record is None else {**record, "phoneNumber": e164}

    def _canonical(self, records: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
        """dmchamp records → REMOTE_SCHEMA, with the server's defaults read as null."""
        return self._without_defaults(remote_frame(records, NAMES))

    def _without_defaults(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.when(pl.col(field).str.to_lowercase() == default.lower())
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col(field))
            .alias(field)
            for field, default in self.defaults.items()
        ).select(list(REMOTE_SCHEMA))

    # -- create ------------------------------------------------------------------------
    def create(self, contacts: pl.DataFrame) -> pl.DataFrame:
        bodies = payloads(contacts, CREATE_NAMES)
        work = list(zip(contacts.iter_rows(named=True), bodies, strict=True))
        return outcomes_frame(self.parallel(self._create_one, work, "creating"))

    def _create_one(self, item: tuple[dict[str, Any], dict[str, Any]]) -> Outcome:
        contact, body = item
        row = contact["row"]
        if contact.get("opted_out"):
            body = {**body, "do_not_disturb": True}
        ambiguous = False
        for _ in range(max(1, self.settings.retry.attempts)):
            try:
                created = self.client.request_json("POST", "/contacts", json_body=body)
            except AmbiguousWriteError:
                ambiguous = True
                landed = self._find_for(row, contact["e164"])
                if isinstance(landed, Outcome):
                    return landed
                if landed is not None:  # it did land: never send it twice
                    return self._with_lists(contact, Outcome(row, "created", landed["id"]))
                continue
            except ConflictError:
                return self._adopt(contact, ours=ambiguous)
            except TargetError as exc:
                return failure_outcome(row, exc)
            return self._created(contact, created)
        return Outcome(row, "failed", None, "failed", "gave up: every create attempt failed")

    def _created(self, contact: dict[str, Any], answer: Any) -> Outcome:
        remote_id = _contact_id(answer)
        if remote_id is None:  # an answer without the id: read it back
            landed = self._find_for(contact["row"], contact["e164"])
            if isinstance(landed, Outcome):
                return landed
            if landed is None:
                message = "dmchamp accepted the contact but a lookup does not find it"
                return Outcome(contact["row"], "failed", None, "failed", message)
            remote_id = landed["id"]
        return self._with_lists(contact, Outcome(contact["row"], "created", remote_id))

    def _find_for(self, row: int, e164: str) -> dict[str, Any] | Outcome | None:
        """``_find`` inside a per-row write: a lookup error becomes that row's outcome."""
        try:
            return self._find(e164)
        except TargetError as exc:
            return failure_outcome(row, exc)

    def _adopt(self, contact: dict[str, Any], ours: bool) -> Outcome:
        """409: the phone exists. Find it and bring it in line with the file."""
        row = contact["row"]
        found = self._find_for(row, contact["e164"])
        if isinstance(found, Outcome):
            return found
        if found is None:
            message = "dmchamp says the contact already exists, but a lookup by phone misses it"
            return Outcome(row, "failed", None, "conflict", message)
        remote_id = str(found["id"])
        if ours:  # an earlier attempt of this very create landed
            return self._with_lists(contact, Outcome(row, "created", remote_id))
        remote = self._canonical([found]).row(0, named=True)
        outcome = self._put(row, remote_id, self._adopt_body(contact, remote), "updated")
        if remote["opted_out"] or outcome.status == "failed":
            return outcome  # never call a remote opt-out back into a list
        return self._with_lists(contact, outcome)

    def _adopt_body(self, contact: dict[str, Any], remote: dict[str, Any]) -> dict[str, Any]:
        """The file's non-empty fields that differ from what dmchamp holds."""
        changed = [
            field
            for field in UPDATE_NAMES
            if contact.get(field) not in (None, "") and contact.get(field) != remote[field]
        ]
        body = {UPDATE_NAMES[field]: contact[field] for field in changed}
        if contact.get("opted_out") and not remote["opted_out"]:
            body["do_not_disturb"] = True
        return body

    # -- update, opt-out ---------------------------------------------------------------
    def update(self, contacts: pl.DataFrame) -> pl.DataFrame:
        rows = list(contacts.iter_rows(named=True))
        return outcomes_frame(self.parallel(self._update_one, rows, "updating"))

    def _update_one(self, contact: dict[str, Any]) -> Outcome:
        row, remote_id = contact["row"], contact["remote_id"]
        changes = list(contact.get("changes") or [])
        body = self._update_body(contact, changes)
        if not body and "lists" not in changes:
            return _not_sent(row, remote_id, contact, changes)
        outcome = self._put(row, remote_id, body, "updated")
        if "lists" not in changes or outcome.status == "failed":
            return outcome
        return self._with_lists(contact, replace(outcome, status="updated"))

    def _update_body(self, contact: dict[str, Any], changes: Sequence[str]) -> dict[str, Any]:
        """The changed fields PUT accepts; a cleared field goes back to the server default."""
        body: dict[str, Any] = {}
        for field in changes:
            if field in UPDATE_NAMES:
                value = contact.get(field)
                body[UPDATE_NAMES[field]] = value or self.defaults[field]
        if "opted_out" in changes and contact.get("opted_out"):
            body["do_not_disturb"] = True  # an opt-out is never undone
        return body

    def opt_out(self, contacts: pl.DataFrame) -> pl.DataFrame:
        rows = list(contacts.iter_rows(named=True))
        return outcomes_frame(self.parallel(self._opt_out_one, rows, "opting out"))

    def _opt_out_one(self, contact: dict[str, Any]) -> Outcome:
        body = {"do_not_disturb": True}
        return self._put(contact["row"], contact["remote_id"], body, "opted_out")

    def _put(self, row: int, remote_id: str, body: dict[str, Any], status: str) -> Outcome:
        """``PUT /contacts/{id}`` (nothing to send: ``unchanged``)."""
        if not body:
            return Outcome(row, "unchanged", remote_id)
        try:
            self.client.request("PUT", f"/contacts/{remote_id}", json_body=body)
        except TargetError as exc:
            return failure_outcome(row, exc, remote_id)
        return Outcome(row, status, remote_id)

    # -- lists -------------------------------------------------------------------------
    def _with_lists(self, contact: dict[str, Any], outcome: Outcome) -> Outcome:
        """Add the contact to its lists (never when it opted out); failures go on the row."""
        lists = [str(x) for x in contact.get("lists") or [] if x]
        if not lists or contact.get("opted_out") or outcome.remote_id is None:
            return outcome
        errors = [self._add_to_list(outcome.remote_id, list_id) for list_id in lists]
        failed = [error for error in errors if error]
        if not failed:
            return outcome
        return replace(outcome, error_code="list_failed", error_message="; ".join(failed))

    def _add_to_list(self, remote_id: str, list_id: str) -> str | None:
        body = {"contactId": remote_id, "listId": list_id}
        try:
            self.client.request("POST", "/contacts/lists", json_body=body, idempotent=True)
        except AuthError:
            raise
        except TargetError as exc:
            return f"not added to list {list_id}: {error_detail(exc)}"
        return None


def _not_sent(row: int, remote_id: str, contact: dict[str, Any], changes: list[str]) -> Outcome:
    """An update with nothing dmchamp can take: an opt-in, or fields PUT does not accept."""
    if "opted_out" in changes and not contact.get("opted_out"):
        message = "the contact opted out in dmchamp: contact-sync never undoes an opt-out"
        return Outcome(row, "skipped", remote_id, "opted_out_remotely", message)
    message = f"dmchamp cannot update {', '.join(changes) or 'these fields'}"
    return Outcome(row, "skipped", remote_id, "update_unsupported", message)


def _contact(body: Any) -> dict[str, Any] | None:
    """The contact inside an answer: the object itself, or under ``data``/``contact``.

    The published docs also show answers carrying only ``contactId``; those are accepted
    (the fields then read as unknown).
    """
    if not isinstance(body, dict):
        return None
    for key in ("data", "contact"):
        if isinstance(body.get(key), dict):
            body = body[key]
    remote_id = body.get("id") or body.get("_id") or body.get("contactId")
    return None if remote_id is None else {**body, "id": str(remote_id)}


def _contact_id(body: Any) -> str | None:
    record = _contact(body)
    return None if record is None else str(record["id"])
