"""The end of every run: where its results go (``run_outputs``), and once they are all
there the summary, the files committed into place, the HTML report and the summary JSON
(``finish``), and what the caller gets back (``RunResult``)."""

from __future__ import annotations

import time
from typing import Any

from pipeline.errors import ContactSyncError
from pipeline.html_report import write_html_report
from pipeline.output_paths import OutputPaths
from pipeline.report import summarise, write_summary_json
from pipeline.result import RunResult
from pipeline.run.load import Loaded
from pipeline.run.outputs import RunOutputs
from pipeline.run.spool import Spool


def run_outputs(paths: OutputPaths, keep: bool, headers: list[str] | None = None) -> RunOutputs:
    """Where the results go; ``keep``: also kept for the caller (always for an HTML report)."""
    return RunOutputs(
        report=paths.report,
        rejects=paths.rejects,
        headers=headers or [],
        keep=keep or paths.html_report is not None,
    )


def finish(
    command: str,
    paths: OutputPaths,
    loaded: Loaded,
    outputs: RunOutputs,
    started: float,
    planned: Spool | None = None,
    extra: dict[str, Any] | None = None,
    aborted: ContactSyncError | None = None,
) -> RunResult:
    """The summary of what went to ``outputs``, the files committed, the ``RunResult``."""
    assert outputs.tally is not None  # a piece at least went there
    summary = summarise(command, outputs.tally, time.monotonic() - started, extra)
    if aborted is not None:
        summary.exit_code = aborted.exit_code
        summary.extra["aborted"] = str(aborted)
    if outputs.report is not None:
        summary.extra["report"] = str(outputs.report.path)
    if outputs.rejects is not None:
        summary.extra["rejects_written"] = outputs.rejected
    if loaded.table.blank_rows:
        summary.extra["blank_rows"] = loaded.table.blank_rows
    if loaded.table.notes:
        summary.extra["input_notes"] = list(loaded.table.notes)
    summary.extra["files"] = {name: str(path) for name, path in paths.given()}
    outputs.commit()
    kept = outputs.kept
    spools = [s for s in (kept, planned) if s is not None]
    plan_frame = planned.scan() if planned is not None and kept is not None else None
    result = RunResult(
        outputs.results(), summary, loaded.mapping, loaded.table, plan_frame, extra or {}, spools
    )
    if paths.html_report:
        write_html_report(result, paths.html_report)
    if paths.summary_json:  # last: what a script waiting for it reads is the run's end
        write_summary_json(summary, paths.summary_json)
    return result
