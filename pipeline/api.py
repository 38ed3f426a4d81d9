"""The Python API: ``validate``, ``plan`` and ``sync``, each returning a ``RunResult``.

The CLI is a thin layer over these, and so can be Airflow, Dagster or a notebook::

    from pipeline import api
    from pipeline.config import Settings
    result = api.sync(Settings(input="contacts.csv", target="arnis", base_url=URL))
    result.summary.counts, result.exit_code, result.results  # a polars frame
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from pipeline.ahead import map_ahead, read_ahead
from pipeline.config import Settings, invalid_limit
from pipeline.errors import AuthError, ContactSyncError, GuardError, UsageError
from pipeline.mapping import ColumnMapping, map_columns, to_contact_frame
from pipeline.progress import Bar, NullProgress, Progress
from pipeline.read import RawTable, read_chunks
from pipeline.report import (
    ReportWriter,
    Summary,
    Tally,
    summarise,
    write_rejects,
    write_report,
    write_summary_json,
)
from pipeline.validate import check_contacts, contact_phones, kept_numbers

# The target side (HTTP client, adapters, diff, push, journal) is imported by plan and
# sync when they run: validate, which never leaves the machine, starts without it.
if TYPE_CHECKING:
    from pipeline.journal import Journal
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

    ``table`` describes the input as read (headers, encoding, delimiter); its ``frame``
    holds the raw rows only when they were needed (a rejects file of a plan or sync).
    ``results`` of a ``validate`` are kept on disk until first asked for, so that a big
    file's run needs the memory of one piece, not of the file.
    """

    #: None when the caller asked not to keep them (``validate(keep_results=False)``)
    source: pl.DataFrame | pl.LazyFrame | None
    summary: Summary
    mapping: ColumnMapping
    table: RawTable
    plan: pl.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    spool: Spool | None = field(default=None, repr=False)

    @property
    def results(self) -> pl.DataFrame:
        """One row per record (and per remote contact a sync touched), in row order."""
        if self.source is None:
            raise UsageError(
                "this run kept no per-row results (validate(keep_results=False)): "
                "they are in its report"
            )
        if isinstance(self.source, pl.LazyFrame):
            self.source = self.source.collect()
        return self.source

    @property
    def exit_code(self) -> int:
        return self.summary.exit_code


class Spool:
    """Checked pieces parked on disk (Arrow IPC: the cheapest to write and scan), in a
    directory removed with this object."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="contact-sync-")
        self._parts: list[Path] = []

    def add(self, frame: pl.DataFrame) -> None:
        path = Path(self._dir.name) / f"{len(self._parts):06d}.arrow"
        frame.write_ipc(path, compression="uncompressed")
        self._parts.append(path)

    def scan(self) -> pl.LazyFrame:
        return pl.scan_ipc(self._parts)


@dataclass
class _Loaded:
    table: RawTable
    mapping: ColumnMapping
    #: None when validate was not asked to keep the records (only counted and reported)
    checked: pl.DataFrame | pl.LazyFrame | None
    #: rejected records already written piece by piece (validate), else None
    rejects_written: int | None = None
    spool: Spool | None = None
    #: the report written and the summary counted piece by piece (validate)
    report_written: bool = False
    tally: Tally | None = None


@dataclass(frozen=True)
class _Prepared:
    """A piece of the input, ready for ``check_contacts``."""

    table: RawTable
    mapping: ColumnMapping
    contacts: pl.DataFrame
    phones: pl.DataFrame


#: pieces worked on at once ahead of the checks (polars uses every core within each)
_PREPARE_WORKERS = 2

#: what ``validate`` keeps of each record once its piece is checked (the report's columns)
_VALIDATE_COLUMNS = ("row", "phone_input", "e164", "status", "error_code", "error_message", "name")


def _load(
    settings: Settings, progress: Progress, *, compact: bool = False, keep: bool = True
) -> _Loaded:
    """Read, map and check the input piece by piece (see ``read_chunks``).

    Duplicates are found across pieces (the numbers kept so far are carried as integers).
    ``compact`` (validate) keeps only the report's columns of each checked piece and
    writes its rejected records at once, so that memory follows the piece, not the file
    (its checked pieces are spooled to disk when ``keep``, else only counted);
    otherwise (plan, sync) every checked record is kept for the diff, and the raw rows
    when a rejects file is asked for.
    """
    if not settings.input:
        raise UsageError(
            "no input: give a CSV path (or - for standard input), or input in the job file"
        )
    rejects = settings.path("rejects") if compact else None
    report_path = settings.path("report") if compact else None
    report = ReportWriter(report_path) if report_path else None
    tally: Tally | None = None
    first: RawTable | None = None
    mapping: ColumnMapping | None = None
    kept = pl.DataFrame(schema={"e164_key": pl.Int64, "first_row": pl.Int64})
    checked_parts: list[pl.DataFrame] = []
    spool = Spool() if compact and keep else None
    raw_parts: list[pl.DataFrame] = []
    errors_parts: list[pl.DataFrame] = []
    rejected: int | None = 0 if rejects else None
    bar: Bar | None = None
    try:
        for piece in _prepared(settings.input, settings, progress):
            table, contacts = piece.table, piece.contacts
            if first is None:
                first, mapping = table, piece.mapping
                bar = progress.bar("checking", None, "rows")
            checked = check_contacts(
                contacts,
                read_errors=table.row_errors,
                kept_before=kept,
                phones=piece.phones,
                wanted=_VALIDATE_COLUMNS if compact else None,
            )
            kept = pl.concat([kept, kept_numbers(checked)])
            if compact:
                checked = checked.select(c for c in _VALIDATE_COLUMNS if c in checked.columns)
                if rejects is not None and rejected is not None:
                    rejected += write_rejects(
                        table.frame, table.headers, checked, rejects, append=first is not table
                    )
                tally = Tally.of(checked) if tally is None else tally + Tally.of(checked)
                if report is not None:
                    report.add(checked)
                if spool is not None:
                    spool.add(checked)
            else:
                if settings.rejects:  # the raw rows are only needed to write the rejects
                    raw_parts.append(table.frame)
                errors_parts.append(table.row_errors)
                checked_parts.append(checked)
            assert bar is not None
            bar.update(contacts.height)
    finally:
        if bar is not None:
            bar.close()
    assert first is not None and mapping is not None  # read_chunks yields a piece at least
    raw = pl.concat(raw_parts) if raw_parts else first.frame.clear()
    whole = RawTable(
        frame=raw,
        headers=first.headers,
        encoding=first.encoding,
        delimiter=first.delimiter,
        row_errors=pl.concat(errors_parts) if errors_parts else first.row_errors.clear(),
        parser=first.parser,
    )
    checked_all: pl.DataFrame | pl.LazyFrame | None = None
    if spool is not None:
        checked_all = spool.scan()
    elif not compact:
        checked_all = pl.concat(checked_parts)
    return _Loaded(whole, mapping, checked_all, rejected, spool, report is not None, tally)


def _prepared(source: str, settings: Settings, progress: Progress) -> Iterator[_Prepared]:
    """The input's pieces, each with its contact frame and phones: the order-free work,
    done in threads ahead of the checks (two pieces at a time: one per core)."""
    tables = read_ahead(
        read_chunks(source, block_bytes=settings.read_block_bytes, progress=progress)
    )
    region = settings.default_region.upper()
    try:
        first = next(tables)  # read_chunks yields a piece at least
        columns = [c for c in first.frame.columns if c != "row"]
        mapping = map_columns(columns, settings.map, settings.phone_preference or None)

        def prepare(table: RawTable) -> _Prepared:
            contacts = to_contact_frame(table, mapping)
            return _Prepared(table, mapping, contacts, contact_phones(contacts, region))

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
    results: pl.DataFrame | pl.LazyFrame | None,
    started: float,
    plan: pl.DataFrame | None = None,
    extra: dict[str, Any] | None = None,
    aborted: ContactSyncError | None = None,
) -> RunResult:
    counted = loaded.tally if loaded.tally is not None else results
    assert counted is not None  # a run keeps its records, or counts them as it goes
    summary = summarise(command, counted, time.monotonic() - started, extra)
    if aborted is not None:
        summary.exit_code = aborted.exit_code
        summary.extra["aborted"] = str(aborted)
    report = settings.path("report")
    if report and not loaded.report_written:
        assert results is not None  # else written as the records were checked
        write_report(results, report)
    if report:
        summary.extra["report"] = str(report)
    rejects = settings.path("rejects")
    if rejects and loaded.rejects_written is not None:
        summary.extra["rejects_written"] = loaded.rejects_written
    elif rejects:
        assert results is not None  # else written as the records were checked
        summary.extra["rejects_written"] = write_rejects(
            loaded.table.frame, loaded.table.headers, results, rejects
        )
    summary_json = settings.path("summary_json")
    if summary_json:
        write_summary_json(summary, summary_json)
    result = RunResult(
        results, summary, loaded.mapping, loaded.table, plan, extra or {}, loaded.spool
    )
    html = settings.path("html_report")
    if html:
        from pipeline.html_report import write_html_report

        write_html_report(result, html)
    return result


def validate(
    settings: Settings, progress: Progress | None = None, *, keep_results: bool = True
) -> RunResult:
    """Read, validate, normalize and dedupe; nothing leaves the machine.

    ``results`` holds the report's columns (and ``name``) of every record; the raw rows
    are not kept (``table.frame`` is empty): the rejects file is written as it goes.
    With ``keep_results=False`` (the CLI) the records go only to the report and the
    summary, and ``results`` is not available (an HTML report keeps them all the same).
    """
    started = time.monotonic()
    progress = progress or NullProgress()
    keep = keep_results or bool(settings.html_report)
    loaded = _load(settings, progress, compact=True, keep=keep)
    try:
        assert loaded.tally is not None  # validate counts as it goes
        _guard_invalid(settings, loaded.tally)
    except GuardError as tripped:
        _finish("validate", settings, loaded, loaded.checked, started, aborted=tripped)
        raise
    return _finish("validate", settings, loaded, loaded.checked, started)


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


def _remote_set(settings: Settings, target: Target, checked: pl.DataFrame) -> pl.DataFrame:
    from pipeline.targets.base import REMOTE_SCHEMA

    if settings.skip_remote_read:
        if settings.mode != "create-only":
            raise UsageError(
                "--skip-remote-read goes with --mode create-only: without the remote set nothing can be diffed"
            )
        return pl.DataFrame(schema=REMOTE_SCHEMA)
    if target.capabilities.can_list:
        try:
            return target.fetch_remote()
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
    numbers = checked.filter(pl.col("status") == "valid")["e164"].to_list()
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


def _planned(settings: Settings, target: Target, loaded: _Loaded) -> pl.DataFrame:
    from pipeline.diff import DeleteLimit, plan_changes, require_mode

    mode = require_mode(settings.mode, target.capabilities, target.name)
    checked = loaded.checked
    assert isinstance(checked, pl.DataFrame)  # plan and sync keep the checked frame
    _guard_invalid(settings, Tally.of(checked))
    remote = _remote_set(settings, target, checked)
    remote = _with_journaled_opt_outs(remote, target, _journal(settings, target))
    limit = DeleteLimit.parse(settings.max_deletes)
    loaded.checked = checked.clear()  # from here on the plan holds what is needed of it
    return plan_changes(checked, remote, target.capabilities, mode, limit)


def plan(settings: Settings, progress: Progress | None = None) -> RunResult:
    """Validate, read the remote set and diff: what ``sync`` would do. Writes nothing remote."""
    started = time.monotonic()
    progress = progress or NullProgress()
    loaded = _load(settings, progress)
    target = open_target(settings, progress)
    try:
        planned = _planned(settings, target, loaded)
    finally:
        target.close()
    results = planned.with_columns(pl.col("action").alias("status"))
    extra = {
        "target": target.name,
        "mode": settings.mode,
        "requests_sent": target.client.requests_sent,
    }
    return _finish("plan", settings, loaded, results, started, planned, extra)


def sync(settings: Settings, progress: Progress | None = None) -> RunResult:
    """Validate, diff and push: the main job. Holds the state-dir lock while it runs."""
    from pipeline.journal import Journal, RunLock, state_key
    from pipeline.push import execute_plan

    started = time.monotonic()
    progress = progress or NullProgress()
    loaded = _load(settings, progress)
    target = open_target(settings, progress)
    key = state_key(target.name, target.settings.base_url)
    state_dir = Path(settings.state_dir)
    try:
        with RunLock(state_dir, key):
            planned = _planned(settings, target, loaded)
            journal = Journal(state_dir, key)
            journal.record_plan(planned)
            results = execute_plan(
                planned, target, blind=settings.skip_remote_read, on_step=journal.record_step
            )
            _record_opt_outs(results, journal)
            journal.record("done", counts=dict(results.group_by("status").len().iter_rows()))
    finally:
        target.close()
    extra = {
        "target": target.name,
        "mode": settings.mode,
        "requests_sent": target.client.requests_sent,
    }
    return _finish("sync", settings, loaded, results, started, planned, extra)
