"""The one HTTP client every target uses: auth, flow control, retries, error mapping.

Failures are classified here, once, at the boundary (see ``pipeline.errors``):

- ``429``: flow control, not a failure. It never counts as an attempt: the request waits
  (``Retry-After``, in seconds or as an HTTP date; without one, backoff with jitter),
  every caller of its limiter is held back as long, and the limiter lowers its pace
  (``limiter.py``), for as long as the run's retry budget allows (``retry.py``);
- transient: connection errors, timeouts, ``5xx`` → retried with exponential backoff and
  jitter, capped per wait, until the run's retry budget (``--retry-timeout``) runs out;
- terminal: any other ``4xx`` → raised at once, never retried.

A write that is not idempotent (``POST`` create) is retried only when it certainly did
not land (connect error, ``429``). Any other failure of such a write raises
``AmbiguousWriteError``: the caller checks what landed before it sends anything again,
in rounds the budget bounds too (``another_round``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from pipeline.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    RetryBudgetSpent,
    SendingStopped,
    TargetError,
    TerminalError,
    TransientError,
)
from pipeline.http.fast_path import FastPath
from pipeline.http.limiter import RateLimiter
from pipeline.http.retry import RetryBudget, RetryPolicy, parse_retry_after
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


ErrorMessage = Callable[[Any], str | None]
#: told before each wait: ``throttled`` (a 429) or ``retrying`` (a transient failure),
#: the seconds, and the error (for a person watching: ``Progress.note``)
OnWait = Callable[[str, float, TargetError], None]


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
    on_wait: OnWait | None = None

    def __post_init__(self) -> None:
        headers = {"Accept": "application/json", "User-Agent": "contact-sync/0.1"}
        if self.auth.header:
            headers[self.auth.header] = self.auth.prefix + self.key.reveal()
        #: the run's one budget for waiting on the API (``--retry-timeout``)
        self.budget = RetryBudget(self.retry)
        self.limiters = {"default": RateLimiter(None), **self.limiters}
        # no single attempt outlasts the whole budget (a server that never answers)
        timeout = max(0.5, min(self.timeout, self.budget.seconds or self.timeout))
        self._client = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=self.max_connections),
        )
        self._count_lock = threading.Lock()
        self._fast = FastPath.for_client(self._client)

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
        """Send one request, waiting out 429s and retrying transient failures as long as
        the retry budget allows; return the 2xx response or raise a TargetError."""
        if idempotent is None:
            idempotent = method.upper() != "POST"
        query = dict(params or {})
        if self.auth.query:
            query[self.auth.query] = self.key.reveal()
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
        since: float | None = None  # when the first attempt that failed was sent
        failures = throttles = 0
        while True:
            self._refuse_if_stopping(method, path)
            self.budget.check(clean(f"{method} {path}"))
            pace = self._limiter(limiter)
            sent = pace.acquire(None if method.upper() == "GET" else self.stop_writes)
            try:
                return self._send_once(method, path, query, content, pace, sent)
            except RateLimitedError as exc:
                since = sent if since is None else since
                throttles += 1
                self.budget.throttled(first=throttles == 1)
                wait = exc.retry_after
                if wait is None:
                    wait = self.retry.backoff(throttles)
                wait = self.budget.allow(since, wait, exc, throttled=True)
                if self._limiter(limiter).pause(wait):
                    self._tell("throttled", wait, exc)
            except TransientError as exc:
                if not idempotent and not isinstance(exc, _NotSent):
                    raise AmbiguousWriteError(str(exc), status=exc.status) from exc
                since = sent if since is None else since
                failures += 1
                if self.retry.attempts is not None and failures >= self.retry.attempts:
                    raise
                if (
                    isinstance(exc, _NotSent)
                    and self.budget.unreached_for(since) > UNREACHED_SECONDS
                ):
                    raise  # no answer yet this run, no connection: likely a wrong --base-url
                try:
                    delay = self.budget.allow(since, self.retry.backoff(failures), exc)
                except RetryBudgetSpent as spent:
                    raise spent from exc
                self._refuse_if_stopping(method, path)
                self._tell("retrying", delay, exc)
                self.sleep(delay)

    def another_round(self, since: float, rounds: int, error: TargetError | str) -> bool:
        """Whether a write whose outcome stayed unknown after ``rounds`` rounds (unknown
        since ``since``) may be settled once more: the backoff waited, if the retry
        budget allows it."""
        try:
            delay = self.budget.allow(since, self.retry.backoff(rounds), error)
        except RetryBudgetSpent:
            return False
        self.sleep(delay)
        return True

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
        content: bytes | None,
        pace: RateLimiter,
        start: float,
    ) -> httpx.Response:
        """One attempt, its place (``start``) taken from ``pace``, which it gives back."""
        outcome = "unsent"
        try:
            # the wait for a place may have been long
            self._refuse_if_stopping(method, path)
            self.budget.check(clean(f"{method} {path}"))
            with self._count_lock:
                self.requests_sent += 1
            outcome = "failed"
            try:
                response = self._send(method, path, query, content)
            except httpx.ConnectError as exc:
                outcome = "unsent"
                raise _NotSent(self._describe(method, path, exc)) from exc
            except httpx.TransportError as exc:
                raise TransientError(self._describe(method, path, exc)) from exc
            # any answer but a 429 lets the pace climb; only one below 500 shows that
            # the API is up
            outcome = "throttled" if response.status_code == 429 else "answered"
            if response.status_code < 500 and outcome == "answered":
                self.budget.answered()
            if response.is_success:
                return response
            raise self._error_for(method, path, response)
        finally:
            pace.done(start, outcome)

    def _send(
        self, method: str, path: str, query: Mapping[str, Any], content: bytes | None
    ) -> httpx.Response:
        """What ``httpx.Client.request`` does for us, without its per-request merging.

        The client's headers, base URL and timeout are merged once (``FastPath``); the
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
        return self.limiters.get(name) or self.limiters["default"]

    def _tell(self, kind: str, seconds: float, error: TargetError) -> None:
        if self.on_wait is not None:
            self.on_wait(kind, seconds, error)

    def flow(self) -> dict[str, Any]:
        """What the summary says of the retry budget and of the pace learned."""
        figures = self.budget.figures(self.requests_sent)
        pace = self.limiters["default"].pace
        if pace.slowest_rate is not None and pace.rate is not None:
            figures["pace_per_minute"] = {
                "slowest": round(60.0 * pace.slowest_rate, 1),
                "last": round(60.0 * pace.rate, 1),
            }
        if pace.fewest_in_flight < pace.max_in_flight:
            figures["fewest_in_flight"] = pace.fewest_in_flight
        return figures

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


#: how long a run tries to connect to an API that has not answered it once (refused,
#: no such host) before it reports it unreachable; once it has answered, the whole
#: retry budget applies (a busy or restarting API)
UNREACHED_SECONDS = 30.0


class _NotSent(TransientError):
    """The connection was refused: the request never reached the server."""


def error_detail(exc: TargetError) -> str:
    """The server's own message for a terminal error (falls back to the whole text)."""
    return str(getattr(exc, "detail", None) or exc)


#: an error body that is no message of the API's is cut to this many characters, and
#: the API's message to ``_MESSAGE_CHARS`` (``excerpt``: cleaned, then cut)
_EXCERPT_CHARS = 300
_MESSAGE_CHARS = 1000
