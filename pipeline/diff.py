"""Diff the checked file against the remote set → the plan frame.

The plan has one row per input record (in input order) and, in mirror mode, one per
remote contact the file lacks. ``action`` is what ``plan`` reports and ``sync``
executes: ``create``, ``update``, ``unchanged``, ``delete``, ``skip``, ``invalid``,
``duplicate``. A field counts as changed only when the file has a value for it (an empty
cell never blanks a remote value). A remote opt-out is never undone; an opted-out remote
contact is never deleted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal, cast

import polars as pl

from pipeline.dedupe import number_key
from pipeline.errors import GuardError, UsageError
from pipeline.outcomes import Code
from pipeline.targets.base import REMOTE_SCHEMA, Capabilities

Mode = Literal["upsert", "create-only", "update-only", "mirror"]
MODES: tuple[Mode, ...] = ("upsert", "create-only", "update-only", "mirror")

PLAN_COLUMNS = (
    "row",
    "phone_input",
    "e164",
    "action",
    "remote_id",
    "changes",
    "opt_out",
    "error_code",
    "error_message",
)


@dataclass(frozen=True)
class DeleteLimit:
    """``--max-deletes``: an absolute count, or a percentage of the remote set."""

    count: int | None = None
    percent: float | None = 10.0

    @classmethod
    def parse(cls, text: str) -> DeleteLimit:
        text = text.strip()
        try:
            if text.endswith("%"):
                return cls(percent=float(text[:-1]))
            return cls(count=int(text), percent=None)
        except ValueError as exc:
            raise UsageError(f"--max-deletes takes N or N%, not {text!r}") from exc

    def allowed(self, remote_total: int) -> int:
        if self.count is not None:
            return self.count
        return math.floor(remote_total * (self.percent or 0.0) / 100.0)


def plan_changes(
    checked: pl.DataFrame,
    remote: pl.DataFrame,
    capabilities: Capabilities,
    mode: Mode = "upsert",
    max_deletes: DeleteLimit | None = None,
) -> pl.DataFrame:
    """The plan frame (see the module docstring), of a file checked in one piece."""
    remote = unique_remote(remote)
    deletes = plan_deletes(remote, in_file_keys(checked), mode)
    if max_deletes is not None and mode == "mirror":
        guard_deletes(deletes, remote.height, max_deletes)
    planned = plan_records(checked, remote, capabilities, mode)
    return pl.concat([planned, deletes], how="diagonal_relaxed")


def unique_remote(remote: pl.DataFrame) -> pl.DataFrame:
    """The remote set as the diff uses it: canonical columns, one contact per number."""
    return remote.select([c for c in REMOTE_SCHEMA]).unique(
        "e164", keep="first", maintain_order=True
    )


def plan_records(
    checked: pl.DataFrame, remote: pl.DataFrame, capabilities: Capabilities, mode: Mode
) -> pl.DataFrame:
    """The plan rows of these checked records (a piece of the file will do: the diff of a
    record depends only on it and the remote set, ``unique_remote``)."""
    fields = [f for f in capabilities.fields if f in checked.columns]
    joined = checked.join(
        remote.rename({c: f"{c}_remote" for c in remote.columns if c not in ("e164",)}),
        on="e164",
        how="left",
        maintain_order="left",
    )
    has_metadata = "metadata" in fields and checked["metadata"].null_count() < checked.height
    if has_metadata:
        joined = joined.with_columns(_merged_metadata())
    zones = "timezone_source" in checked.columns
    joined = joined.with_columns(_changes(fields, zones), _opt_out_needed(capabilities))
    planned = joined.with_columns(_action(mode, capabilities)).with_columns(
        pl.col("remote_id_remote").alias("remote_id")
    )
    planned = planned.with_columns(_skip_reason(mode, capabilities))
    return planned.select(c for c in planned.columns if not c.endswith("_remote"))


def in_file_keys(checked: pl.DataFrame) -> pl.Series:
    """The numbers of a checked file (or piece) as integers (``number_key``), each once."""
    return checked.select(number_key()).drop_nulls().to_series().unique()


def _merged_metadata() -> pl.Expr:
    """The file's metadata keys over the remote ones (a key is never silently dropped)."""
    both = pl.struct(pl.col("metadata"), pl.col("metadata_remote"))
    merged = both.map_elements(_merge_json, return_dtype=pl.String, skip_nulls=False)
    return (
        pl.when(pl.col("metadata").is_null())
        .then(pl.col("metadata_remote"))
        .otherwise(merged)
        .alias("metadata")
    )


def _merge_json(pair: dict[str, Any]) -> str | None:
    if pair["metadata"] is None:
        return cast("str | None", pair["metadata_remote"])
    remote = json.loads(pair["metadata_remote"]) if pair["metadata_remote"] else {}
    local = {k: v for k, v in json.loads(pair["metadata"]).items() if v is not None}
    merged = {**remote, **local}
    return json.dumps(merged, sort_keys=True) if merged else None


def _changed(field: str) -> pl.Expr:
    local, remote = pl.col(field), pl.col(f"{field}_remote")
    if field in ("tags", "lists"):
        differs = local.list.sort() != remote.list.sort()
        has_value = local.list.len() > 0
    elif field == "metadata":
        differs = local != remote
        has_value = local.is_not_null()
    else:
        differs = local != remote
        has_value = local.is_not_null() & (local != "")
    return has_value & (remote.is_null() | differs.fill_null(True))


def _kept_remote_zone() -> pl.Expr:
    """False where a zone filled from the number meets one set remotely: an inferred zone
    never overwrites a remote one."""
    remote = pl.col("timezone_remote")
    inferred = (pl.col("timezone_source") == "phone").fill_null(False)
    return ~(inferred & remote.is_not_null() & (remote != ""))


def _changes(fields: list[str], zones: bool = False) -> pl.Expr:
    def changed(field: str) -> pl.Expr:
        if field == "timezone" and zones:
            return _changed(field) & _kept_remote_zone()
        return _changed(field)

    flags = [pl.when(changed(f)).then(pl.lit(f)) for f in fields]
    if not flags:
        return pl.lit([], pl.List(pl.String)).alias("changes")
    return pl.concat_list(flags).list.drop_nulls().alias("changes")


def _opt_out_needed(capabilities: Capabilities) -> pl.Expr:
    remote_out = pl.col("opted_out_remote").fill_null(False)
    return (pl.col("opted_out").fill_null(False) & ~remote_out).alias("opt_out")


def _action(mode: Mode, caps: Capabilities) -> pl.Expr:
    status = pl.col("status")
    exists = pl.col("remote_id_remote").is_not_null()
    has_changes = pl.col("changes").list.len() > 0
    may_create = mode != "update-only"
    may_update = mode != "create-only"
    cannot_opt_out = caps.opt_out == "none"
    return (
        pl.when(status != "valid")
        .then(status)
        .when(~exists & pl.col("opt_out") & pl.lit(cannot_opt_out))
        .then(pl.lit("skip"))
        .when(~exists)
        .then(pl.lit("create" if may_create else "skip"))
        .when(~has_changes & ~pl.col("opt_out"))
        .then(pl.lit("unchanged"))
        .when(pl.lit(not may_update))
        .then(pl.lit("skip"))
        .when(has_changes & pl.lit(not caps.can_update))
        .then(pl.lit("skip"))
        .when(pl.col("opt_out") & pl.lit(cannot_opt_out))
        .then(pl.lit("skip"))
        .otherwise(pl.lit("update"))
        .alias("action")
    )


def _skip_reason(mode: Mode, caps: Capabilities) -> list[pl.Expr]:
    """``error_code`` and ``error_message`` of skipped rows: the first reason that holds."""
    exists = pl.col("remote_id").is_not_null()
    changed = pl.col("changes").list.len() > 0
    reasons: list[tuple[pl.Expr, str, pl.Expr]] = [
        (
            ~exists & pl.col("opt_out"),
            Code.OPTED_OUT_IN_FILE,
            pl.lit(
                "the file marks this contact opted out and the target has no opt-out, so it is not created"
            ),
        ),
        (
            ~exists,
            Code.NOT_IN_REMOTE,
            pl.lit("update-only mode: the contact does not exist on the target"),
        ),
        (
            pl.lit(mode == "create-only"),
            Code.EXISTS_REMOTELY,
            pl.lit("create-only mode: the contact exists on the target and is left as it is"),
        ),
        (
            pl.lit(not caps.can_update) & changed,
            Code.UPDATE_UNSUPPORTED,
            pl.format(
                "the target cannot update contacts; changed: {}", pl.col("changes").list.join(", ")
            ),
        ),
        (
            pl.lit(True),
            Code.OPT_OUT_UNSUPPORTED,
            pl.lit("the file marks this contact opted out and the target has no opt-out"),
        ),
    ]
    code: pl.Expr = pl.col("error_code")
    message: pl.Expr = pl.col("error_message")
    for condition, reason_code, reason_message in reversed(reasons):
        applies = (pl.col("action") == "skip") & condition
        code = pl.when(applies).then(pl.lit(reason_code)).otherwise(code)
        message = pl.when(applies).then(reason_message).otherwise(message)
    return [code.alias("error_code"), message.alias("error_message")]


def plan_deletes(remote: pl.DataFrame, in_file: pl.Series, mode: Mode) -> pl.DataFrame:
    """Mirror mode: remote contacts the file lacks (opted-out ones are kept).

    ``remote`` is ``unique_remote``'s; ``in_file`` the file's numbers (``in_file_keys``).
    """
    if mode != "mirror":
        return pl.DataFrame()
    absent = remote.filter(~number_key().is_in(in_file.implode()).fill_null(False))
    opted_out = pl.col("opted_out").fill_null(False)
    return absent.select(
        pl.lit(None, pl.Int64).alias("row"),
        pl.lit(None, pl.String).alias("phone_input"),
        pl.col("e164"),
        pl.when(opted_out).then(pl.lit("skip")).otherwise(pl.lit("delete")).alias("action"),
        pl.col("remote_id"),
        pl.when(opted_out).then(pl.lit(Code.OPTED_OUT_REMOTELY, pl.String)).alias("error_code"),
        pl.when(opted_out)
        .then(
            pl.lit("opted out on the target: kept, since deleting it would erase its suppression")
        )
        .alias("error_message"),
    )


def guard_deletes(deletes: pl.DataFrame, remote_total: int, limit: DeleteLimit) -> None:
    """Stop before anything is written when mirror mode would delete more than allowed."""
    count = deletes.filter(pl.col("action") == "delete").height if deletes.height else 0
    allowed = limit.allowed(remote_total)
    if count > allowed:
        raise GuardError(
            f"mirror mode would delete {count} of {remote_total} remote contacts, more than "
            f"--max-deletes allows ({allowed}). Nothing was written. Check the file is complete, "
            f"or raise the limit (e.g. --max-deletes {count})."
        )


def require_mode(mode: str, capabilities: Capabilities, target: str) -> Mode:
    if mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "mirror" and not capabilities.can_list:
        raise UsageError(
            f"{target} cannot list its contacts, so mirror mode cannot know what to delete"
        )
    if mode == "mirror" and not capabilities.can_delete:
        raise UsageError(f"{target} cannot delete contacts: mirror mode is not available")
    return mode
