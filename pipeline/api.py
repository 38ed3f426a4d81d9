"""The Python API: ``validate``, ``plan`` and ``sync``, each returning a ``RunResult``.

The CLI is a thin layer over these, and so can be Airflow, Dagster or a notebook::

    from pipeline import api
    from pipeline.config import Settings
    result = api.sync(Settings(input="contacts.csv", target="arnis", base_url=URL))
    result.summary.counts, result.exit_code, result.results  # a polars frame
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from pipeline.ahead import map_ahead, read_ahead
from pipeline.config import Settings, invalid_limit
from pipeline.dedupe import Deduper, first_valid_rows
from pipeline.errors import AuthError, ContactSyncError, GuardError, UsageError
from pipeline.mapping import ColumnMapping, map_columns, to_contact_frame
from pipeline.outputs import RunOutputs
from pipeline.progress import Bar, NullProgress, Progress
from pipeline.read import RawTable, read_chunks
from pipeline.report import (
    Summary,
    Tally,
    summarise,
    write_summary_json,
)
from pipeline.spool import Spool
from pipeline.validate import check_records

# The target side (HTTP client, adapters, diff, push, journal) is imported by plan and
# sync when they run: validate, which never leaves the machine, starts without it.
if TYPE_CHECKING:
    from pipeline.journal import Journal
    from pipeline.remote import RemoteRead
    from pipeline.targets.base import Target

_PLAN_STATUS = {
    "create": "create",
    "update": "update",
    "unchanged": "unchanged",
    "delete": "delete",
    "skip": "skip",
    "invalid": "invalid",
    "duplicate": "duplicate",
}


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


@dataclass
class _Loaded:
    """The input read and checked (the first pass)."""

    table: RawTable
    mapping: ColumnMapping
    #: what the summary counts of the checked records
    tally: Tally
    #: plan, sync: the checked pieces, for the diff
    pieces: Spool | None = None
    #: plan, sync with a rejects file: the raw rows of each piece
    raw: Spool | None = None
    #: every number in the file, as ``number_key`` (what mirror mode keeps remotely)
    numbers: pl.Series | None = None


@dataclass(frozen=True)
class _Prepared:
    """A piece of the input, its records checked each alone (``check_records``) and the
    first valid row of each number within it found (``first_valid_rows``): what is left is
    ``Deduper.settle``, which needs the pieces in order."""

    table: RawTable
    mapping: ColumnMapping
    records: pl.DataFrame


#: pieces checked at once, in threads, ahead of the dedupe. One more than the cores: much
#: of a piece's work is single-threaded polars calls, and with three a file of three
#: pieces (1M rows) never has a core idle waiting for its last piece (validate 1M,
#: medians of 8 interleaved runs: 3.51 s with three, 3.76 s with two, same CPU time).
_PREPARE_WORKERS = 3

#: what ``validate`` keeps of each record once its piece is checked (the report's columns)
_VALIDATE_COLUMNS = ("row", "phone_input", "e164", "status", "error_code", "error_message", "name")
#: the same when the records are only counted (no report, rejects file or kept results):
#: no name to derive
_COUNTED_COLUMNS = tuple(c for c in _VALIDATE_COLUMNS if c != "name")


def _load(settings: Settings, progress: Progress, outputs: RunOutputs | None = None) -> _Loaded:
    """Read, map and check the input piece by piece (see ``read_chunks``).

    Duplicates are found across pieces (the numbers kept so far are carried as integers).
    With ``outputs`` (validate) each checked piece keeps only the report's columns and goes
    there at once, so that memory follows the piece, not the file; without (plan, sync)
    each checked piece waits in a spool for the diff, with its raw rows when a rejects
    file is asked for.
    """
    if not settings.input:
        raise UsageError(
            "no input: give the path of a CSV file, a workbook or JSON Lines (or - for "
            "standard input), or input in the job file"
        )
    compact = outputs is not None
    tally: Tally | None = None
    first: RawTable | None = None
    mapping: ColumnMapping | None = None
    dedupe = Deduper(all_numbers=not compact)
    pieces = None if compact else Spool()
    raw = Spool() if not compact and settings.rejects else None
    errors_parts: list[pl.DataFrame] = []
    bar: Bar | None = None
    try:
        wanted = None
        if outputs is not None:
            wanted = _VALIDATE_COLUMNS if outputs.keeps_rows else _COUNTED_COLUMNS
        for piece in _prepared(settings.input, settings, progress, wanted):
            table = piece.table
            if first is None:
                first, mapping = table, piece.mapping
                bar = progress.bar("checking", None, "rows")
                if outputs is not None:
                    outputs.headers = list(table.headers)
            checked = dedupe.settle(piece.records)
            errors_parts.append(table.row_errors)
            if outputs is not None:
                assert wanted is not None  # set with outputs
                checked = checked.select(wanted)
                outputs.add(checked, table.frame)
            else:
                assert pieces is not None
                tally = Tally.of(checked) if tally is None else tally + Tally.of(checked)
                pieces.add(checked)
                if raw is not None:
                    raw.add(table.frame)
            assert bar is not None
            bar.update(checked.height)
    finally:
        if bar is not None:
            bar.close()
    assert first is not None and mapping is not None  # read_chunks yields a piece at least
    whole = _whole_table(first, errors_parts)
    if outputs is not None:
        assert outputs.tally is not None  # a piece at least
        return _Loaded(whole, mapping, outputs.tally)
    assert tally is not None
    return _Loaded(whole, mapping, tally, pieces=pieces, raw=raw, numbers=dedupe.numbers())


def _whole_table(first: RawTable, row_errors: list[pl.DataFrame]) -> RawTable:
    """The input as read, described by its first piece: no rows, every piece's errors."""
    return RawTable(
        frame=first.frame.clear(),
        headers=first.headers,
        encoding=first.encoding,
        delimiter=first.delimiter,
        row_errors=pl.concat(row_errors),
        parser=first.parser,
        format=first.format,
    )


def _prepared(
    source: str, settings: Settings, progress: Progress, wanted: Collection[str] | None
) -> Iterator[_Prepared]:
    """The input's pieces, each with its records checked (``check_records``,
    ``first_valid_rows``): the order-free work, done in threads ahead of the dedupe
    (``_PREPARE_WORKERS`` pieces at a time)."""
    tables = read_ahead(
        read_chunks(
            source, block_bytes=settings.read_block_bytes, sheet=settings.sheet, progress=progress
        )
    )
    region = settings.default_region.upper()
    try:
        first = next(tables)  # read_chunks yields a piece at least
        columns = [c for c in first.frame.columns if c != "row"]
        mapping = map_columns(columns, settings.map, settings.phone_preference or None)

        def prepare(table: RawTable) -> _Prepared:
            contacts = to_contact_frame(table, mapping)
            records = check_records(
                contacts, default_region=region, read_errors=table.row_errors, wanted=wanted
            )
            return _Prepared(table, mapping, first_valid_rows(records))

        pieces = itertools.chain([first], tables)
        yield from map_ahead(prepare, pieces, workers=_PREPARE_WORKERS)
    finally:
        tables.close()  # stops the reader, also when the caller stopped early


def _guard_invalid(settings: Settings, tally: Tally) -> None:
    total, invalid = tally.records, tally.count("invalid")
    limit = invalid_limit(settings.max_invalid, total)
    if limit is not None and invalid > limit:
        raise GuardError(
            f"{invalid} of {total} records are invalid, more than --max-invalid allows "
            f"({settings.max_invalid}): nothing was sent. Look at the report (a shifted column or "
            "a wrong --default-region is the usual cause), fix the file, or raise the limit."
        )


def _finish(
    command: str,
    settings: Settings,
    loaded: _Loaded,
    outputs: RunOutputs,
    started: float,
    planned: Spool | None = None,
    extra: dict[str, Any] | None = None,
    aborted: ContactSyncError | None = None,
) -> RunResult:
    assert outputs.tally is not None  # a piece at least went there
    summary = summarise(command, outputs.tally, time.monotonic() - started, extra)
    if aborted is not None:
        summary.exit_code = aborted.exit_code
        summary.extra["aborted"] = str(aborted)
    if outputs.report is not None:
        summary.extra["report"] = str(outputs.report.path)
    if outputs.rejects is not None:
        summary.extra["rejects_written"] = outputs.rejected
    summary_json = settings.path("summary_json")
    if summary_json:
        write_summary_json(summary, summary_json)
    kept = outputs.kept
    spools = [s for s in (kept, planned) if s is not None]
    plan_frame = planned.scan() if planned is not None and kept is not None else None
    result = RunResult(
        outputs.results(), summary, loaded.mapping, loaded.table, plan_frame, extra or {}, spools
    )
    html = settings.path("html_report")
    if html:
        from pipeline.html_report import write_html_report

        write_html_report(result, html)
    return result


def _outputs(settings: Settings, keep: bool, headers: list[str] | None = None) -> RunOutputs:
    """Where the results go; ``keep``: also kept for the caller (always for an HTML report)."""
    return RunOutputs(
        report=settings.path("report"),
        rejects=settings.path("rejects"),
        headers=headers or [],
        keep=keep or bool(settings.html_report),
    )


def validate(
    settings: Settings, progress: Progress | None = None, *, keep_results: bool = True
) -> RunResult:
    """Read, validate, normalize and dedupe; nothing leaves the machine.

    ``results`` holds the report's columns (and ``name``) of every record. With
    ``keep_results=False`` (the CLI) the records go only to the report and the summary,
    and ``results`` is not available (an HTML report keeps them all the same).
    """
    started = time.monotonic()
    progress = progress or NullProgress()
    outputs = _outputs(settings, keep_results)
    loaded = _load(settings, progress, outputs)
    try:
        _guard_invalid(settings, loaded.tally)
    except GuardError as tripped:
        _finish("validate", settings, loaded, outputs, started, aborted=tripped)
        raise
    return _finish("validate", settings, loaded, outputs, started)


def open_target(settings: Settings, progress: Progress | None = None) -> Target:
    """The adapter for ``settings.target``, with its key from the environment."""
    from pipeline.secrets import api_key_from_env
    from pipeline.targets import target_class
    from pipeline.targets.base import TargetSettings

    if not settings.target:
        raise UsageError("no target: give --target (one of arnis, consuelo, dmchamp, oliai, zexa)")
    cls = target_class(settings.target)
    base_url = settings.base_url or cls.capabilities.default_base_url
    if not base_url:
        raise UsageError(
            f"{settings.target} has no public URL: give your account's API root with --base-url"
        )
    missing = [o for o in cls.capabilities.required_options if o not in settings.options]
    if missing:
        raise UsageError(
            f"{settings.target} needs --option {missing[0]}=... (or {missing[0]} under [options] in the job file)"
        )
    target_settings = TargetSettings(
        base_url=base_url,
        api_key=api_key_from_env(settings.api_key_env),
        options=dict(settings.options),
        concurrency=settings.concurrency,
        rate_limit=settings.rate_limit,
        chunk_size=settings.chunk_size,
    )
    return cls(target_settings, progress)


def _remote_read(settings: Settings, target: Target) -> RemoteRead | None:
    """Check what settings alone can tell about the diff, then start reading a listing
    target's contacts (None: the target cannot list, or --skip-remote-read)."""
    from pipeline.diff import DeleteLimit, require_mode
    from pipeline.remote import RemoteRead

    require_mode(settings.mode, target.capabilities, target.name)
    DeleteLimit.parse(settings.max_deletes)
    if settings.skip_remote_read:
        if settings.mode != "create-only":
            raise UsageError(
                "--skip-remote-read goes with --mode create-only: without the remote set nothing can be diffed"
            )
        return None
    return RemoteRead(target) if target.capabilities.can_list else None


def _remote_set(
    settings: Settings, target: Target, loaded: _Loaded, read: RemoteRead | None
) -> pl.DataFrame:
    from pipeline.targets.base import REMOTE_SCHEMA

    if settings.skip_remote_read:
        return pl.DataFrame(schema=REMOTE_SCHEMA)
    if read is not None:
        try:
            return read.result()
        except AuthError as exc:
            if exc.status == 403:
                raise AuthError(
                    f"{target.name} refused to list contacts (HTTP 403): this key's scope cannot "
                    "read contacts (an arnis 'Contacts Only' key, for example). Use a key that "
                    "may read contacts, or create without reading: --mode create-only "
                    "--skip-remote-read (contacts that exist already are reported skipped)",
                    status=403,
                ) from exc
            raise
    assert loaded.pieces is not None  # plan and sync keep the checked pieces
    valid = loaded.pieces.scan().filter(pl.col("status") == "valid").select("e164").collect()
    numbers = valid["e164"].to_list()
    return target.lookup(numbers) if numbers else pl.DataFrame(schema=REMOTE_SCHEMA)


def _with_journaled_opt_outs(
    remote: pl.DataFrame, target: Target, journal: Journal
) -> pl.DataFrame:
    """Where the API cannot show opt-outs, the numbers this tool opted out count as opted out."""
    if target.capabilities.opt_out_readable:
        return remote
    numbers = sorted(journal.opted_out_numbers())
    return remote.with_columns(
        (pl.col("opted_out").fill_null(False) | pl.col("e164").is_in(numbers)).alias("opted_out")
    )


def _record_opt_outs(results: pl.DataFrame, journal: Journal) -> None:
    landed = pl.col("status").is_in(["created", "updated", "unchanged"])
    numbers = results.filter(pl.col("opt_out").fill_null(False) & landed)["e164"].to_list()
    if numbers:
        journal.record("opted_out", numbers=numbers)


def _journal(settings: Settings, target: Target) -> Journal:
    from pipeline.journal import Journal, state_key

    return Journal(Path(settings.state_dir), state_key(target.name, target.settings.base_url))


def _planned(settings: Settings, target: Target, loaded: _Loaded, read: RemoteRead | None) -> Spool:
    """The plan, piece by piece (the file's pieces in order, then mirror mode's deletes).

    Both guards run first, on the whole file: nothing is planned, nor sent, when the file
    has more invalid records than ``--max-invalid`` allows or mirror mode would delete
    more than ``--max-deletes`` does. Each checked piece is let go once diffed.
    """
    from pipeline.diff import (
        DeleteLimit,
        guard_deletes,
        plan_deletes,
        plan_records,
        require_mode,
        unique_remote,
    )

    mode = require_mode(settings.mode, target.capabilities, target.name)
    assert loaded.pieces is not None and loaded.numbers is not None  # plan and sync keep them
    _guard_invalid(settings, loaded.tally)
    limit = DeleteLimit.parse(settings.max_deletes)
    remote = _remote_set(settings, target, loaded, read)
    remote = unique_remote(_with_journaled_opt_outs(remote, target, _journal(settings, target)))
    deletes = plan_deletes(remote, loaded.numbers, mode)
    if mode == "mirror":
        guard_deletes(deletes, remote.height, limit)
    plans = Spool()
    columns = pl.DataFrame()
    for checked in loaded.pieces.drain():
        planned = plan_records(checked, remote, target.capabilities, mode)
        columns = planned.clear()
        plans.add(planned)
    if deletes.height:  # with every column of the plan, null where it has no value
        plans.add(pl.concat([columns, deletes], how="diagonal_relaxed"))
    return plans


def _load_and_plan(settings: Settings, target: Target, progress: Progress) -> tuple[_Loaded, Spool]:
    """Check the file while the remote set is read (``_remote_read``), then plan."""
    read = _remote_read(settings, target)
    try:
        loaded = _load(settings, progress)
        return loaded, _planned(settings, target, loaded, read)
    finally:
        if read is not None:
            read.close()


def _raw_pieces(loaded: _Loaded) -> Iterator[pl.DataFrame | None]:
    """The raw rows of each piece of the file when kept (for the rejects), then None."""
    if loaded.raw is not None:
        yield from loaded.raw.drain()
    while True:
        yield None


def _extra(settings: Settings, target: Target) -> dict[str, Any]:
    return {
        "target": target.name,
        "mode": settings.mode,
        "requests_sent": target.client.requests_sent,
    }


def plan(
    settings: Settings, progress: Progress | None = None, *, keep_results: bool = True
) -> RunResult:
    """Validate, read the remote set and diff: what ``sync`` would do. Writes nothing remote.

    ``keep_results=False`` (the CLI): the results and the plan go to the report and the
    summary only, and are not kept for ``results`` and ``plan``.
    """
    started = time.monotonic()
    progress = progress or NullProgress()
    target = open_target(settings, progress)
    try:
        loaded, plans = _load_and_plan(settings, target, progress)
    finally:
        target.close()
    outputs = _outputs(settings, keep_results, loaded.table.headers)
    raw = _raw_pieces(loaded)
    for piece in plans.pieces():
        outputs.add(piece.with_columns(pl.col("action").alias("status")), next(raw))
    kept_plan = plans if outputs.kept is not None else None
    return _finish("plan", settings, loaded, outputs, started, kept_plan, _extra(settings, target))


def sync(
    settings: Settings, progress: Progress | None = None, *, keep_results: bool = True
) -> RunResult:
    """Validate, diff and push: the main job. Holds the state-dir lock while it runs.

    The plan is written whole to the journal before anything is sent; then it is pushed
    piece by piece (``PlanPusher``), each piece's results going to the report as it
    settles. ``keep_results`` as for ``plan``.
    """
    from pipeline.journal import Journal, RunLock, state_key
    from pipeline.push import PlanPusher

    started = time.monotonic()
    progress = progress or NullProgress()
    target = open_target(settings, progress)
    key = state_key(target.name, target.settings.base_url)
    state_dir = Path(settings.state_dir)
    try:
        # The lock first: the remote set read while the file is checked is one no other
        # run of this tool is changing.
        with RunLock(state_dir, key):
            loaded, plans = _load_and_plan(settings, target, progress)
            outputs = _outputs(settings, keep_results, loaded.table.headers)
            journal = Journal(state_dir, key)
            journal.record_plan(plans.scan())
            pusher = PlanPusher(
                target, blind=settings.skip_remote_read, on_step=journal.record_step
            )
            raw = _raw_pieces(loaded)
            count = len(plans)
            pieces = plans.pieces() if outputs.kept is not None else plans.drain()
            for index, piece in enumerate(pieces):
                for results in pusher.add(piece, last=index == count - 1):
                    _record_opt_outs(results, journal)
                    outputs.add(results, next(raw))
            for results in pusher.finish():
                _record_opt_outs(results, journal)
                outputs.add(results, next(raw))
            assert outputs.tally is not None  # a piece at least
            journal.record("done", counts=dict(outputs.tally.statuses.iter_rows()))
    finally:
        target.close()
    kept_plan = plans if outputs.kept is not None else None
    return _finish("sync", settings, loaded, outputs, started, kept_plan, _extra(settings, target))
