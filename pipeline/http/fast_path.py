"""``httpx.Client.build_request`` + ``send`` for one client, merged once: what the
client sends every request through when it can reproduce httpx exactly."""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx

#: a path httpx leaves as it is: segments of unreserved characters, none of them a dot
#: segment (``.``/``..``), nothing to escape or normalise
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?")
#: a query name or value ``urlencode`` leaves as it is
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9._~-]*")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class FastPath:
    """``httpx.Client.build_request`` + ``send`` for one client, merged once.

    Builds exactly the request httpx would build (same URL, same headers in the same
    order, same timeout) and sends it through the transport ``httpx.Client`` would use,
    doing what ``Client.send`` does for a client with no auth, no event hooks, no
    redirects followed: attach the request to transport errors, read the body, close the
    response on failure, keep cookies the server sets, set ``elapsed``.
    """

    def __init__(self, client: httpx.Client, transport: httpx.BaseTransport) -> None:
        base = client.base_url
        self._base_ref = base._uri_reference
        # ends with "/" (httpx enforces it), or is empty (no path: httpx merges onto "/")
        self._base_path = base._uri_reference.path or "/"
        self._transport = transport
        self._timeout = client.timeout.as_dict()
        host = [(b"Host", base.netloc)]
        self._headers = httpx.Headers(host + client.headers.raw)
        self._headers_empty_body = httpx.Headers(
            host + [(b"Content-Length", b"0")] + client.headers.raw
        )

    @classmethod
    def for_client(cls, client: httpx.Client) -> FastPath | None:
        """The fast path for ``client``, or None if it can't reproduce httpx exactly."""
        base = client.base_url
        try:
            transport = client._transport_for_url(base)
            fast = cls(client, transport)
            if base.userinfo or client.auth is not None or client.params:
                return None
            probe: dict[str, Any] = {"a": 1, "b": "x"}
            built = fast._url("/p/q", probe)
            expected = client.build_request("GET", "/p/q", params=probe).url
        except (AttributeError, TypeError, ValueError):  # pragma: no cover
            return None
        if built is None or built != expected or built.raw_path != expected.raw_path:
            return None  # pragma: no cover
        return fast

    def _url(self, path: str, query: Mapping[str, Any]) -> httpx.URL | None:
        if not _PLAIN_PATH.fullmatch(path):
            return None
        parts = []
        for name, value in query.items():
            if type(value) is int:
                text = str(value)
            elif type(value) is str and _PLAIN_QUERY.fullmatch(value):
                text = value
            else:
                break
            if not _PLAIN_QUERY.fullmatch(name):
                break
            parts.append(f"{name}={text}")
        encoded: str | None
        if len(parts) < len(query):  # something to escape: exactly as httpx does it
            encoded = str(httpx.QueryParams(query))
        else:
            encoded = "&".join(parts) if parts else None
        url = httpx.URL.__new__(httpx.URL)
        url._uri_reference = self._base_ref._replace(
            path=self._base_path + path.lstrip("/"), query=encoded
        )
        return url

    def build(
        self, method: str, path: str, query: Mapping[str, Any], content: bytes | None
    ) -> httpx.Request | None:
        url = self._url(path, query)
        if url is None:
            return None
        method = method.upper()
        if content:
            headers = httpx.Headers(self._headers)
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(content))
        else:
            headers = self._headers_empty_body if method in _BODY_METHODS else self._headers
            if content is not None:
                headers = httpx.Headers(headers)
                headers["Content-Type"] = "application/json"
        request = httpx.Request(
            method,
            url,
            headers=headers,
            stream=httpx.ByteStream(content or b""),
            extensions={"timeout": self._timeout},
        )
        request.read()
        return request

    def send(self, client: httpx.Client, request: httpx.Request) -> httpx.Response:
        if client.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        if "timeout" not in request.extensions:
            request.extensions["timeout"] = self._timeout
        start = time.perf_counter()
        try:
            response = self._transport.handle_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        response.request = request
        try:
            response.read()
        except BaseException:
            response.close()
            raise
        finally:
            response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
        if "set-cookie" in response.headers:
            client.cookies.extract_cookies(response)
        return response
