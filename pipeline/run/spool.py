"""Pieces of a big run parked until a later pass: in memory up to a budget, then on disk.

A run that must see the whole file before it acts (plan and sync guard ``--max-invalid``
and ``--max-deletes`` before anything is sent) works piece by piece in two passes. What the
first pass leaves for the second waits here: a file of a few hundred thousand rows stays
in memory, and beyond the budget the pieces go to Arrow IPC files (the cheapest to write
and read back) in a temporary directory removed with the spool, so that memory follows
the budget and the piece, not the file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipeline.errors import AbortError

#: what a spool keeps in memory before it writes pieces to disk
DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024


class Spool:
    """Frames in the order added; those past ``budget_bytes`` wait on disk."""

    def __init__(self, budget_bytes: int | None = None) -> None:
        self.budget_bytes = DEFAULT_BUDGET_BYTES if budget_bytes is None else budget_bytes
        self._in_memory = 0.0
        self._pieces: list[pl.DataFrame | Path] = []
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def __len__(self) -> int:
        return len(self._pieces)

    def add(self, frame: pl.DataFrame) -> None:
        size = frame.estimated_size()
        if self._in_memory + size <= self.budget_bytes:
            self._in_memory += size
            self._pieces.append(frame)
            return
        try:
            if self._dir is None:
                self._dir = tempfile.TemporaryDirectory(prefix="contact-sync-")
            path = Path(self._dir.name) / f"{len(self._pieces):06d}.arrow"
            frame.write_ipc(path, compression="uncompressed")
        except OSError as exc:
            where = self._dir.name if self._dir is not None else tempfile.gettempdir()
            raise AbortError(
                f"could not park a piece of the run on disk in {where} ({exc}); the run "
                "stopped there, and a rerun continues safely. Free some space there, or point "
                "TMPDIR at a disk with room: a big file's plan or sync needs a few times the "
                "CSV file's size."
            ) from exc
        self._pieces.append(path)

    def on_disk(self) -> int:
        """How many pieces went to disk."""
        return sum(isinstance(p, Path) for p in self._pieces)

    def scan(self) -> pl.LazyFrame:
        """Every piece, in order, as one lazy frame (columns a piece lacks are null)."""
        if not self._pieces:
            return pl.LazyFrame()
        frames = [p.lazy() if isinstance(p, pl.DataFrame) else pl.scan_ipc(p) for p in self._pieces]
        return pl.concat(frames, how="diagonal_relaxed")

    def pieces(self) -> Iterator[pl.DataFrame]:
        """The pieces in order, each read back when its turn comes."""
        for piece in self._pieces:
            yield piece if isinstance(piece, pl.DataFrame) else pl.read_ipc(piece)

    def drain(self) -> Iterator[pl.DataFrame]:
        """``pieces``, letting each go (memory and file) once the caller moves on."""
        while self._pieces:
            piece = self._pieces.pop(0)
            if isinstance(piece, pl.DataFrame):
                self._in_memory -= piece.estimated_size()
                yield piece
            else:
                frame = pl.read_ipc(piece)
                piece.unlink(missing_ok=True)
                yield frame

    def close(self) -> None:
        self._pieces = []
        self._in_memory = 0.0
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
