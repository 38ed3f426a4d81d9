"""Checks the emulators share: phone, email and time-zone validity, timestamps, paging."""

from __future__ import annotations

import re
import threading
import zoneinfo
from datetime import UTC, datetime
from typing import Any, cast

import phonenumbers
import polars as pl

from pipeline.sandbox.e164 import SLOW, plus_digits, plus_digits_e164
from pipeline.sandbox.server import ApiError, Request

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_PRIMED: dict[tuple[str, str], str | None] = {}
_PRIMED_LOCK = threading.Lock()
_PRIMED_MAX = 200_000
_NOT_PRIMED = object()


def prime_e164(values: list[Any], region: str = "US") -> None:
    """Normalize a bulk request's phones in one batch (pipeline.normalize.phones, which agrees
    with phonenumbers on every input), so that the per-item checks that follow are lookups."""
    texts = [v for v in values if isinstance(v, str) and v.strip()]
    if region == "US":  # +digits are for plus_digits_e164 (see any_format_to_e164)
        texts = [t for t in texts if not plus_digits(t)]
    if len(texts) < 50:
        return
    from pipeline.normalize.phones import normalize_phones

    e164 = normalize_phones(pl.Series(texts, dtype=pl.String), None, region)["e164"].to_list()
    with _PRIMED_LOCK:
        if len(_PRIMED) > _PRIMED_MAX:
            _PRIMED.clear()
        _PRIMED.update(zip(((t, region) for t in texts), e164, strict=True))


def any_format_to_e164(text: Any, region: str = "US") -> str | None:
    """What a lenient API does with a phone in any format: E.164, or None when invalid."""
    if not isinstance(text, str):
        return None
    if region == "US":
        fast = plus_digits_e164(text)
        if fast is not SLOW:
            return cast("str | None", fast)
    primed = _PRIMED.get((text, region), _NOT_PRIMED)
    if primed is not _NOT_PRIMED:
        return primed  # type: ignore[return-value]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_e164(text: Any) -> bool:
    return isinstance(text, str) and bool(_E164.match(text)) and any_format_to_e164(text) == text


def is_email(text: Any) -> bool:
    return isinstance(text, str) and bool(_EMAIL.match(text))


def is_timezone(text: Any) -> bool:
    if not isinstance(text, str) or not text:
        return False
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def int_param(request: Request, name: str, default: int, code: str = "invalid_request") -> int:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) < 1:
        raise ApiError(400, code, f"{name} must be a positive integer")
    return int(value)


def json_object(request: Request) -> dict[str, Any]:
    if not isinstance(request.body, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    return request.body
