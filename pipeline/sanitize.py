"""Text from outside made safe to show: no API key, no control character.

What a server answers (error bodies, header values, ids) and what a file holds (cells
quoted in messages) reaches the terminal, the reports and the HTML report. There a
character such as ESC, BEL or CR can retitle the terminal, erase a line and forge
"all records synced OK"; so each one is shown as an escape (``\\x1b``, ``\\x07``,
``\\r``). That covers C0 and C1 controls but tab, DEL, newline (text from outside is one
line in any message: a line of its own could pass for one of ours), the Unicode line and
paragraph separators and the bidirectional controls (which reorder what a terminal shows).
A tab does no harm and is common in exported cells: it stays. ``clean`` is the one
function for text; ``clean_expr`` does the same to a polars column, for the files.
"""

from __future__ import annotations

import polars as pl

from pipeline.secrets import MASK, known_key_regex, redact

_SHORT = {"\n": "\\n", "\r": "\\r"}
_CODES = [
    *range(0x00, 0x09),
    *range(0x0A, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]


def _escape(code: int) -> str:
    char = chr(code)
    if char in _SHORT:
        return _SHORT[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_TABLE = {code: _escape(code) for code in _CODES}
_CONTROL_CLASS = "[" + "".join(f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}" for c in _CODES) + "]"
_CONTROLS = [chr(code) for code in _CODES]
_ESCAPES = [_TABLE[code] for code in _CODES]


def escape_controls(text: str) -> str:
    """``text`` with every control character shown as an escape."""
    return text.translate(_TABLE)


def clean(text: str) -> str:
    """``text`` as it may be shown: no form of the key, no control character."""
    return escape_controls(redact(text))


def clean_expr(expr: pl.Expr) -> pl.Expr:
    """A text column with no form of a key of this process and no control character:
    ``escape_controls(redact(value, query=False))`` for every value (null stays null).

    The query parameters of other keys, which ``clean`` masks in messages, are left: the
    text of every HTTP error had them masked already, and a million cells searched for
    them cost some 0.1 s."""
    text = expr.cast(pl.String)
    keys = known_key_regex()
    # only the cells that hold something are rewritten (polars then skips the others)
    if keys is not None:
        pattern, repeats = keys
        for _ in range(repeats):
            masked = text.str.replace_all(pattern, MASK)
            text = pl.when(text.str.contains(pattern)).then(masked).otherwise(text)
    escaped = text.str.replace_many(_CONTROLS, _ESCAPES)
    return pl.when(text.str.contains(_CONTROL_CLASS)).then(escaped).otherwise(text)


def excerpt(text: str, limit: int) -> str:
    """``text`` cleaned, then cut to ``limit`` characters: the key is masked before the
    cut, so that no cut can leave a part of it."""
    return clean(text[: limit * 8])[:limit]
