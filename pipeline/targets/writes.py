"""The write side of a description: creates (one request a contact, batches answering
counts only, bulk upserts) and what to do when a write's outcome is unknown, updates.

A write that failed in a way that leaves unknown whether it landed is never sent again
blindly: the phone is looked up first and only what is missing is sent again, in as many
rounds as the run's retry budget allows (``--retry-timeout``; ``ApiClient.another_round``
waits a backoff between rounds), the one strategy of every target. ``resolve = "each"``
settles each row at once (look up, resend); ``"together"`` sends every row, then looks
all the unsure ones up in one read and sends again only the missing ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import polars as pl

from pipeline.errors import AuthError, ConflictError, TargetError
from pipeline.http import AmbiguousWriteError, error_detail
from pipeline.targets.base import Outcome, failure_outcome, outcomes_frame, status_rows
from pipeline.targets.calls import Described, dig
from pipeline.targets.frames import body_of
from pipeline.targets.serialize import json_array, json_objects

#: sends the rows of a frame once (``resent``: not the first time); an outcome a row,
#: None where it is unknown whether the write landed
Send = Callable[[pl.DataFrame, bool], list[Outcome | None]]


class Writes(Described):
    # -- bodies ------------------------------------------------------------------------
    def create_body(self, contact: dict[str, Any]) -> dict[str, Any]:
        create = self.description.create
        body = {**self.fill(create.body), **body_of(contact, self.write_names(create.fields))}
        if create.lists_key and contact.get("lists"):
            body[create.lists_key] = list(contact["lists"])
        if contact.get("opted_out"):
            body.update(self.fill(self.description.fields.opted_out_write))
        return body

    def update_body(self, contact: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        """The changed fields an update takes; a cleared one left out, sent as null, or
        sent as the server's default (``[update] cleared``)."""
        update, fields = self.description.update, self.description.fields
        names = self.write_names(update.fields)
        body: dict[str, Any] = {}
        for name in (c for c in changes if c in names):
            value = contact.get(name)
            if value is None or value == "" or value == []:
                if update.cleared == "omit":
                    continue
                value = None if update.cleared == "null" else self.text(fields.read_as_null[name])
            elif name == "metadata" and isinstance(value, str):
                value = json.loads(value)
            body[names[name]] = value
        if "opted_out" in changes and contact.get("opted_out"):
            body.update(self.fill(fields.opted_out_write))  # an opt-out is never undone
        return body

    # -- one request a contact, each row settled at once --------------------------------
    def create_one(self, contact: dict[str, Any], blind: bool = False) -> Outcome:
        """``blind`` (create-only without reading): nothing is looked up; a 409 is a
        contact that exists, or after an unknown outcome, ours."""
        create = self.description.create
        row, sent = contact["row"], False
        body = self.create_body(contact)
        since, rounds = 0.0, 0
        while True:
            rounds += 1
            try:
                answer = self.send_json("POST", create.path, body=body)
            except AmbiguousWriteError as exc:
                since, sent = since if sent else self.client.budget.start(), True
                found = None if blind else self.find_for(row, contact["e164"])
                if isinstance(found, Outcome):
                    return found
                if found is not None:
                    return self.created(contact, str(found[self.names["remote_id"]]))
                if self.client.another_round(since, rounds, exc):
                    continue
                break
            except ConflictError as exc:
                return self._exists(contact, sent) if blind else self.conflict(contact, exc, sent)
            except TargetError as exc:
                return failure_outcome(row, exc)
            if blind:
                return Outcome(row, "created", self.record_id(answer, create.answer, create.ids))
            return self._created_by(contact, answer)
        gave_up = "gave up: the create kept failing" if blind else create.ambiguous.gave_up
        return Outcome(row, "failed", None, "failed", self.gave_up(gave_up, rounds))

    def _created_by(self, contact: dict[str, Any], answer: Any) -> Outcome:
        create = self.description.create
        remote_id = self.record_id(answer, create.answer, create.ids)
        if remote_id is None:  # an answer without the id: read it back
            found = self.find_for(contact["row"], contact["e164"])
            if isinstance(found, Outcome):
                return found
            if found is None:
                message = self.text("{name} accepted the contact but a lookup does not find it")
                return Outcome(contact["row"], "failed", None, "failed", message)
            remote_id = str(found[self.names["remote_id"]])
        return self.created(contact, remote_id)

    def conflict(self, contact: dict[str, Any], exc: ConflictError, sent: bool) -> Outcome:
        """A 409 answering a create (``[create.ambiguous] conflict``)."""
        if self.description.create.ambiguous.conflict == "lookup":
            found = self.find(contact["e164"])
            if found is not None:
                return self.created(contact, str(found[self.names["remote_id"]]))
        return failure_outcome(contact["row"], exc)

    def _exists(self, contact: dict[str, Any], sent: bool) -> Outcome:
        if sent:
            message = "created (its id could not be read back with this key)"
            return Outcome(contact["row"], "created", None, None, message)
        message = self.text("exists on {name} already; create-only mode leaves it as it is")
        return Outcome(contact["row"], "skipped", None, "exists_remotely", message)

    def created(self, contact: dict[str, Any], remote_id: str) -> Outcome:
        """A landed contact: send what the create could not take (``then_update``), add it
        to its lists (``each_after``), and report it created."""
        outcome = Outcome(contact["row"], "created", remote_id)
        update = self.description.update
        later = body_of(contact, self.write_names(self.description.create.then_update))
        if later:
            try:
                self.send(update.method, self.text(update.path, id=remote_id), body=later)
            except TargetError as exc:
                failed = failure_outcome(contact["row"], exc, remote_id)
                message = (
                    f"created, but {', '.join(sorted(later))} not saved: {failed.error_message}"
                )
                outcome = replace(outcome, error_code=failed.error_code, error_message=message)
        return self.with_lists(contact, outcome)

    def with_lists(self, contact: dict[str, Any], outcome: Outcome) -> Outcome:
        """Add a contact to its lists one request each (never one that opted out);
        failures go on the row."""
        lists = self.description.lists
        wanted = [str(x) for x in contact.get("lists") or [] if x]
        if lists.how != "each_after" or not wanted or contact.get("opted_out"):
            return outcome
        if outcome.remote_id is None:
            return outcome
        failed = [e for e in (self._add_to_list(outcome.remote_id, w) for w in wanted) if e]
        if not failed:
            return outcome
        return replace(outcome, error_code=lists.error_code, error_message="; ".join(failed))

    def _add_to_list(self, remote_id: str, list_id: str) -> str | None:
        lists = self.description.lists
        body = self.fill(lists.body, id=remote_id, list=list_id)
        try:
            self.send("POST", lists.path, body=body, idempotent=True)
        except AuthError:
            raise
        except TargetError as exc:
            return str(self.text(lists.failed, list=list_id, error=error_detail(exc)))
        return None

    # -- rows settled together -------------------------------------------------------
    def create_together(self, contacts: pl.DataFrame) -> pl.DataFrame:
        def send(pending: pl.DataFrame, resent: bool) -> list[Outcome | None]:
            rows = list(pending.iter_rows(named=True))
            return self.parallel(lambda c: self._send_new(c, resent), rows, "creating")

        return outcomes_frame(self.settle(contacts, send)).sort("row")

    def _send_new(self, contact: dict[str, Any], resent: bool) -> Outcome | None:
        create = self.description.create
        try:
            answer = self.send_json("POST", create.path, body=self.create_body(contact))
        except AmbiguousWriteError:
            return None
        except ConflictError as exc:
            # after an unknown outcome, a conflict may well mean our own write landed
            if resent and create.ambiguous.conflict == "unknown_if_resent":
                return None
            return failure_outcome(contact["row"], exc)
        except TargetError as exc:
            return failure_outcome(contact["row"], exc)
        remote_id = self.record_id(answer, create.answer, create.ids)
        return None if remote_id is None else self.created(contact, remote_id)

    def settle(self, pending: pl.DataFrame, send: Send) -> list[Outcome]:
        """Send, look up what is unknown in one read, send again only what is missing."""
        policy = self.description.create.ambiguous
        outcomes: list[Outcome] = []
        since, rounds = 0.0, 0
        while True:
            rounds += 1
            sent = send(pending, rounds > 1)
            since = since or self.client.budget.start()  # unknown outcomes from here
            outcomes += [o for o in sent if o is not None]
            unsure = pending.filter(pl.Series([o is None for o in sent], dtype=pl.Boolean))
            if unsure.is_empty():
                return outcomes
            try:
                landed, pending = self.landed(unsure)
            except AuthError:
                raise
            except TargetError as exc:
                message = self.text(policy.check_failed, error=exc)
                return outcomes + [
                    Outcome(r, "failed", None, "failed", message) for r in unsure["row"]
                ]
            outcomes += landed
            if pending.is_empty():
                return outcomes
            if not self.client.another_round(
                since, rounds, self.text(policy.gave_up, rounds=rounds)
            ):
                break
        message = self.gave_up(policy.gave_up, rounds)
        return outcomes + [Outcome(r, "failed", None, "failed", message) for r in pending["row"]]

    def landed(self, unsure: pl.DataFrame) -> tuple[list[Outcome], pl.DataFrame]:
        """The rows now on the target (read back by phone) as outcomes, and the rest."""
        found = self.lookup(unsure["e164"].to_list()).select("e164", "remote_id")
        ids = {e164: rid for e164, rid in found.iter_rows() if e164 and rid}
        here = [c for c in unsure.iter_rows(named=True) if c["e164"] in ids]
        outcomes = self.parallel(lambda c: self.created(c, ids[c["e164"]]), here, "checking")
        return outcomes, unsure.filter(~pl.col("e164").is_in(list(ids)))

    # -- batches answering counts only ----------------------------------------------------
    def create_counted(self, contacts: pl.DataFrame) -> pl.DataFrame:
        """Batches, then the created contacts read back by phone; the rows not found go
        one request each (``create_one``)."""
        landed = self.send_counted(self.batches(contacts), contacts).select("e164", "remote_id")
        joined = contacts.drop("remote_id", strict=False).join(
            landed, on="e164", how="left", maintain_order="left"
        )
        created = status_rows(joined.filter(pl.col("remote_id").is_not_null()), "created")
        missing = list(joined.filter(pl.col("remote_id").is_null()).iter_rows(named=True))
        sent = self.parallel(self.create_one, missing, "creating")
        return pl.concat([created, outcomes_frame(sent)]).sort("row")

    def send_counted(self, chunks: list[pl.DataFrame], contacts: pl.DataFrame) -> pl.DataFrame:
        """Send the batches; the contacts of ``contacts`` on the target now."""
        self.parallel(self.send_batch, chunks, "creating")
        return self.lookup(contacts["e164"].to_list())

    def batches(self, contacts: pl.DataFrame) -> list[pl.DataFrame]:
        """Batches of at most ``chunk_size``; with ``lists_key``, of contacts sharing their
        lists (the key is one for a whole batch)."""
        if not self.description.create.lists_key or "lists" not in contacts.columns:
            return list(contacts.iter_slices(self.chunk_size))
        lists = pl.col("lists").fill_null(pl.lit([], pl.List(pl.String)))
        key = contacts.with_columns(lists.list.sort().list.join("\x1f").alias("_lists_key"))
        groups = key.partition_by("_lists_key", maintain_order=True)
        return [c.drop("_lists_key") for g in groups for c in g.iter_slices(self.chunk_size)]

    def send_batch(self, chunk: pl.DataFrame) -> int:
        """One batch create; how many contacts it says it created (0 when unknown)."""
        create = self.description.create
        assert create.batch is not None
        objects = json_objects(chunk, self.write_names(create.fields))
        body = b"{" + json.dumps(create.batch.records).encode() + b":" + json_array(objects)
        lists = chunk["lists"][0] if "lists" in chunk.columns and chunk.height else None
        if create.lists_key and lists is not None and len(lists):
            body += b"," + json.dumps({create.lists_key: list(lists)})[1:-1].encode()
        try:
            answer = self.send_json("POST", create.batch.path, content=body + b"}", bulk=True)
        except AmbiguousWriteError:
            return 0  # the read-back tells what landed; what did not is sent one by one
        except TargetError as exc:
            if exc.status in (401, 403):
                raise
            return 0
        created = dig(answer, create.batch.counted)
        return created if isinstance(created, int) and created > 0 else 0

    # -- bulk upserts ------------------------------------------------------------------
    def create_bulk(self, contacts: pl.DataFrame) -> list[Outcome]:
        chunks = list(self.prepare(contacts).iter_slices(self.chunk_size))
        done = self.parallel(lambda c: self.settle(c, self._bulk_create), chunks, "creating")
        return [o for chunk in done for o in chunk]

    def prepare(self, contacts: pl.DataFrame) -> pl.DataFrame:
        """The rows as a bulk write sends them (a hook: a field the API requires)."""
        return contacts

    def _bulk_create(self, pending: pl.DataFrame, resent: bool) -> list[Outcome | None]:
        names = self.write_names(self.description.create.fields)
        try:
            return list(self.upsert(pending, json_objects(pending, names), "created"))
        except AmbiguousWriteError:
            return [None] * pending.height
        except TargetError as exc:
            return list(_fail_all(pending, exc))

    def update_bulk(self, contacts: pl.DataFrame) -> list[Outcome]:
        chunks = list(contacts.iter_slices(self.chunk_size))
        return [o for c in self.parallel(self._update_chunk, chunks, "updating") for o in c]

    def _update_chunk(self, chunk: pl.DataFrame) -> list[Outcome]:
        bodies = [self.upsert_body(record) for record in chunk.iter_rows(named=True)]
        try:  # an upsert by phone with the same values is idempotent: safe to retry
            return self.upsert(chunk, bodies, "updated", idempotent=True)
        except TargetError as exc:
            return _fail_all(chunk, exc)

    def upsert_body(self, contact: dict[str, Any]) -> dict[str, Any]:
        """What an update sends through the bulk upsert: the phone and the changes."""
        phone = self.write_names(("e164",))["e164"]
        return {phone: contact["e164"], **self.update_body(contact, contact["changes"] or [])}

    def upsert(
        self,
        chunk: pl.DataFrame,
        bodies: list[dict[str, Any]] | pl.Series,
        status: str,
        idempotent: bool | None = None,
    ) -> list[Outcome]:
        """One bulk request; its answer → one outcome a row (``bulk_answer``)."""
        batch = self.description.create.batch
        assert batch is not None
        key = json.dumps(batch.records).encode()
        if isinstance(bodies, pl.Series):
            content = b"{" + key + b":" + json_array(bodies) + b"}"
        else:
            content = json.dumps({batch.records: bodies}, separators=(",", ":")).encode()
        answer = self.send_json(
            "POST", batch.path, content=content, bulk=True, idempotent=idempotent
        )
        return self.bulk_answer(chunk, answer if isinstance(answer, dict) else {}, status)

    def bulk_answer(
        self, chunk: pl.DataFrame, answer: dict[str, Any], status: str
    ) -> list[Outcome]:
        """Rows the answer names (by index: ``bulk_errors``; by phone), and the rest
        read back: landed, or failed saying the answer named neither."""
        errors = self.bulk_errors(answer)
        phone, id_field = self.names["e164"], self.names["remote_id"]
        records = dig(answer, self.description.create.batch.records) or []  # type: ignore[union-attr]
        named = {r.get(phone): r for r in records if isinstance(r, dict)}
        outcomes: list[Outcome] = []
        unresolved: list[int] = []
        for index, (row, e164, remote_id) in enumerate(
            zip(chunk["row"], chunk["e164"], _remote_ids(chunk), strict=True)
        ):
            if index in errors:
                outcomes.append(Outcome(row, "failed", remote_id, "rejected", errors[index]))
            elif e164 in named:
                record = named[e164]
                outcomes.append(
                    Outcome(row, self.answered(record, answer, status), str(record[id_field]))
                )
            else:
                unresolved.append(index)
        rest = chunk.with_row_index("_i").filter(pl.col("_i").is_in(unresolved)).drop("_i")
        return outcomes + self._read_back_unresolved(rest, status)

    def bulk_errors(self, answer: dict[str, Any]) -> dict[int, str]:
        """Rows a bulk answer refused, by index, with the reason (a hook)."""
        return {}

    def answered(self, record: dict[str, Any], answer: dict[str, Any], status: str) -> str:
        """The status of a row a bulk answer names (a hook: created or updated)."""
        return status

    def _read_back_unresolved(self, rest: pl.DataFrame, status: str) -> list[Outcome]:
        if rest.is_empty():
            return []
        try:
            found = self.lookup(rest["e164"].to_list()).select("e164", "remote_id")
        except TargetError as exc:
            return _unknown(rest, self.text("not in {name}'s answer; read-back: {e}", e=exc), exc)
        ids = dict(found.iter_rows())
        outcomes = [
            Outcome(r, status, ids[e])
            for r, e in rest.select("row", "e164").iter_rows()
            if ids.get(e)
        ]
        missing = rest.filter(~pl.col("e164").is_in([e for e, i in ids.items() if i]))
        reason = self.text("{name}'s bulk answer named neither this contact nor an error for it")
        return outcomes + _unknown(missing, reason)


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
