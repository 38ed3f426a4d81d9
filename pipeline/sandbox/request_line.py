"""The sandbox's parse of a plain request line and headers, without the email parser
(which costs more than the rest of a list page request)."""

from __future__ import annotations

import re
from http.server import BaseHTTPRequestHandler

#: a header line as the email parser behind http.client.parse_headers reads it without
#: surprises: a name, a colon, blanks, a value of printable characters
_SIMPLE_HEADER = re.compile(r"([\x21-\x39\x3b-\x7e]+):[ \t]*([\t\x20-\x7e\xa0-\xff]*)")
_SIMPLE_VERSIONS = ("HTTP/1.1", "HTTP/1.0")


def parse_simple_request(handler: BaseHTTPRequestHandler) -> bool | None:
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
