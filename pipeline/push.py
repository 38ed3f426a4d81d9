"""Execute a plan against a target → the results frame (the plan with a final status).

Plan actions become statuses: create → created, update → updated, delete → deleted,
unchanged → unchanged, skip → skipped; invalid and duplicate stay. A row the target
refused or that failed after retries is ``failed`` with its reason. Nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from pipeline.targets.base import RESULT_SCHEMA, Target

#: told after each step ("create", "update", "delete", "opt_out") with its result rows
StepDone = Callable[[str, pl.DataFrame], None]

_FINAL = {"create": "created", "update": "updated", "delete": "deleted", "skip": "skipped"}


def execute_plan(
    plan: pl.DataFrame, target: Target, *, blind: bool = False, on_step: StepDone | None = None
) -> pl.DataFrame:
    """Send the plan's writes; return the plan with ``status``, ``remote_id`` and errors.

    ``blind``: the remote set was not read, so creates may meet existing contacts.
    ``on_step``: told what each step confirmed (the journal records it).
    """
    create = target.create_blind if blind else target.create
    steps = [
        ("create", create, plan.filter(pl.col("action") == "create")),
        ("update", target.update, _field_updates(plan)),
        ("delete", target.delete, plan.filter(pl.col("action") == "delete")),
    ]
    outcomes = []
    for name, step, rows in steps:
        outcomes.append(_run(step, rows))
        if on_step is not None and rows.height:
            on_step(name, outcomes[-1])
    results = (
        pl.concat([o for o in outcomes if o.height], how="vertical_relaxed")
        if any(o.height for o in outcomes)
        else _empty()
    )
    merged = _merge(plan, results)
    opt_outs = _opt_outs(merged)
    if opt_outs.height:
        opted = _run(target.opt_out, opt_outs)
        if on_step is not None:
            on_step("opt_out", opted)
        merged = _merge_opt_outs(merged, opted)
    return merged


def _run(step: object, rows: pl.DataFrame) -> pl.DataFrame:
    if rows.is_empty():
        return _empty()
    result: pl.DataFrame = step(rows)  # type: ignore[operator]
    return result.with_columns(pl.col("row").cast(pl.Int64))


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=RESULT_SCHEMA)


def _field_updates(plan: pl.DataFrame) -> pl.DataFrame:
    """Update rows whose changes go through the update call (opt-outs go separately)."""
    rows = plan.filter(pl.col("action") == "update").with_columns(
        pl.col("changes").list.set_difference(pl.lit(["opted_out"])).alias("changes")
    )
    return rows.filter(pl.col("changes").list.len() > 0)


def _merge(plan: pl.DataFrame, results: pl.DataFrame) -> pl.DataFrame:
    """Join results by row (remote-only rows by remote_id) and settle each status."""
    with_row = results.filter(pl.col("row").is_not_null())
    by_id = results.filter(pl.col("row").is_null()).drop("row")
    key = pl.coalesce(pl.col("row").cast(pl.String), pl.lit("id:") + pl.col("remote_id"))
    plan = plan.with_columns(key.alias("_key"))
    results = pl.concat(
        [
            with_row.with_columns(pl.col("row").cast(pl.String).alias("_key")).drop("row"),
            by_id.with_columns((pl.lit("id:") + pl.col("remote_id")).alias("_key")),
        ],
        how="vertical_relaxed",
    ).unique("_key", keep="last")
    joined = plan.join(results, on="_key", how="left", suffix="_result", maintain_order="left")
    default_status = pl.col("action").replace(_FINAL)
    return joined.with_columns(
        pl.coalesce(pl.col("status_result"), default_status).alias("status"),
        pl.coalesce(pl.col("remote_id_result"), pl.col("remote_id")).alias("remote_id"),
        pl.coalesce(pl.col("error_code_result"), pl.col("error_code")).alias("error_code"),
        pl.coalesce(pl.col("error_message_result"), pl.col("error_message")).alias("error_message"),
    ).drop(
        "_key",
        "status_result",
        "remote_id_result",
        "error_code_result",
        "error_message_result",
        strict=False,
    )


def _opt_outs(merged: pl.DataFrame) -> pl.DataFrame:
    landed = pl.col("status").is_in(["created", "updated", "unchanged"])
    return merged.filter(
        pl.col("opt_out").fill_null(False) & landed & pl.col("remote_id").is_not_null()
    )


def _merge_opt_outs(merged: pl.DataFrame, results: pl.DataFrame) -> pl.DataFrame:
    failed = results.filter(pl.col("status") == "failed").select(
        "row",
        pl.lit("failed").alias("status_opt"),
        pl.col("error_code").alias("error_code_opt"),
        (pl.lit("opt-out failed: ") + pl.col("error_message")).alias("error_message_opt"),
    )
    joined = merged.join(failed, on="row", how="left", maintain_order="left")
    return joined.with_columns(
        pl.coalesce("status_opt", "status").alias("status"),
        pl.coalesce("error_code_opt", "error_code").alias("error_code"),
        pl.coalesce("error_message_opt", "error_message").alias("error_message"),
    ).drop("status_opt", "error_code_opt", "error_message_opt")
