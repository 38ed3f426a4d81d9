"""A hostile server on loopback for the key and terminal tests: a proxy in front of a real
sandbox that answers some requests itself with an error echoing the request.

The echo holds the request line and headers as received (so the key as sent: in a
header, or percent-encoded in dmchamp's query), the key written in every way an encoder
writes it, and terminal control sequences that would retitle the terminal, erase the
line and forge a success message. ``key_forms_in`` finds any form of a key in a text.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, unquote, unquote_plus, urlsplit

from tests.tamper import forward

#: what a hostile error body does to a terminal: retitle it, erase the line, forge a line
FORGERY = "\x1b]0;pwned\x07\x1b[2K\r contact-sync: all 25 records synced OK\x9b31m\u202e"

#: which requests the server answers itself: every one, or only writes (reads go on to
#: the sandbox, so that a run gets as far as its writes)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EVERY = frozenset({"GET", *WRITES})


def encodings(key: str) -> list[str]:
    """The key as the usual encoders write it."""
    percent = quote(key, safe="")
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), percent)
    return [
        key,
        percent,
        lower,
        quote_plus(key),
        quote(percent, safe=""),
        json.dumps(key),
        json.dumps(key).replace("/", "\\/"),
        repr(key),
        repr(key.encode()),
        html.escape(key),
    ]


def key_forms_in(text: str, key: str) -> list[str]:
    """Which ways of reading ``text`` (as is, percent-decoded, form-decoded, JSON- and
    HTML-unescaped) show ``key``: empty when the text holds no form of it."""
    readings = {
        "as is": text,
        "percent-decoded": unquote(text),
        "decoded twice": unquote(unquote(text)),
        "form-decoded": unquote_plus(text),
        "unescaped": text.replace("\\/", "/").replace('\\"', '"').replace("\\\\", "\\"),
        "html-unescaped": html.unescape(text),
    }
    return [name for name, reading in readings.items() if key in reading]


@dataclass
class Hostile:
    """The running server: ``url`` replaces the sandbox's URL as ``--base-url``."""

    url: str
    status: int
    methods: frozenset[str]
    #: characters before the key in a plain-text error body; None: a JSON error body
    pad: int | None = None
    #: the status and JSON answer to a request's body, given the echo (None: an error)
    reply: Callable[[bytes, str], tuple[int, Any]] | None = None
    #: the request lines answered with an echo, and those passed on to the sandbox
    echoed: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)


def _sent_key(handler: BaseHTTPRequestHandler) -> str:
    """The key the client sent, decoded: a query parameter, or a header."""
    query = parse_qs(urlsplit(handler.path).query)
    if "apiKey" in query:
        return query["apiKey"][0]
    for name in ("X-API-Key", "Authorization"):
        value = handler.headers.get(name)
        if value:
            return value.removeprefix("Bearer ")
    return ""


def _handler(upstream: str, hostile: Hostile) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.command in hostile.methods:
                self._echo(body)
            else:
                self._forward(body)

        def _echo(self, body: bytes) -> None:
            hostile.echoed.append(self.requestline)
            key = _sent_key(self)
            text = "\n".join(
                [
                    FORGERY,
                    *(f"key as sent: {form}" for form in encodings(key)),
                    self.requestline,
                    str(self.headers),
                ]
            )
            status, payload = (
                hostile.status,
                {"detail": text, "message": text, "error": {"message": text}},
            )
            if hostile.reply is not None:
                status, payload = hostile.reply(body, text)
            data = json.dumps(payload).encode()
            kind = "application/json"
            if hostile.pad is not None:
                data, kind = ("x" * hostile.pad + key + FORGERY).encode(), "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _forward(self, body: bytes) -> None:
            hostile.forwarded.append(self.requestline)
            status, kept, data = forward(self, target, body)
            self.send_response(status)
            for name, value in kept:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


@contextmanager
def hostile_server(
    upstream: str,
    status: int = 400,
    methods: frozenset[str] = WRITES,
    pad: int | None = None,
    reply: Callable[[bytes, str], tuple[int, Any]] | None = None,
) -> Iterator[Hostile]:
    """A hostile proxy in front of the sandbox at ``upstream`` (its URL, path included)."""
    hostile = Hostile("", status, methods, pad, reply)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, hostile))
    hostile.url = f"http://127.0.0.1:{server.server_address[1]}{urlsplit(upstream).path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hostile
    finally:
        server.shutdown()
        server.server_close()


def written_texts(root: Path) -> dict[str, str]:
    """Every file under ``root``, as text (bytes that are not UTF-8 replaced)."""
    return {
        str(p.relative_to(root)): p.read_bytes().decode("utf-8", errors="replace")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
