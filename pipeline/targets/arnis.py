"""arnis's quirk: the read-back after a counts-only batch create follows the listing's
tail. When the listing is in creation order (the sandbox's), the new contacts sit on the
pages after those seen before the creates: those pages are read, while the batches are
still being sent once the counts say a page is full, and only the numbers not found
there are looked up, so another order costs requests, never a wrong or missing id."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import polars as pl

from pipeline.errors import TargetError
from pipeline.targets.engine import Engine
from pipeline.targets.frames import RemoteFrames, first_per_id


class Arnis(Engine):
    def send_counted(self, chunks: list[pl.DataFrame], contacts: pl.DataFrame) -> pl.DataFrame:
        if self.remote_total is None:  # nothing listed before: look it all up
            return super().send_counted(chunks, contacts)
        with _Tail(self, self.remote_total) as tail:
            self.parallel(lambda c: tail.created(self.send_batch(c)), chunks, "creating")
        return self._read_back(contacts["e164"].to_list(), tail)

    def _read_back(self, e164s: Sequence[str], tail: _Tail) -> pl.DataFrame:
        """The contacts with these numbers, just created: on the tail, else looked up."""
        numbers = pl.Series("e164", e164s, dtype=pl.String).unique()
        if numbers.is_empty():
            return self.lookup([])
        found = first_per_id(tail.rest().filter(pl.col("e164").is_in(numbers.implode())))
        missing = numbers.filter(~numbers.is_in(found["e164"].implode())).sort().to_list()
        if not missing:
            return found
        return pl.concat([found, self.lookup(missing)])


class _Tail:
    """The list pages after the ``since`` contacts listed before a create, read while its
    batches are still being sent (the client is idle then, the server busy).

    A page is read as soon as the batches' own counts say it is full: in creation order
    a full page no longer changes. ``rest()`` reads the pages left after the last batch.
    In any other order these pages simply hold fewer of the new contacts, and
    ``Arnis._read_back`` looks the missing ones up.
    """

    def __init__(self, target: Arnis, since: int) -> None:
        self.target = target
        self.per_page = target.per_page
        self.page = since // self.per_page + 1  # the next page to read
        self.listed = since  # contacts on the list, by the batches' counts
        self.frames = RemoteFrames(target.names)
        self._changed = threading.Condition()
        self._sending = True
        self._reader = threading.Thread(target=self._follow, name="arnis-tail", daemon=True)

    def __enter__(self) -> _Tail:
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._changed:
            self._sending = False
            self._changed.notify()
        self._reader.join()

    def created(self, count: int) -> None:
        with self._changed:
            self.listed += count
            self._changed.notify()

    def rest(self) -> pl.DataFrame:
        """Every contact on the pages after ``since`` (page order), once the batches are done."""
        return self.target.pages_from(self.page, "reading back", into=self.frames)

    def _full(self) -> bool:
        return self.listed >= self.page * self.per_page

    def _follow(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._full() or not self._sending)
                if not self._full():
                    return
            try:
                items = self.target.page_frame(self.page, self.per_page)
            except TargetError:
                return  # rest() reads this page again
            if items.height < self.per_page:
                return  # not the order or the count assumed: rest() reads it again
            self.frames.add(items)
            self.page += 1
