"""oliai: ``x-api-key``; creates **and** updates go through the bulk upsert by phone, whose
answer reports invalid items by index (mapped back to the request's input rows).

Decisions (see also ``Oliai.capabilities.notes``):

- oliai requires ``name``: we send the file's name, else first + last name, else the
  E.164 number itself. Reading back, a name equal to the number is mapped to null, so
  a nameless contact does not show up as changed on the next run; an empty
  ``metadata`` object reads back as null for the same reason.
- an update sends ``phoneNumber`` (the upsert key), ``name`` (required by the bulk
  endpoint) and the changed fields only. A row with no name of its own and an unchanged
  name goes through ``PATCH /contacts/{id}`` instead, so the remote name is never
  overwritten by the fallback. A changed field whose new value is empty is sent as null.
- audiences (the contact's ``lists``) are added after the write, best effort, never for
  a contact that opted out in the file; a failure leaves the row's status and sets
  ``error_code`` ``audience_failed``.
- a bulk create that may have landed (``AmbiguousWriteError``) is followed by a read-back
  by phone; only the contacts not found are sent again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from pipeline.errors import AuthError, TargetError
from pipeline.http import AmbiguousWriteError, Auth, error_detail
from pipeline.targets.base import (
    Capabilities,
    Outcome,
    Target,
    failure_outcome,
    first_per_id,
    outcomes_frame,
    remote_frame,
    status_rows,
)
from pipeline.targets.serialize import json_array, json_objects

#: canonical field → oliai field
NAMES = {
    "remote_id": "id",
    "e164": "phoneNumber",
    "name": "name",
    "language": "language",
    "metadata": "metadata",
}
#: what a create or update sends
WRITE_NAMES = {k: v for k, v in NAMES.items() if k != "remote_id"}
#: the canonical fields an update may change
UPDATABLE = ("name", "language", "metadata")
PAGE_SIZE = 100
BULK_DELETE = 1000
AUDIENCE_BATCH = 1000
#: how many times a bulk create that may have landed is read back and resent
AMBIGUOUS_ROUNDS = 3
LANDED = ("created", "updated")


class Oliai(Target):
    name = "oliai"
    auth = Auth(header="x-api-key")
    capabilities = Capabilities(
        can_list=True,
        bulk_create=1000,
        can_update=True,
        can_delete=True,
        bulk_delete=BULK_DELETE,
        opt_out="none",
        lists="add-to-audience after create/update (lists are audience ids)",
        page_size=PAGE_SIZE,
        rate_limit=60,
        bulk_rate_limit=10,
        default_concurrency=4,
        fields=UPDATABLE,
        default_base_url="https://api.oliai.in/v1",
        notes=(
            "stores name, language and metadata only; no opt-out; "
            "a contact without a name gets its E.164 number as name"
        ),
    )

    @staticmethod
    def error_message(body: Any) -> str | None:
        message = body.get("message") if isinstance(body, dict) else None
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)
        return str(message) if message else None

    # -- read --------------------------------------------------------------------------
    def fetch_remote(self) -> pl.DataFrame:
        return self._listing(self._page(1))

    def lookup(self, e164s: Sequence[str]) -> pl.DataFrame:
        """By ``search`` per number when that costs fewer requests than listing all."""
        wanted = list(dict.fromkeys(e for e in e164s if e))
        if not wanted:
            return _canonical(remote_frame([], NAMES))
        first = self._page(1)
        if len(wanted) < _page_count(first) - 1:
            found = self.parallel(self._search, wanted, "looking up")
            return _canonical(remote_frame([c for items in found for c in items], NAMES))
        return self._listing(first).filter(pl.col("e164").is_in(wanted))

    def _page(self, page: int, search: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"page": page, "limit": PAGE_SIZE}
        if search:
            params["search"] = search
        body = self.client.request_json("GET", "/contacts", params=params)
        return body if isinstance(body, dict) else {"data": []}

    def _listing(self, first: dict[str, Any]) -> pl.DataFrame:
        """The whole remote set: ``first`` (page 1) and every page after it."""
        return _canonical(
            self.fetch_pages(
                lambda p: self._page(p).get("data") or [],
                range(2, _page_count(first) + 1),
                NAMES,
                first=first.get("data") or [],
            )
        )

    def _search(self, e164: str) -> list[dict[str, Any]]:
        items = self._page(1, search=e164).get("data") or []
        return [c for c in items if isinstance(c, dict) and c.get("phoneNumber") == e164]

    # -- create ------------------------------------------------------------------------
    def create(self, contacts: pl.DataFrame) -> pl.DataFrame:
        named = contacts.with_columns(_display_name(contacts))
        chunks = list(named.iter_slices(self.chunk_size))
        done = self.parallel(self._create_chunk, chunks, "creating")
        results = outcomes_frame(o for chunk in done for o in chunk).sort("row")
        return self._add_to_audiences(results, contacts)

    def _create_chunk(self, chunk: pl.DataFrame) -> list[Outcome]:
        done: list[Outcome] = []
        pending = chunk
        for _ in range(AMBIGUOUS_ROUNDS):
            try:
                bodies = json_objects(pending, WRITE_NAMES)  # from the frame, as body_of
                return done + self._upsert(pending, bodies, "created")
            except AmbiguousWriteError:
                pass
            except TargetError as exc:
                return done + _fail_all(pending, exc)
            try:
                landed, pending = self._split_landed(pending, "created")
            except TargetError as exc:
                return done + _unknown(pending, f"the read-back failed: {exc}", exc)
            done += landed
            if pending.is_empty():
                return done
        reason = f"the bulk write failed mid-way {AMBIGUOUS_ROUNDS} times and it is not on oliai"
        return done + _unknown(pending, reason)

    def _upsert(
        self,
        chunk: pl.DataFrame,
        bodies: list[dict[str, Any]] | pl.Series,
        default: str,
        **kwargs: Any,
    ) -> list[Outcome]:
        """One bulk request; the answer's contacts and per-index errors → one outcome a row.
        ``bodies``: dicts, or their JSON texts (serialize.json_objects)."""
        if isinstance(bodies, pl.Series):
            content = b'{"contacts":' + json_array(bodies) + b"}"
        else:
            content = json.dumps({"contacts": bodies}, separators=(",", ":")).encode()
        answer = self.client.request_json(
            "POST", "/contacts/bulk", content=content, limiter="bulk", **kwargs
        )
        answer = answer if isinstance(answer, dict) else {}
        outcomes, unresolved = _bulk_outcomes(chunk, answer, default)
        if unresolved.is_empty():
            return outcomes
        try:
            landed, missing = self._split_landed(unresolved, default)
        except TargetError as exc:
            return outcomes + _unknown(unresolved, f"not in oliai's answer; read-back: {exc}", exc)
        reason = "oliai's bulk answer named neither this contact nor an error for it"
        return outcomes + landed + _unknown(missing, reason)

    def _split_landed(self, chunk: pl.DataFrame, status: str) -> tuple[list[Outcome], pl.DataFrame]:
        """The rows now on oliai (read back by phone) as outcomes, and the rows that are not."""
        found = self.lookup(chunk["e164"].to_list()).select(
            "e164", pl.col("remote_id").alias("_id")
        )
        joined = chunk.join(found, on="e164", how="left", maintain_order="left")
        landed = joined.filter(pl.col("_id").is_not_null()).select("row", "_id")
        outcomes = [Outcome(row, status, rid) for row, rid in landed.iter_rows()]
        return outcomes, joined.filter(pl.col("_id").is_null()).drop("_id")

    # -- update ------------------------------------------------------------------------
    def update(self, contacts: pl.DataFrame) -> pl.DataFrame:
        by_patch = _keeps_remote_name(contacts)
        named = contacts.with_columns(_display_name(contacts))
        chunks = list(named.filter(~by_patch).iter_slices(self.chunk_size))
        outcomes = [o for c in self.parallel(self._update_chunk, chunks, "updating") for o in c]
        singles = list(named.filter(by_patch).iter_rows(named=True))
        outcomes += self.parallel(self._patch_one, singles, "updating")
        return self._add_to_audiences(outcomes_frame(outcomes).sort("row"), contacts)

    def _update_chunk(self, chunk: pl.DataFrame) -> list[Outcome]:
        bodies = [_update_body(record) for record in chunk.iter_rows(named=True)]
        try:
            # an upsert by phone with the same values is idempotent: safe to retry
            return self._upsert(chunk, bodies, "updated", idempotent=True)
        except TargetError as exc:
            return _fail_all(chunk, exc)

    def _patch_one(self, contact: dict[str, Any]) -> Outcome:
        body = _changed_fields(contact)
        remote_id = contact["remote_id"]
        try:
            self.client.request("PATCH", f"/contacts/{remote_id}", json_body=body)
        except TargetError as exc:
            return failure_outcome(contact["row"], exc, remote_id)
        return Outcome(contact["row"], "updated", remote_id)

    # -- delete ------------------------------------------------------------------------
    def delete(self, contacts: pl.DataFrame) -> pl.DataFrame:
        known = contacts.filter(pl.col("remote_id").is_not_null())
        frames = self.parallel(self._delete_chunk, list(known.iter_slices(BULK_DELETE)), "deleting")
        unknown = contacts.filter(pl.col("remote_id").is_null())
        frames.append(status_rows(unknown, "failed", "rejected", "no oliai id to delete"))
        return pl.concat(frames)

    def _delete_chunk(self, chunk: pl.DataFrame) -> pl.DataFrame:
        body = {"contactIds": chunk["remote_id"].to_list()}
        try:
            # deleting ids that are gone already is a no-op: safe to retry
            self.client.request(
                "POST", "/contacts/bulk-delete", json_body=body, limiter="bulk", idempotent=True
            )
        except TargetError as exc:
            failed = failure_outcome(0, exc)
            return status_rows(chunk, "failed", failed.error_code, failed.error_message)
        return status_rows(chunk, "deleted", None, None)

    # -- audiences ---------------------------------------------------------------------
    def _add_to_audiences(self, results: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
        if "lists" not in contacts.columns:
            return results
        batches = _audience_batches(results, contacts)
        failed = [
            f for batch in self.parallel(self._add_batch, batches, "audiences") for f in batch
        ]
        return _mark_audience_failures(results, failed)

    def _add_batch(self, batch: tuple[str, list[int], list[str]]) -> list[tuple[int, str]]:
        audience_id, rows, remote_ids = batch
        body = {"contactIds": remote_ids, "audienceId": audience_id}
        try:
            # adding a member twice is a no-op: safe to retry
            self.client.request(
                "POST", "/contacts/add-to-audience", json_body=body, idempotent=True
            )
        except TargetError as exc:
            if isinstance(exc, AuthError):
                raise
            return [
                (row, f"not added to audience {audience_id}: {error_detail(exc)}") for row in rows
            ]
        return []


# -- frames in, frames out -------------------------------------------------------------
def _page_count(page: dict[str, Any]) -> int:
    limit = int(page.get("limit") or PAGE_SIZE)
    total = int(page.get("total") or 0)
    return int(page.get("totalPages") or math.ceil(total / limit) or 1)


def _canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """oliai's stand-ins read as null (a name that is the number, empty metadata), one
    row per contact."""
    frame = frame.with_columns(
        pl.when(pl.col("name") != pl.col("e164")).then(pl.col("name")).alias("name"),
        pl.when(pl.col("metadata") != "{}").then(pl.col("metadata")).alias("metadata"),
    )
    return first_per_id(frame)


def _display_name(contacts: pl.DataFrame) -> pl.Expr:
    """``name``, else first + last name, else the E.164 number (oliai requires a name)."""
    candidates = [_non_blank(pl.col("name"))] if "name" in contacts.columns else []
    parts = [pl.col(c) for c in ("first_name", "last_name") if c in contacts.columns]
    if parts:
        candidates.append(_non_blank(pl.concat_str(parts, separator=" ", ignore_nulls=True)))
    return pl.coalesce(*candidates, pl.col("e164")).alias("name")


def _non_blank(text: pl.Expr) -> pl.Expr:
    stripped = text.str.strip_chars()
    return pl.when(stripped != "").then(stripped)


def _keeps_remote_name(contacts: pl.DataFrame) -> pl.Series:
    """Rows whose name is unchanged and that have none of their own: PATCH, not upsert."""
    no_name = pl.lit(True)
    for column in ("name", "first_name", "last_name"):
        if column in contacts.columns:
            no_name = no_name & _non_blank(pl.col(column)).is_null()
    unchanged = ~pl.col("changes").list.contains("name").fill_null(False)
    return contacts.select((no_name & unchanged).alias("patch"))["patch"]


def _api_value(field: str, value: Any) -> Any:
    if field == "metadata" and isinstance(value, str):
        return json.loads(value)
    return None if value == "" else value


def _changed_fields(contact: dict[str, Any]) -> dict[str, Any]:
    changed = [f for f in contact["changes"] or [] if f in UPDATABLE]
    return {WRITE_NAMES[f]: _api_value(f, contact[f]) for f in changed}


def _update_body(contact: dict[str, Any]) -> dict[str, Any]:
    return {"phoneNumber": contact["e164"], "name": contact["name"], **_changed_fields(contact)}


def _bulk_outcomes(
    chunk: pl.DataFrame, answer: dict[str, Any], default: str
) -> tuple[list[Outcome], pl.DataFrame]:
    """Outcomes for rows the answer names (by index or phone), and the rows it does not."""
    reasons = {
        int(e["index"]): str(e.get("reason") or "invalid contact")
        for e in answer.get("errors") or []
        if isinstance(e, dict) and isinstance(e.get("index"), int)
    }
    landed = {c.get("phoneNumber"): c for c in answer.get("contacts") or [] if isinstance(c, dict)}
    outcomes: list[Outcome] = []
    unresolved: list[int] = []
    for index, (row, e164, remote_id) in enumerate(
        zip(chunk["row"], chunk["e164"], _remote_ids(chunk), strict=True)
    ):
        if index in reasons:
            outcomes.append(Outcome(row, "failed", remote_id, "rejected", reasons[index]))
        elif e164 in landed:
            contact = landed[e164]
            status = _landed_status(contact, answer, default)
            outcomes.append(Outcome(row, status, str(contact["id"])))
        else:
            unresolved.append(index)
    rest = chunk.with_row_index("_i").filter(pl.col("_i").is_in(unresolved)).drop("_i")
    return outcomes, rest


def _landed_status(contact: dict[str, Any], answer: dict[str, Any], default: str) -> str:
    """``created`` or ``updated`` from the answer's counts, or its timestamps when mixed."""
    created, updated = int(answer.get("created") or 0), int(answer.get("updated") or 0)
    if created and updated:
        same = contact.get("createdAt") == contact.get("updatedAt")
        return "created" if same else "updated"
    if created:
        return "created"
    return "updated" if updated else default


def _fail_all(chunk: pl.DataFrame, exc: TargetError) -> list[Outcome]:
    rows = zip(chunk["row"], _remote_ids(chunk), strict=True)
    return [failure_outcome(row, exc, remote_id) for row, remote_id in rows]


def _remote_ids(chunk: pl.DataFrame) -> list[str | None]:
    if "remote_id" in chunk.columns:
        return chunk["remote_id"].cast(pl.String).to_list()
    return [None] * chunk.height


def _unknown(chunk: pl.DataFrame, reason: str, exc: TargetError | None = None) -> list[Outcome]:
    """Rows whose write may or may not have landed: failed, saying so."""
    if isinstance(exc, AuthError):
        raise exc
    return [Outcome(row, "failed", None, "failed", reason) for row in chunk["row"]]


def _audience_batches(
    results: pl.DataFrame, contacts: pl.DataFrame
) -> list[tuple[str, list[int], list[str]]]:
    """(audience id, rows, remote ids) for every landed contact not opted out in the file."""
    opted_out = (
        pl.col("opted_out").fill_null(False) if "opted_out" in contacts.columns else pl.lit(False)
    )
    members = (
        results.filter(pl.col("status").is_in(LANDED))
        .select("row", "remote_id")
        .join(contacts.select("row", "lists", opted_out.alias("_out")), on="row")
        .filter(~pl.col("_out"))
        .explode("lists")
        .filter(pl.col("lists").is_not_null() & (pl.col("lists") != ""))
        .group_by("lists", maintain_order=True)
        .agg("row", "remote_id")
    )
    batches = []
    for audience_id, rows, ids in members.iter_rows():
        for start in range(0, len(rows), AUDIENCE_BATCH):
            end = start + AUDIENCE_BATCH
            batches.append((audience_id, rows[start:end], ids[start:end]))
    return batches


def _mark_audience_failures(results: pl.DataFrame, failed: list[tuple[int, str]]) -> pl.DataFrame:
    if not failed:
        return results
    notes = (
        pl.DataFrame(failed, schema={"row": pl.Int64, "_note": pl.String}, orient="row")
        .group_by("row", maintain_order=True)
        .agg(pl.col("_note").str.join("; "))
    )
    flagged = pl.col("_note").is_not_null()
    return (
        results.join(notes, on="row", how="left", maintain_order="left")
        .with_columns(
            pl.when(flagged)
            .then(pl.lit("audience_failed"))
            .otherwise("error_code")
            .alias("error_code"),
            pl.coalesce("_note", "error_message").alias("error_message"),
        )
        .drop("_note")
    )
