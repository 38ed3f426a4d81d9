"""One timed stage in its own process, so that its peak memory is its own.

``python -m bench.stage STAGE CSV [URL]`` prints one JSON line: seconds, rows and the
process's peak resident memory (MB).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import polars as pl

from pipeline.config import Settings
from pipeline.dedupe import check_contacts, first_valid_rows, mark_duplicates
from pipeline.mapping import map_columns, to_contact_frame
from pipeline.read import read_table
from pipeline.validate import schema_problems


def _contacts(csv: str) -> pl.DataFrame:
    table = read_table(csv)
    mapping = map_columns([c for c in table.frame.columns if c != "row"])
    return to_contact_frame(table, mapping)


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def stage_read(csv: str) -> dict[str, Any]:
    seconds, table = _timed(lambda: read_table(csv))
    return {"seconds": seconds, "rows": table.frame.height}


def stage_normalize(csv: str) -> dict[str, Any]:
    from pipeline.normalize.country import country_codes
    from pipeline.normalize.phones import normalize_phones

    contacts = _contacts(csv)
    regions = country_codes(contacts["country"])
    seconds, _ = _timed(lambda: normalize_phones(contacts["phone_input"], regions, "US"))
    return {"seconds": seconds, "rows": contacts.height}


def stage_validate(csv: str) -> dict[str, Any]:
    contacts = _contacts(csv)
    seconds, problems = _timed(lambda: schema_problems(contacts))
    return {"seconds": seconds, "rows": contacts.height, "problems": problems.height}


def stage_dedupe(csv: str) -> dict[str, Any]:
    checked = check_contacts(_contacts(csv))
    undone = checked.with_columns(
        pl.when(pl.col("status") == "duplicate")
        .then(pl.lit("valid"))
        .otherwise(pl.col("status"))
        .alias("status")
    )
    seconds, deduped = _timed(lambda: mark_duplicates(first_valid_rows(undone)))
    return {
        "seconds": seconds,
        "rows": checked.height,
        "duplicates": deduped.filter(pl.col("status") == "duplicate").height,
    }


def stage_diff(csv: str) -> dict[str, Any]:
    """Diff the file against a 1,000,000-contact remote set (half of the file's numbers)."""
    from pipeline.diff import plan_changes
    from pipeline.targets.arnis import Arnis
    from pipeline.targets.base import REMOTE_SCHEMA

    checked = check_contacts(_contacts(csv))
    known = checked.filter(pl.col("status") == "valid").select("e164").unique().gather_every(2)
    filler = 1_000_000 - known.height
    synthetic = pl.DataFrame(
        {"e164": "+999" + pl.int_range(0, filler, eager=True).cast(pl.String).str.zfill(9)}
    )
    remote = pl.concat([known, synthetic]).with_columns(
        ("id" + pl.int_range(0, pl.len()).cast(pl.String)).alias("remote_id"),
        pl.lit("Someone").alias("first_name"),
    )
    remote = remote.select(
        pl.col(c) if c in remote.columns else pl.lit(None, t).alias(c)
        for c, t in REMOTE_SCHEMA.items()
    )
    seconds, plan = _timed(lambda: plan_changes(checked, remote, Arnis.capabilities, "upsert"))
    return {
        "seconds": seconds,
        "rows": checked.height,
        "remote": remote.height,
        "actions": dict(plan.group_by("action").len().iter_rows()),
    }


def stage_cli(csv: str, command: str, url: str = "", target: str = "") -> dict[str, Any]:
    from pipeline import api

    settings = Settings(
        input=csv,
        target=target or None,
        base_url=url or None,
        rate_limit=0.0,
        state_dir=os.environ.get("BENCH_STATE", "bench/data/state"),
        quiet=True,
    )
    run = {"validate": api.validate, "plan": api.plan, "sync": api.sync}[command]
    seconds, result = _timed(lambda: run(settings))
    return {
        "seconds": seconds,
        "rows": result.summary.records,
        "counts": result.summary.counts,
        "requests_sent": result.summary.extra.get("requests_sent"),
    }


def stage_phones(rows: str, seed: str) -> dict[str, Any]:
    """The per-row loop against the batch normalizer (``bench.phones``), in a process of
    its own: its first call's figure must not pay for another stage's heap."""
    from bench.phones import bench_phones

    return dict(bench_phones(int(rows), int(seed)))


STAGES: dict[str, Callable[..., dict[str, Any]]] = {
    "read": stage_read,
    "normalize": stage_normalize,
    "validate": stage_validate,
    "dedupe": stage_dedupe,
    "diff": stage_diff,
    "cli": stage_cli,
    "phones": stage_phones,
}


def peak_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` starts afresh at exec; Linux's
    ``ru_maxrss`` does not (it keeps the parent's peak from before the fork)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> None:
    figures = STAGES[argv[0]](*argv[1:])
    figures["peak_mb"] = peak_mb()
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
