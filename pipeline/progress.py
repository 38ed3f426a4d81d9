"""Progress reporting, passed into stages; stages never print.

``NullProgress`` does nothing (the default, and what tests and ``--quiet`` use);
``TqdmProgress`` draws bars on stderr, only when stderr is a terminal.
"""

from __future__ import annotations

import sys
from typing import Protocol, cast


class Bar(Protocol):
    def update(self, n: int = 1) -> object: ...
    def close(self) -> None: ...


class Progress(Protocol):
    def bar(self, description: str, total: int | None, unit: str) -> Bar: ...


class _NullBar:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


class NullProgress:
    """Progress that shows nothing."""

    def bar(self, description: str, total: int | None, unit: str) -> Bar:
        return _NullBar()


class TqdmProgress:
    """tqdm bars on stderr."""

    def bar(self, description: str, total: int | None, unit: str) -> Bar:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=description, unit=unit, file=sys.stderr, leave=False)
        return cast(Bar, bar)


def choose_progress(quiet: bool) -> Progress:
    """tqdm on an interactive stderr unless quiet, else nothing."""
    if quiet or not sys.stderr.isatty():
        return NullProgress()
    return TqdmProgress()
