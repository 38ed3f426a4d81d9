"""The Python API: ``validate``, ``plan`` and ``sync``, each returning a ``RunResult``.

The CLI is a thin layer over these, and so can be Airflow, Dagster or a notebook::

    from pipeline import api
    from pipeline.config import Settings
    result = api.sync(Settings(input="contacts.csv", target="arnis", base_url=URL))
    result.summary.counts, result.exit_code, result.results  # a polars frame
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.config import Settings, invalid_limit
from pipeline.diff import DeleteLimit, plan_changes, require_mode
from pipeline.errors import AuthError, ContactSyncError, GuardError, UsageError
from pipeline.journal import Journal, RunLock, state_key
from pipeline.mapping import ColumnMapping, map_columns, to_contact_frame
from pipeline.progress import NullProgress, Progress
from pipeline.push import execute_plan
from pipeline.read import RawTable, read_table
from pipeline.report import Summary, summarise, write_rejects, write_report, write_summary_json
from pipeline.secrets import api_key_from_env
from pipeline.targets import target_class
from pipeline.targets.base import REMOTE_SCHEMA, Target, TargetSettings
from pipeline.validate import check_contacts

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
    """What a run produced: the per-row results, the summary, the plan (plan/sync)."""

    results: pl.DataFrame
    summary: Summary
    mapping: ColumnMapping
    table: RawTable
    plan: pl.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return self.summary.exit_code


@dataclass
class _Loaded:
    table: RawTable
    mapping: ColumnMapping
    checked: pl.DataFrame


def _load(settings: Settings, progress: Progress) -> _Loaded:
    if not settings.input:
        raise UsageError(
            "no input: give a CSV path (or - for standard input), or input in the job file"
        )
    table = read_table(settings.input, progress=progress)
    columns = [c for c in table.frame.columns if c != "row"]
    mapping = map_columns(columns, settings.map, settings.phone_preference or None)
    contacts = to_contact_frame(table, mapping)
    bar = progress.bar("checking", contacts.height, "rows")
    checked = check_contacts(
        contacts, default_region=settings.default_region.upper(), read_errors=table.row_errors
    )
    bar.update(contacts.height)
    bar.close()
    return _Loaded(table, mapping, checked)


def _guard_invalid(settings: Settings, checked: pl.DataFrame) -> None:
    limit = invalid_limit(settings.max_invalid, checked.height)
    invalid = checked.filter(pl.col("status") == "invalid").height
    if limit is not None and invalid > limit:
        raise GuardError(
            f"{invalid} of {checked.height} records are invalid, more than --max-invalid allows "
            f"({settings.max_invalid}): nothing was sent. Look at the report (a shifted column or "
            "a wrong --default-region is the usual cause), fix the file, or raise the limit."
        )


def _finish(
    command: str,
    settings: Settings,
    loaded: _Loaded,
    results: pl.DataFrame,
    started: float,
    plan: pl.DataFrame | None = None,
    extra: dict[str, Any] | None = None,
    aborted: ContactSyncError | None = None,
) -> RunResult:
    summary = summarise(command, results, time.monotonic() - started, extra)
    if aborted is not None:
        summary.exit_code = aborted.exit_code
        summary.extra["aborted"] = str(aborted)
    report = settings.path("report")
    if report:
        write_report(results, report)
        summary.extra["report"] = str(report)
    rejects = settings.path("rejects")
    if rejects:
        summary.extra["rejects_written"] = write_rejects(
            loaded.table.frame, loaded.table.headers, results, rejects
        )
    summary_json = settings.path("summary_json")
    if summary_json:
        write_summary_json(summary, summary_json)
    result = RunResult(results, summary, loaded.mapping, loaded.table, plan, extra or {})
    html = settings.path("html_report")
    if html:
        from pipeline.html_report import write_html_report

        write_html_report(result, html)
    return result


def validate(settings: Settings, progress: Progress | None = None) -> RunResult:
    """Read, validate, normalize and dedupe; nothing leaves the machine."""
    started = time.monotonic()
    progress = progress or NullProgress()
    loaded = _load(settings, progress)
    try:
        _guard_invalid(settings, loaded.checked)
    except GuardError as tripped:
        _finish("validate", settings, loaded, loaded.checked, started, aborted=tripped)
        raise
    return _finish("validate", settings, loaded, loaded.checked, started)


def open_target(settings: Settings, progress: Progress | None = None) -> Target:
    """The adapter for ``settings.target``, with its key from the environment."""
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
    return Journal(Path(settings.state_dir), state_key(target.name, target.settings.base_url))


def _planned(settings: Settings, target: Target, loaded: _Loaded) -> pl.DataFrame:
    mode = require_mode(settings.mode, target.capabilities, target.name)
    _guard_invalid(settings, loaded.checked)
    remote = _remote_set(settings, target, loaded.checked)
    remote = _with_journaled_opt_outs(remote, target, _journal(settings, target))
    limit = DeleteLimit.parse(settings.max_deletes)
    return plan_changes(loaded.checked, remote, target.capabilities, mode, limit)


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
