"""The HTTP side of every sandbox emulator: routing, auth, limits and fault knobs.

An ``Emulator`` (one per target API) declares its routes and its auth/error conventions;
``serve`` runs it on a real loopback socket with a standard-library threading server
(Nagle off, keep-alive on). Fault knobs are seeded so a test run is repeatable.
"""

from __future__ import annotations

import json
import math
import random
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipeline.sandbox.request_line import parse_simple_request
from pipeline.sandbox.store import LoggedRequest, Store


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised by a handler: the emulator answers with its own error body."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


@dataclass
class Faults:
    """Seeded fault knobs (all off by default)."""

    seed: int = 0
    rate_limit: int | None = None  # requests per window, then 429 + Retry-After
    bulk_rate_limit: int | None = None
    window_seconds: float = 60.0
    #: a token bucket: ``bucket_per_minute`` tokens a minute, at most ``bucket_burst``
    #: saved up; a request without a token is answered 429 + Retry-After
    bucket_per_minute: float | None = None
    bucket_burst: int = 1
    transient_rate: float = 0.0  # fraction of requests answered 503 before doing anything
    commit_then_fail_rate: float = 0.0  # fraction of writes applied, then 500 or dropped
    slow_rate: float = 0.0  # fraction of answers delayed by slow_seconds
    slow_seconds: float = 0.0
    retry_after_http_date: bool = False
    #: every 429 says this many seconds (instead of when a place frees up)
    retry_after: int | None = None
    #: after this many requests the API is down: every request is answered 503
    down_after: int | None = None


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    bulk: bool = False


class Emulator:
    """Base of the five emulators: subclasses fill in routes, auth and error bodies."""

    name = "base"

    def __init__(self, store: Store, api_key: str, faults: Faults | None = None) -> None:
        self.store = store
        self.api_key = api_key
        self.faults = faults or Faults()
        self._random = random.Random(self.faults.seed)
        self._random_lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {"default": deque(), "bulk": deque()}
        self._bucket: tuple[float, float] | None = None  # (tokens, when counted)
        self._seen = 0
        self.routes: list[Route] = []

    # -- what subclasses declare ------------------------------------------------------
    def route(self, method: str, path: str, handler: Handler, bulk: bool = False) -> None:
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
        self.routes.append(Route(method, pattern, handler, bulk))

    def authenticate(self, request: Request) -> None:
        raise NotImplementedError

    def error_body(self, status: int, code: str, message: str) -> Any:
        raise NotImplementedError

    def e164_of(self, record: dict[str, Any]) -> str:
        """The E.164 number of a stored record (for reloading a saved store)."""
        for name in ("e164_number", "phoneNumber", "phone"):
            if record.get(name):
                return str(record[name])
        return ""

    def save(self, path: Path) -> None:
        self.store.save(path)

    def load(self, path: Path) -> None:
        self.store.load(path, self.e164_of)

    # -- dispatch ------------------------------------------------------------------
    def dispatch(self, request: Request) -> tuple[Reply, bool]:
        """The reply, and whether to drop the connection instead of answering."""
        try:
            route, params = self._match(request)
            request = Request(**{**request.__dict__, "params": params})
            self.authenticate(request)
            self._down()
            self._rate_limit(route)
            self._token_bucket()
            if self._chance(self.faults.transient_rate):
                raise ApiError(503, "unavailable", "service temporarily unavailable")
            self._maybe_slow()
            reply = route.handler(request)
        except ApiError as exc:
            headers = {"Retry-After": self._retry_after(exc.retry_after)} if exc.retry_after else {}
            return Reply(
                exc.status, self.error_body(exc.status, exc.code, exc.message), headers
            ), False
        if request.method != "GET" and self._chance(self.faults.commit_then_fail_rate):
            if self._chance(0.5):
                return Reply(500, self.error_body(500, "internal", "internal server error")), False
            return reply, True
        return reply, False

    def _match(self, request: Request) -> tuple[Route, dict[str, str]]:
        allowed = False
        for route in self.routes:
            found = route.pattern.match(request.path)
            if found:
                allowed = True
                if route.method == request.method:
                    return route, found.groupdict()
        if allowed:
            raise ApiError(405, "method_not_allowed", f"{request.method} not allowed here")
        raise ApiError(404, "not_found", f"no route for {request.path}")

    def _rate_limit(self, route: Route) -> None:
        for name, limit in (
            ("default", self.faults.rate_limit),
            ("bulk", self.faults.bulk_rate_limit),
        ):
            if limit is None or (name == "bulk" and not route.bulk):
                continue
            window = self._windows[name]
            now = time.monotonic()
            with self._random_lock:
                while window and now - window[0] >= self.faults.window_seconds:
                    window.popleft()
                if len(window) >= limit:
                    wait = self.faults.window_seconds - (now - window[0])
                    raise ApiError(
                        429, "rate_limited", "too many requests", max(1, round(wait + 0.5))
                    )
                window.append(now)

    def _down(self) -> None:
        with self._random_lock:
            self._seen += 1
            seen = self._seen
        if self.faults.down_after is not None and seen > self.faults.down_after:
            raise ApiError(503, "unavailable", "service temporarily unavailable")

    def _token_bucket(self) -> None:
        per_minute = self.faults.bucket_per_minute
        if not per_minute:
            return
        per_second, burst = per_minute / 60.0, max(1, self.faults.bucket_burst)
        with self._random_lock:
            now = time.monotonic()
            tokens, then = self._bucket or (float(burst), now)
            tokens = min(float(burst), tokens + (now - then) * per_second)
            if tokens >= 1.0:
                self._bucket = (tokens - 1.0, now)
                return
            self._bucket = (tokens, now)
        wait = (1.0 - tokens) / per_second
        raise ApiError(429, "rate_limited", "rate limit exceeded", max(1, math.ceil(wait)))

    def _retry_after(self, seconds: int) -> str:
        if self.faults.retry_after is not None:
            seconds = self.faults.retry_after
        if not self.faults.retry_after_http_date:
            return str(seconds)
        from email.utils import formatdate

        return formatdate(time.time() + seconds + 1, usegmt=True)

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._random_lock:
            return self._random.random() < rate

    def _maybe_slow(self) -> None:
        if self._chance(self.faults.slow_rate):
            time.sleep(self.faults.slow_seconds)


def _make_handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None  # the sandbox is quiet; URLs may carry a key

        def parse_request(self) -> bool:
            simple = parse_simple_request(self)
            return super().parse_request() if simple is None else simple

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = _MALFORMED
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request(self.command, parts.path, query, headers, body)
            if body is _MALFORMED:
                reply, drop = (
                    Reply(400, emulator.error_body(400, "invalid_request", "malformed JSON body")),
                    False,
                )
            else:
                reply, drop = emulator.dispatch(request)
            emulator.store.log(LoggedRequest(self.command, parts.path, reply.status, _items(body)))
            if drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._reply(reply)

        def _reply(self, reply: Reply) -> None:
            payload = b"" if reply.body is None else _JSON.encode(reply.body).encode()
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            buffered = getattr(self, "_headers_buffer", None)
            if self.request_version != "HTTP/0.9" and isinstance(buffered, list):
                # what end_headers and a write of the body send, in one write (one send
                # call and one segment, not two)
                buffered.append(b"\r\n")
                buffered.append(payload)
                self.flush_headers()
                return
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return _Handler


_MALFORMED = object()
#: json.dumps's encoder, without the check for circular references (a reply body is
#: built from decoded JSON and stored records, never circular): the same bytes
_JSON = json.JSONEncoder(check_circular=False)


def _items(body: Any) -> int:
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list):
                return len(value)
    return 1 if body else 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # SO_REUSEADDR: a restart binds past TIME_WAIT
    # never SO_REUSEPORT, which some Pythons' HTTPServer turns on (cpython gh-120485):
    # a second sandbox would bind the same port and share its requests at random
    allow_reuse_port = False


@dataclass
class RunningSandbox:
    """A sandbox serving on loopback; ``url`` is the ``--base-url`` to give the tool."""

    url: str
    emulator: Emulator
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def store(self) -> Store:
        return self.emulator.store

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(
    emulator: Emulator, host: str = "127.0.0.1", port: int = 0, prefix: str = ""
) -> RunningSandbox:
    """Start ``emulator`` in a background thread; returns once it accepts connections."""
    server = _Server((host, port), _make_handler(emulator))
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"sandbox-{emulator.name}",
        daemon=True,
    )
    thread.start()
    bound_port = server.server_address[1]
    return RunningSandbox(f"http://{host}:{bound_port}{prefix}", emulator, server, thread)
