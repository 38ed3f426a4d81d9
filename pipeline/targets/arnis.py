"""arnis: ``X-API-Key``; batch create answers with counts only, so created rows are read
back to get their ids and an honest per-row status."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from typing import Any

import polars as pl

from pipeline.errors import ConflictError, TargetError
from pipeline.http import AmbiguousWriteError, Auth
from pipeline.targets.base import (
    Capabilities,
    Outcome,
    RemoteFrames,
    Target,
    body_of,
    failure_outcome,
    first_per_id,
    outcomes_frame,
    page_frame,
    remote_frame,
    status_rows,
)
from pipeline.targets.serialize import json_array, json_objects

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
    #: contacts on the remote side at the last listing (None: not listed yet): contacts
    #: created since are listed after them when the listing is in creation order
    _remote_total: int | None = None
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
    #: the list page size, as the server last answered
    _per_page = capabilities.page_size

    @staticmethod
    def error_message(body: Any) -> str | None:
        return body.get("detail") if isinstance(body, dict) else None

    # -- read --------------------------------------------------------------------------
    def fetch_remote(self) -> pl.DataFrame:
        return first_per_id(self._pages_from(1))

    def lookup(self, e164s: Sequence[str]) -> pl.DataFrame:
        """The remote contacts with these numbers: one search per number when that takes
        fewer requests than listing every page, else the whole listing, filtered."""
        numbers = sorted(set(e164s))
        pages = math.ceil(((self._remote_total or 0) + len(numbers)) / self._per_page)
        if len(numbers) >= pages:
            return super().lookup(numbers)
        found = self.parallel(self._landed_record, numbers, "reading back")
        return remote_frame([r for r in found if r is not None], NAMES)

    def _read_back(self, e164s: Sequence[str], tail: _Tail | None) -> pl.DataFrame:
        """The contacts with these numbers, just created.

        The vendor's docs say nothing of the listing's order. When it is creation order
        (the sandbox's), new contacts sit on the pages after the contacts seen before the
        creates (``tail``): those are read first, and only the numbers not found there are
        looked up (``lookup``), so another order costs requests, never a wrong or missing
        id. Without a tail (nothing listed before), ``lookup`` does it all.
        """
        numbers = pl.Series("e164", e164s, dtype=pl.String).unique()
        if tail is None or numbers.is_empty():
            return self.lookup(numbers.to_list())
        found = first_per_id(tail.rest().filter(pl.col("e164").is_in(numbers.implode())))
        missing = numbers.filter(~numbers.is_in(found["e164"].implode())).sort().to_list()
        if not missing:
            return found
        return pl.concat([found, self.lookup(missing)])

    def _pages_from(
        self, start: int, label: str = "fetching", into: RemoteFrames | None = None
    ) -> pl.DataFrame:
        """Every contact on list page ``start`` and the pages after it (page order),
        after those gathered ``into`` already.

        The first of them tells the total and the page size the server uses."""
        first = self._page(start, self._per_page)
        self._remote_total = total = int(first.get("total") or 0)
        self._per_page = per_page = int(first.get("per_page") or self._per_page)
        pages = int(first.get("pages") or math.ceil(total / per_page) or 1)
        return self.fetch_pages(
            lambda p: self._page_frame(p, per_page),
            range(start + 1, pages + 1),
            NAMES,
            first=first["items"],
            label=label,
            into=into,
        )

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

    def _page_frame(self, page: int, per_page: int) -> pl.DataFrame:
        """The contacts on one list page, as an API frame (``page_frame``)."""
        answer = self.client.request(
            "GET", "/contacts", params={"page": page, "per_page": per_page}
        )
        return page_frame(answer.content, "items", NAMES, _items)

    # -- write -------------------------------------------------------------------------
    def create(self, contacts: pl.DataFrame) -> pl.DataFrame:
        chunks = _chunks_by_lists(contacts, self.chunk_size)
        if self._remote_total is None:
            self.parallel(self._send_batch, chunks, "creating")
            tail = None
        else:
            with _Tail(self, self._remote_total) as tail:
                self.parallel(lambda c: tail.created(self._send_batch(c)), chunks, "creating")
        landed = self._read_back(contacts["e164"].to_list(), tail).select("e164", "remote_id")
        joined = contacts.drop("remote_id", strict=False).join(
            landed, on="e164", how="left", maintain_order="left"
        )
        created = status_rows(joined.filter(pl.col("remote_id").is_not_null()), "created")
        missing = joined.filter(pl.col("remote_id").is_null())
        sent = self.parallel(self._create_one, list(missing.iter_rows(named=True)), "creating")
        return pl.concat([created, outcomes_frame(sent)]).sort("row")

    def _send_batch(self, chunk: pl.DataFrame) -> int:
        """One batch create; how many contacts it says it created (0 when unknown)."""
        # serialized from the frame (serialize.json_objects equals body_of row by row)
        body = b'{"contacts":' + json_array(json_objects(chunk, WRITE_NAMES))
        if "lists" in chunk.columns and chunk["lists"][0] is not None and len(chunk["lists"][0]):
            body += b',"list_ids":' + json.dumps(list(chunk["lists"][0])).encode()
        try:
            answer = self.client.request_json(
                "POST", "/contacts/batch", content=body + b"}", limiter="bulk"
            )
        except AmbiguousWriteError:
            return 0  # the read-back tells what landed; what did not is sent one by one
        except TargetError as exc:
            if exc.status in (401, 403):
                raise
            return 0
        created = answer.get("created") if isinstance(answer, dict) else None
        return created if isinstance(created, int) and created > 0 else 0

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


class _Tail:
    """The list pages after the ``since`` contacts listed before a create, read while its
    batches are still being sent (the client is idle then, the server busy).

    A page is read as soon as the batches' own counts say it is full: in creation order
    a full page no longer changes. ``rest()`` reads the pages left after the last batch.
    In any other order these pages simply hold fewer of the new contacts, and
    ``Arnis._read_back`` looks the missing ones up.
    """

    def __init__(self, target: Arnis, since: int) -> None:
        self.target = target
        self.per_page = target._per_page
        self.page = since // self.per_page + 1  # the next page to read
        self.listed = since  # contacts on the list, by the batches' counts
        self.frames = RemoteFrames(NAMES)
        self._changed = threading.Condition()
        self._sending = True
        self._reader = threading.Thread(target=self._follow, name="arnis-tail", daemon=True)

    def __enter__(self) -> _Tail:
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._changed:
            self._sending = False
            self._changed.notify()
        self._reader.join()

    def created(self, count: int) -> None:
        with self._changed:
            self.listed += count
            self._changed.notify()

    def rest(self) -> pl.DataFrame:
        """Every contact on the pages after ``since`` (page order), once the batches are done."""
        return self.target._pages_from(self.page, "reading back", into=self.frames)

    def _full(self) -> bool:
        return self.listed >= self.page * self.per_page

    def _follow(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._full() or not self._sending)
                if not self._full():
                    return
            try:
                items = self.target._page_frame(self.page, self.per_page)
            except TargetError:
                return  # rest() reads this page again
            if items.height < self.per_page:
                return  # not the order or the count assumed: rest() reads it again
            self.frames.add(items)
            self.page += 1


def _items(body: Any) -> list[dict[str, Any]]:
    """The contacts of a list page the adapter parsed itself."""
    return body["items"] if isinstance(body, dict) else []


def _chunks_by_lists(contacts: pl.DataFrame, size: int) -> list[pl.DataFrame]:
    """Batches of at most ``size`` whose contacts share their lists (``list_ids`` is per batch)."""
    if "lists" not in contacts.columns:
        return list(contacts.iter_slices(size))
    key = pl.col("lists").fill_null(pl.lit([], pl.List(pl.String))).list.sort().list.join("\x1f")
    groups = contacts.with_columns(key.alias("_lists_key")).partition_by(
        "_lists_key", maintain_order=True
    )
    return [chunk.drop("_lists_key") for group in groups for chunk in group.iter_slices(size)]
