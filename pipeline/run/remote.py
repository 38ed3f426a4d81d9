"""The remote set of a listing target, read in a thread while the file is checked.

Listing a large account is thousands of GET requests: mostly waiting on the network and
Python work per page. Checking the file is mostly polars work outside Python's lock. Done
together they share the machine instead of taking turns, and against a real API, whose
answers take tens of milliseconds, the read costs the run almost nothing.

The read only reads, and starts once the file's header is mapped (a file that cannot be
read sends nothing). When the run ends without using it (a bad piece later in the file, a
guard that trips, an interrupt), ``close`` stops it: the pages not yet asked for are never
requested, and its error, if any, is dropped with it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from pipeline.targets.base import Target


class RemoteRead:
    """``target.fetch_remote()`` in a thread of its own; ``result()`` waits for it."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._frame: pl.DataFrame | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, name="remote-read", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self._frame = self.target.fetch_remote()
        except BaseException as exc:  # handed to result(), in the run's own thread
            self._error = exc

    def result(self) -> pl.DataFrame:
        """The remote set (canonical), or the read's own error raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._frame is not None
        return self._frame

    def close(self) -> None:
        """Stop the read if it is still going (no new request), and wait for it."""
        if self._thread.is_alive():
            self.target.stop()
            self._thread.join()
            self.target.resume()
        self._frame = None
        self._error = None
