"""Which account a run talks to: the key of its lock and journal in ``--state-dir``.

One account's API root can be spelled many ways (``HTTPS://Acme.example:443/api/v1/``
and ``https://acme.example/api/v1``); the lock and the journal are keyed on the
normalized URL (scheme and host lower-cased, the scheme's default port dropped, no
trailing slash, no user info or fragment) plus the target options that name a part of
the account (consuelo's ``workspace_id``), so that no two spellings run at once.

Journals written before this were keyed on the URL's text: ``legacy_keys`` are the keys
those spellings of the same URL had, for the journal to read them as well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline.errors import UsageError

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_base_url(url: str) -> str:
    """``url`` in one spelling per API root; a URL that is not http(s) is a usage error."""
    text = url.strip()
    scheme, sep, _ = text.partition("://")
    if not sep or scheme.lower() not in _DEFAULT_PORTS:
        raise UsageError(f"--base-url must start with http:// or https:// (not {url!r})")
    parts = urlsplit(text)
    if parts.query:  # not shown: it may hold a token
        raise UsageError(
            "--base-url takes no query (a '?...' part; it is not shown here): give only the "
            "API root, as https://HOST/PATH, and target settings with --option KEY=VALUE"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UsageError(f"--base-url {url!r} names no host: give it as https://HOST/PATH")
    try:
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"--base-url {url!r}: the port is not a number from 0 to 65535") from exc
    scheme = parts.scheme.lower()
    host = _ascii_host(host)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _ascii_host(host: str) -> str:
    """An internationalised host name as its ASCII (punycode) form, when it has one."""
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class TargetIdentity:
    """A target, its normalized API root and the options that name part of an account."""

    target: str
    url: str
    options: tuple[tuple[str, str], ...]
    #: the URL as the user spelled it (only for ``legacy_keys``)
    spelled: str

    @property
    def text(self) -> str:
        """For people: ``consuelo https://api.example/v1 workspace_id=ws_1`` (a query in
        the URL is shown as ``?...``: it might hold a secret)."""
        url, sep, _ = self.url.partition("?")
        shown = url + ("?..." if sep else "")
        return " ".join([self.target, shown, *(f"{k}={v}" for k, v in self.options)])

    @property
    def key(self) -> str:
        """The file-name stem of the lock and journal. Without identity options it is the
        key the URL's text had before, so a URL spelled normalized keeps its journal."""
        identity = " ".join([self.url, *(f"{k}={v}" for k, v in self.options)])
        return f"{self.target}-{_digest(identity)}"

    @property
    def legacy_keys(self) -> tuple[str, ...]:
        """Keys of the URL's text (the old keying) for the likely spellings of this URL:
        as given, without and with a trailing slash, and normalized."""
        bare = self.spelled.strip().rstrip("/")
        spellings = (self.spelled, bare, bare + "/", self.url, self.url + "/")
        keys = dict.fromkeys(f"{self.target}-{_digest(s)}" for s in spellings)
        return tuple(k for k in keys if k != self.key)


def target_identity(
    target: str, base_url: str, options: Mapping[str, str], identity_options: Collection[str]
) -> TargetIdentity:
    """The identity of a run of ``target`` at ``base_url`` with these target options."""
    named = tuple(sorted((k, str(options[k]).strip()) for k in identity_options if k in options))
    return TargetIdentity(target, normalize_base_url(base_url), named, base_url)
