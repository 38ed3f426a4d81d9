"""``sync``, the command: under the state-dir lock, the file checked and the plan made
(``planning``), then the plan journaled whole and pushed piece by piece (``PlanPusher``),
each piece's results going to the outputs as it settles and the numbers it opted out
journaled (``push_plan``), until done or stopped."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import RunCutShort
from pipeline.interrupt import StopRequest, interruption
from pipeline.journal import Journal
from pipeline.lock import RunLock
from pipeline.output_paths import OutputPaths, resolve_outputs
from pipeline.progress import Progress
from pipeline.push import PlanPusher
from pipeline.result import RunResult
from pipeline.run.finish import finish, run_outputs
from pipeline.run.load import Loaded, raw_pieces
from pipeline.run.outputs import RunOutputs
from pipeline.run.planning import load_and_plan, run_extra
from pipeline.run.spool import Spool
from pipeline.run.target import open_target
from pipeline.run_state import identity_of, journal_of, record_opt_outs
from pipeline.targets.base import Target


def push_plan(
    blind: bool,
    target: Target,
    journal: Journal,
    loaded: Loaded,
    plans: Spool,
    outputs: RunOutputs,
) -> None:
    """The plan journaled whole, then pushed piece by piece, each piece's results going to
    the outputs as it settles (``blind``: --skip-remote-read)."""
    journal.record_plan(plans.scan())
    pusher = PlanPusher(target, blind=blind, on_step=journal.record_step)
    raw = raw_pieces(loaded)
    count = len(plans)
    pieces = plans.pieces() if outputs.kept is not None else plans.drain()
    for index, piece in enumerate(pieces):
        for results in pusher.add(piece, last=index == count - 1):
            record_opt_outs(results, journal)
            outputs.add(results, next(raw))
    for results in pusher.finish():
        record_opt_outs(results, journal)
        outputs.add(results, next(raw))
    assert outputs.tally is not None  # a piece at least
    ended = "interrupted" if target.stopping else "done"
    journal.record(ended, counts=dict(outputs.tally.statuses.iter_rows()))


def cut_short(target: Target, paths: OutputPaths) -> RunCutShort | None:
    """What a run ends with when its API asked to wait longer than the retry budget
    allows (the rows not sent are failed with that reason), else None."""
    refusal = target.client.budget.refusal
    if refusal is None:
        return None
    written = ", ".join(str(path) for _, path in paths.given())
    where = f"; written: {written}" if written else ""
    return RunCutShort(f"{target.name}: {refusal}. The rows not sent are reported failed{where}")


def sync(
    settings: Settings, progress: Progress, keep_results: bool, started: float, stop: StopRequest
) -> RunResult:
    """``pipeline.api.sync``: the plan made and pushed under the state-dir lock."""
    paths = resolve_outputs(settings)
    target = open_target(settings, progress)
    identity = identity_of(target)
    try:
        # The lock first, held to the last file written: the remote set read while the
        # file is checked is one no other run of this tool is changing.
        with RunLock(
            Path(settings.state_dir),
            identity.key,
            describe=identity.text,
            legacy_keys=identity.legacy_keys,
        ):
            journal = journal_of(settings, target)
            reset = journal.reset() if settings.reset_state else None
            loaded, plans = load_and_plan(settings, target, progress)
            target.stop_writes_on(stop.event)
            with stop.graceful(), run_outputs(paths, keep_results, loaded.table.headers) as outputs:
                push_plan(settings.skip_remote_read, target, journal, loaded, plans, outputs)
                kept_plan = plans if outputs.kept is not None else None
                extra = run_extra(settings, target)
                if reset is not None:
                    extra["state_reset"] = reset
                stopped = interruption(stop, outputs.tally, paths) or cut_short(target, paths)
                result = finish(
                    "sync", paths, loaded, outputs, started, kept_plan, extra, aborted=stopped
                )
    finally:
        target.close()
    if stopped is not None:
        stopped.result = result
        raise stopped
    return result
