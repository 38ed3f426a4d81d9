"""Emulator of the oliai contact API (shared/targets.md, "oliai"; seeds/oliai.txt).

Auth ``x-api-key``; paths under ``/v1``; NestJS-style errors
``{"statusCode", "message", "error"}``; ids in oliai's own ``cl...`` style.

- list: ``page``/``limit`` (default 20, max 100) → ``{data, total, page, limit,
  totalPages}``; a ``limit`` over 100 is refused with ``400`` (as a validating API does)
  and recorded as a violation;
- create: ``name`` and ``phoneNumber`` (E.164) required, unknown properties refused;
  an existing phone → ``409``;
- bulk: at most 1,000 contacts (more: ``400`` + violation); creates **or updates** by
  phone; invalid items are reported by index in ``errors`` and the rest still go in;
- bulk delete: ids that do not exist are ignored (the count says how many went);
  **assumed** at most 1,000 ids a request, like the bulk create;
- audiences live in ``store.lists`` (seed them with ``audiences=[...]``); an unknown
  audience or contact id → ``404``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from pipeline.sandbox.common import int_param, is_e164, json_object, now_iso, prime_e164
from pipeline.sandbox.server import ApiError, Emulator, Faults, Reply, Request
from pipeline.sandbox.store import Store

PREFIX = "/v1"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_BULK = 1000
MAX_BULK_DELETE = 1000
ID_PREFIX = "cl"
ORGANIZATION = "org_sandbox"
_WRITABLE = ("name", "phoneNumber", "language", "metadata")


class OliaiEmulator(Emulator):
    name = "oliai"

    def __init__(
        self,
        store: Store,
        api_key: str,
        faults: Faults | None = None,
        audiences: Iterable[str] = (),
    ) -> None:
        super().__init__(store, api_key, faults)
        for audience_id in audiences:
            self.store.lists[audience_id] = {"id": audience_id, "contactIds": []}
        p = PREFIX
        self.route("GET", f"{p}/contacts", self.list_contacts)
        self.route("POST", f"{p}/contacts", self.create_contact)
        self.route("POST", f"{p}/contacts/bulk", self.bulk_upsert, bulk=True)
        self.route("POST", f"{p}/contacts/bulk-delete", self.bulk_delete, bulk=True)
        self.route("POST", f"{p}/contacts/add-to-audience", self.add_to_audience)
        self.route("GET", f"{p}/contacts/{{id}}", self.get_contact)
        self.route("PATCH", f"{p}/contacts/{{id}}", self.update_contact)
        self.route("DELETE", f"{p}/contacts/{{id}}", self.delete_contact)

    def authenticate(self, request: Request) -> None:
        if request.header("x-api-key") != self.api_key:
            raise ApiError(401, "unauthorized", "Invalid or missing API key")

    def error_body(self, status: int, code: str, message: str) -> Any:
        return {"statusCode": status, "message": message, "error": _phrase(status)}

    # -- read --------------------------------------------------------------------------
    def list_contacts(self, request: Request) -> Reply:
        page = int_param(request, "page", 1)
        limit = int_param(request, "limit", DEFAULT_LIMIT)
        if limit > MAX_LIMIT:
            self.store.violation(f"oliai: limit={limit} > {MAX_LIMIT}")
            raise ApiError(400, "bad_request", f"limit must not be greater than {MAX_LIMIT}")
        contacts = _matching(self.store.all(), request.query.get("search"))
        total = len(contacts)
        body = {
            "data": contacts[(page - 1) * limit : page * limit],
            "total": total,
            "page": page,
            "limit": limit,
            "totalPages": math.ceil(total / limit),
        }
        return Reply(200, body)

    def get_contact(self, request: Request) -> Reply:
        return Reply(200, self._existing(request.params["id"]))

    # -- write -------------------------------------------------------------------------
    def create_contact(self, request: Request) -> Reply:
        fields = _validated(json_object(request))
        with self.store.lock:
            if self.store.find_e164(fields["phoneNumber"]):
                raise ApiError(409, "conflict", "Contact with this phone number already exists")
            return Reply(201, self._insert(fields))

    def bulk_upsert(self, request: Request) -> Reply:
        items = json_object(request).get("contacts")
        if not isinstance(items, list) or not items:
            raise ApiError(400, "bad_request", "contacts must be a non-empty array")
        if len(items) > MAX_BULK:
            self.store.violation(f"oliai: bulk of {len(items)} > {MAX_BULK}")
            raise ApiError(400, "bad_request", f"contacts must contain no more than {MAX_BULK}")
        prime_e164([item.get("phoneNumber") for item in items if isinstance(item, dict)])
        created = updated = 0
        landed: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        stamp = now_iso()
        with self.store.lock:
            for index, item in enumerate(items):
                try:
                    fields = _validated(item)
                except ApiError as exc:
                    errors.append({"index": index, "reason": exc.message})
                    continue
                existing = self.store.find_e164(fields["phoneNumber"])
                # the answer holds copies: it is written out after the lock is released
                if existing is None:
                    landed.append(dict(self._insert(fields, stamp)))
                    created += 1
                else:
                    landed.append(dict(_apply(existing, fields, stamp)))
                    updated += 1
        body = {"created": created, "updated": updated, "failed": len(errors)}
        return Reply(200, {**body, "contacts": landed, "errors": errors})

    def update_contact(self, request: Request) -> Reply:
        body = json_object(request)
        with self.store.lock:
            contact = self._existing(request.params["id"])
            fields = _validated(body, partial=True)
            phone = fields.get("phoneNumber")
            if phone and phone != contact["phoneNumber"]:
                if self.store.find_e164(phone):
                    raise ApiError(409, "conflict", "Contact with this phone number already exists")
                self.store.by_e164.pop(contact["phoneNumber"], None)
                self.store.by_e164[phone] = contact["id"]
            return Reply(200, _apply(contact, fields))

    def delete_contact(self, request: Request) -> Reply:
        with self.store.lock:
            contact = self._existing(request.params["id"])
            self._remove(contact)
        return Reply(200, {"success": True})

    def bulk_delete(self, request: Request) -> Reply:
        ids = _id_list(json_object(request), "contactIds")
        if len(ids) > MAX_BULK_DELETE:
            self.store.violation(f"oliai: bulk delete of {len(ids)} > {MAX_BULK_DELETE}")
            raise ApiError(
                400, "bad_request", f"contactIds must contain no more than {MAX_BULK_DELETE}"
            )
        deleted = 0
        with self.store.lock:
            for contact_id in ids:
                contact = self.store.get(contact_id)
                if contact is not None:
                    self._remove(contact)
                    deleted += 1
        return Reply(200, {"deleted": deleted})

    def add_to_audience(self, request: Request) -> Reply:
        body = json_object(request)
        ids = _id_list(body, "contactIds")
        audience_id = body.get("audienceId")
        with self.store.lock:
            audience = self.store.lists.get(audience_id) if isinstance(audience_id, str) else None
            if audience is None:
                raise ApiError(404, "not_found", f"Audience {audience_id} not found")
            for contact_id in ids:
                self._existing(contact_id)
            members = audience["contactIds"]
            members.extend(i for i in dict.fromkeys(ids) if i not in members)
            return Reply(200, {"audienceId": audience_id, "contactCount": len(members)})

    # -- helpers -----------------------------------------------------------------------
    def _existing(self, contact_id: str) -> dict[str, Any]:
        contact = self.store.get(contact_id)
        if contact is None:
            raise ApiError(404, "not_found", f"Contact {contact_id} not found")
        return contact

    def _insert(self, fields: dict[str, Any], stamp: str | None = None) -> dict[str, Any]:
        stamp = stamp or now_iso()
        record = {
            "name": fields["name"],
            "phoneNumber": fields["phoneNumber"],
            "language": fields.get("language"),
            "metadata": fields.get("metadata"),
            "organizationId": ORGANIZATION,
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        return self.store.insert(fields["phoneNumber"], record, id_prefix=ID_PREFIX, owned=True)

    def _remove(self, contact: dict[str, Any]) -> None:
        self.store.delete(contact["id"], contact["phoneNumber"])
        for audience in self.store.lists.values():
            if contact["id"] in audience["contactIds"]:
                audience["contactIds"].remove(contact["id"])


def _validated(item: Any, partial: bool = False) -> dict[str, Any]:
    """The writable fields of one contact body, or a ``400`` naming the first problem."""
    if not isinstance(item, dict):
        raise ApiError(400, "bad_request", "each contact must be an object")
    for key in item:
        if key not in _WRITABLE:
            raise ApiError(400, "bad_request", f"property {key} should not exist")
    if not partial or "name" in item:
        _check_name(item.get("name"))
    if not partial or "phoneNumber" in item:
        _check_phone(item.get("phoneNumber"))
    language = item.get("language")
    if language is not None and not (isinstance(language, str) and language):
        raise ApiError(400, "bad_request", "language must be a non-empty string")
    metadata = item.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ApiError(400, "bad_request", "metadata must be an object")
    return dict(item)


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "bad_request", "name should not be empty")


def _check_phone(phone: Any) -> None:
    if not is_e164(phone):
        raise ApiError(
            400,
            "bad_request",
            f"phoneNumber {phone!r} must be a valid E.164 phone number (e.g. +919876543210)",
        )


def _apply(
    contact: dict[str, Any], fields: dict[str, Any], stamp: str | None = None
) -> dict[str, Any]:
    contact.update(fields)
    contact["updatedAt"] = stamp or now_iso()
    return contact


def _id_list(body: dict[str, Any], key: str) -> list[str]:
    ids = body.get(key)
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "bad_request", f"{key} must be a non-empty array of strings")
    return ids


def _matching(contacts: list[dict[str, Any]], search: str | None) -> list[dict[str, Any]]:
    if not search:
        return contacts
    needle = search.lower()
    return [
        c for c in contacts if needle in (c.get("name") or "").lower() or needle in c["phoneNumber"]
    ]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
