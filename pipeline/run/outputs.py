"""Where a run's per-row results go, piece by piece, as soon as a piece is settled.

Every command hands its results over in pieces (the pieces of the file, in order, and
then a sync's remote-only rows): each is counted for the summary (``Tally``), appended
to the report and the rejects file, and kept for the Python API only when asked, in a
``Spool``. So a run holds one piece of results at a time, however big the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import polars as pl

from pipeline.report import ReportWriter, Tally, write_rejects
from pipeline.run.spool import Spool
from pipeline.staged import StagedFile


class RunOutputs:
    """The report, the rejects file, the tally and (``keep``) the results of one run.

    The report and the rejects file are written to temporary files beside their final
    names (``StagedFile``) and renamed into place by ``commit``; used as a context
    manager, whatever was not committed is discarded at the end.
    """

    def __init__(
        self,
        *,
        report: Path | None,
        rejects: Path | None,
        headers: Sequence[str] = (),
        keep: bool = False,
    ) -> None:
        self.report = ReportWriter(report) if report else None
        self.rejects = StagedFile(rejects) if rejects else None
        self.headers = list(headers)
        self.rejected = 0
        self.tally: Tally | None = None
        self.kept = Spool() if keep else None
        self._rejects_started = False

    @property
    def keeps_rows(self) -> bool:
        """Whether the records themselves go anywhere (else they are only counted)."""
        return self.report is not None or self.rejects is not None or self.kept is not None

    def add(self, results: pl.DataFrame, raw: pl.DataFrame | None = None) -> None:
        """One settled piece; ``raw``: its rows as read, for the rejects file."""
        tally = Tally.of(results)
        self.tally = tally if self.tally is None else self.tally + tally
        if self.report is not None:
            self.report.add(results)
        if self.rejects is not None and raw is not None:
            self.rejected += write_rejects(
                raw, self.headers, results, self.rejects, append=self._rejects_started
            )
            self._rejects_started = True
        if self.kept is not None:
            self.kept.add(results)

    def commit(self) -> None:
        """Rename the report and the rejects file into place."""
        if self.report is not None:
            self.report.commit()
        if self.rejects is not None:
            self.rejects.commit()

    def discard(self) -> None:
        """Remove what was not committed (the final names keep what they held)."""
        if self.report is not None:
            self.report.discard()
        if self.rejects is not None:
            self.rejects.discard()

    def __enter__(self) -> RunOutputs:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()

    def results(self) -> pl.LazyFrame | None:
        """Every piece kept, in order (None when not kept)."""
        return self.kept.scan() if self.kept is not None else None
