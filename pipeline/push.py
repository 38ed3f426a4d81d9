"""Execute a plan against a target → the results frame (the plan with a final status).

Plan actions become statuses: create → created, update → updated, delete → deleted,
unchanged → unchanged, skip → skipped; invalid and duplicate stay. A row the target
refused or that failed after retries is ``failed`` with its reason. Once the target is
``stopping`` (the run was interrupted), the writes not sent are ``skipped`` with
``interrupted``; once it halted (an answer outside its API), with ``halted``. Nothing is
dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import polars as pl

from pipeline.outcomes import Code, Status
from pipeline.targets.base import (
    HALTED_MESSAGE,
    INTERRUPTED_MESSAGE,
    RESULT_SCHEMA,
    Target,
    status_rows,
)

#: told after each step ("create", "update", "delete", "opt_out") with its result rows
StepDone = Callable[[str, pl.DataFrame], None]

_FINAL = {"create": "created", "update": "updated", "delete": "deleted", "skip": "skipped"}


@dataclass
class _Pending:
    """A plan piece whose writes are not all confirmed yet."""

    plan: pl.DataFrame
    #: its last input row (None: only remote contacts, e.g. mirror deletes)
    last_row: int | None
    outcomes: list[pl.DataFrame] = field(default_factory=list)


class PlanPusher:
    """Executes a plan handed over piece by piece, so that a big file's plan need not be
    in memory at once; ``add`` gives back the results of each piece once it is settled,
    in the order the pieces came.

    Creates go in full batches: the remainder of a piece waits for the next one, so a
    file takes ceil(creates / batch size) batch requests however it was cut into pieces
    (a piece's results therefore come with the next piece's). Updates and deletes go
    with their piece, and the opt-outs of a piece once its creates and updates landed.
    """

    def __init__(
        self, target: Target, *, blind: bool = False, on_step: StepDone | None = None
    ) -> None:
        self.target = target
        self.on_step = on_step
        self._create = target.create_blind if blind else target.create
        self._batch = target.chunk_size
        self._carry: pl.DataFrame | None = None  # creates waiting for a full batch
        self._pending: deque[_Pending] = deque()

    def _not_sent(self, rows: pl.DataFrame) -> pl.DataFrame:
        return _not_sent(rows, self.target.halted is not None)

    def add(self, plan: pl.DataFrame, *, last: bool = False) -> Iterator[pl.DataFrame]:
        """Send this piece's writes (``last``: and everything still waiting); yield the
        results of every piece settled by them."""
        rows = plan["row"].drop_nulls() if plan.height else pl.Series([], dtype=pl.Int64)
        self._pending.append(_Pending(plan, rows.max() if rows.len() else None))  # type: ignore[arg-type]
        creates = plan.filter(pl.col("action") == "create") if plan.height else plan
        waiting = creates if self._carry is None else pl.concat([self._carry, creates])
        ready = waiting.height if last else waiting.height - waiting.height % self._batch
        self._carry = waiting.slice(ready) if ready < waiting.height else None
        self._step("create", self._create, waiting.head(ready))
        if plan.height:
            self._step("update", self.target.update, _field_updates(plan))
            self._step("delete", self.target.delete, plan.filter(pl.col("action") == "delete"))
        yield from self._settled()

    def finish(self) -> Iterator[pl.DataFrame]:
        """Send what still waits; yield the results of the pieces not given back yet."""
        if self._carry is not None:
            waiting, self._carry = self._carry, None
            self._step("create", self._create, waiting)
        yield from self._settled()

    def _step(self, name: str, step: object, rows: pl.DataFrame) -> None:
        if rows.is_empty():
            return
        outcome = self._not_sent(rows) if self.target.stopping else _run(step, rows)
        if self.on_step is not None:
            self.on_step(name, outcome)
        numbered = outcome.filter(pl.col("row").is_not_null())
        first = None
        for pending in self._pending:
            if pending.last_row is None:
                continue
            mine = pl.col("row") <= pending.last_row
            if first is not None:
                mine = mine & (pl.col("row") > first)
            pending.outcomes.append(numbered.filter(mine))
            first = pending.last_row
        by_id = outcome.filter(pl.col("row").is_null())
        if by_id.height:  # remote contacts (deletes) belong to the piece sent last
            self._pending[-1].outcomes.append(by_id)

    def _settled(self) -> Iterator[pl.DataFrame]:
        while self._pending:
            head = self._pending[0]
            waiting = self._carry
            if (
                waiting is not None
                and head.last_row is not None
                and waiting["row"].min() <= head.last_row  # type: ignore[operator]
            ):
                return
            self._pending.popleft()
            yield self._results(head)

    def _results(self, piece: _Pending) -> pl.DataFrame:
        outcomes = [o for o in piece.outcomes if o.height]
        results = pl.concat(outcomes, how="vertical_relaxed") if outcomes else _empty()
        merged = _merge(piece.plan, results)
        opt_outs = _opt_outs(merged)
        if opt_outs.height:
            stopping = self.target.stopping
            opted = self._not_sent(opt_outs) if stopping else _run(self.target.opt_out, opt_outs)
            if self.on_step is not None:
                self.on_step("opt_out", opted)
            merged = _merge_opt_outs(merged, opted)
        return merged


def _run(step: object, rows: pl.DataFrame) -> pl.DataFrame:
    if rows.is_empty():
        return _empty()
    result: pl.DataFrame = step(rows)  # type: ignore[operator]
    return result.with_columns(pl.col("row").cast(pl.Int64))


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=RESULT_SCHEMA)


def _not_sent(rows: pl.DataFrame, halted: bool) -> pl.DataFrame:
    """The rows of a step not sent because the run is stopping (``halted``: after an
    answer outside the target's documented API)."""
    if halted:
        return status_rows(rows, Status.SKIPPED, Code.HALTED, HALTED_MESSAGE)
    return status_rows(rows, Status.SKIPPED, Code.INTERRUPTED, INTERRUPTED_MESSAGE)


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
    results = results.rename({c: f"{c}_result" for c in results.columns if c != "_key"})
    joined = plan.join(results, on="_key", how="left", maintain_order="left")
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
    """Rows whose opt-out failed become ``failed``; those whose opt-out was not sent
    (interrupted) ``skipped``, their message saying what did land."""
    interrupted = pl.col("error_code") == Code.INTERRUPTED
    missed = results.filter((pl.col("status") == "failed") | interrupted).select(
        "row",
        pl.when(interrupted)
        .then(pl.lit("skipped"))
        .otherwise(pl.lit("failed"))
        .alias("status_opt"),
        pl.col("error_code").alias("error_code_opt"),
        pl.when(interrupted)
        .then(pl.lit("landed, but its opt-out was ") + pl.col("error_message"))
        .otherwise(pl.lit("opt-out failed: ") + pl.col("error_message"))
        .alias("error_message_opt"),
    )
    joined = merged.join(missed, on="row", how="left", maintain_order="left")
    return joined.with_columns(
        pl.coalesce("status_opt", "status").alias("status"),
        pl.coalesce("error_code_opt", "error_code").alias("error_code"),
        pl.coalesce("error_message_opt", "error_message").alias("error_message"),
    ).drop("status_opt", "error_code_opt", "error_message_opt")
