"""Emulator of the zexa contact API (shared/targets.md, "zexa").

Auth ``Authorization: Bearer <key>``; paths under ``/v1``; errors
``{"error": "<code>", "message": "..."}``; ids ``cnt_...``. Create takes ``name`` and an
E.164 ``phone`` (with ``+``), an optional ``email`` and ``lists``; an existing phone →
``409 conflict``. The list pages by ``page``/``per_page`` (default 50, at most 100: a
larger ``per_page`` is clamped and recorded as a violation), filtered by ``list_id``.
There is no update and no opt-out; delete answers ``204`` or ``404 not_found``.
"""

from __future__ import annotations

import math
from typing import Any

from pipeline.sandbox.common import int_param, is_e164, is_email, json_object, now_iso
from pipeline.sandbox.server import ApiError, Emulator, Faults, Reply, Request
from pipeline.sandbox.store import Store

PREFIX = "/v1"
ID_PREFIX = "cnt_"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100


class ZexaEmulator(Emulator):
    name = "zexa"

    def __init__(self, store: Store, api_key: str, faults: Faults | None = None) -> None:
        super().__init__(store, api_key, faults)
        self.route("GET", f"{PREFIX}/contacts", self.list_contacts)
        self.route("POST", f"{PREFIX}/contacts", self.create_contact)
        self.route("DELETE", f"{PREFIX}/contacts/{{id}}", self.delete_contact)

    def authenticate(self, request: Request) -> None:
        if request.header("Authorization") != f"Bearer {self.api_key}":
            raise ApiError(401, "unauthorized", "API key is missing or invalid")

    def error_body(self, status: int, code: str, message: str) -> Any:
        return {"error": code, "message": message}

    # -- contacts ----------------------------------------------------------------------
    def list_contacts(self, request: Request) -> Reply:
        page = int_param(request, "page", 1)
        per_page = int_param(request, "per_page", DEFAULT_PER_PAGE)
        if per_page > MAX_PER_PAGE:
            self.store.violation(f"zexa: per_page={per_page} > {MAX_PER_PAGE}")
            per_page = MAX_PER_PAGE
        contacts = self.store.all()
        list_id = request.query.get("list_id")
        if list_id:
            contacts = [c for c in contacts if list_id in (c.get("lists") or [])]
        total = len(contacts)
        pagination = {
            "page": page,
            "per_page": per_page,
            "total": total,
            "total_pages": math.ceil(total / per_page),
        }
        data = contacts[(page - 1) * per_page : page * per_page]
        return Reply(200, {"data": data, "pagination": pagination})

    def create_contact(self, request: Request) -> Reply:
        record = _validated(json_object(request))
        with self.store.lock:
            if self.store.find_e164(record["phone"]):
                raise ApiError(
                    409,
                    "conflict",
                    f"A contact with phone number {record['phone']} already exists",
                )
            return Reply(201, self.store.insert(record["phone"], record, id_prefix=ID_PREFIX))

    def delete_contact(self, request: Request) -> Reply:
        contact_id = request.params["id"]
        with self.store.lock:
            contact = self.store.get(contact_id)
            if contact is None:
                raise ApiError(404, "not_found", f"No contact with id {contact_id}")
            self.store.delete(contact_id, contact["phone"])
        return Reply(204)


def _validated(body: dict[str, Any]) -> dict[str, Any]:
    """The stored record for a create body, or the API's 400/422 answer."""
    name, phone, email, lists = (body.get(k) for k in ("name", "phone", "email", "lists"))
    missing = [k for k, v in (("name", name), ("phone", phone)) if v is None or v == ""]
    if missing:
        raise ApiError(400, "invalid_request", f"Missing required field(s): {', '.join(missing)}")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "invalid_request", "name must be a non-empty string")
    if lists is not None and not (
        isinstance(lists, list) and all(isinstance(x, str) and x for x in lists)
    ):
        raise ApiError(400, "invalid_request", "lists must be an array of contact list IDs")
    if not is_e164(phone):
        raise ApiError(
            422,
            "validation_error",
            f"phone {phone!r} is not in E.164 format (+ then country code and number)",
        )
    if email is not None and not is_email(email):
        raise ApiError(422, "validation_error", f"email {email!r} is malformed")
    return {
        "name": name,
        "phone": phone,
        "email": email,
        "lists": list(lists or []),
        "created_at": now_iso(),
    }


def e164_of(contact: dict[str, Any]) -> str:
    """The index key of a stored zexa contact (for ``Store.load``)."""
    return str(contact["phone"])
