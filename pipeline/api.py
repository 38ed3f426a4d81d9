"""The Python API: ``validate``, ``plan`` and ``sync``, each returning a ``RunResult``.

The CLI is a thin layer over these, and so can be Airflow, Dagster or a notebook::

    from pipeline import api
    from pipeline.config import Settings
    result = api.sync(Settings(input="contacts.csv", target="arnis", base_url=URL))
    result.summary.counts, result.exit_code, result.results  # a polars frame

This module is the public face only; the run machinery is the package ``pipeline.run``.
"""

from __future__ import annotations

import time

from pipeline.config import Settings
from pipeline.errors import GuardError
from pipeline.interrupt import StopRequest
from pipeline.output_paths import resolve_outputs
from pipeline.progress import NullProgress, Progress
from pipeline.result import RunResult as RunResult  # the public face: pipeline.api.RunResult
from pipeline.run.finish import finish, run_outputs
from pipeline.run.load import guard_invalid, load

__all__ = ["RunResult", "plan", "sync", "validate"]


def validate(
    settings: Settings, progress: Progress | None = None, *, keep_results: bool = True
) -> RunResult:
    """Read, validate, normalize and dedupe; nothing leaves the machine.

    ``results`` holds the report's columns (and ``name``) of every record. With
    ``keep_results=False`` (the CLI) the records go only to the report and the summary,
    and ``results`` is not available (an HTML report keeps them all the same).
    """
    started = time.monotonic()
    paths = resolve_outputs(settings)
    progress = progress or NullProgress()
    with run_outputs(paths, keep_results) as outputs:
        loaded = load(settings, progress, outputs)
        try:
            guard_invalid(settings, loaded.tally)
        except GuardError as tripped:
            finish("validate", paths, loaded, outputs, started, aborted=tripped)
            raise
        return finish("validate", paths, loaded, outputs, started)


# The target side (HTTP client, adapters, diff, push, journal) is imported by plan and
# sync when they run: validate, which never leaves the machine, starts without it.


def plan(
    settings: Settings, progress: Progress | None = None, *, keep_results: bool = True
) -> RunResult:
    """Validate, read the remote set and diff: what ``sync`` would do. Writes nothing remote.

    ``keep_results=False`` (the CLI): the results and the plan go to the report and the
    summary only, and are not kept for ``results`` and ``plan``.
    """
    started = time.monotonic()
    from pipeline.run import planning  # the target side, see above

    return planning.plan(settings, progress or NullProgress(), keep_results, started)


def sync(
    settings: Settings,
    progress: Progress | None = None,
    *,
    keep_results: bool = True,
    stop: StopRequest | None = None,
) -> RunResult:
    """Validate, diff and push: the main job. Holds the state-dir lock while it runs.

    The plan is written whole to the journal before anything is sent; then it is pushed
    piece by piece (``PlanPusher``), each piece's results going to the report as it
    settles. ``keep_results`` as for ``plan``. Once ``stop`` is set during the push, no
    write is sent any more: the rows not sent are ``skipped`` (``interrupted``), the
    outputs and the journal are written, and ``RunInterrupted`` is raised (exit 3). When
    the API asks to wait longer than the retry budget allows (``Retry-After``), the rows
    not sent are ``failed``, the outputs are written, and ``RunCutShort`` is raised
    (exit 3).
    """
    started = time.monotonic()
    from pipeline.run import syncing  # the target side, see above

    progress = progress or NullProgress()
    return syncing.sync(settings, progress, keep_results, started, stop or StopRequest())
