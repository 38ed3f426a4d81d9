"""A proxy in front of a real sandbox that rewrites some of its answers: the server of a
platform that answers outside its documented API (the wrong shape, not JSON, a listing
that never ends). Every request goes to the sandbox, so what a write did is real; the
answer the client gets is what ``rewrite`` makes of the sandbox's (None: unchanged)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import SplitResult, urlsplit

#: (method, path with query, the sandbox's status, its body) → the answer to give instead
Rewrite = Callable[[str, str, int, bytes], "tuple[int, bytes] | None"]


@dataclass
class Tampering:
    url: str
    rewrite: Rewrite
    #: every request line, in order, and those whose answer was rewritten
    requests: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)

    def count(self, *methods: str) -> int:
        return sum(1 for line in self.requests if line.split(" ", 1)[0] in methods)


def forward(
    handler: BaseHTTPRequestHandler, target: SplitResult, body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """The request ``handler`` holds, sent on to the server at ``target``: its status,
    the headers worth passing back, and its body."""
    connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
    headers = {k: v for k, v in handler.headers.items() if k.lower() != "host"}
    asked = urlsplit(handler.path)  # absolute when it comes as to a proxy
    path = asked.path + (f"?{asked.query}" if asked.query else "")
    connection.request(handler.command, path, body=body or None, headers=headers)
    answer = connection.getresponse()
    status, data = answer.status, answer.read()
    kept = [
        (k, v)
        for k, v in answer.getheaders()
        if k.lower() not in ("content-length", "connection", "transfer-encoding")
    ]
    connection.close()
    return status, kept, data


def _handler(upstream: str, tampering: Tampering) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            tampering.requests.append(f"{self.command} {self.path}")
            status, kept, data = forward(self, target, body)
            changed = tampering.rewrite(self.command, self.path, status, data)
            if changed is not None:
                tampering.rewritten.append(f"{self.command} {self.path}")
                status, data = changed
            try:
                self.send_response(status)
                for name, value in kept:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped listening (a run that ended): nothing to tell

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


@contextmanager
def tampered(upstream: str, rewrite: Rewrite) -> Iterator[Tampering]:
    """A rewriting proxy in front of the sandbox at ``upstream`` (its URL, path included)."""
    tampering = Tampering("", rewrite)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, tampering))
    server.daemon_threads = True
    tampering.url = f"http://127.0.0.1:{server.server_address[1]}{urlsplit(upstream).path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tampering
    finally:
        server.shutdown()
        server.server_close()
