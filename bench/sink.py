"""The client's share of a sync (issue 19): a server that speaks oliai's contact API just
enough for ``contact-sync sync --target oliai`` and does nothing it need not. Its listing
is empty; a bulk upsert is answered from the request's numbers, found by one regex over
the bytes (no JSON parsing, no validation, nothing stored), each given an id. So the
figure is what the client costs: reading, checking and diffing the file, building and
sending 1,000-contact batches, reading their answers, writing the report.

``python -m bench.run sink`` runs just this part.
"""

from __future__ import annotations

import itertools
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_NUMBER = re.compile(rb'"phoneNumber":\s*"([^"]*)"')
_EMPTY_PAGE = b'{"data":[],"total":0,"totalPages":0,"page":1,"limit":100}'


class Sink:
    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.bulk_requests = 0
        self.contacts = 0

    def answer(self, body: bytes) -> bytes:
        numbers = _NUMBER.findall(body)
        with self.lock:
            first = next(self.ids)
            for _ in range(len(numbers) - 1):
                next(self.ids)
            self.bulk_requests += 1
            self.contacts += len(numbers)
        records = b",".join(
            b'{"id":"s%d","phoneNumber":"%s"}' % (first + i, number)
            for i, number in enumerate(numbers)
        )
        return b'{"contacts":[%s],"created":%d,"updated":0,"errors":[]}' % (records, len(numbers))


def _handler(sink: Sink, key: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _reply(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.headers.get("x-api-key") != key:
                self._reply(401, b'{"message":"unauthorized"}')
                return
            self._reply(200, _EMPTY_PAGE)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("x-api-key") != key:
                self._reply(401, b'{"message":"unauthorized"}')
                return
            if self.path.split("?", 1)[0].endswith("/contacts/bulk"):
                self._reply(201, sink.answer(body))
            else:
                self._reply(404, b'{"message":"not found"}')

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


@contextmanager
def running_sink(key: str) -> Iterator[tuple[str, Sink]]:
    """The sink on a free loopback port: its ``--base-url`` and its counts."""
    sink = Sink()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink, key))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", sink
    finally:
        server.shutdown()
        server.server_close()
