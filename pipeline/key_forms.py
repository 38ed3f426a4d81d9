"""Every form an API key can take in a text, as one regular expression.

A server that echoes a request, an exception that quotes a header, a JSON body or a
Python repr each write the key their own way. For each character of the key the
pattern accepts it as written and, for a character other than a letter or a digit,
as the encoders write it:

- percent-encoded, in upper or lower case hex, also encoded twice (``%2B``, ``%2b``,
  ``%252B``), and ``+`` for a space (RFC 3986 and form encoding never encode letters and
  digits, so neither do we: the pattern then starts with the key's own letters, which
  keeps searching fast);
- escaped with backslashes (JSON's ``\\/`` and ``\\"``, repr's ``\\'`` and ``\\\\``), as
  ``\\xHH``, ``\\uHHHH``, ``\\u{H}``, ``\\UHHHHHHHH`` (JSON, Python, bytes reprs);
- as an HTML character reference (``&#43;``, ``&#x2b;``, ``&amp;``).

Each line of a key of several lines, when long enough to be told from ordinary text, is
matched on its own too. The pattern is written so that Python's ``re`` and the Rust
``regex`` crate (polars' ``str.replace_all``) read it alike: no look-around, every
character other than a letter or a digit as a ``\\xHH`` or ``\\uHHHH`` escape.
"""

from __future__ import annotations

from collections.abc import Iterable

#: a line of a key shorter than this is not matched on its own (it would be found
#: inside ordinary words); the same bound as ``pipeline.secrets.MIN_KEY_LENGTH``
_MIN_PIECE = 8
_NAMED = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}
_SHORT = {"\n": "n", "\r": "r", "\t": "t"}


def key_regex(keys: Iterable[str]) -> str:
    """One pattern matching any form of any of ``keys`` (longest first)."""
    texts = set()
    for key in keys:
        texts.add(key)
        texts.update(p for p in key.splitlines() if len(p.strip()) >= _MIN_PIECE)
        texts.update(p for p in key.split() if len(p) >= _MIN_PIECE)
    ordered = sorted((t for t in texts if t), key=lambda t: (-len(t), t))
    return "|".join("(?:" + "".join(_char(c) for c in text) + ")" for text in ordered)


def _char(char: str) -> str:
    if char.isascii() and char.isalnum():
        return char
    forms = [_literal(char), r"\\+" + _literal(char)]
    encoded = char.encode("utf-8")
    forms.append("".join("%(?:25)*" + _hex(byte, 2) for byte in encoded))
    forms.append("".join(r"\\+x" + _hex(byte, 2) for byte in encoded))
    code = ord(char)
    forms.append(r"\\+[uUx]\x7b?0*" + _hex(code, 1) + r"\x7d?")
    if code > 0xFFFF:  # JSON writes it as a surrogate pair
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(r"\\+u" + _hex(high, 4) + r"\\+u" + _hex(low, 4))
    forms.append(f"&#0*{code};")
    forms.append("&#[xX]0*" + _hex(code, 1) + ";")
    if char in _NAMED:
        forms.append(f"&{_NAMED[char]};")
    if char in _SHORT:
        forms.append(r"\\+" + _SHORT[char])
    if char == " ":
        forms.append(r"\x2b")
    return "(?:" + "|".join(forms) + ")"


def _literal(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _hex(value: int, width: int) -> str:
    """``value`` in hex, either case: 0x2b → ``2[bB]``."""
    digits = f"{value:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)
