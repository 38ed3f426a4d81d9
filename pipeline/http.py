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

import email.utils
import json
import random
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
    TargetError,
    TerminalError,
    TransientError,
)
from pipeline.secrets import ApiKey, redact


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

    def acquire(self) -> None:
        while True:
            with self._lock:
                wait = self._wait_needed(self._clock())
                if wait <= 0:
                    if self.capacity:
                        self._starts.append(self._clock())
                    return
            self._sleep(wait)

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
        self._limiter(limiter).acquire()
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        with self._count_lock:
            self.requests_sent += 1
        try:
            response = self._client.request(
                method, path, params=query, content=content, headers=headers
            )
        except httpx.ConnectError as exc:
            raise _NotSent(self._describe(method, path, exc)) from exc
        except httpx.TransportError as exc:
            raise TransientError(self._describe(method, path, exc)) from exc
        if response.is_success:
            return response
        if response.status_code == 429:
            self._limiter(limiter).release()
        raise self._error_for(method, path, response)

    def _limiter(self, name: str) -> RateLimiter:
        return self.limiters.get(name) or self.limiters.get("default") or _NO_LIMIT

    def _wait_before_retry(self, exc: TransientError, attempt: int, limiter: str) -> None:
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            self._limiter(limiter).pause(exc.retry_after)
            return
        delay = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
        self.sleep(delay * random.uniform(0.5, 1.0))

    def _describe(self, method: str, path: str, exc: Exception) -> str:
        reason = redact(str(exc) or type(exc).__name__, self.key.reveal())
        return f"{method} {redact(path)}: {type(exc).__name__}: {reason}"

    def _error_for(self, method: str, path: str, response: httpx.Response) -> TargetError:
        status = response.status_code
        detail = self._body_message(response)
        text = redact(f"{method} {path} → HTTP {status}: {detail}", self.key.reveal())
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
        error.detail = redact(detail, self.key.reveal())  # type: ignore[attr-defined]
        return error

    def _body_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:300] or response.reason_phrase
        return self.error_message(body) or json.dumps(body)[:300]


class _NotSent(TransientError):
    """The connection was refused: the request never reached the server."""


def _certainly_not_sent(exc: TransientError) -> bool:
    return isinstance(exc, _NotSent | RateLimitedError)


def error_detail(exc: TargetError) -> str:
    """The server's own message for a terminal error (falls back to the whole text)."""
    return str(getattr(exc, "detail", None) or exc)


_NO_LIMIT = RateLimiter(None)
