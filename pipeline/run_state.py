"""A run's state in ``--state-dir``: which target identity it is, its journal, and the
opt-outs the journal remembers for targets that cannot show them (consuelo)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipeline.identity import TargetIdentity, target_identity
from pipeline.journal import Journal

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.targets.base import Target


def identity_of(target: Target) -> TargetIdentity:
    """Which account the run talks to: the key of its lock and journal."""
    options, named = target.settings.options, target.capabilities.identity_options
    return target_identity(target.name, target.settings.base_url, options, named)


def journal_of(settings: Settings, target: Target) -> Journal:
    identity = identity_of(target)
    return Journal(Path(settings.state_dir), identity.key, identity.legacy_keys)


def journaled_opt_outs(settings: Settings, target: Target) -> list[str] | None:
    """Where the API cannot show opt-outs, the numbers this tool opted out (read, and so
    checked, before any request); None where it can."""
    if target.capabilities.opt_out_readable:
        return None
    return sorted(journal_of(settings, target).opted_out_numbers())


def with_journaled_opt_outs(remote: pl.DataFrame, numbers: list[str] | None) -> pl.DataFrame:
    """The numbers this tool opted out (``journaled_opt_outs``) count as opted out."""
    if numbers is None:
        return remote
    return remote.with_columns(
        (pl.col("opted_out").fill_null(False) | pl.col("e164").is_in(numbers)).alias("opted_out")
    )


def record_opt_outs(results: pl.DataFrame, journal: Journal) -> None:
    landed = pl.col("status").is_in(["created", "updated", "unchanged"])
    numbers = results.filter(pl.col("opt_out").fill_null(False) & landed)["e164"].to_list()
    if numbers:
        journal.record("opted_out", numbers=numbers)
