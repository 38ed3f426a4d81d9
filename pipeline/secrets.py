"""Keeping the API key out of every output.

The key is read from an environment variable and held by ``ApiKey`` (whose repr and str
never show it). A key is one line of printable ASCII of at least ``MIN_KEY_LENGTH``
characters: anything else is refused with a message naming where it came from, never
the value. Every key made in this process is remembered, so that ``redact`` masks it in
any text, in every form it can take there (see ``pipeline.key_forms``), wherever it
occurs, with no key to pass along.
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
import urllib.request
from urllib.parse import urlsplit

from pipeline.errors import UsageError
from pipeline.key_forms import key_regex

#: shorter than this is no API's key; and a short text occurs inside ordinary words, so
#: masking it everywhere would garble messages, and masking it less would show it
MIN_KEY_LENGTH = 8
MASK = "***"
#: how many times a file's cell is masked when a key holds ``*`` (see ``redact``)
_MASK_REPEATS = 8

#: what --api-key-env / api_key_env must look like: the NAME of a variable
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: a name shown back in a message: upper case as variable names are written, and without
#: a long unbroken run of letters and digits, as keys have
_SHOWN_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")
_LONG_RUN = re.compile(r"[A-Z0-9]{16}")
#: values of key-like query parameters, whatever the key (a URL of someone else's)
_QUERY_SECRET = re.compile(r"(?i)([?&](?:api_?key|apikey|token|access_token|key)=)[^&\s#\"']+")


class _Known:
    """The keys made in this process, as one pattern of all their forms."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, None] = {}
        self._pattern: re.Pattern[str] | None = None

    def add(self, key: str) -> None:
        with self._lock:
            if key not in self._keys:
                self._keys[key] = None
                self._pattern = None

    def holds(self, char: str) -> bool:
        """Whether a key holds ``char``."""
        with self._lock:
            return any(char in key for key in self._keys)

    def pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._keys:
                self._pattern = re.compile(key_regex(self._keys))
            return self._pattern


_KNOWN = _Known()


class ApiKey:
    """An API key that never shows itself in str(), repr() or f-strings.

    ``source`` says where the key came from, for the message when it is refused.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str, source: str = "the API key") -> None:
        problem = key_problem(value)
        if problem:
            raise UsageError(f"{source} {problem} (the value is not shown)")
        self._value = value
        _KNOWN.add(value)

    def reveal(self) -> str:
        """The key itself, for an Authorization header and nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "ApiKey(***)"

    __str__ = __repr__


def key_problem(value: str) -> str | None:
    """What makes ``value`` no API key (in words that do not show it), or None."""
    for position, char in enumerate(value, start=1):
        if "!" <= char <= "~":
            continue
        if char in "\r\n":
            return (
                f"has more than one line (a line break after character {position - 1}): "
                "keep only the key in the variable; a note under the key in a key file "
                "comes along with $(cat FILE)"
            )
        if char.isspace():
            return f"has whitespace inside it (character {position}): an API key has none"
        if not char.isprintable():
            return f"holds a control character (character {position}): an API key has none"
        return (
            f"holds a character that is not ASCII (character {position}): API keys are "
            "plain ASCII; a key copied from a document or a chat can bring a typographic "
            "dash or quote: copy it again from the provider's console"
        )
    if len(value) < MIN_KEY_LENGTH:
        return (
            f"is only {len(value)} character{'s' if len(value) > 1 else ''} long; an API "
            "key has at least "
            f"{MIN_KEY_LENGTH}: check that the variable holds the key, not a placeholder"
        )
    return None


def looks_like_variable_name(name: str) -> bool:
    return bool(_VARIABLE_NAME.fullmatch(name))


def check_variable_name(name: str) -> None:
    """A UsageError, never showing ``name``, unless it can name an environment variable."""
    if not looks_like_variable_name(name):
        raise UsageError(
            "--api-key-env takes the NAME of a variable, not the key: put the key in an "
            "environment variable (export ARNIS_API_KEY=...) and give its name "
            "(--api-key-env ARNIS_API_KEY). A name is letters, digits and _, not starting "
            "with a digit (the value given is not shown)"
        )


def _shown(variable: str) -> str:
    """The variable's name as a message may show it: not when it could be a key."""
    if _SHOWN_NAME.fullmatch(variable) and not _LONG_RUN.search(variable):
        return variable
    return ""


def api_key_from_env(variable: str) -> ApiKey:
    """The key held by environment variable ``variable`` (surrounding whitespace
    stripped), or a UsageError saying what is wrong and how to set it."""
    check_variable_name(variable)
    value = os.environ.get(variable, "").strip()
    shown = _shown(variable)
    if not value and shown:
        raise UsageError(
            f"no API key: the environment variable {shown} is empty or unset. "
            f"Set it (export {shown}=...) or name another one with --api-key-env."
        )
    if not value:
        raise UsageError(
            "no API key: the environment variable named by --api-key-env is empty or "
            "unset (its name is not shown: it looks like a key, and --api-key-env takes "
            "the NAME of a variable, not the key). Set the variable or name another one."
        )
    where = f"in {shown}" if shown else "in the variable named by --api-key-env"
    return ApiKey(value, source=f"the API key {where}")


def redact(text: str, *secrets: str, query: bool = True) -> str:
    """``text`` with every form of every key of this process (and of ``secrets``) and,
    with ``query``, every key-like query parameter value masked (a URL's token, whoever
    it is of).

    A key holding the mask's ``*`` could be made again of a mask and the text beside it:
    masking is repeated until nothing is found (each time the text gets shorter)."""
    patterns = [p for p in (_KNOWN.pattern(),) if p is not None]
    extra = [s for s in secrets if s]
    if extra:
        patterns.append(re.compile(key_regex(extra)))
    for pattern in patterns:
        before = len(text) + 1
        while len(text) < before:
            before = len(text)
            text = pattern.sub(MASK, text)
    return _QUERY_SECRET.sub(r"\1" + MASK, text) if query else text


def known_key_regex() -> tuple[str, int] | None:
    """The pattern of every form of the keys of this process (Python's ``re`` and the
    Rust ``regex`` of polars read it alike) and how many times to mask with it (more
    than once when a key holds the mask's ``*``), or None before any key."""
    pattern = _KNOWN.pattern()
    if pattern is None:
        return None
    return pattern.pattern, (_MASK_REPEATS if _KNOWN.holds("*") else 1)


def cleartext_warning(base_url: str) -> str | None:
    """Why the key would travel unencrypted to ``base_url``, or None when it would not:
    plain http to another machine, or to any machine through a proxy from the
    environment (HTTP_PROXY, ALL_PROXY; NO_PROXY exempts hosts), as httpx uses them."""
    parts = urlsplit(base_url)
    if parts.scheme.lower() != "http" or not parts.hostname:
        return None
    host = parts.hostname
    where = f"{host}:{parts.port}" if parts.port else host
    proxies = urllib.request.getproxies()  # what httpx reads (trust_env)
    proxy = proxies.get("http") or proxies.get("all")
    if proxy and not _exempt(host.lower(), proxies.get("no", "")):
        return (
            f"--base-url is plain http:// and goes through the proxy from HTTP_PROXY or "
            f"ALL_PROXY: the proxy sees the API key in clear. Use https://, or exempt "
            f"{where} with NO_PROXY"
        )
    if _loopback(host):
        return None
    return (
        f"--base-url is plain http:// to {where}, which is not this machine: the API key "
        "travels in clear, readable on the network. Use https:// unless it is a test server"
    )


def _exempt(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY exempts ``host`` from the proxy (``*``, the host, a domain of it)."""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry.lstrip(".")))):
            return True
    return False


def _loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
