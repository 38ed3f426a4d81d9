"""The in-memory contact store every sandbox emulator is built on.

One store holds contacts as plain dicts in the emulated API's own field names, unique by
E.164, plus a log of every request the emulator served (tests read it to count writes and
to check that no request broke a documented limit).
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._counter = itertools.count(1)
        self._snapshot: list[dict[str, Any]] | None = None

    def new_id(self, prefix: str = "") -> str:
        if self.id_style == "uuid":
            return str(uuid.uuid4())
        return f"{prefix}{next(self._counter):08d}"

    def insert(self, e164: str, record: dict[str, Any], id_prefix: str = "") -> dict[str, Any]:
        with self.lock:
            contact_id = record.get("id") or self.new_id(id_prefix)
            record = {**record, "id": contact_id}
            self.contacts[contact_id] = record
            self.by_e164[e164] = contact_id
            self._snapshot = None
            return record

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
            self._snapshot = None
            return True

    def all(self) -> list[dict[str, Any]]:
        """Every contact in insertion order; a snapshot kept until the next insert or delete,
        so that paging through a large store costs one copy, not one per page."""
        with self.lock:
            if self._snapshot is None:
                self._snapshot = list(self.contacts.values())
            return self._snapshot

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
            self._snapshot = None
