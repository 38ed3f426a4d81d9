"""Emulator of the arnis contact API (shared/targets.md, "arnis").

Auth ``X-API-Key`` with scopes; paths under ``/api/v1``; ``{"detail": ...}`` errors;
list pages of at most 100; batch of at most 1,000 with duplicates (by phone) skipped and
counts only in the answer; an existing phone on single create → ``409``.

The vendor's docs do not say in what order contacts are listed: the sandbox lists them
in creation order, or newest first with ``list_order="newest"`` (so tests can check that
the adapter does not depend on the order).
"""

from __future__ import annotations

import math
from typing import Any

from pipeline.sandbox.common import (
    any_format_to_e164,
    int_param,
    is_email,
    is_timezone,
    json_object,
    now_iso,
    prime_e164,
)
from pipeline.sandbox.server import ApiError, Emulator, Faults, Reply, Request
from pipeline.sandbox.store import Store

PREFIX = "/api/v1"
MAX_PER_PAGE = 100
MAX_BATCH = 1000
FULL, READ_ONLY, CONTACTS_ONLY, CAMPAIGNS_ONLY = "full", "read", "contacts", "campaigns"
LIST_ORDERS = ("created", "newest")
_FIELDS = ("first_name", "last_name", "email", "timezone", "tags")


class ArnisEmulator(Emulator):
    name = "arnis"

    def __init__(
        self,
        store: Store,
        api_key: str,
        faults: Faults | None = None,
        scoped_keys: dict[str, str] | None = None,
        list_order: str = "created",
    ) -> None:
        super().__init__(store, api_key, faults)
        if list_order not in LIST_ORDERS:
            raise ValueError(f"list_order must be one of {', '.join(LIST_ORDERS)}")
        self.newest_first = list_order == "newest"
        self.keys = {api_key: FULL, **(scoped_keys or {})}
        self.members: dict[str, set[str]] = {}
        p = PREFIX
        self.route("GET", f"{p}/contacts", self.list_contacts)
        self.route("POST", f"{p}/contacts", self.create_contact)
        self.route("POST", f"{p}/contacts/batch", self.batch_create, bulk=True)
        self.route("GET", f"{p}/contacts/{{id}}", self.get_contact)
        self.route("PATCH", f"{p}/contacts/{{id}}", self.update_contact)
        self.route("DELETE", f"{p}/contacts/{{id}}", self.delete_contact)
        self.route("POST", f"{p}/contacts/{{id}}/opt-out", self.opt_out)
        self.route("POST", f"{p}/contacts/{{id}}/opt-in", self.opt_in)
        self.route("GET", f"{p}/lists", self.list_lists)
        self.route("POST", f"{p}/lists", self.create_list)

    def authenticate(self, request: Request) -> None:
        key = request.header("X-API-Key")
        scope = self.keys.get(key or "")
        if scope is None:
            raise ApiError(401, "unauthorized", "Invalid or missing API key")
        reading = request.method == "GET"
        allowed = scope == FULL or (scope == READ_ONLY and reading)
        allowed = allowed or (scope == CONTACTS_ONLY and not reading)
        if not allowed:
            raise ApiError(
                403,
                "forbidden",
                f"This API key's scope does not allow {request.method} {request.path}",
            )

    def error_body(self, status: int, code: str, message: str) -> Any:
        return {"detail": message}

    # -- contacts ----------------------------------------------------------------------
    def list_contacts(self, request: Request) -> Reply:
        page = int_param(request, "page", 1)
        per_page = int_param(request, "per_page", 25)
        if per_page > MAX_PER_PAGE:
            self.store.violation(f"arnis: per_page={per_page} > {MAX_PER_PAGE}")
            per_page = MAX_PER_PAGE
        search = request.query.get("search")
        if search:
            needle = search.lower()
            contacts = [c for c in self.store.all() if needle in _haystack(c)]
            total, items = len(contacts), _page_of(contacts, page, per_page, self.newest_first)
        else:
            total, items = self._page(page, per_page)
        pages = max(1, math.ceil(total / per_page))
        body = {"items": items, "total": total, "page": page, "per_page": per_page, "pages": pages}
        return Reply(200, body)

    def _page(self, page: int, per_page: int) -> tuple[int, list[dict[str, Any]]]:
        """The number of contacts and list page ``page`` of them, in the list's order."""
        start = (page - 1) * per_page
        if not self.newest_first:
            return self.store.window(start, start + per_page)
        with self.store.lock:
            total = len(self.store.contacts)
            _, items = self.store.window(total - start - per_page, total - start)
        return total, items[::-1]

    def get_contact(self, request: Request) -> Reply:
        return Reply(200, self._existing(request.params["id"]))

    def create_contact(self, request: Request) -> Reply:
        body = json_object(request)
        record, e164 = self._validated(body)
        list_ids = self._known_lists(body.get("list_ids"))
        with self.store.lock:
            if self.store.find_e164(e164):
                raise ApiError(
                    409, "conflict", f"A contact with phone number {e164} already exists"
                )
            created = self.store.insert(e164, record, owned=True)
            self._join_lists(created["id"], list_ids)
            return Reply(201, created)

    def batch_create(self, request: Request) -> Reply:
        body = json_object(request)
        items = body.get("contacts")
        if not isinstance(items, list) or not items:
            raise ApiError(422, "validation_error", "contacts must be a non-empty list")
        if len(items) > MAX_BATCH:
            self.store.violation(f"arnis: batch of {len(items)} > {MAX_BATCH}")
            raise ApiError(422, "validation_error", f"at most {MAX_BATCH} contacts per batch")
        list_ids = self._known_lists(body.get("list_ids"))
        prime_e164([item.get("phone_number") for item in items if isinstance(item, dict)])
        created = duplicates = errors = 0
        stamp = now_iso()
        with self.store.lock:
            known = self.store.by_e164
            for item in items:
                try:
                    record, e164 = self._validated(item if isinstance(item, dict) else {}, stamp)
                except ApiError:
                    errors += 1
                    continue
                if e164 in known:
                    duplicates += 1
                    continue
                self._join_lists(self.store.insert(e164, record, owned=True)["id"], list_ids)
                created += 1
        counts = {"total_submitted": len(items), "created": created}
        return Reply(200, {**counts, "duplicates_skipped": duplicates, "errors": errors})

    def update_contact(self, request: Request) -> Reply:
        body = json_object(request)
        with self.store.lock:
            contact = self._existing(request.params["id"])
            changes = {k: v for k, v in body.items() if k in _FIELDS or k == "phone_number"}
            _check_fields(changes)
            if "phone_number" in changes:
                e164 = any_format_to_e164(changes["phone_number"])
                if e164 is None:
                    raise ApiError(
                        422, "validation_error", "phone_number is not a valid phone number"
                    )
                changes["e164_number"] = e164
            contact.update(changes)
            return Reply(200, contact)

    def delete_contact(self, request: Request) -> Reply:
        with self.store.lock:
            contact = self._existing(request.params["id"])
            self.store.delete(contact["id"], contact["e164_number"])
        return Reply(204)

    def opt_out(self, request: Request) -> Reply:
        with self.store.lock:
            contact = self._existing(request.params["id"])
            contact["opted_out"] = True
            contact["opted_out_at"] = now_iso()
            return Reply(
                200,
                {"id": contact["id"], "opted_out": True, "opted_out_at": contact["opted_out_at"]},
            )

    def opt_in(self, request: Request) -> Reply:
        with self.store.lock:
            contact = self._existing(request.params["id"])
            contact["opted_out"] = False
            return Reply(200, {"id": contact["id"], "opted_out": False})

    # -- lists -------------------------------------------------------------------------
    def list_lists(self, request: Request) -> Reply:
        items = list(self.store.lists.values())
        return Reply(200, {"items": items, "total": len(items)})

    def create_list(self, request: Request) -> Reply:
        body = json_object(request)
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise ApiError(422, "validation_error", "name is required")
        list_id = self.store.new_id()
        record = {
            "id": list_id,
            "name": body["name"],
            "description": body.get("description"),
            "contact_count": 0,
            "created_at": now_iso(),
        }
        self.store.lists[list_id] = record
        return Reply(201, record)

    def _known_lists(self, list_ids: Any) -> list[str]:
        if list_ids is None:
            return []
        if not isinstance(list_ids, list) or not all(isinstance(i, str) for i in list_ids):
            raise ApiError(422, "validation_error", "list_ids must be a list of list ids")
        for list_id in list_ids:
            if list_id not in self.store.lists:
                raise ApiError(404, "not_found", f"List {list_id} not found")
        return list_ids

    def _join_lists(self, contact_id: str, list_ids: list[str]) -> None:
        """List membership lives beside the contact (it is not in the contact object)."""
        for list_id in list_ids:
            members = self.members.setdefault(list_id, set())
            members.add(contact_id)
            self.store.lists[list_id]["contact_count"] = len(members)

    # -- helpers -----------------------------------------------------------------------
    def _existing(self, contact_id: str) -> dict[str, Any]:
        contact = self.store.get(contact_id)
        if contact is None:
            raise ApiError(404, "not_found", "Contact not found")
        return contact

    def _validated(
        self, body: dict[str, Any], stamp: str | None = None
    ) -> tuple[dict[str, Any], str]:
        """The record to store for a create body (``created_at``: ``stamp`` or now), and
        its E.164 number; a ``422``/``404`` naming the first problem."""
        phone = body.get("phone_number")
        if not phone:
            raise ApiError(422, "validation_error", "phone_number is required")
        e164 = any_format_to_e164(phone)
        if e164 is None:
            raise ApiError(
                422, "validation_error", f"phone_number {phone!r} is not a valid phone number"
            )
        _check_fields(body)
        for list_id in body.get("list_ids") or []:
            if list_id not in self.store.lists:
                raise ApiError(404, "not_found", f"List {list_id} not found")
        record = {
            "phone_number": phone,
            "e164_number": e164,
            "first_name": body.get("first_name"),
            "last_name": body.get("last_name"),
            "email": body.get("email"),
            "timezone": body.get("timezone"),
            "tags": list(body.get("tags") or []),
            "opted_out": False,
            "created_at": stamp or now_iso(),
        }
        return record, e164


def _check_fields(body: dict[str, Any]) -> None:
    email = body.get("email")
    if email is not None and not is_email(email):
        raise ApiError(422, "validation_error", f"email {email!r} is not a valid email address")
    timezone = body.get("timezone")
    if timezone is not None and not is_timezone(timezone):
        raise ApiError(422, "validation_error", f"timezone {timezone!r} is not an IANA time zone")
    tags = body.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise ApiError(422, "validation_error", "tags must be a list of strings")


def _page_of(
    contacts: list[dict[str, Any]], page: int, per_page: int, newest_first: bool
) -> list[dict[str, Any]]:
    """List page ``page`` (from 1) of ``contacts`` (in creation order)."""
    if not newest_first:
        return contacts[(page - 1) * per_page : page * per_page]
    end = len(contacts) - (page - 1) * per_page
    return contacts[max(0, end - per_page) : end][::-1] if end > 0 else []


def _haystack(contact: dict[str, Any]) -> str:
    parts = (
        contact.get("first_name"),
        contact.get("last_name"),
        contact.get("phone_number"),
        contact.get("e164_number"),
    )
    return " ".join(p for p in parts if p).lower()
