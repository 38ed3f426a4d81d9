"""The second pass of plan and sync: the remote set, read in a thread while the file is
checked (``remote_read``; from the moment the file's header is mapped), then the plan,
piece by piece (``load_and_plan``), after both guards (``--max-invalid``,
``--max-deletes``) have passed on the whole file; and ``plan``, the command, which stops
there and reports the plan."""

from __future__ import annotations

from typing import Any

import polars as pl

from pipeline.config import Settings
from pipeline.diff import (
    DeleteLimit,
    guard_deletes,
    plan_deletes,
    plan_records,
    require_mode,
    unique_remote,
)
from pipeline.errors import AuthError, TargetError, UsageError
from pipeline.explain import first_request_error
from pipeline.output_paths import resolve_outputs
from pipeline.progress import Progress
from pipeline.result import RunResult
from pipeline.run.finish import finish, run_outputs
from pipeline.run.load import Loaded, guard_invalid, load, raw_pieces
from pipeline.run.remote import RemoteRead
from pipeline.run.spool import Spool
from pipeline.run.target import open_target
from pipeline.run_state import journaled_opt_outs, with_journaled_opt_outs
from pipeline.targets.base import REMOTE_SCHEMA, Target


def remote_read(settings: Settings, target: Target) -> bool:
    """Check what settings alone can tell about the diff; whether the target's contacts
    are to be listed (not when the target cannot list, nor with --skip-remote-read)."""
    require_mode(settings.mode, target.capabilities, target.name)
    DeleteLimit.parse(settings.max_deletes)
    if settings.skip_remote_read:
        if settings.mode != "create-only":
            raise UsageError(
                "--skip-remote-read goes with --mode create-only: without the remote set nothing can be diffed"
            )
        return False
    return target.capabilities.can_list


def remote_set(
    settings: Settings, target: Target, loaded: Loaded, read: RemoteRead | None
) -> pl.DataFrame:
    """The target's contacts: listed (``read``), or looked up by the file's valid numbers;
    a first request that fails says what to check (``first_request_error``)."""
    if settings.skip_remote_read:
        return pl.DataFrame(schema=REMOTE_SCHEMA)
    try:
        return remote_contacts(target, loaded, read)
    except TargetError as exc:
        better = first_request_error(exc, target.name, target.settings.base_url)
        if better is None:
            raise
        raise better from exc


def remote_contacts(target: Target, loaded: Loaded, read: RemoteRead | None) -> pl.DataFrame:
    """The listing's answer (``read``), or a lookup of the file's valid numbers."""
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


def planned(
    settings: Settings,
    target: Target,
    loaded: Loaded,
    read: RemoteRead | None,
    opted_out: list[str] | None,
) -> Spool:
    """The plan, piece by piece (the file's pieces in order, then mirror mode's deletes).

    Both guards run first, on the whole file: nothing is planned, nor sent, when the file
    has more invalid records than ``--max-invalid`` allows or mirror mode would delete
    more than ``--max-deletes`` does. Each checked piece is let go once diffed.
    """
    mode = require_mode(settings.mode, target.capabilities, target.name)
    assert loaded.pieces is not None and loaded.numbers is not None  # plan and sync keep them
    guard_invalid(settings, loaded.tally)
    limit = DeleteLimit.parse(settings.max_deletes)
    remote = remote_set(settings, target, loaded, read)
    remote = unique_remote(with_journaled_opt_outs(remote, opted_out))
    deletes = plan_deletes(remote, loaded.numbers, mode)
    if mode == "mirror":
        guard_deletes(deletes, remote.height, limit)
    plans = Spool()
    columns = pl.DataFrame()
    for checked in loaded.pieces.drain():
        piece = plan_records(checked, remote, target.capabilities, mode)
        columns = piece.clear()
        plans.add(piece)
    if deletes.height:  # with every column of the plan, null where it has no value
        plans.add(pl.concat([columns, deletes], how="diagonal_relaxed"))
    return plans


def load_and_plan(settings: Settings, target: Target, progress: Progress) -> tuple[Loaded, Spool]:
    """Check the file while the remote set is read (``remote_read``), then plan (the
    journal's opt-outs read first, so that a damaged journal stops the run before any
    request). The read starts once the file's header is mapped: a file that cannot be
    read, is empty, is no CSV or has no phone column is exit 2 with no request sent."""
    opted_out = journaled_opt_outs(settings, target)
    listing = remote_read(settings, target)
    reads: list[RemoteRead] = []

    def start_read() -> None:
        if listing:
            reads.append(RemoteRead(target))

    try:
        loaded = load(settings, progress, mapped=start_read)
        read = reads[0] if reads else None
        return loaded, planned(settings, target, loaded, read, opted_out)
    finally:
        for started in reads:
            started.close()


def run_extra(settings: Settings, target: Target) -> dict[str, Any]:
    """What the summary says of the target side of a plan or a sync."""
    extra: dict[str, Any] = {
        "target": target.name,
        "mode": settings.mode,
        "requests_sent": target.client.requests_sent,
        "retry": target.client.flow(),
    }
    if settings.fill_timezone and "timezone" not in target.capabilities.fields:
        extra["timezone_not_sent"] = (
            f"{target.name} stores no time zone: the zones filled from the numbers are in the "
            "report only"
        )
    return extra


def plan(settings: Settings, progress: Progress, keep_results: bool, started: float) -> RunResult:
    """``pipeline.api.plan``: the file checked, the remote set read, the plan reported."""
    paths = resolve_outputs(settings)
    target = open_target(settings, progress)
    try:
        loaded, plans = load_and_plan(settings, target, progress)
    finally:
        target.close()
    with run_outputs(paths, keep_results, loaded.table.headers) as outputs:
        raw = raw_pieces(loaded)
        for piece in plans.pieces():
            outputs.add(piece.with_columns(pl.col("action").alias("status")), next(raw))
        kept_plan = plans if outputs.kept is not None else None
        extra = run_extra(settings, target)
        return finish("plan", paths, loaded, outputs, started, kept_plan, extra)
