"""ApiClient's fast path sends byte for byte what ``httpx.Client.request`` sends, and
handles errors, timeouts and cookies the same way, on real loopback sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pipeline.errors import TransientError
from pipeline.http import AmbiguousWriteError, ApiClient, Auth, RateLimiter, RetryPolicy
from pipeline.sandbox import start
from pipeline.secrets import ApiKey

KEY = "s3cret-key"


class Recorder:
    """A keep-alive HTTP/1.1 server that records each raw request and answers ``reply``."""

    def __init__(self, reply: bytes = b"", respond: bool = True) -> None:
        self.reply = reply
        self.respond = respond
        self.seen: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, rest = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.seen.append(head + b"\r\n\r\n" + rest[:length])
                buffer = rest[length:]
                if not self.respond:
                    time.sleep(5)
                    return
                body = b'{"ok":true}'
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + self.reply
                    + b"Content-Length: %d\r\n\r\n" % len(body)
                    + body
                )

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def _api(url: str, auth: Auth, **kwargs: Any) -> ApiClient:
    return ApiClient(
        base_url=url,
        key=ApiKey(KEY),
        auth=auth,
        error_message=lambda body: None,
        limiters={"default": RateLimiter(None)},
        **kwargs,
    )


def _plain_httpx(url: str, auth: Auth) -> httpx.Client:
    """The client ApiClient used to send everything through (the reference)."""
    headers = {"Accept": "application/json", "User-Agent": "contact-sync/0.1"}
    if auth.header:
        headers[auth.header] = auth.prefix + KEY
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30.0)


CASES: list[tuple[str, str, dict[str, Any], bytes | None]] = [
    ("GET", "/contacts", {"page": 3, "per_page": 100}, None),
    ("GET", "/contacts", {}, None),
    ("GET", "", {"page": 1}, None),
    ("GET", "/contacts", {"search": "+14155552671", "per_page": 100}, None),
    ("GET", "/contacts", {"q": "a b&c=d/é", "flag": True, "none": None, "ids": [1, 2]}, None),
    ("GET", "/contacts/abc-123_X.y~z", {}, None),
    ("GET", "/contacts/a b/../c?d", {"x": 1}, None),
    ("DELETE", "/contacts/7", {}, None),
    ("POST", "/contacts", {}, b'{"phone_number":"+14155552671"}'),
    ("POST", "/contacts/7/opt-out", {}, None),
    ("PATCH", "/contacts/7", {}, b'{"first_name":"\xc3\xa9"}'),
    ("PUT", "/contacts/7", {}, b""),
]


@pytest.mark.parametrize("base", ["", "/api/v2", "/api/v2/"])
@pytest.mark.parametrize(
    "auth", [Auth(header="X-API-Key"), Auth(header="Authorization", prefix="Bearer ")]
)
def test_the_wire_bytes_are_those_httpx_client_sends(
    recorder: Recorder, base: str, auth: Auth
) -> None:
    url = recorder.url + base
    reference = _plain_httpx(url, auth)
    api = _api(url, auth)
    # The fast path is on with the httpx this project pins (else this test would compare
    # httpx with itself, and an httpx upgrade could take the slow path unnoticed).
    assert api._fast is not None
    try:
        for method, path, params, content in CASES:
            headers = {"Content-Type": "application/json"} if content is not None else None
            reference.request(method, path, params=params, content=content, headers=headers)
            api.request(method, path, params=params, content=content, idempotent=True)
            assert recorder.seen[-1] == recorder.seen[-2], (method, path, params)
    finally:
        reference.close()
        api.close()
    assert len(recorder.seen) == 2 * len(CASES)


def test_a_key_in_the_query_goes_on_the_wire_as_httpx_sends_it(recorder: Recorder) -> None:
    api = _api(recorder.url, Auth(query="apiKey"))
    reference = httpx.Client(
        base_url=recorder.url,
        headers={"Accept": "application/json", "User-Agent": "contact-sync/0.1"},
    )
    try:
        for params in ({"phoneNumber": "+14155552671"}, {"page": 2}):
            api.request("GET", "/contacts", params=params)
            reference.get("/contacts", params={**params, "apiKey": KEY})
            assert recorder.seen[-1] == recorder.seen[-2]
    finally:
        api.close()
        reference.close()


def test_the_response_is_read_and_usable(recorder: Recorder) -> None:
    api = _api(recorder.url, Auth(header="X-API-Key"))
    try:
        response = api.request("GET", "/contacts", params={"page": 1})
        assert response.is_closed
        assert response.status_code == 200
        assert response.reason_phrase == "OK"
        assert response.headers["content-type"] == "application/json"
        assert response.content == b'{"ok":true}'
        assert response.text == '{"ok":true}'
        assert response.json() == {"ok": True}
        assert response.request.url == httpx.URL(recorder.url + "/contacts?page=1")
        assert response.elapsed.total_seconds() >= 0
        assert api.request_json("GET", "/contacts") == {"ok": True}
        assert api.requests_sent == 2
    finally:
        api.close()


def test_cookies_the_server_sets_are_sent_back() -> None:
    server = Recorder(reply=b"Set-Cookie: sid=abc; Path=/\r\n")
    api = _api(server.url, Auth(header="X-API-Key"))
    try:
        api.request("GET", "/contacts")
        api.request("GET", "/contacts", params={"page": 2})
        assert b"cookie: sid=abc" not in server.seen[0].lower()
        assert b"\r\ncookie: sid=abc\r\n" in server.seen[1].lower()
    finally:
        api.close()
        server.close()


def test_a_read_timeout_is_transient_and_bounded() -> None:
    server = Recorder(respond=False)
    api = _api(server.url, Auth(header="X-API-Key"), timeout=0.3, retry=RetryPolicy(attempts=1))
    try:
        started = time.monotonic()
        with pytest.raises(TransientError) as caught:
            api.request("GET", "/contacts")
        assert time.monotonic() - started < 3
        assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
        assert caught.value.__cause__.request.url.path == "/contacts"
        assert KEY not in str(caught.value)
    finally:
        api.close()
        server.close()


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


def test_a_refused_connection_is_retried_and_never_ambiguous() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    api = _api(url, Auth(query="apiKey"), retry=RetryPolicy(attempts=2, base_delay=0.01))
    try:
        with pytest.raises(TransientError) as caught:
            api.request("POST", "/contacts", json_body={"phone_number": "+14155552671"})
        assert not isinstance(caught.value, AmbiguousWriteError)
        assert isinstance(caught.value.__cause__, httpx.ConnectError)
        assert api.requests_sent == 2
        assert KEY not in str(caught.value)
    finally:
        api.close()


def test_a_closed_client_refuses_to_send(recorder: Recorder) -> None:
    api = _api(recorder.url, Auth(header="X-API-Key"))
    api.request("GET", "/contacts")
    api.close()
    with pytest.raises(RuntimeError):
        api.request("GET", "/contacts")


def test_pages_and_searches_against_the_sandbox() -> None:
    sandbox = start("arnis", KEY)
    try:
        api = _api(sandbox.url, Auth(header="X-API-Key"))
        for i in range(5):
            e164 = f"+1415555{i:04d}"
            api.request("POST", "/contacts", json_body={"phone_number": e164})
        page = api.request_json("GET", "/contacts", params={"page": 2, "per_page": 2})
        reference = _plain_httpx(sandbox.url, Auth(header="X-API-Key"))
        expected = reference.get("/contacts", params={"page": 2, "per_page": 2}).json()
        reference.close()
        assert page == expected
        found = api.request_json("GET", "/contacts", params={"search": "+14155550003"})
        assert [item["e164_number"] for item in found["items"]] == ["+14155550003"]
        api.close()
    finally:
        sandbox.stop()
