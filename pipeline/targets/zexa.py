"""zexa: ``Authorization: Bearer``; one ``POST`` per contact (no bulk), ``lists`` on
create, no update and no opt-out endpoint.

A changed contact is reported ``skipped`` (``update_unsupported``): it is never deleted
and re-created, since a zexa delete excludes the contact from future campaigns for good.
A create that may have landed (``AmbiguousWriteError``) is never sent again blindly: the
numbers are looked up first and only the missing ones are sent again.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from pipeline.errors import AuthError, ConflictError, TargetError
from pipeline.http import AmbiguousWriteError, Auth
from pipeline.targets.base import (
    Capabilities,
    Outcome,
    Target,
    body_of,
    failure_outcome,
    first_per_id,
    outcomes_frame,
    page_frame,
    skip_all,
)

#: canonical field → zexa field
NAMES = {
    "remote_id": "id",
    "e164": "phone",
    "name": "name",
    "email": "email",
    "lists": "lists",
}
#: what a create sends
WRITE_NAMES = {k: v for k, v in NAMES.items() if k != "remote_id"}
#: how many times a create whose outcome was unknown and that did not land is sent again
RESENDS = 2


class Zexa(Target):
    name = "zexa"
    auth = Auth(header="Authorization", prefix="Bearer ")
    capabilities = Capabilities(
        can_list=True,
        bulk_create=1,
        can_update=False,
        can_delete=True,
        bulk_delete=1,
        opt_out="none",
        lists="lists (list ids lst_...) on create only",
        page_size=100,
        rate_limit=None,
        bulk_rate_limit=None,
        default_concurrency=4,
        fields=("name", "email", "lists"),
        default_base_url="https://api.zexa.ao/v1",
        notes="no update endpoint: changed contacts are reported skipped; no opt-out endpoint",
    )

    @staticmethod
    def error_message(body: Any) -> str | None:
        if not isinstance(body, dict):
            return None
        message, code = body.get("message"), body.get("error")
        return str(message) if message else (str(code) if code else None)

    # -- read --------------------------------------------------------------------------
    def fetch_remote(self) -> pl.DataFrame:
        first = self._page(1, self.capabilities.page_size)
        pagination = first.get("pagination") or {}
        per_page = int(pagination.get("per_page") or self.capabilities.page_size)
        pages = _page_count(pagination, per_page)
        remote = self.fetch_pages(
            lambda p: self._page_frame(p, per_page),
            range(2, pages + 1),
            NAMES,
            first=first.get("data") or [],
        )
        return first_per_id(remote)

    def _page(self, page: int, per_page: int) -> dict[str, Any]:
        body = self.client.request_json(
            "GET", "/contacts", params={"page": page, "per_page": per_page}
        )
        return body if isinstance(body, dict) else {"data": []}

    def _page_frame(self, page: int, per_page: int) -> pl.DataFrame:
        """The contacts on one list page, as an API frame (``page_frame``)."""
        answer = self.client.request(
            "GET", "/contacts", params={"page": page, "per_page": per_page}
        )
        return page_frame(answer.content, "data", NAMES, _records)

    # -- write -------------------------------------------------------------------------
    def create(self, contacts: pl.DataFrame) -> pl.DataFrame:
        rows = list(contacts.iter_rows(named=True))
        sent = self.parallel(lambda c: self._create_one(c, False), rows, "creating")
        outcomes = dict(zip(range(len(rows)), sent, strict=True))
        self._settle_ambiguous(rows, outcomes)
        return outcomes_frame(o for o in outcomes.values() if o is not None)

    def _create_one(self, contact: dict[str, Any], resent: bool) -> Outcome | None:
        """The row's outcome, or None when it is unknown whether the create landed."""
        body = body_of(contact, WRITE_NAMES)
        try:
            created = self.client.request_json("POST", "/contacts", json_body=body)
        except AmbiguousWriteError:
            return None
        except ConflictError as exc:
            # after an unknown outcome, a conflict most likely means our own write landed
            return None if resent else failure_outcome(contact["row"], exc)
        except TargetError as exc:
            return failure_outcome(contact["row"], exc)
        return Outcome(contact["row"], "created", str(created["id"]))

    def _settle_ambiguous(
        self, rows: list[dict[str, Any]], outcomes: dict[int, Outcome | None]
    ) -> None:
        """Look up what landed; send again only what did not, at most ``RESENDS`` times."""
        for attempt in range(RESENDS + 1):
            pending = [i for i, o in outcomes.items() if o is None]
            if not pending:
                return
            missing = self._read_back(rows, outcomes, pending)
            if attempt == RESENDS:
                outcomes.update({i: _unsettled(rows[i]["row"]) for i in missing})
                return
            resent = self.parallel(lambda i: self._create_one(rows[i], True), missing, "creating")
            outcomes.update(zip(missing, resent, strict=True))

    def _read_back(
        self, rows: list[dict[str, Any]], outcomes: dict[int, Outcome | None], pending: list[int]
    ) -> list[int]:
        """Settle the pending rows that landed; the ones that did not (empty if unknowable)."""
        try:
            landed = self._remote_ids([rows[i]["e164"] for i in pending])
        except AuthError:
            raise
        except TargetError as exc:
            outcomes.update({i: _unchecked(rows[i]["row"], exc) for i in pending})
            return []
        for i in pending:
            if rows[i]["e164"] in landed:
                outcomes[i] = Outcome(rows[i]["row"], "created", landed[rows[i]["e164"]])
        return [i for i in pending if outcomes[i] is None]

    def _remote_ids(self, e164s: list[str]) -> dict[str, str]:
        found = self.lookup(e164s).select("e164", "remote_id")
        return {e164: rid for e164, rid in found.iter_rows() if e164 and rid}

    def update(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return skip_all(
            contacts,
            "update_unsupported",
            "zexa has no update endpoint: change this contact in the zexa dashboard "
            "(deleting and re-creating it would exclude it from future campaigns)",
        )

    def delete(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return self.delete_each(contacts)


def _records(body: Any) -> list[dict[str, Any]]:
    """The contacts of a list page the adapter parsed itself."""
    return (body.get("data") or []) if isinstance(body, dict) else []


def _page_count(pagination: dict[str, Any], per_page: int) -> int:
    if pagination.get("total_pages") is not None:
        return int(pagination["total_pages"])
    return math.ceil(int(pagination.get("total") or 0) / per_page)


def _unsettled(row: int) -> Outcome:
    return Outcome(
        row,
        "failed",
        None,
        "failed",
        f"gave up: the create's outcome stayed unknown {RESENDS + 1} times "
        "and the contact is not on zexa",
    )


def _unchecked(row: int, exc: TargetError) -> Outcome:
    return Outcome(
        row,
        "failed",
        None,
        "failed",
        f"the create may have landed, but reading zexa back to check failed: {exc}",
    )
