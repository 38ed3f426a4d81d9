"""What a run produced (:class:`RunResult`), in a module of its own below the run
machinery: ``pipeline.api`` returns it and ``pipeline.html_report`` renders it, and
neither has to import the other for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pipeline.errors import UsageError
from pipeline.mapping import ColumnMapping
from pipeline.read import RawTable
from pipeline.report import Summary
from pipeline.run.spool import Spool


@dataclass
class RunResult:
    """What a run produced: the per-row results, the summary, the plan (plan/sync).

    ``table`` describes the input as read (headers, encoding, delimiter, rows that could
    not be read); its ``frame`` is empty: the raw rows are only read for the rejects file,
    written as the run goes. ``results`` and ``plan`` wait in a ``Spool`` (memory up to a
    budget, then disk) until first asked for, so that a big file's run needs the memory
    of a piece, not of the file.
    """

    #: None when the caller asked not to keep them (``keep_results=False``)
    source: pl.DataFrame | pl.LazyFrame | None
    summary: Summary
    mapping: ColumnMapping
    table: RawTable
    planned: pl.DataFrame | pl.LazyFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    spools: list[Spool] = field(default_factory=list, repr=False)

    @property
    def results(self) -> pl.DataFrame:
        """One row per record (and per remote contact a sync touched), in row order."""
        if self.source is None:
            raise UsageError(
                "this run kept no per-row results (keep_results=False): they are in its report"
            )
        if isinstance(self.source, pl.LazyFrame):
            self.source = self.source.collect()
        return self.source

    @property
    def plan(self) -> pl.DataFrame | None:
        """What plan and sync set out to do, a row per record and per remote-only contact
        (None for validate, or when the results were not kept)."""
        if isinstance(self.planned, pl.LazyFrame):
            self.planned = self.planned.collect()
        return self.planned

    @property
    def exit_code(self) -> int:
        return self.summary.exit_code
