"""The read side of a description: listing by page number or offset, lookup by listing,
by search or by number, and the server's stand-ins read as empty."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from pipeline.errors import TerminalError
from pipeline.targets.answers import dig
from pipeline.targets.calls import Described
from pipeline.targets.frames import (
    REMOTE_SCHEMA,
    RemoteFrames,
    first_per_id,
    page_frame,
    remote_frame,
)
from pipeline.targets.listing import ListingBound


def _search_order(numbers: list[str], choose: str) -> list[str]:
    """The numbers in the order they are searched: sorted with a known total (arnis)."""
    return sorted(numbers) if choose == "known_total" else numbers


@dataclass(frozen=True)
class _Offset:
    offset: int
    items: list[dict[str, Any]]
    total: int | None
    more: bool


class Paging(Described):
    def fetch_remote(self) -> pl.DataFrame:
        paging = self.description.listing.paging
        if paging == "none":
            raise TerminalError(self.description.listing.refusal)
        frame = self.pages_from(1) if paging == "pages" else self._offsets()
        return self._canonical(frame)

    def lookup(self, e164s: Sequence[str]) -> pl.DataFrame:
        """The remote contacts with these numbers (``[lookup] by``); none: no request."""
        how = self.description.lookup
        numbers = list(dict.fromkeys(n for n in e164s if n))
        if not numbers:
            return remote_frame([], self.names)
        if how.by == "number":
            found = self.fetch_pages(self._found, numbers, self.names, label="looking up")
            return self.without_stand_ins(found)
        first = None
        if how.by == "search":
            cheaper, first = self._search_is_cheaper(len(numbers))
            if cheaper:
                hits = self.parallel(self.find, _search_order(numbers, how.choose), "looking up")
                records = [record for record in hits if record is not None]
                return self.without_stand_ins(first_per_id(remote_frame(records, self.names)))
        listing = self.fetch_remote() if first is None else self._canonical(self._listed(first))
        return listing.filter(pl.col("e164").is_in(numbers))

    def _search_is_cheaper(self, count: int) -> tuple[bool, dict[str, Any] | None]:
        """``known_total``: fewer searches than pages to list, counted from the last
        listing; ``first_page``: fewer than the pages page 1 tells of, less one (and
        page 1, for the listing otherwise)."""
        if self.description.lookup.choose == "known_total":
            pages = math.ceil(((self.remote_total or 0) + count) / self.per_page)
            return count < pages, None
        first = self._page(1, self.per_page)
        return count < self._page_count(first) - 1, first

    def find(self, e164: str) -> dict[str, Any] | None:
        how = self.description.lookup
        query = self.fill(how.query, e164=e164)
        if how.by == "number":
            try:
                body = self.send_json("GET", how.path, "number", query=query)
            except TerminalError as exc:
                if exc.status in how.absent:
                    return None
                raise
            remote_id = self.record_id(body, how.record, how.ids)
            record: dict[str, Any] = next(
                (dig(body, p) for p in how.record if isinstance(dig(body, p), dict)), {}
            )
            phone = self.names["e164"]
            return None if remote_id is None else {**record, "id": remote_id, phone: e164}
        items = dig(self.send_json("GET", how.path, "search", query=query), how.records) or []
        phone = self.names["e164"]
        return next((dict(r) for r in items if isinstance(r, dict) and r.get(phone) == e164), None)

    def _found(self, e164: str) -> list[dict[str, Any]]:
        record = self.find(e164)
        return [] if record is None else [record]

    def without_stand_ins(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The server's fillers (``[fields] read_as_null``) read as null."""
        stand_ins = self.description.fields.read_as_null
        if not stand_ins:
            return frame
        columns = []
        for column, template in stand_ins.items():
            value = self.text(template, e164=pl.col("e164"))
            other = value.str.to_lowercase() if isinstance(value, pl.Expr) else str(value).lower()
            keep = pl.col(column).str.to_lowercase() != other
            columns.append(pl.when(keep).then(pl.col(column)).alias(column))
        return frame.with_columns(columns).select(list(REMOTE_SCHEMA))

    # -- by page number ----------------------------------------------------------------
    def pages_from(
        self, start: int, label: str = "fetching", into: RemoteFrames | None = None
    ) -> pl.DataFrame:
        """Every contact on list page ``start`` and the pages after it (page order),
        after those gathered ``into`` already. The first of them tells the total and the
        page size the server uses."""
        return self._listed(self._page(start, self.per_page), start, label, into)

    def _listed(
        self,
        first: dict[str, Any],
        start: int = 1,
        label: str = "fetching",
        into: RemoteFrames | None = None,
    ) -> pl.DataFrame:
        listing = self.description.listing
        total = dig(first, listing.total) if listing.total else None
        self.remote_total = int(total or 0)
        self.per_page = per_page = int(dig(first, listing.per_page) or self.per_page)
        return self.fetch_pages(
            lambda p: self.page_frame(p, per_page),
            range(start + 1, self._page_count(first) + 1),
            self.names,
            first=dig(first, listing.records) or [],
            label=label,
            into=into,
            bound=self.bound(total if start == 1 else None),
        )

    def bound(self, total: int | None) -> ListingBound:
        """The bound of one listing (``total``: what its first page said there are)."""
        endpoint = f"{self.name}: GET {self.description.listing.path}"
        cap = int(self.options["max_remote_contacts"])
        return ListingBound(endpoint, self.names["remote_id"], cap, total, self.per_page)

    def _canonical(self, frame: pl.DataFrame) -> pl.DataFrame:
        return self.without_stand_ins(first_per_id(frame))

    def _page_count(self, first: dict[str, Any]) -> int:
        listing = self.description.listing
        per_page = int(dig(first, listing.per_page) or self.per_page)
        pages = dig(first, listing.pages)
        return int(pages or math.ceil(int(dig(first, listing.total) or 0) / per_page) or 1)

    def _page_query(self, page: int, per_page: int) -> dict[str, Any]:
        listing = self.description.listing
        return {**self.fill(listing.query), listing.page: page, listing.size: per_page}

    def _page(self, page: int, per_page: int) -> dict[str, Any]:
        query = self._page_query(page, per_page)
        body: dict[str, Any] = self.send_json(
            "GET", self.description.listing.path, "page", query=query
        )
        return body

    def page_frame(self, page: int, per_page: int) -> pl.DataFrame:
        """The contacts on one list page, as an API frame (``frames.page_frame``)."""
        listing = self.description.listing
        answer = self.send("GET", listing.path, query=self._page_query(page, per_page))

        def records(content: bytes) -> list[dict[str, Any]]:
            return list(dig(self.answer_of(answer, "GET", listing.path, "page"), listing.records))

        return page_frame(answer.content, listing.records, self.names, records)

    # -- by offset ---------------------------------------------------------------------
    def _offsets(self) -> pl.DataFrame:
        """Page after page by offset: the pages the first one's total tells of at once,
        then on while the server says more follow (no total, or the set grew)."""
        first = last = self._offset(0)
        remote = RemoteFrames(self.names)
        bound = self.bound(first.total)
        bound.check(first.items)
        remote.add(first.items)
        step = len(first.items)
        if first.more and step and first.total is not None:
            for last in self.stream(self._offset, range(step, first.total, step), "fetching"):
                bound.check(last.items)
                remote.add(last.items)
        while last.more and last.items:
            last = self._offset(last.offset + len(last.items))
            bound.check(last.items)
            remote.add(last.items)
        return remote.frame()

    def _offset(self, offset: int) -> _Offset:
        listing = self.description.listing
        query = {**self.fill(listing.query), listing.size: self.per_page, listing.page: offset}
        body = self.send_json("GET", listing.path, "page", query=query)
        total = dig(body, listing.total)
        items = list(dig(body, listing.records) or [])
        more = bool(dig(body, listing.more))
        return _Offset(offset, items, total if isinstance(total, int) else None, more)
