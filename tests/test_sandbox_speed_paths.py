"""The sandbox's fast paths agree with what they stand in for.

- pipeline.sandbox.e164.plus_digits_e164 with phonenumbers (parse with region US,
  is_valid_number, E.164) on every ``+digits`` text it answers;
- the sandbox's parse_request with the standard library's on plain requests.
"""

from __future__ import annotations

import io
import random
from http.server import BaseHTTPRequestHandler

import phonenumbers
import pytest
from phonenumbers.phonemetadata import PhoneMetadata

from bench.phones import NUMBER_TYPES
from pipeline.sandbox.common import any_format_to_e164
from pipeline.sandbox.e164 import SLOW, plus_digits_e164
from pipeline.sandbox.request_line import parse_simple_request


def _reference(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _texts(seed: int, randoms: int) -> list[str]:
    """Example numbers of every region and type (with national prefixes put in, digits
    dropped, added and changed), and random ``+digits`` of every length."""
    rnd = random.Random(seed)
    texts: set[str] = set()
    for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            md = PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
            prefixes = {"", "0", "8", "1", (md.national_prefix or "") if md else ""}
            for kind in NUMBER_TYPES:
                if region == "001":
                    example = phonenumbers.example_number_for_non_geo_entity(cc)
                else:
                    example = phonenumbers.example_number_for_type(region, kind)
                if example is None:
                    continue
                nsn = phonenumbers.national_significant_number(example)
                for prefix in prefixes:
                    for variant in (
                        nsn,
                        nsn[:-1],
                        nsn + "5",
                        f"{nsn[:1]}{rnd.randrange(10)}{nsn[2:]}",
                    ):
                        texts.add(f"+{cc}{prefix}{variant}")
    codes = list(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    while len(texts) < randoms:
        if rnd.random() < 0.5:
            digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randrange(0, 16)))
            texts.add(f"+{rnd.choice(codes)}{digits}")
        else:
            digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randrange(2, 21)))
            texts.add(f"+{rnd.randrange(1, 10)}{digits}")
    return sorted(texts)


def test_plus_digits_e164_agrees_with_phonenumbers() -> None:
    texts = _texts(seed=11, randoms=40_000)
    answered = valid = 0
    for text in texts:
        fast = plus_digits_e164(text)
        if fast is SLOW:
            continue
        answered += 1
        valid += fast is not None
        assert fast == _reference(text), text
    assert answered > 0.8 * len(texts) and valid > 2_000


@pytest.mark.parametrize(
    "text",
    [
        "+0123456789",
        "+12",
        "+1 202 555 0143",
        "+١٢٠٢٥٥٥٠١٤٣",
        "+9991234567",
        "+123456789012345678901",
    ],
)
def test_what_the_fast_path_leaves_to_phonenumbers(text: str) -> None:
    assert any_format_to_e164(text) == _reference(text)


def test_any_format_to_e164_unchanged_for_other_formats() -> None:
    for text in ["(202) 555-0143", "202.555.0143", "+44 20 7946 0958", "0044 20 7946 0958", ""]:
        assert any_format_to_e164(text) == _reference(text)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, raw: bytes) -> None:  # no socket: a request in memory
        line, _, rest = raw.partition(b"\r\n")
        self.raw_requestline = line + b"\r\n"
        self.rfile = io.BufferedReader(io.BytesIO(rest))
        self.wfile = io.BytesIO()
        self.client_address = ("127.0.0.1", 0)
        self.request_version = "HTTP/0.9"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None


def _state(handler: _Handler) -> dict[str, object]:
    return {
        "command": handler.command,
        "path": handler.path,
        "request_version": handler.request_version,
        "close_connection": handler.close_connection,
        "requestline": handler.requestline,
        "headers": vars(handler.headers),
        "rest": handler.rfile.read(),
    }


_PLAIN = [
    b"GET /api/v1/contacts?page=2&per_page=100 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
    b"Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
    b"User-Agent: python-httpx/0.28.1\r\nX-API-Key: k\r\n\r\n",
    b"POST /v1/contacts/bulk HTTP/1.1\r\nHost: h\r\ncontent-length: 2\r\ncontent-type: "
    b"application/json\r\nx-api-key:\t  spaced  \r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n{}",
    b"GET / HTTP/1.0\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"DELETE /x HTTP/1.1\r\nConnection: close\r\nEmpty:\r\n\r\n",
    b"GET /x HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n",
    b"PATCH /caf\xe9 HTTP/1.1\r\nX-Latin: caf\xe9\r\n\r\n",
]
_OTHER = [
    b"GET //double HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
    b"GET /\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
    b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
    b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    b"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
    b"GET / HTTP/1.1\r\nX: a\x0bb\r\n\r\n",
    b"GET / HTTP/1.1\r\nX: a\nb\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n",  # headers not all there yet
]


@pytest.mark.parametrize("raw", _PLAIN)
def test_plain_requests_parse_as_the_standard_library_does(raw: bytes) -> None:
    fast, standard = _Handler(raw), _Handler(raw)
    assert parse_simple_request(fast) is True
    assert BaseHTTPRequestHandler.parse_request(standard) is True
    assert _state(fast) == _state(standard)


@pytest.mark.parametrize("raw", _OTHER)
def test_other_requests_are_left_to_the_standard_library(raw: bytes) -> None:
    handler = _Handler(raw)
    assert parse_simple_request(handler) is None
    assert handler.rfile.read() == raw.partition(b"\r\n")[2]  # nothing read
