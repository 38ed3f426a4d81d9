"""The in-memory contact store every sandbox emulator is built on.

One store holds contacts as plain dicts in the emulated API's own field names, unique by
E.164, plus a log of every request the emulator served (tests read it to count writes and
to check that no request broke a documented limit).
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: uuid version 4: the version nibble is 4, the variant bits are 10
_NOT_VERSION_VARIANT = ~((0xF << 76) | (0xC << 60))
_VERSION_4_VARIANT = (0x4 << 76) | (0x8 << 60)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int
    items: int = 0


@dataclass
class Store:
    """Contacts by id, with a unique E.164 index and a request log."""

    id_style: str = "uuid"
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_e164: dict[str, str] = field(default_factory=dict)
    requests: list[LoggedRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: seeds the random uuids (None: seeded from the OS, so stores differ)
    seed: int | None = None

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._counter = itertools.count(1)
        self._random = random.Random(self.seed)
        self._snapshot: list[dict[str, Any]] | None = None
        #: the contacts in insertion order, kept up to date by inserts (None: to rebuild)
        self._ordered: list[dict[str, Any]] | None = None

    def new_id(self, prefix: str = "") -> str:
        """A random (version 4) uuid, or ``prefix`` and a counter: the vendor's id style."""
        with self.lock:
            if self.id_style != "uuid":
                return f"{prefix}{next(self._counter):08d}"
            bits = self._random.getrandbits(128)
        # what str(uuid.UUID(int=bits, version=4)) gives, at a third of its cost
        h = "%032x" % ((bits & _NOT_VERSION_VARIANT) | _VERSION_4_VARIANT)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def insert(
        self, e164: str, record: dict[str, Any], id_prefix: str = "", *, owned: bool = False
    ) -> dict[str, Any]:
        """Store a contact under a new id (or its own ``id``) and return the stored record.

        ``owned``: the record was built for the store and is stored as it is (it gets
        its ``id`` in place); otherwise a copy is stored."""
        with self.lock:
            contact_id = record.get("id") or self._unused_id(id_prefix)
            if owned:
                record["id"] = contact_id
            else:
                record = {**record, "id": contact_id}
            known = contact_id in self.contacts
            self.contacts[contact_id] = record
            self.by_e164[e164] = contact_id
            self._snapshot = None
            if self._ordered is not None:
                if known:
                    self._ordered = None  # a record replaced in place: rebuild
                else:
                    self._ordered.append(record)
            return record

    def _unused_id(self, prefix: str) -> str:
        contact_id = self.new_id(prefix)
        while contact_id in self.contacts:
            contact_id = self.new_id(prefix)
        return contact_id

    def find_e164(self, e164: str) -> dict[str, Any] | None:
        with self.lock:
            contact_id = self.by_e164.get(e164)
            return self.contacts.get(contact_id) if contact_id else None

    def get(self, contact_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.contacts.get(contact_id)

    def delete(self, contact_id: str, e164: str) -> bool:
        with self.lock:
            if self.contacts.pop(contact_id, None) is None:
                return False
            self.by_e164.pop(e164, None)
            self._snapshot = self._ordered = None
            return True

    def all(self) -> list[dict[str, Any]]:
        """Every contact in insertion order; a snapshot kept until the next insert or delete,
        so that paging through a large store costs one copy, not one per page."""
        with self.lock:
            if self._snapshot is None:
                self._snapshot = list(self._in_order())
            return self._snapshot

    def window(self, start: int, stop: int) -> tuple[int, list[dict[str, Any]]]:
        """How many contacts there are, and those at positions ``start:stop`` in insertion
        order: one page costs its own size, also while creates keep coming in."""
        with self.lock:
            ordered = self._in_order()
            return len(ordered), ordered[max(0, start) : max(0, stop)]

    def _in_order(self) -> list[dict[str, Any]]:
        if self._ordered is None or len(self._ordered) != len(self.contacts):
            self._ordered = list(self.contacts.values())
        return self._ordered

    def log(self, request: LoggedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def violation(self, message: str) -> None:
        with self.lock:
            self.violations.append(message)

    def writes(self) -> int:
        """How many requests that change state (anything but GET) were served."""
        with self.lock:
            return sum(1 for r in self.requests if r.method != "GET")

    def save(self, path: Path) -> None:
        with self.lock:
            data = {"contacts": self.contacts, "lists": self.lists}
        path.write_text(json.dumps(data), encoding="utf-8")

    def load(self, path: Path, e164_of: Any) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        with self.lock:
            self.contacts = data.get("contacts", {})
            self.lists = data.get("lists", {})
            self.by_e164 = {e164_of(c): cid for cid, c in self.contacts.items()}
            self._snapshot = self._ordered = None
