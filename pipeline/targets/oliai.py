"""oliai's quirks: a bulk answer that reports invalid items by index and tells created
from updated by its counts; the name oliai requires (the file's, else first + last
name, else the number); an update that keeps the remote name goes through ``PATCH``."""

from __future__ import annotations

from typing import Any

import polars as pl

from pipeline.targets.base import outcomes_frame
from pipeline.targets.engine import Engine


class Oliai(Engine):
    def prepare(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return contacts.with_columns(_display_name(contacts))

    def bulk_errors(self, answer: dict[str, Any]) -> dict[int, str]:
        return {
            int(e["index"]): str(e.get("reason") or "invalid contact")
            for e in answer.get("errors") or []
            if isinstance(e, dict) and isinstance(e.get("index"), int)
        }

    def answered(self, record: dict[str, Any], answer: dict[str, Any], status: str) -> str:
        """``created`` or ``updated`` from the answer's counts, or its timestamps when mixed."""
        created, updated = int(answer.get("created") or 0), int(answer.get("updated") or 0)
        if created and updated:
            same = record.get("createdAt") == record.get("updatedAt")
            return "created" if same else "updated"
        if created:
            return "created"
        return "updated" if updated else status

    def upsert_body(self, contact: dict[str, Any]) -> dict[str, Any]:
        """The phone (the upsert key), the name (the bulk endpoint requires it), the changes."""
        changes = self.update_body(contact, contact["changes"] or [])
        return {"phoneNumber": contact["e164"], "name": contact["name"], **changes}

    def update(self, contacts: pl.DataFrame) -> pl.DataFrame:
        by_patch = _keeps_remote_name(contacts)
        named = self.prepare(contacts)
        outcomes = self.update_bulk(named.filter(~by_patch))
        singles = list(named.filter(by_patch).iter_rows(named=True))
        outcomes += self.parallel(self.update_one, singles, "updating")
        return self.add_to_lists(outcomes_frame(outcomes).sort("row"), contacts)


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
