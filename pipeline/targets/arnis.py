"""arnis: ``X-API-Key``; batch create answers with counts only, so created rows are read
back to get their ids and an honest per-row status."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from pipeline.errors import ConflictError, TargetError
from pipeline.http import AmbiguousWriteError, Auth
from pipeline.targets.base import (
    Capabilities,
    Outcome,
    Target,
    body_of,
    failure_outcome,
    outcomes_frame,
    payloads,
    remote_frame,
)

#: canonical field → arnis field
NAMES = {
    "remote_id": "id",
    "e164": "e164_number",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "timezone": "timezone",
    "tags": "tags",
    "opted_out": "opted_out",
}
#: what a create or update sends (the phone goes as E.164 in ``phone_number``)
WRITE_NAMES = {
    **{k: v for k, v in NAMES.items() if k not in ("remote_id", "opted_out")},
    "e164": "phone_number",
}


class Arnis(Target):
    name = "arnis"
    auth = Auth(header="X-API-Key")
    #: contacts on the remote side at the last listing (guides how to read back)
    _remote_total = 0
    capabilities = Capabilities(
        can_list=True,
        bulk_create=1000,
        can_update=True,
        can_delete=True,
        bulk_delete=1,
        opt_out="POST /contacts/{id}/opt-out",
        lists="list_ids on create (membership is not readable: not diffed)",
        page_size=100,
        rate_limit=None,
        bulk_rate_limit=None,
        default_concurrency=4,
        fields=("first_name", "last_name", "email", "timezone", "tags"),
        notes="batch create answers with counts only: created contacts are read back",
    )

    @staticmethod
    def error_message(body: Any) -> str | None:
        return body.get("detail") if isinstance(body, dict) else None

    # -- read --------------------------------------------------------------------------
    def fetch_remote(self) -> pl.DataFrame:
        per_page = self.capabilities.page_size
        first = self._page(1, per_page)
        self._remote_total = int(first.get("total") or 0)
        per_page = int(first.get("per_page") or per_page)
        pages = int(first.get("pages") or math.ceil(int(first.get("total", 0)) / per_page) or 1)
        rest = self.parallel(lambda p: self._page(p, per_page), range(2, pages + 1), "fetching")
        items = list(first["items"]) + [item for page in rest for item in page["items"]]
        return remote_frame(items, NAMES).unique("remote_id", keep="first", maintain_order=True)

    def lookup(self, e164s: Sequence[str]) -> pl.DataFrame:
        """The remote contacts with these numbers: one search per number when that takes
        fewer requests than listing every page, else the whole listing, filtered."""
        numbers = sorted(set(e164s))
        pages = math.ceil((self._remote_total + len(numbers)) / self.capabilities.page_size)
        if len(numbers) >= pages:
            return super().lookup(numbers)
        found = self.parallel(self._landed_record, numbers, "reading back")
        return remote_frame([r for r in found if r is not None], NAMES)

    def _landed_record(self, e164: str) -> dict[str, Any] | None:
        body = self.client.request_json(
            "GET", "/contacts", params={"search": e164, "per_page": 100}
        )
        for item in (body or {}).get("items", []):
            if item.get("e164_number") == e164:
                return dict(item)
        return None

    def _page(self, page: int, per_page: int) -> dict[str, Any]:
        body = self.client.request_json(
            "GET", "/contacts", params={"page": page, "per_page": per_page}
        )
        return body if isinstance(body, dict) else {"items": []}

    # -- write -------------------------------------------------------------------------
    def create(self, contacts: pl.DataFrame) -> pl.DataFrame:
        self.parallel(self._send_batch, _chunks_by_lists(contacts, self.chunk_size), "creating")
        landed = self.lookup(contacts["e164"].to_list()).select("e164", "remote_id")
        joined = contacts.drop("remote_id", strict=False).join(
            landed, on="e164", how="left", maintain_order="left"
        )
        found = joined.filter(pl.col("remote_id").is_not_null())
        missing = joined.filter(pl.col("remote_id").is_null())
        outcomes = [
            Outcome(r, "created", rid) for r, rid in found.select("row", "remote_id").iter_rows()
        ]
        outcomes += self.parallel(self._create_one, list(missing.iter_rows(named=True)), "creating")
        return outcomes_frame(outcomes).sort("row")

    def _send_batch(self, chunk: pl.DataFrame) -> None:
        body: dict[str, Any] = {"contacts": payloads(chunk, WRITE_NAMES)}
        if "lists" in chunk.columns and chunk["lists"][0] is not None and len(chunk["lists"][0]):
            body["list_ids"] = list(chunk["lists"][0])
        try:
            self.client.request("POST", "/contacts/batch", json_body=body, limiter="bulk")
        except AmbiguousWriteError:
            return  # the read-back tells what landed; what did not is sent one by one
        except TargetError as exc:
            if exc.status in (401, 403):
                raise

    def _create_one(self, contact: dict[str, Any], attempts: int = 3) -> Outcome:
        """One create after a batch left this contact missing; ambiguous failures are
        checked by a read-back before anything is sent again."""
        body = body_of(contact, WRITE_NAMES)
        if contact.get("lists"):
            body["list_ids"] = list(contact["lists"])
        for _ in range(attempts):
            try:
                created = self.client.request_json("POST", "/contacts", json_body=body)
            except (AmbiguousWriteError, ConflictError) as exc:
                landed = self._landed_id(contact["e164"])
                if landed is not None:
                    return Outcome(contact["row"], "created", landed)
                if isinstance(exc, ConflictError):
                    return failure_outcome(contact["row"], exc)
                continue
            except TargetError as exc:
                return failure_outcome(contact["row"], exc)
            return Outcome(contact["row"], "created", str(created["id"]))
        return Outcome(
            contact["row"],
            "failed",
            None,
            "failed",
            "gave up: the create kept failing and did not land",
        )

    def create_blind(self, contacts: pl.DataFrame) -> pl.DataFrame:
        """One POST per contact, for keys that may create but not list: ``201`` created,
        ``409`` skipped as existing (after an ambiguous failure, ``409`` means ours landed)."""
        rows = list(contacts.iter_rows(named=True))
        return outcomes_frame(self.parallel(self._create_blind_one, rows, "creating"))

    def _create_blind_one(self, contact: dict[str, Any], attempts: int = 3) -> Outcome:
        body = body_of(contact, WRITE_NAMES)
        if contact.get("lists"):
            body["list_ids"] = list(contact["lists"])
        sent_before = False
        for _ in range(attempts):
            try:
                created = self.client.request_json("POST", "/contacts", json_body=body)
            except ConflictError:
                if sent_before:
                    return Outcome(
                        contact["row"],
                        "created",
                        None,
                        None,
                        "created (its id could not be read back with this key)",
                    )
                return Outcome(
                    contact["row"],
                    "skipped",
                    None,
                    "exists_remotely",
                    "exists on arnis already; create-only mode leaves it as it is",
                )
            except AmbiguousWriteError:
                sent_before = True
                continue
            except TargetError as exc:
                return failure_outcome(contact["row"], exc)
            return Outcome(contact["row"], "created", str(created["id"]))
        return Outcome(contact["row"], "failed", None, "failed", "gave up: the create kept failing")

    def _landed_id(self, e164: str) -> str | None:
        """The id of the contact with this number, searched on the server side."""
        record = self._landed_record(e164)
        return str(record["id"]) if record else None

    def update(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return outcomes_frame(
            self.parallel(self._update_one, list(contacts.iter_rows(named=True)), "updating")
        )

    def _update_one(self, contact: dict[str, Any]) -> Outcome:
        body = body_of(contact, WRITE_NAMES, contact["changes"])
        try:
            self.client.request("PATCH", f"/contacts/{contact['remote_id']}", json_body=body)
        except TargetError as exc:
            return failure_outcome(contact["row"], exc, contact["remote_id"])
        return Outcome(contact["row"], "updated", contact["remote_id"])

    def delete(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return self.delete_each(contacts)

    def opt_out(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return outcomes_frame(
            self.parallel(self._opt_out_one, list(contacts.iter_rows(named=True)), "opting out")
        )

    def _opt_out_one(self, contact: dict[str, Any]) -> Outcome:
        remote_id = contact["remote_id"]
        try:
            self.client.request("POST", f"/contacts/{remote_id}/opt-out", idempotent=True)
        except TargetError as exc:
            return failure_outcome(contact["row"], exc, remote_id)
        return Outcome(contact["row"], "opted_out", remote_id)


def _chunks_by_lists(contacts: pl.DataFrame, size: int) -> list[pl.DataFrame]:
    """Batches of at most ``size`` whose contacts share their lists (``list_ids`` is per batch)."""
    if "lists" not in contacts.columns:
        return list(contacts.iter_slices(size))
    key = pl.col("lists").fill_null(pl.lit([], pl.List(pl.String))).list.sort().list.join("\x1f")
    groups = contacts.with_columns(key.alias("_lists_key")).partition_by(
        "_lists_key", maintain_order=True
    )
    return [chunk.drop("_lists_key") for group in groups for chunk in group.iter_slices(size)]
