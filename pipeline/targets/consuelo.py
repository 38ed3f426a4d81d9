"""consuelo: Bearer token and a required workspace (``workspaceId`` in the query of a GET,
in the body of a POST). There is no JSON bulk, so creates go one request per contact,
concurrently within the rate limit. Create does not take ``notes``: they follow in a
``PATCH`` right after. Opting out adds the number to the workspace's do-not-call list
(``POST /dnc``), which the API cannot read back: the remote ``opted_out`` is unknown.

A create that fails in a way that leaves unknown whether it landed is never resent
blindly: the numbers of all such rows are looked up in one read, the ones found are
reported created with their ids, and only the missing ones are sent again (at most
``CREATE_ROUNDS`` times in all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from pipeline.errors import AuthError, TargetError, UsageError
from pipeline.http import AmbiguousWriteError, Auth
from pipeline.progress import Progress
from pipeline.targets.base import (
    Capabilities,
    Outcome,
    RemoteFrames,
    Target,
    TargetSettings,
    failure_outcome,
    first_per_id,
    outcomes_frame,
    payloads,
)

#: canonical field → consuelo field
NAMES = {
    "remote_id": "id",
    "e164": "phone",
    "first_name": "firstName",
    "last_name": "lastName",
    "email": "email",
    "company": "company",
    "notes": "notes",
}
#: what a create takes (the workspace is added to each body)
CREATE_NAMES = {k: NAMES[k] for k in ("e164", "first_name", "last_name", "email", "company")}
#: what an update takes
UPDATE_NAMES = {k: NAMES[k] for k in ("first_name", "last_name", "email", "company", "notes")}
#: fields a create cannot take: sent with a PATCH right after it
AFTER_CREATE = tuple(f for f in UPDATE_NAMES if f not in CREATE_NAMES)
#: how many times in all a create whose outcome stayed unknown is sent
CREATE_ROUNDS = 3
DNC_REASON = "opted out in the source data (contact-sync)"
MISSING_WORKSPACE = (
    "consuelo needs a workspace: --option workspace_id=ws_... "
    "or workspace_id under [options] in the job file"
)


@dataclass(frozen=True)
class _NewContact:
    row: int
    e164: str
    body: dict[str, Any]
    later: dict[str, Any]


@dataclass(frozen=True)
class _Page:
    offset: int
    items: list[dict[str, Any]]
    total: int | None
    more: bool


class Consuelo(Target):
    name = "consuelo"
    auth = Auth(header="Authorization", prefix="Bearer ")
    capabilities = Capabilities(
        can_list=True,
        bulk_create=1,
        can_update=True,
        can_delete=True,
        bulk_delete=1,
        opt_out="POST /dnc (workspace do-not-call list, not readable back)",
        opt_out_readable=False,
        lists="none",
        page_size=100,
        rate_limit=None,
        bulk_rate_limit=None,
        default_concurrency=8,
        fields=tuple(UPDATE_NAMES),
        required_options=("workspace_id",),
        known_options=("workspace_id", "page_size", "dnc_reason"),
        identity_options=("workspace_id",),
        notes="no JSON bulk: one request per contact; opt-outs go to the DNC list, "
        "which cannot be read back",
    )

    @staticmethod
    def error_message(body: Any) -> str | None:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return error.get("message") or error.get("code")
        return None

    def __init__(self, settings: TargetSettings, progress: Progress | None = None) -> None:
        workspace = settings.options.get("workspace_id")
        if not workspace:
            raise UsageError(MISSING_WORKSPACE)
        self.page_size = _page_size(settings.options, self.capabilities.page_size)
        super().__init__(settings, progress)
        self.workspace = workspace
        self.dnc_reason = settings.options.get("dnc_reason") or DNC_REASON

    # -- read --------------------------------------------------------------------------
    def fetch_remote(self) -> pl.DataFrame:
        first = last = self._page(0)
        remote = RemoteFrames(NAMES)
        remote.add(first.items)
        step = len(first.items)
        if first.more and step and first.total is not None:
            for last in self.stream(self._page, range(step, first.total, step), "fetching"):
                remote.add(last.items)
        while last.more and last.items:  # no total, or the set grew meanwhile
            last = self._page(last.offset + len(last.items))
            remote.add(last.items)
        return first_per_id(remote.frame())

    def _page(self, offset: int) -> _Page:
        params = {"workspaceId": self.workspace, "limit": self.page_size, "offset": offset}
        answer = self.client.request_json("GET", "/contacts", params=params)
        body: dict[str, Any] = answer if isinstance(answer, dict) else {}
        meta: dict[str, Any] = body.get("meta") or {}
        total = meta.get("total")
        items = list(body.get("data") or [])
        return _Page(
            offset, items, total if isinstance(total, int) else None, bool(meta.get("hasMore"))
        )

    # -- create ------------------------------------------------------------------------
    def create(self, contacts: pl.DataFrame) -> pl.DataFrame:
        pending = self._new_contacts(contacts)
        outcomes: list[Outcome] = []
        for _ in range(CREATE_ROUNDS):
            sent = self.parallel(self._create_one, pending, "creating")
            outcomes += [o for o in sent if o is not None]
            unsure = [new for new, o in zip(pending, sent, strict=True) if o is None]
            if not unsure:
                break
            landed, pending = self._check_landed(unsure)
            outcomes += landed
        else:
            outcomes += [_not_landed(new) for new in pending]
        return outcomes_frame(outcomes).sort("row")

    def _new_contacts(self, contacts: pl.DataFrame) -> list[_NewContact]:
        bodies = payloads(contacts, CREATE_NAMES)
        later = payloads(contacts, UPDATE_NAMES, AFTER_CREATE)
        keys = contacts.select("row", "e164").iter_rows()
        return [
            _NewContact(row, e164, {"workspaceId": self.workspace, **body}, extra)
            for (row, e164), body, extra in zip(keys, bodies, later, strict=True)
        ]

    def _create_one(self, new: _NewContact) -> Outcome | None:
        """The row's outcome, or None when it is unknown whether the contact landed."""
        try:
            body = self.client.request_json("POST", "/contacts", json_body=new.body)
        except AmbiguousWriteError:
            return None
        except TargetError as exc:
            return failure_outcome(new.row, exc)
        remote_id = _data(body).get("id")
        return self._finish(new, str(remote_id)) if remote_id is not None else None

    def _finish(self, new: _NewContact, remote_id: str) -> Outcome:
        """A landed contact: send what create could not take, and report it created."""
        if not new.later:
            return Outcome(new.row, "created", remote_id)
        try:
            self.client.request("PATCH", f"/contacts/{remote_id}", json_body=new.later)
        except TargetError as exc:
            failed = failure_outcome(new.row, exc, remote_id)
            unsaved = ", ".join(sorted(new.later))
            message = f"created, but {unsaved} not saved: {failed.error_message}"
            return Outcome(new.row, "created", remote_id, failed.error_code, message)
        return Outcome(new.row, "created", remote_id)

    def _check_landed(self, unsure: list[_NewContact]) -> tuple[list[Outcome], list[_NewContact]]:
        """Outcomes of the unsure creates that landed, and those that did not."""
        try:
            found = self.lookup([new.e164 for new in unsure])
        except AuthError:
            raise
        except TargetError as exc:
            return [_unknown(new, exc) for new in unsure], []
        ids = dict(zip(found["e164"], found["remote_id"], strict=True))
        landed = [new for new in unsure if new.e164 in ids]
        outcomes = self.parallel(lambda new: self._finish(new, ids[new.e164]), landed, "checking")
        return outcomes, [new for new in unsure if new.e164 not in ids]

    # -- update, delete, opt-out -------------------------------------------------------
    def update(self, contacts: pl.DataFrame) -> pl.DataFrame:
        bodies = payloads(contacts, UPDATE_NAMES)
        keys = contacts.select("row", "remote_id", "changes").iter_rows()
        work = [
            (row, remote_id, _only(body, changes or []))
            for (row, remote_id, changes), body in zip(keys, bodies, strict=True)
        ]
        return outcomes_frame(self.parallel(self._update_one, work, "updating"))

    def _update_one(self, work: tuple[int, str, dict[str, Any]]) -> Outcome:
        row, remote_id, body = work
        if not body:
            return Outcome(row, "unchanged", remote_id)
        try:
            self.client.request("PATCH", f"/contacts/{remote_id}", json_body=body)
        except TargetError as exc:
            return failure_outcome(row, exc, remote_id)
        return Outcome(row, "updated", remote_id)

    def delete(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return self.delete_each(contacts)

    def opt_out(self, contacts: pl.DataFrame) -> pl.DataFrame:
        work = list(contacts.select("row", "remote_id", "e164").iter_rows())
        return outcomes_frame(self.parallel(self._opt_out_one, work, "opting out"))

    def _opt_out_one(self, work: tuple[Any, str | None, str]) -> Outcome:
        row, remote_id, e164 = work
        body = {"workspaceId": self.workspace, "phone": e164, "reason": self.dnc_reason}
        try:
            self.client.request("POST", "/dnc", json_body=body, idempotent=True)
        except TargetError as exc:
            return failure_outcome(row, exc, remote_id)
        return Outcome(row, "opted_out", remote_id)


def _page_size(options: Mapping[str, str], default: int) -> int:
    """The list page size: the assumed maximum, or ``--option page_size=N``."""
    value = options.get("page_size")
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"consuelo: page_size must be a positive integer, not {value!r}")
    return int(value)


def _only(body: dict[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    """The part of ``body`` holding the changed canonical fields."""
    wanted = {UPDATE_NAMES[f] for f in changes if f in UPDATE_NAMES}
    return {k: v for k, v in body.items() if k in wanted}


def _data(body: Any) -> dict[str, Any]:
    """The contact inside a ``{"data": contact}`` answer (or a bare contact)."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        return body["data"]
    return body if isinstance(body, dict) else {}


def _not_landed(new: _NewContact) -> Outcome:
    message = f"not created: the request failed {CREATE_ROUNDS} times and the contact is absent"
    return Outcome(new.row, "failed", None, "failed", message)


def _unknown(new: _NewContact, exc: TargetError) -> Outcome:
    message = f"the create may have landed, and checking failed: {exc}"
    return Outcome(new.row, "failed", None, "failed", message)
