"""Text: the encoding decided, the bytes decoded, binary data refused (see the package
docstring, "Encoding" and "Binary data and NUL bytes")."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace

from pipeline.errors import InputError, UsageError
from pipeline.outcomes import Code

BAD_ENCODING = Code.BAD_ENCODING

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


@dataclass(frozen=True)
class Decoded:
    """The text of some bytes, how it was decoded, and what to tell the person running."""

    text: str
    #: the codec's name (``utf-8-sig``: UTF-8 after a BOM); :func:`described` words it
    encoding: str
    #: invalid byte sequences replaced with U+FFFD
    bad: int
    #: one line when the file's own declaration (a UTF-8 BOM) was overruled
    note: str | None = None


def decode(
    raw: bytes, encoding: str | None = None, *, forced: bool = False, bom: bool = False
) -> Decoded:
    """``raw`` as text.

    ``encoding``, when given, was decided on the first piece of the same file, or
    ``forced`` by ``--encoding`` (:func:`checked_encoding`). ``bom``: the file (whose
    first piece this may not be) starts with a UTF-8 BOM.
    """
    if forced and encoding:
        return _forced(raw, encoding)
    if encoding in ("utf-8", "utf-8-sig") and not raw.startswith(codecs.BOM_UTF8):
        try:  # as fast as decoding with replacements, and nothing to count after
            return Decoded(raw.decode("utf-8"), "utf-8", 0)
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace")
        return Decoded(text, "utf-8", text.count(REPLACEMENT) - raw.count(REPLACEMENT.encode()))
    if encoding in ("cp1252", "latin-1"):
        try:
            return Decoded(raw.decode(encoding), encoding, 0)
        except UnicodeDecodeError:
            return Decoded(raw.decode("latin-1"), "latin-1", 0)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(raw, "utf-16")
    if raw.startswith(codecs.BOM_UTF8):
        body, encoding, bom = raw[len(codecs.BOM_UTF8) :], "utf-8-sig", True
    else:
        body, encoding = raw, "utf-8"
        utf16 = _utf16_without_bom(raw)
        if utf16:
            return _decode_utf16(raw, utf16)
    try:
        return Decoded(body.decode("utf-8"), encoding, 0)
    except UnicodeDecodeError:
        pass
    # Not UTF-8 throughout: a UTF-8 file with a few bad bytes when its valid multi-byte
    # characters outnumber its invalid sequences, else an 8-bit file; a BOM does not
    # change that (a Windows-1252 file saved with one loses nothing either).
    text = body.decode("utf-8", "replace")
    bad = text.count(REPLACEMENT) - body.count(REPLACEMENT.encode())
    good = len(text) - len(text.encode("ascii", "ignore")) - text.count(REPLACEMENT)
    if good > bad:
        return Decoded(text, encoding, bad)
    try:
        decoded = Decoded(body.decode("cp1252"), "cp1252", 0)
    except UnicodeDecodeError:
        decoded = Decoded(body.decode("latin-1"), "latin-1", 0)
    if not bom:
        return decoded
    return replace(decoded, note=_misdeclared(decoded.encoding))


def _misdeclared(encoding: str) -> str:
    return (
        f"the file says UTF-8 (it starts with a UTF-8 byte order mark) but is not; it was "
        f"read as {described(encoding)}. If names look wrong, re-save it as CSV UTF-8 "
        f"or pass --encoding with its encoding (e.g. --encoding {encoding})"
    )


def _forced(raw: bytes, encoding: str) -> Decoded:
    """``raw`` in ``encoding`` (``--encoding``); a BOM of that encoding, or of UTF-8 in
    an 8-bit one (the BOM a Windows-1252 file saved as 'UTF-8' keeps), is not text."""
    wide = encoding.startswith(("utf-16", "utf-32"))
    body = raw[len(codecs.BOM_UTF8) :] if not wide and raw.startswith(codecs.BOM_UTF8) else raw
    text = body.decode(encoding, "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = text.count(REPLACEMENT) - (body.count(REPLACEMENT.encode()) if encoding == "utf-8" else 0)
    return Decoded(text, encoding, bad)


#: how a codec is named to a person
_DESCRIBED = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with a byte order mark)",
    "cp1252": "Windows-1252 (cp1252)",
    "latin-1": "Latin-1 (ISO 8859-1)",
    "iso8859-1": "Latin-1 (ISO 8859-1)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 (little-endian)",
    "utf-16-be": "UTF-16 (big-endian)",
}


def described(encoding: str) -> str:
    """``encoding`` as a person would name it (``utf-8-sig``: UTF-8 with a BOM)."""
    return _DESCRIBED.get(encoding, encoding)


def replaced_message(encoding: str) -> str:
    """The ``bad_encoding`` message of a record whose bytes were not valid ``encoding``."""
    other = "latin-1" if encoding == "cp1252" else "cp1252"
    return (
        f"bytes that are not valid {described(encoding)} were replaced with \ufffd; if the "
        f"file is in another encoding, pass --encoding (e.g. --encoding {other}), or "
        "re-save it as CSV UTF-8"
    )


def checked_encoding(name: str) -> str:
    """The codec ``--encoding NAME`` names (its canonical name); a usage error when Python
    knows no text encoding by that name."""
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise UsageError(
            f"--encoding {name!r} is not a text encoding; give one such as utf-8, cp1252 "
            "(Windows-1252, Excel's 'CSV' on Windows), latin-1, utf-16 or mac-roman"
        )
    return "utf-8" if info.name == "utf-8-sig" else info.name


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


def _decode_utf16(raw: bytes, encoding: str) -> Decoded:
    text = raw.decode(encoding, "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = text.count(REPLACEMENT)
    return Decoded(text, encoding, bad)


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
        return raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    return text.encode("utf-8")
