"""Emulator of the dmchamp contact API (shared/targets.md, "dmchamp").

The key rides in the ``apiKey`` query parameter (``401 {"message"}`` when missing or
wrong); errors are ``{"message": ...}``. There is no list endpoint: ``GET /contacts``
needs ``phoneNumber`` (with its country code) or ``email`` and answers one contact or
``404``; asking without either is refused with ``400`` and recorded as a violation.
``POST /contacts`` → ``200`` contact, filling the documented defaults ("Unknown" names,
a default email, ``is_bot_active`` true, ``do_not_disturb`` false); an existing phone →
``409 "Contact already exists"``. ``PUT /contacts/{contactId}`` takes only ``firstName``,
``lastName``, ``email``, ``is_bot_active``, ``do_not_disturb``. List membership:
``POST``/``DELETE /contacts/lists`` ``{contactId, listId}``. No delete endpoint.
Unknown body fields, nulls in non-nullable fields and wrong types are refused (``400``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipeline.sandbox.common import any_format_to_e164, is_email, json_object, now_iso
from pipeline.sandbox.server import ApiError, Emulator, Faults, Reply, Request
from pipeline.sandbox.store import Store

#: documented server default for a missing first or last name
DEFAULT_NAME = "Unknown"
#: assumed: the published docs show a default email but hide the address itself
DEFAULT_EMAIL = "unknown@dmchamp.com"

#: create body field → (accepted type, nullable); anything else is refused
CREATE_FIELDS: dict[str, tuple[type, bool]] = {
    "phoneNumber": (str, False),
    "firstName": (str, False),
    "lastName": (str, False),
    "email": (str, False),
    "instagramId": (str, True),
    "currentCampaign": (str, True),
    "currentCampaignData": (dict, True),
    "channel": (str, True),
    "isChatWindowOpen": (bool, False),
    "externalId": (str, True),
    "customChannel": (str, True),
    "chatWidgetId": (str, True),
    "is_bot_active": (bool, False),
    "do_not_disturb": (bool, False),
}
UPDATE_FIELDS = ("firstName", "lastName", "email", "is_bot_active", "do_not_disturb")
#: what create fills in for a field the body leaves out
DEFAULTS: dict[str, Any] = {
    **{name: None for name, (_, nullable) in CREATE_FIELDS.items() if nullable},
    "firstName": DEFAULT_NAME,
    "lastName": DEFAULT_NAME,
    "email": DEFAULT_EMAIL,
    "isChatWindowOpen": False,
    "is_bot_active": True,
    "do_not_disturb": False,
}


class DmchampEmulator(Emulator):
    name = "dmchamp"

    def __init__(
        self,
        store: Store,
        api_key: str,
        faults: Faults | None = None,
        lists: Iterable[str] | None = None,
    ) -> None:
        """``lists``: the list ids that exist (made in dmchamp's UI); None accepts any id."""
        super().__init__(store, api_key, faults)
        self.known_lists = set(lists) if lists is not None else None
        self.route("GET", "/contacts", self.get_contact)
        self.route("POST", "/contacts", self.create_contact)
        self.route("PUT", "/contacts/{id}", self.update_contact)
        self.route("POST", "/contacts/lists", self.add_to_list)
        self.route("DELETE", "/contacts/lists", self.remove_from_list)
        self.route("GET", "/contacts/tags/{id}", self.contact_tags)
        self.route("GET", "/contacts/messages/{id}", self.contact_messages)

    def authenticate(self, request: Request) -> None:
        if request.query.get("apiKey") != self.api_key:
            raise ApiError(401, "unauthorized", "Unauthorized: invalid or missing apiKey")

    def error_body(self, status: int, code: str, message: str) -> Any:
        return {"message": message}

    # -- contacts ----------------------------------------------------------------------
    def get_contact(self, request: Request) -> Reply:
        phone, email = request.query.get("phoneNumber"), request.query.get("email")
        if phone:
            contact = self.store.find_e164(_e164(phone))
        elif email:
            contact = self._find_email(email)
        else:
            self.store.violation("dmchamp: GET /contacts without phoneNumber or email (no listing)")
            raise ApiError(400, "invalid_request", "phoneNumber or email is required")
        if contact is None:
            raise ApiError(404, "not_found", "Contact not found")
        return Reply(200, contact)

    def create_contact(self, request: Request) -> Reply:
        body = _checked(json_object(request), CREATE_FIELDS)
        if "phoneNumber" not in body:
            raise ApiError(400, "invalid_request", "phoneNumber is required")
        e164 = _e164(body["phoneNumber"])
        with self.store.lock:
            if self.store.find_e164(e164):
                raise ApiError(409, "conflict", "Contact already exists")
            stamp = now_iso()
            record = {**DEFAULTS, **body, "phoneNumber": e164}
            record.update(createdAt=stamp, updatedAt=stamp)
            return Reply(200, self.store.insert(e164, record))

    def update_contact(self, request: Request) -> Reply:
        allowed = {name: CREATE_FIELDS[name] for name in UPDATE_FIELDS}
        body = _checked(json_object(request), allowed)
        with self.store.lock:
            contact = self._existing(request.params["id"])
            contact.update(body, updatedAt=now_iso())
            return Reply(200, contact)

    def contact_tags(self, request: Request) -> Reply:
        return Reply(200, list(self._existing(request.params["id"]).get("tags") or []))

    def contact_messages(self, request: Request) -> Reply:
        self._existing(request.params["id"])
        return Reply(200, [])

    # -- lists -------------------------------------------------------------------------
    def add_to_list(self, request: Request) -> Reply:
        contact_id, list_id = self._membership(request)
        with self.store.lock:
            entry = self.store.lists.setdefault(list_id, {"id": list_id, "contactIds": []})
            if contact_id not in entry["contactIds"]:
                entry["contactIds"].append(contact_id)
        return Reply(200, {"message": "Contact added to list successfully"})

    def remove_from_list(self, request: Request) -> Reply:
        contact_id, list_id = self._membership(request)
        with self.store.lock:
            members = self.store.lists.get(list_id, {}).get("contactIds", [])
            if contact_id in members:
                members.remove(contact_id)
        return Reply(200, {"message": "Contact removed from list successfully"})

    def _membership(self, request: Request) -> tuple[str, str]:
        body = json_object(request)
        contact_id, list_id = body.get("contactId"), body.get("listId")
        if not isinstance(contact_id, str) or not contact_id:
            raise ApiError(400, "invalid_request", "contactId is required")
        if not isinstance(list_id, str) or not list_id:
            raise ApiError(400, "invalid_request", "listId is required")
        self._existing(contact_id)
        if self.known_lists is not None and list_id not in self.known_lists:
            raise ApiError(404, "not_found", f"List {list_id} not found")
        return contact_id, list_id

    # -- helpers -----------------------------------------------------------------------
    def _existing(self, contact_id: str) -> dict[str, Any]:
        contact = self.store.get(contact_id)
        if contact is None:
            raise ApiError(404, "not_found", "Contact not found")
        return contact

    def _find_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.strip().lower()
        matches = (c for c in self.store.all() if str(c.get("email") or "").lower() == wanted)
        return next(matches, None)


def _e164(phone: Any) -> str:
    """The number as E.164, or 400: dmchamp wants the country code (a leading ``+``)."""
    text = phone.strip() if isinstance(phone, str) else ""
    e164 = any_format_to_e164(text) if text.startswith("+") else None
    if e164 is None:
        raise ApiError(
            400, "invalid_request", f"phoneNumber {phone!r} must include a valid country code"
        )
    return e164


def _checked(body: dict[str, Any], allowed: dict[str, tuple[type, bool]]) -> dict[str, Any]:
    """``body`` if every field is documented and well typed, else 400 naming the field."""
    for name, value in body.items():
        if name not in allowed:
            raise ApiError(400, "invalid_request", f"property {name} should not exist")
        kind, nullable = allowed[name]
        if value is None and not nullable:
            raise ApiError(400, "invalid_request", f"{name} must not be null")
        if value is not None and not isinstance(value, kind):
            raise ApiError(400, "invalid_request", f"{name} must be a {kind.__name__}")
    email = body.get("email")
    if email is not None and not is_email(email):
        raise ApiError(400, "invalid_request", f"email {email!r} must be an email")
    return body
