"""Text: the encoding decided, the bytes decoded, binary data refused (see the package
docstring, "Encoding" and "Binary data and NUL bytes")."""

from __future__ import annotations

import codecs
import re

from pipeline.errors import InputError

BAD_ENCODING = "bad_encoding"

#: The text sampled to tell binary data (here) and to sniff the delimiter (dialect); the
#: first piece of a big file holds it (pieces). The others read it as ``enc.SAMPLE_CHARS``,
#: so that one value (a test may make it small) holds for all three.
SAMPLE_CHARS = 65536
_BINARY_SHARE = 0.10
_BINARY_MIN = 16
#: Stands in for a removed NUL byte until its record is known (a Unicode noncharacter).
NUL_MARK = "\ufffe"
REPLACEMENT = "\ufffd"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str, int]:
    """(text, encoding name, number of invalid byte sequences replaced).

    ``encoding``, when given, was decided on the first piece of the same file.
    """
    if encoding in ("utf-8", "utf-8-sig") and not raw.startswith(codecs.BOM_UTF8):
        try:  # as fast as decoding with replacements, and nothing to count after
            return raw.decode("utf-8"), "utf-8", 0
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace")
        return text, "utf-8", text.count(REPLACEMENT) - raw.count(REPLACEMENT.encode())
    if encoding in ("cp1252", "latin-1"):
        try:
            return raw.decode(encoding), encoding, 0
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "latin-1", 0
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(raw, "utf-16")
    if raw.startswith(codecs.BOM_UTF8):
        body, encoding = raw[len(codecs.BOM_UTF8) :], "utf-8-sig"
    else:
        body, encoding = raw, "utf-8"
        utf16 = _utf16_without_bom(raw)
        if utf16:
            return _decode_utf16(raw, utf16)
    try:
        return body.decode("utf-8"), encoding, 0
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", "replace")
    bad = text.count(REPLACEMENT) - body.count(REPLACEMENT.encode())
    good = len(text) - len(text.encode("ascii", "ignore")) - text.count(REPLACEMENT)
    if encoding == "utf-8-sig" or good > bad:
        return text, encoding, bad
    try:
        return raw.decode("cp1252"), "cp1252", 0
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1", 0


def _utf16_without_bom(raw: bytes) -> str | None:
    head = raw[:4096]
    half = len(head) // 2
    if half < 2:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _decode_utf16(raw: bytes, encoding: str) -> tuple[str, str, int]:
    text = raw.decode(encoding, "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = text.count(REPLACEMENT)
    return text, encoding, bad


def is_utf16(head: bytes) -> bool:
    return head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or bool(
        _utf16_without_bom(head)
    )


def check_text(text: str, name: str) -> None:
    sample = text[:SAMPLE_CHARS].rstrip("\x00")
    controls = len(_CONTROL.findall(sample))
    if controls > _BINARY_MIN and controls > _BINARY_SHARE * len(sample):
        raise InputError(
            f"{name}: does not look like a CSV text file ({controls} control characters "
            f"in the first {len(sample)}); give a CSV export of the contacts"
        )


def may_hold_nul(raw: bytes, encoding: str) -> bool:
    """False when the text decoded from ``raw`` surely has no NUL character: in these
    encodings only a 0 byte decodes to one, and a byte search is a memchr (some 1-2 ms for
    16 MB, where counting the text's characters takes some 12 ms)."""
    return encoding not in ("utf-8", "utf-8-sig", "cp1252", "latin-1") or b"\x00" in raw


def as_utf8(raw: bytes, decoded: str, text: str, encoding: str, bad: int) -> bytes:
    """``text`` as UTF-8: the input bytes themselves when they are exactly that."""
    if text is decoded and not bad and encoding in ("utf-8", "utf-8-sig"):
        return raw[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else raw
    return text.encode("utf-8")
