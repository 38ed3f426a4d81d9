"""What to say when a run's first requests (the remote read) fail because of where they
went: nothing listening at ``--base-url``'s host and port, or no API at its path (404).

The URLs shown are the base URL and the request's path only: a key that travels in the
query string (dmchamp's) is never part of them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pipeline.errors import NotFoundError, TargetError, TransientError

#: how ApiClient's messages begin: "GET /contacts → HTTP 404: ..."
_REQUEST = re.compile(r"^([A-Z]+) (/\S*)")


def first_request_error(exc: TargetError, target: str, base_url: str) -> TargetError | None:
    """A clearer error for ``exc`` when it points at ``--base-url``, else None."""
    if isinstance(exc, NotFoundError) or exc.status == 404:
        return NotFoundError(_not_found(exc, target, base_url), status=404)
    if isinstance(exc, TransientError) and _refused(exc):
        return TransientError(_cannot_connect(exc, target, base_url))
    return None


def _refused(exc: BaseException) -> bool:
    """Whether a connection error (refused, unknown host) is behind ``exc``."""
    import httpx

    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, httpx.ConnectError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _origin(base_url: str) -> tuple[str, str, int]:
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    host = parts.hostname or ""
    return parts.scheme.lower(), host, port


def _cannot_connect(exc: TargetError, target: str, base_url: str) -> str:
    scheme, host, port = _origin(base_url)
    shown = f"[{host}]" if ":" in host else host
    return (
        f"cannot connect to {shown}:{port} ({exc}): check that the {target} API runs there "
        f"and that --base-url ({_bare(base_url)}) is its address"
    )


def _not_found(exc: TargetError, target: str, base_url: str) -> str:
    found = _REQUEST.match(str(exc))
    method, path = found.groups() if found else ("GET", "")
    tried = _bare(base_url).rstrip("/") + path
    detail = getattr(exc, "detail", None)
    said = f" ({detail})" if detail else ""
    message = (
        f"{target} answered HTTP 404 Not Found to {method} {tried}{said}: no API at that "
        "address. --base-url is the API root, the part before "
        f"{path or 'the endpoint paths'}; check it"
    )
    return message + _sandbox_hint(target, base_url)


def _sandbox_hint(target: str, base_url: str) -> str:
    from pipeline.sandbox import EMULATORS

    spec = EMULATORS.get(target)
    prefix = spec[1] if spec else ""
    if not prefix or urlsplit(base_url).path.rstrip("/").endswith(prefix):
        return ""
    scheme, host, port = _origin(base_url)
    shown = f"[{host}]" if ":" in host else host
    return (
        f" (the contact-sync sandbox serves {target} under {prefix}: "
        f"--base-url {scheme}://{shown}:{port}{prefix})"
    )


def _bare(base_url: str) -> str:
    """The base URL without user info, query or fragment (they may hold a secret)."""
    parts = urlsplit(base_url.strip())
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path}"
