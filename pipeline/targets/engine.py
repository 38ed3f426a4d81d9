"""The one engine: any ``Description`` run through the strategies of ``paging.py`` and
``writes.py``, plus deletes, opt-outs and lists added after a write. ``target_type``
makes a description a ``Target`` class (its ``capabilities`` derived from it)."""

from __future__ import annotations

from typing import Any

import polars as pl

from pipeline.errors import AuthError, TargetError
from pipeline.http import Auth, error_detail
from pipeline.outcomes import Code, Status
from pipeline.targets.base import (
    Capabilities,
    Outcome,
    failure_outcome,
    outcomes_frame,
    skip_all,
    status_rows,
)
from pipeline.targets.listing import COMMON_OPTIONS
from pipeline.targets.model import Description
from pipeline.targets.paging import Paging
from pipeline.targets.writes import Writes

LANDED = ("created", "updated")


class Engine(Paging, Writes):
    """A target whose every difference from the others is in its description."""

    def create(self, contacts: pl.DataFrame) -> pl.DataFrame:
        create = self.description.create
        if create.how == "batch_counts":
            results = self.create_counted(contacts)
        elif create.how == "bulk_upsert":
            results = outcomes_frame(self.create_bulk(contacts)).sort("row")
        elif create.ambiguous.resolve == "each":
            rows = list(contacts.iter_rows(named=True))
            results = outcomes_frame(self.parallel(self.create_one, rows, "creating"))
        else:
            results = self.create_together(contacts)
        return self.add_to_lists(results, contacts)

    def create_blind(self, contacts: pl.DataFrame) -> pl.DataFrame:
        """Create without having read the remote set (``--skip-remote-read``): with
        ``[create] blind``, one request a contact, and one that exists comes back
        ``skipped`` (``exists_remotely``)."""
        if not self.description.create.blind:
            return self.create(contacts)
        rows = list(contacts.iter_rows(named=True))
        return outcomes_frame(self.parallel(lambda c: self.create_one(c, True), rows, "creating"))

    def update(self, contacts: pl.DataFrame) -> pl.DataFrame:
        update = self.description.update
        if update.how == "none":
            return skip_all(contacts, Code.UPDATE_UNSUPPORTED, self.text(update.unsupported))
        if update.how == "each":
            results = self.update_each(contacts)
        else:
            results = outcomes_frame(self.update_bulk(self.prepare(contacts))).sort("row")
        return self.add_to_lists(results, contacts)

    def update_each(self, contacts: pl.DataFrame) -> pl.DataFrame:
        rows = list(contacts.iter_rows(named=True))
        return outcomes_frame(self.parallel(self.update_one, rows, "updating"))

    def update_one(self, contact: dict[str, Any]) -> Outcome:
        update = self.description.update
        row, remote_id = contact["row"], contact["remote_id"]
        changes = list(contact.get("changes") or [])
        body = self.update_body(contact, changes)
        if not body and update.empty == "unchanged":
            return Outcome(row, "unchanged", remote_id)
        if not body and update.empty == "skip":
            return self._not_sent(row, remote_id, contact, changes)
        try:
            self.send(update.method, self.text(update.path, id=remote_id), body=body)
        except TargetError as exc:
            return failure_outcome(row, exc, remote_id)
        return Outcome(row, "updated", remote_id)

    def _not_sent(
        self, row: int, remote_id: str, contact: dict[str, Any], changes: list[str]
    ) -> Outcome:
        """An update with nothing the API takes: an opt-in, or fields it cannot update."""
        if "opted_out" in changes and not contact.get("opted_out"):
            message = self.text(
                "the contact opted out in {name}: contact-sync never undoes an opt-out"
            )
            return Outcome(row, Status.SKIPPED, remote_id, Code.OPTED_OUT_REMOTELY, message)
        message = f"{self.name} cannot update {', '.join(changes) or 'these fields'}"
        return Outcome(row, Status.SKIPPED, remote_id, Code.UPDATE_UNSUPPORTED, message)

    # -- delete ------------------------------------------------------------------------
    def delete(self, contacts: pl.DataFrame) -> pl.DataFrame:
        how = self.description.delete.how
        if how == "none":
            return skip_all(
                contacts, Code.DELETE_UNSUPPORTED, f"{self.name} cannot delete contacts"
            )
        if how == "each":
            work = list(contacts.select("row", "remote_id").iter_rows())
            return outcomes_frame(self.parallel(self._delete_by_id, work, "deleting"))
        known = contacts.filter(pl.col("remote_id").is_not_null())
        size = int(self.options.get("delete_batch", 1000))
        frames = self.parallel(self._delete_chunk, list(known.iter_slices(size)), "deleting")
        unknown = contacts.filter(pl.col("remote_id").is_null())
        message = self.text(self.description.delete.no_id)
        return pl.concat([*frames, status_rows(unknown, Status.FAILED, Code.REJECTED, message)])

    def _delete_by_id(self, work: tuple[Any, str]) -> Outcome:
        """``DELETE`` one contact; a ``404`` means already gone."""
        row, remote_id = work
        try:
            self.send("DELETE", self.text(self.description.delete.path, id=remote_id))
        except TargetError as exc:
            if exc.status != 404:
                return failure_outcome(row, exc, remote_id)
        return Outcome(row, "deleted", remote_id)

    def _delete_chunk(self, chunk: pl.DataFrame) -> pl.DataFrame:
        delete = self.description.delete
        body = {delete.ids_key: chunk["remote_id"].to_list()}
        try:  # deleting ids that are gone already is a no-op: safe to retry
            self.send("POST", delete.path, body=body, bulk=True, idempotent=True)
        except TargetError as exc:
            failed = failure_outcome(0, exc)
            return status_rows(chunk, "failed", failed.error_code, failed.error_message)
        return status_rows(chunk, "deleted", None, None)

    # -- opt-out -----------------------------------------------------------------------
    def opt_out(self, contacts: pl.DataFrame) -> pl.DataFrame:
        if self.description.opt_out.how == "none":
            return skip_all(contacts, Code.OPT_OUT_UNSUPPORTED, f"{self.name} has no opt-out")
        work = list(contacts.select("row", "remote_id", "e164").iter_rows())
        return outcomes_frame(self.parallel(self._opt_out_one, work, "opting out"))

    def _opt_out_one(self, work: tuple[Any, str, str]) -> Outcome:
        row, remote_id, e164 = work
        opt_out = self.description.opt_out
        body = self.fill(opt_out.body, id=remote_id, e164=e164) or None
        path = self.text(opt_out.path, id=remote_id)
        try:
            self.send(opt_out.method, path, body=body, idempotent=True)
        except TargetError as exc:
            return failure_outcome(row, exc, remote_id)
        return Outcome(row, "opted_out", remote_id)

    # -- lists added after a write, a request per list ---------------------------------
    def add_to_lists(self, results: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
        """``grouped_after``: every landed contact (not opted out in the file) added to its
        lists, at most ``lists_batch`` ids a request; failures marked on the rows."""
        if self.description.lists.how != "grouped_after" or "lists" not in contacts.columns:
            return results
        failed = [
            f
            for batch in self.parallel(
                self._add_batch, _batches(results, contacts, self.options), "lists"
            )
            for f in batch
        ]
        if not failed:
            return results
        notes = (
            pl.DataFrame(failed, schema={"row": pl.Int64, "_note": pl.String}, orient="row")
            .group_by("row", maintain_order=True)
            .agg(pl.col("_note").str.join("; "))
        )
        code = pl.when(pl.col("_note").is_not_null()).then(
            pl.lit(self.description.lists.error_code)
        )
        return (
            results.join(notes, on="row", how="left", maintain_order="left")
            .with_columns(
                code.otherwise("error_code").alias("error_code"),
                pl.coalesce("_note", "error_message").alias("error_message"),
            )
            .drop("_note")
        )

    def _add_batch(self, batch: tuple[str, list[int], list[str]]) -> list[tuple[int, str]]:
        list_id, rows, remote_ids = batch
        lists = self.description.lists
        body = self.fill(lists.body, ids=remote_ids, list=list_id)
        try:  # adding a member twice is a no-op: safe to retry
            self.send("POST", lists.path, body=body, idempotent=True)
        except AuthError:
            raise
        except TargetError as exc:
            message = str(self.text(lists.failed, list=list_id, error=error_detail(exc)))
            return [(row, message) for row in rows]
        return []


def _batches(
    results: pl.DataFrame, contacts: pl.DataFrame, options: dict[str, Any]
) -> list[tuple[str, list[int], list[str]]]:
    """(list id, rows, remote ids) for every landed contact not opted out in the file."""
    out = pl.col("opted_out").fill_null(False) if "opted_out" in contacts.columns else pl.lit(False)
    members = (
        results.filter(pl.col("status").is_in(LANDED))
        .select("row", "remote_id")
        .join(contacts.select("row", "lists", out.alias("_out")), on="row")
        .filter(~pl.col("_out"))
        .explode("lists")
        .filter(pl.col("lists").is_not_null() & (pl.col("lists") != ""))
        .group_by("lists", maintain_order=True)
        .agg("row", "remote_id")
    )
    size = int(options.get("lists_batch", 1000))
    return [
        (list_id, rows[start : start + size], ids[start : start + size])
        for list_id, rows, ids in members.iter_rows()
        for start in range(0, len(rows), size)
    ]


def target_type(description: Description, base: type[Engine] = Engine) -> type[Engine]:
    """The ``Target`` class of a description (``base``: its hooks' class, if any)."""
    d = description
    attributes = {
        "name": d.name,
        "description": d,
        "capabilities": capabilities(d),
        "auth": Auth(
            header=d.api.auth_header or None,
            prefix=d.api.auth_prefix,
            query=d.api.auth_query or None,
        ),
    }
    return type(f"{d.name.title()}Target", (base,), attributes)


def capabilities(d: Description) -> Capabilities:
    """What ``contact-sync targets`` shows and what the diff and push go by."""
    bulk = int(d.options.get("batch_size", 1)) if d.create.batch else 1
    delete = {"each": 1, "none": 0}.get(d.delete.how) or int(d.options.get("delete_batch", 1000))
    return Capabilities(
        can_list=d.listing.paging != "none",
        bulk_create=bulk,
        can_update=d.update.how != "none",
        can_delete=d.delete.how != "none",
        bulk_delete=delete,
        opt_out="none" if d.opt_out.how == "none" else d.about.opt_out,
        lists=d.about.lists,
        page_size=int(d.options.get("page_size", 1)),
        rate_limit=d.limits.rate_per_minute or None,
        bulk_rate_limit=d.limits.bulk_rate_per_minute or None,
        default_concurrency=d.limits.concurrency,
        fields=d.fields.compared,
        default_base_url=d.api.base_url or None,
        required_options=d.api.required_options,
        known_options=(*d.options, *COMMON_OPTIONS),
        requires=d.requires,
        identity_options=d.api.identity_options,
        notes=d.about.notes,
        opt_out_readable=d.opt_out.readable,
    )
