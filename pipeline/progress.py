"""Progress reporting, passed into stages; stages never print.

``NullProgress`` does nothing (the default, and what tests and ``--quiet`` use);
``TqdmProgress`` draws bars on stderr, only when stderr is a terminal. ``note`` is a
line for a person watching (``throttled: waiting 12 s``), so that a run waiting on its
API does not look hung; ``tell`` sends one to a Progress that may not take notes.
"""

from __future__ import annotations

import sys
from typing import Protocol, cast


class Bar(Protocol):
    def update(self, n: int = 1) -> object: ...
    def close(self) -> None: ...


class Progress(Protocol):
    def bar(self, description: str, total: int | None, unit: str) -> Bar: ...


def tell(progress: Progress, text: str) -> None:
    """``progress.note(text)``, if this Progress takes notes (one written before notes
    were may not)."""
    note = getattr(progress, "note", None)
    if callable(note):
        note(text)


class _NullBar:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


class NullProgress:
    """Progress that shows nothing."""

    def bar(self, description: str, total: int | None, unit: str) -> Bar:
        return _NullBar()

    def note(self, text: str) -> None:
        return None


class TqdmProgress:
    """tqdm bars on stderr."""

    def bar(self, description: str, total: int | None, unit: str) -> Bar:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=description, unit=unit, file=sys.stderr, leave=False)
        return cast(Bar, bar)

    def note(self, text: str) -> None:
        from tqdm import tqdm

        tqdm.write(text, file=sys.stderr)


def choose_progress(quiet: bool) -> Progress:
    """tqdm on an interactive stderr unless quiet, else nothing."""
    if quiet or not sys.stderr.isatty():
        return NullProgress()
    return TqdmProgress()
