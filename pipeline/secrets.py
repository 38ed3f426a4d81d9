"""Keeping the API key out of every output.

The key is read from an environment variable, held by ``ApiKey`` (whose repr and str
never show it), and scrubbed from any text that might carry it with ``redact``.
"""

from __future__ import annotations

import os
import re

from pipeline.errors import UsageError

_QUERY_SECRET = re.compile(r"(?i)([?&](?:api_?key|apikey|token|access_token|key)=)[^&\s#\"']+")


class ApiKey:
    """An API key that never shows itself in str(), repr() or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself, for an Authorization header and nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "ApiKey(***)"

    __str__ = __repr__


def api_key_from_env(variable: str) -> ApiKey:
    """The key held by environment variable ``variable``, or a UsageError saying how to set it."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise UsageError(
            f"no API key: the environment variable {variable} is empty or unset. "
            f"Set it (export {variable}=...) or name another one with --api-key-env."
        )
    return ApiKey(value)


def redact(text: str, *secrets: str) -> str:
    """``text`` with every given secret and every key-like query parameter value masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _QUERY_SECRET.sub(r"\1***", text)
