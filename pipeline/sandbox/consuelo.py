"""Emulator of the consuelo contact API (shared/targets.md, "consuelo").

``Authorization: Bearer <token>``; paths under ``/v1``; errors
``{"error": {"code", "message"}}``. Every call names a workspace: ``workspaceId`` in the
query of a GET, in the body of a POST (``400`` without it). The list pages by
``offset``/``limit`` (default 20, at most 100: a larger limit is refused with ``400`` and
recorded as a violation) and answers ``{"data": [...], "meta": {"total", "hasMore"}}``.
Create takes an E.164 ``phone`` and answers ``201 {"data": contact}``; an existing phone
→ ``409``. ``PATCH`` is partial and also takes ``notes``. ``POST /v1/dnc`` adds a number
to the workspace's do-not-call list (a repeat is accepted). No JSON bulk.

Sandbox choices where the docs are silent: body fields an endpoint does not take are
ignored (so ``notes`` sent on create are dropped, as create does not list it); the
contact object carries ``notes`` (null until set) and its ``workspaceId``; any workspace
id is accepted unless ``workspaces`` is given (then others → ``403``); one phone index
serves the whole sandbox; the DNC list lives in memory only (not in ``--db``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import phonenumbers

from pipeline.sandbox.common import int_param, is_e164, is_email, json_object, now_iso
from pipeline.sandbox.server import ApiError, Emulator, Faults, Reply, Request
from pipeline.sandbox.store import Store

PREFIX = "/v1"
ID_PREFIX = "contact_"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CREATE_FIELDS = ("firstName", "lastName", "email", "company")
UPDATE_FIELDS = (*CREATE_FIELDS, "notes")
SEARCHED = ("firstName", "lastName", "phone", "email", "company")


class ConsueloEmulator(Emulator):
    name = "consuelo"

    def __init__(
        self,
        store: Store,
        api_key: str,
        faults: Faults | None = None,
        workspaces: Iterable[str] | None = None,
    ) -> None:
        super().__init__(store, api_key, faults)
        self.workspaces = set(workspaces) if workspaces is not None else None
        #: (workspaceId, phone) → DNC entry
        self.dnc: dict[tuple[str, str], dict[str, Any]] = {}
        p = PREFIX
        self.route("GET", f"{p}/contacts", self.list_contacts)
        self.route("POST", f"{p}/contacts", self.create_contact)
        self.route("POST", f"{p}/contacts/search", self.search_contacts)
        self.route("POST", f"{p}/contacts/normalize", self.normalize)
        self.route("GET", f"{p}/contacts/{{id}}", self.get_contact)
        self.route("PATCH", f"{p}/contacts/{{id}}", self.update_contact)
        self.route("DELETE", f"{p}/contacts/{{id}}", self.delete_contact)
        self.route("POST", f"{p}/dnc", self.add_dnc)

    def authenticate(self, request: Request) -> None:
        if request.header("Authorization") != f"Bearer {self.api_key}":
            raise ApiError(401, "unauthorized", "Invalid or missing access token")

    def error_body(self, status: int, code: str, message: str) -> Any:
        return {"error": {"code": code, "message": message}}

    # -- contacts ----------------------------------------------------------------------
    def list_contacts(self, request: Request) -> Reply:
        workspace = self._workspace(request.query.get("workspaceId"))
        limit = self._limit(int_param(request, "limit", DEFAULT_LIMIT, "validation_error"))
        offset = _offset(request)
        contacts = [c for c in self.store.all() if c.get("workspaceId") == workspace]
        page = contacts[offset : offset + limit]
        meta = {"total": len(contacts), "hasMore": offset + len(page) < len(contacts)}
        return Reply(200, {"data": page, "meta": meta})

    def get_contact(self, request: Request) -> Reply:
        return Reply(200, {"data": self._existing(request.params["id"])})

    def create_contact(self, request: Request) -> Reply:
        body = json_object(request)
        workspace = self._workspace(body.get("workspaceId"))
        phone = _e164(body.get("phone"))
        fields = _fields(body, CREATE_FIELDS)
        stamp = now_iso()
        record = {"workspaceId": workspace, "phone": phone, **dict.fromkeys(UPDATE_FIELDS)}
        record |= {**fields, "createdAt": stamp, "updatedAt": stamp}
        with self.store.lock:
            if self.store.find_e164(phone):
                raise ApiError(409, "conflict", f"A contact with phone {phone} already exists")
            return Reply(201, {"data": self.store.insert(phone, record, id_prefix=ID_PREFIX)})

    def update_contact(self, request: Request) -> Reply:
        fields = _fields(json_object(request), UPDATE_FIELDS)
        with self.store.lock:
            contact = self._existing(request.params["id"])
            contact.update(fields, updatedAt=now_iso())
            return Reply(200, {"data": contact})

    def delete_contact(self, request: Request) -> Reply:
        with self.store.lock:
            contact = self._existing(request.params["id"])
            self.store.delete(contact["id"], contact["phone"])
        return Reply(204)

    def search_contacts(self, request: Request) -> Reply:
        body = json_object(request)
        workspace = self._workspace(body.get("workspaceId"))
        needle = str(body.get("query") or "").lower()
        filters = body.get("filters") or {}
        if not isinstance(filters, dict):
            raise ApiError(400, "validation_error", "filters must be an object")
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or limit < 1:
            raise ApiError(400, "validation_error", "limit must be a positive integer")
        found = [
            c
            for c in self.store.all()
            if c.get("workspaceId") == workspace
            and needle in _haystack(c)
            and all(c.get(k) == v for k, v in filters.items())
        ]
        return Reply(200, {"data": found[: min(limit, MAX_LIMIT)], "meta": {"total": len(found)}})

    def normalize(self, request: Request) -> Reply:
        original = json_object(request).get("phone")
        if not isinstance(original, str) or not original:
            raise ApiError(400, "validation_error", "phone is required")
        return Reply(200, {"data": _normalized(original)})

    # -- do not call -------------------------------------------------------------------
    def add_dnc(self, request: Request) -> Reply:
        body = json_object(request)
        workspace = self._workspace(body.get("workspaceId"))
        phone = _e164(body.get("phone"))
        key = (workspace, phone)
        with self.store.lock:
            if key in self.dnc:
                return Reply(200, {"data": self.dnc[key]})
            entry = {
                "workspaceId": workspace,
                "phone": phone,
                "reason": body.get("reason"),
                "createdAt": now_iso(),
            }
            self.dnc[key] = entry
            return Reply(201, {"data": entry})

    # -- helpers -----------------------------------------------------------------------
    def _workspace(self, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise ApiError(400, "validation_error", "workspaceId is required")
        if self.workspaces is not None and value not in self.workspaces:
            raise ApiError(403, "forbidden", f"This token has no access to workspace {value}")
        return value

    def _limit(self, limit: int) -> int:
        if limit > MAX_LIMIT:
            self.store.violation(f"consuelo: limit={limit} > {MAX_LIMIT}")
            raise ApiError(400, "validation_error", f"limit must be at most {MAX_LIMIT}")
        return limit

    def _existing(self, contact_id: str) -> dict[str, Any]:
        contact = self.store.get(contact_id)
        if contact is None:
            raise ApiError(404, "not_found", f"Contact {contact_id} not found")
        return contact


def _offset(request: Request) -> int:
    value = request.query.get("offset") or "0"
    if not value.isdigit():
        raise ApiError(400, "validation_error", "offset must be a non-negative integer")
    return int(value)


def _e164(phone: Any) -> str:
    if not phone:
        raise ApiError(400, "validation_error", "phone is required")
    if not is_e164(phone):
        raise ApiError(
            400, "validation_error", f"phone {phone!r} must be in E.164 format, e.g. +14155551234"
        )
    return str(phone)


def _fields(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """The fields of ``body`` this endpoint takes, checked (others are ignored)."""
    fields = {k: v for k, v in body.items() if k in allowed}
    for name, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise ApiError(400, "validation_error", f"{name} must be a string")
    email = fields.get("email")
    if email is not None and not is_email(email):
        raise ApiError(400, "validation_error", f"email {email!r} is not a valid email address")
    return fields


def _normalized(original: str) -> dict[str, Any]:
    try:
        number = phonenumbers.parse(original, "US")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return {
            "original": original,
            "normalized": None,
            "isValid": False,
            "countryCode": None,
            "areaCode": None,
        }
    national = str(number.national_number)
    area = national[: phonenumbers.length_of_geographical_area_code(number)] or None
    return {
        "original": original,
        "normalized": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        "isValid": True,
        "countryCode": phonenumbers.region_code_for_number(number),
        "areaCode": area,
    }


def _haystack(contact: dict[str, Any]) -> str:
    return " ".join(str(contact[k]) for k in SEARCHED if contact.get(k)).lower()
