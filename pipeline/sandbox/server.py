"""The HTTP side of every sandbox emulator: routing, auth, limits and fault knobs.

An ``Emulator`` (one per target API) declares its routes and its auth/error conventions;
``serve`` runs it on a real loopback socket with a standard-library threading server
(Nagle off, keep-alive on). Fault knobs are seeded so a test run is repeatable.
"""

from __future__ import annotations

import json
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
    transient_rate: float = 0.0  # fraction of requests answered 503 before doing anything
    commit_then_fail_rate: float = 0.0  # fraction of writes applied, then 500 or dropped
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    retry_after_http_date: bool = False


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
            self._rate_limit(route)
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

    def _retry_after(self, seconds: int) -> str:
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
            simple = _parse_simple_request(self)
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


#: a header line as the email parser behind http.client.parse_headers reads it without
#: surprises: a name, a colon, blanks, a value of printable characters
_SIMPLE_HEADER = re.compile(r"([\x21-\x39\x3b-\x7e]+):[ \t]*([\t\x20-\x7e\xa0-\xff]*)")
_SIMPLE_VERSIONS = ("HTTP/1.1", "HTTP/1.0")


def _parse_simple_request(handler: BaseHTTPRequestHandler) -> bool | None:
    """``parse_request`` for a plain request (``METHOD /path HTTP/1.x``, simple header
    lines all buffered already, no ``Expect``, no multipart or message body): the same
    ``command``, ``path``, ``request_version``, ``close_connection`` and ``headers`` (an
    ``HTTPMessage`` equal to what ``http.client.parse_headers`` builds), without going
    through the email parser, which costs more than the rest of a list page request.
    None (nothing read) for anything else: the standard library handles it."""
    raw: bytes = getattr(handler, "raw_requestline", b"")
    requestline = str(raw, "iso-8859-1").rstrip("\r\n")
    words = requestline.split()
    if len(words) != 3 or words[2] not in _SIMPLE_VERSIONS or words[1].startswith("//"):
        return None
    rfile = handler.rfile
    peek = getattr(rfile, "peek", None)
    if peek is None:
        return None
    buffered: bytes = peek(1)
    if buffered.startswith(b"\r\n"):
        lines: list[str] = []
        size = 2
    else:
        end = buffered.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = str(buffered[:end], "iso-8859-1").split("\r\n")
        size = end + 4
    if len(lines) >= 100:  # http.client's limit on header lines
        return None
    headers = handler.MessageClass()
    for line in lines:
        found = _SIMPLE_HEADER.fullmatch(line)
        if found is None:
            return None
        headers.set_raw(found[1], found[2])
    if "expect" in headers:  # (case-insensitive)
        return None
    if headers.get_content_maintype() in ("multipart", "message"):
        return None
    headers.set_payload("")
    rfile.read(size)
    handler.requestline = requestline
    handler.request_version = words[2]
    handler.close_connection = not (
        words[2] == "HTTP/1.1" and handler.protocol_version >= "HTTP/1.1"
    )
    handler.command, handler.path = words[0], words[1]
    handler.headers = headers
    conntype = headers.get("Connection", "").lower()
    if conntype == "close":
        handler.close_connection = True
    elif conntype == "keep-alive" and handler.protocol_version >= "HTTP/1.1":
        handler.close_connection = False
    return True


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
