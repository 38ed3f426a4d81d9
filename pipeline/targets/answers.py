"""What each answer of a described API must look like, derived from its description, and
the check that holds an answer to it (``Shape.problem``).

A description says where an answer keeps its records, their ids and numbers, its totals:
that is the documented shape. An answer of another shape (not JSON, an array where an
object belongs, a record without an id, a total that is not a number) is not "no
contacts" or "no id": it is a ``ProtocolError``, which ends the run before a write (a
read) or stops the writes and has what is unknown read back (a write).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from pipeline.errors import ProtocolError
from pipeline.sanitize import clean
from pipeline.targets.model import Description

#: how much of an answer a message quotes
EXCERPT = 120


@dataclass(frozen=True)
class Shape:
    """One endpoint's documented answer. ``records``: the dotted path of its list of
    records (None: it has none); ``record``: paths one of which holds the one record of
    the answer (empty: none); ``ids`` / ``phone``: fields of each record; ``counts``:
    paths that, when present, hold a whole number."""

    what: str
    records: str | None = None
    record: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    phone: str = ""
    counts: tuple[str, ...] = ()
    empty_ok: bool = False

    def problem(self, body: Any) -> str | None:
        """What is wrong with ``body`` (None: it has the documented shape)."""
        if body is None:
            return None if self.empty_ok else "an empty answer"
        if not isinstance(body, dict):
            return f"{_kind(body)} where an object belongs"
        for path in self.counts:
            value = dig(body, path)
            if value is not None and not _whole(value):
                return f"{path!r} is {_kind(value)}, not a whole number"
        if self.records is not None:
            records = dig(body, self.records) if self.records else body
            if not isinstance(records, list):
                return f"no list of records at {self.records!r} ({_kind(records)})"
            for index, record in enumerate(records):
                wrong = self._record_problem(record)
                if wrong:
                    return f"record {index} of {self.records!r}: {wrong}"
        if self.record:
            found = [dig(body, p) if p else body for p in self.record]
            record = next((r for r in found if isinstance(r, dict)), None)
            if record is None:
                return f"no record at {' or '.join(repr(p) for p in self.record)}"
            return self._record_problem(record)
        return None

    def _record_problem(self, record: Any) -> str | None:
        if not isinstance(record, dict):
            return f"{_kind(record)}, not an object"
        if self.ids and not any(_identifier(record.get(i)) for i in self.ids):
            return f"no id ({' or '.join(self.ids)})"
        number = record.get(self.phone) if self.phone else None
        if number is not None and not isinstance(number, str):
            return f"{self.phone!r} is {_kind(number)}, not text"
        return None


def shapes(d: Description) -> dict[str, Shape]:
    """Every endpoint's answer shape, by role: ``page`` (a list page), ``search`` (a
    lookup by search), ``number`` (a lookup by number), ``create`` (one contact),
    ``batch`` (a batch create) and ``bulk`` (a bulk upsert)."""
    read, listing = d.fields.read, d.listing
    ids, phone = (read["remote_id"],), read["e164"]
    page = Shape(
        "a list page",
        records=listing.records,
        ids=ids,
        phone=phone,
        counts=tuple(p for p in (listing.total, listing.pages, listing.per_page) if p),
    )
    found: dict[str, Shape] = {
        "page": page,
        "search": Shape("a search", records=d.lookup.records, ids=ids, phone=phone),
        "number": Shape("a lookup", record=d.lookup.record, ids=d.lookup.ids),
        "create": Shape("a create", record=d.create.answer, ids=d.create.ids),
    }
    batch = d.create.batch
    if batch is not None:
        counted = (batch.counted,) if batch.counted else ()
        found["batch"] = Shape("a batch create", counts=counted, empty_ok=True)
        found["bulk"] = Shape("a bulk write", records=batch.records, ids=ids, phone=phone)
    return found


def read_answer(response: httpx.Response, shape: Shape | None, endpoint: str) -> Any:
    """The JSON of ``response`` (None when empty), held to ``shape``: else a
    ``ProtocolError`` naming the endpoint, the status and an excerpt."""
    content = response.content
    try:
        body = json.loads(content) if content.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise protocol_error(endpoint, response, "an answer that is not JSON") from None
    wrong = shape.problem(body) if shape is not None else None
    if wrong:
        raise protocol_error(endpoint, response, f"{shape.what} with {wrong}")  # type: ignore[union-attr]
    return body


def protocol_error(endpoint: str, response: httpx.Response, what: str) -> ProtocolError:
    return ProtocolError(
        clean(f"{endpoint} answered HTTP {response.status_code}: {what}: {excerpt(response)}"),
        status=response.status_code,
    )


def excerpt(response: httpx.Response) -> str:
    text = response.content[: EXCERPT * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    return repr(text[:EXCERPT] + ("…" if len(text) > EXCERPT else ""))


def dig(body: Any, path: str) -> Any:
    """The value at a dotted path of a JSON body (None when absent)."""
    for part in path.split(".") if path else ():
        body = body.get(part) if isinstance(body, dict) else None
    return body


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _identifier(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return (isinstance(value, str) and value != "") or isinstance(value, int)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "an array",
        str: "text",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)
