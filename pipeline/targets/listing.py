"""A listing that must end: the bound every read of the remote set goes through.

A server can answer page after page for ever: the same contacts again, a count that
grows past what it said first, or new ids without end (a listing of "1,000,000,000
pages"). ``ListingBound`` is told each page as it comes and stops the read (exit 3)
when a page repeats an earlier one, when the contacts listed pass the total the first
page gave (with a margin for contacts added meanwhile), or when they pass
``max_remote_contacts`` (an option of every target, for accounts larger than its
default). So the memory a listing takes is that of the contacts really there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from pipeline.errors import GuardError, ProtocolError

#: options every target takes, with their defaults
COMMON_OPTIONS: dict[str, int] = {"max_remote_contacts": 5_000_000}

#: how far past its first total a listing may go (contacts added while it is read)
MARGIN = 0.10


class ListingBound:
    """Counts the pages and contacts of one listing; ``check`` raises once it must stop."""

    def __init__(
        self, endpoint: str, id_field: str, cap: int, total: int | None, per_page: int
    ) -> None:
        self.endpoint = endpoint
        self.id_field = id_field
        self.cap = cap
        self.limit = None if total is None else total + int(total * MARGIN) + max(1, per_page)
        self.total = total
        self.listed = 0
        self.pages = 0
        self._seen: set[int] = set()

    def check(self, page: Sequence[Mapping[str, Any]] | pl.DataFrame) -> None:
        """One more page (its records, or its API frame)."""
        ids = _ids(page, self.id_field)
        self.pages += 1
        self.listed += len(ids)
        if ids:
            fingerprint = hash(frozenset(ids))
            if fingerprint in self._seen:
                raise ProtocolError(
                    f"{self.endpoint}: page {self.pages} of the listing holds the same "
                    "contacts as an earlier page: a listing that would never end"
                )
            self._seen.add(fingerprint)
        if self.limit is not None and self.listed > self.limit:
            raise ProtocolError(
                f"{self.endpoint}: the listing went on past {self.listed:,} contacts, "
                f"although its first page said there are {self.total:,}"
            )
        if self.listed > self.cap:
            raise GuardError(
                f"{self.endpoint}: the listing went on past {self.cap:,} remote contacts "
                "(max_remote_contacts), so the read stopped. If the account really holds "
                f"more, raise the bound: --option max_remote_contacts={self.cap * 2}"
            )


def _ids(page: Sequence[Mapping[str, Any]] | pl.DataFrame, id_field: str) -> list[Any]:
    if isinstance(page, pl.DataFrame):
        return page[id_field].to_list() if id_field in page.columns else []
    return [r.get(id_field) for r in page if isinstance(r, Mapping)]
