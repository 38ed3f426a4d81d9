"""The one HTTP client every target uses: auth, rate limits, retries, error mapping.

Failures are classified here, once, at the boundary (see ``pipeline.errors``):

- transient: connection errors, timeouts, ``429``, ``5xx`` → retried with exponential
  backoff and jitter, bounded in attempts and total time, honouring ``Retry-After``;
- terminal: any other ``4xx`` → raised at once, never retried.

A write that is not idempotent (``POST`` create) is retried only when it certainly did
not land (connect error, ``429``). Any other failure of such a write raises
``AmbiguousWriteError``: the caller checks what landed before it sends anything again.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from pipeline.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    SendingStopped,
    TargetError,
    TerminalError,
    TransientError,
)
from pipeline.sanitize import clean, excerpt
from pipeline.secrets import ApiKey


class AmbiguousWriteError(TransientError):
    """A non-idempotent write failed in a way that leaves unknown whether it landed."""


@dataclass(frozen=True)
class Auth:
    """Where the key goes: a header (with an optional prefix) or a query parameter."""

    header: str | None = None
    prefix: str = ""
    query: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 20.0
    max_total: float = 180.0


class RateLimiter:
    """At most ``per_minute`` request starts in any sliding 60-second window (thread-safe).

    This is how the targets count, so a burst up to the limit goes at once and the next
    request waits exactly until the oldest one leaves the window: a long run takes the
    minimum time the limit allows. ``pause(seconds)`` holds every caller back, e.g.
    after a ``Retry-After``.
    """

    def __init__(
        self,
        per_minute: float | None,
        *,
        window: float = 60.0,
        margin: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.capacity = max(1, int(per_minute)) if per_minute else 0
        self.window = window
        #: slack for the server counting a request later than we sent it (a busy server
        #: reads a large body for a while): 1% of the window, at least 0.3 s
        self.margin = max(0.3, 0.01 * window) if margin is None else margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()
        self._paused_until = 0.0

    def acquire(self, stop: threading.Event | None = None) -> None:
        """Wait for a place in the window; once ``stop`` is set, return without one (the
        caller refuses to send: a stopping run does not wait out a minute's window)."""
        while True:
            with self._lock:
                wait = self._wait_needed(self._clock())
                if wait <= 0:
                    if self.capacity:
                        self._starts.append(self._clock())
                    return
            if stop is None:
                self._sleep(wait)
            elif stop.wait(wait):
                return

    def _wait_needed(self, now: float) -> float:
        wait = self._paused_until - now
        if not self.capacity:
            return wait
        while self._starts and now - self._starts[0] >= self.window + self.margin:
            self._starts.popleft()
        if len(self._starts) >= self.capacity:
            wait = max(wait, self._starts[0] + self.window + self.margin - now)
        return wait

    def release(self) -> None:
        """Give back the latest start: the server refused that request (429), so it
        must not use up a place in our window and make the retry wait a whole window."""
        with self._lock:
            if self._starts:
                self._starts.pop()

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


ErrorMessage = Callable[[Any], str | None]


@dataclass
class ApiClient:
    """A reused keep-alive ``httpx.Client`` bound to one target's base URL and key."""

    base_url: str
    key: ApiKey
    auth: Auth
    error_message: ErrorMessage
    limiters: Mapping[str, RateLimiter] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 30.0
    max_connections: int = 16
    sleep: Callable[[float], None] = time.sleep
    requests_sent: int = 0
    #: once set, no write (anything but GET) is sent or retried: it raises SendingStopped.
    #: Reads go on, so that what landed can still be read back.
    stop_writes: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        headers = {"Accept": "application/json", "User-Agent": "contact-sync/0.1"}
        if self.auth.header:
            headers[self.auth.header] = self.auth.prefix + self.key.reveal()
        self._client = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            headers=headers,
            timeout=self.timeout,
            limits=httpx.Limits(max_connections=self.max_connections),
        )
        self._count_lock = threading.Lock()
        self._fast = _FastPath.for_client(self._client)

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        limiter: str = "default",
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request with retries; return the 2xx response or raise a TargetError."""
        if idempotent is None:
            idempotent = method.upper() != "POST"
        query = dict(params or {})
        if self.auth.query:
            query[self.auth.query] = self.key.reveal()
        started = time.monotonic()
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return self._send_once(method, path, query, json_body, content, limiter)
            except TransientError as exc:
                last = attempt == self.retry.attempts
                late = time.monotonic() - started > self.retry.max_total
                if not idempotent and not _certainly_not_sent(exc):
                    raise AmbiguousWriteError(str(exc), status=exc.status) from exc
                if last or late:
                    raise
                self._refuse_if_stopping(method, path)
                self._wait_before_retry(exc, attempt, limiter)
        raise AssertionError("unreachable")  # pragma: no cover

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        return response.json()

    def _send_once(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any],
        json_body: Any,
        content: bytes | None,
        limiter: str,
    ) -> httpx.Response:
        self._refuse_if_stopping(method, path)
        self._limiter(limiter).acquire(None if method.upper() == "GET" else self.stop_writes)
        self._refuse_if_stopping(method, path)  # the wait for a place may have been long
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
        with self._count_lock:
            self.requests_sent += 1
        try:
            response = self._send(method, path, query, content)
        except httpx.ConnectError as exc:
            raise _NotSent(self._describe(method, path, exc)) from exc
        except httpx.TransportError as exc:
            raise TransientError(self._describe(method, path, exc)) from exc
        if response.is_success:
            return response
        if response.status_code == 429:
            self._limiter(limiter).release()
        raise self._error_for(method, path, response)

    def _send(
        self, method: str, path: str, query: Mapping[str, Any], content: bytes | None
    ) -> httpx.Response:
        """What ``httpx.Client.request`` does for us, without its per-request merging.

        The client's headers, base URL and timeout are merged once (``_FastPath``); the
        request goes through the client's own transport (its pool and limits). Anything
        the fast path does not cover exactly (cookies to send, a path or query needing
        escaping) goes through ``httpx.Client`` itself, as does everything if this httpx
        is not laid out as expected.
        """
        headers = {"Content-Type": "application/json"} if content is not None else None
        fast = self._fast
        if fast is None:
            return self._client.request(
                method, path, params=query, content=content, headers=headers
            )
        request = None if self._client.cookies else fast.build(method, path, query, content)
        if request is None:
            request = self._client.build_request(
                method, path, params=query, content=content, headers=headers
            )
        return fast.send(self._client, request)

    def _refuse_if_stopping(self, method: str, path: str) -> None:
        if method.upper() != "GET" and self.stop_writes.is_set():
            raise SendingStopped(clean(f"{method} {path}: not sent, the run is stopping"))

    def _limiter(self, name: str) -> RateLimiter:
        return self.limiters.get(name) or self.limiters.get("default") or _NO_LIMIT

    def _wait_before_retry(self, exc: TransientError, attempt: int, limiter: str) -> None:
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            self._limiter(limiter).pause(exc.retry_after)
            return
        delay = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
        self.sleep(delay * random.uniform(0.5, 1.0))

    def _describe(self, method: str, path: str, exc: Exception) -> str:
        reason = str(exc) or type(exc).__name__
        return clean(f"{method} {path}: {type(exc).__name__}: {reason}")

    def _error_for(self, method: str, path: str, response: httpx.Response) -> TargetError:
        status = response.status_code
        detail = self._body_message(response)
        text = clean(f"{method} {path} → HTTP {status}: {detail}")
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RateLimitedError(text, retry_after=retry_after)
        if status >= 500:
            return TransientError(text, status=status)
        error_class: type[TerminalError] = {
            401: AuthError,
            403: AuthError,
            404: NotFoundError,
            409: ConflictError,
        }.get(status, TerminalError)
        error = error_class(text, status=status)
        error.detail = detail  # type: ignore[attr-defined]
        return error

    def _body_message(self, response: httpx.Response) -> str:
        """The server's message, or an excerpt of its body, as it may be shown."""
        try:
            body = response.json()
        except ValueError:
            return excerpt(response.text or response.reason_phrase, _EXCERPT_CHARS)
        message = self.error_message(body)
        if message:
            return excerpt(str(message), _MESSAGE_CHARS)
        return excerpt(json.dumps(body), _EXCERPT_CHARS)


class _NotSent(TransientError):
    """The connection was refused: the request never reached the server."""


def _certainly_not_sent(exc: TransientError) -> bool:
    return isinstance(exc, _NotSent | RateLimitedError)


def error_detail(exc: TargetError) -> str:
    """The server's own message for a terminal error (falls back to the whole text)."""
    return str(getattr(exc, "detail", None) or exc)


_NO_LIMIT = RateLimiter(None)
#: an error body that is no message of the API's is cut to this many characters, and
#: the API's message to ``_MESSAGE_CHARS`` (``excerpt``: cleaned, then cut)
_EXCERPT_CHARS = 300
_MESSAGE_CHARS = 1000

#: a path httpx leaves as it is: segments of unreserved characters, none of them a dot
#: segment (``.``/``..``), nothing to escape or normalise
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?")
#: a query name or value ``urlencode`` leaves as it is
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9._~-]*")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _FastPath:
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
    def for_client(cls, client: httpx.Client) -> _FastPath | None:
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
