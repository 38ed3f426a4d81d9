"""Step 1, per row: the conservative grammar, reduced to ``plus`` and the digits ``d``;
and the exact key that sorts equal inputs side by side (see the package docstring)."""

from __future__ import annotations

import functools

import polars as pl

from pipeline.normalize.phones_fast.compiled import set_of
from pipeline.normalize.phones_fast.frames import indexed, length_of, run_columns, scatter_rows
from pipeline.normalize.phones_fast.meta import MAX_INPUT, MIN_NSN

_MAX_DIGITS = 28  # digits that fit the exact Int128 dedupe key (with 31 bits of context)
_DIGITS_SPAN = 10**_MAX_DIGITS
_TWO_LETTERS = [a + b for a in map(chr, range(65, 91)) for b in map(chr, range(65, 91))]

# Punctuation phonenumbers strips inside a number: a subset of its _VALID_PUNCTUATION.
_PUNCT = r" ()\-./\x{00A0}\x{2013}\x{2014}"
# Characters phonenumbers drops before the first digit or '+', or after the last digit.
_EDGE = r"'\x22:\t"
_NOT_DIGITS = [" ", "(", ")", "-", ".", "/", "\u00a0", "\u2013", "\u2014", "'", '"', ":", "\t"]
# Extension labels phonenumbers knows (ASCII spellings only), 1-6 digits: E.164 drops them.
_LABEL = r"(?:[xX]|[eE][xX][tT](?:[eE][nN][sS][iI][oO][nN]|[nN])?)"
_EXTENSION = rf"(?:[ ]*{_LABEL}[:.]?[ \-]*[0-9]{{1,6}})?"
# An optional label (no digit, '+' or ';'), the number (group 1), an extension, a trailer.
_GRAMMAR = (
    rf"^[A-Za-z{_EDGE}{_PUNCT}]*"
    rf"(\+*[{_PUNCT}]*[0-9](?:[0-9{_PUNCT}]*[0-9])?)"
    rf"{_EXTENSION}[{_EDGE}{_PUNCT}]*$"
)
_TWO_LETTER_SET = set_of(_TWO_LETTERS, pl.String)


def _digits(text: pl.Expr) -> pl.Expr:
    """The ASCII digits of text made only of digits, '+' and _NOT_DIGITS characters."""
    strip = [*_NOT_DIGITS, "+"]
    return text.str.replace_many(strip, [""] * len(strip))


def tokenize(phones: pl.Series, regions: pl.Series) -> pl.DataFrame:
    """``input``, ``region``, ``plus``, ``d`` (ASCII digits, meaningful when ``ok``: the row
    is inside the grammar) and ``hopeless`` (phonenumbers surely finds no number in it)."""
    frame = pl.DataFrame({"input": phones.cast(pl.String), "region": regions.cast(pl.String)})
    text = pl.col("input")
    ok = (text.str.len_chars() <= MAX_INPUT) & text.str.contains(_GRAMMAR)
    frame = indexed(
        run_columns(
            frame,
            _ok=ok,
            _alpha=text.str.contains("[A-Za-z]"),
            plus=text.str.contains("+", literal=True),
            d=_digits(text),
        )
    )
    # A letter may start an extension, whose digits E.164 drops: take the number's group.
    lettered = frame.filter(pl.col("_ok") & pl.col("_alpha"))
    if lettered.height:
        number = pl.col("input").str.extract(_GRAMMAR, 1)
        lettered = lettered.with_columns(d=_digits(number))
        lettered = lettered.with_columns(_ok=length_of("d") > MIN_NSN)
        frame = scatter_rows(frame, lettered, ["d", "_ok"])
    frame = _two_digits(frame)
    return frame.select(
        "input",
        "region",
        "plus",
        "d",
        ok="_ok",
        hopeless=pl.col("_tiny") | (text.str.len_chars() > MAX_INPUT),
    )


def _two_digits(frame: pl.DataFrame) -> pl.DataFrame:
    """Two digits are a number for phonenumbers only when nothing else is between the ends
    (``_VALID_PHONE_NUMBER``'s ``\\d{2}``); anything else with two digits is not one."""
    edges = "".join(_NOT_DIGITS)
    two = frame.filter(pl.col("_ok") & ~pl.col("_alpha") & (length_of("d") == MIN_NSN))
    if two.height == 0:
        return frame.with_columns(_tiny=pl.lit(False))
    bare = pl.col("input").str.strip_chars(edges) == pl.col("d")
    two = two.with_columns(_tiny=~bare, _ok=bare)
    return scatter_rows(frame.with_columns(_tiny=pl.lit(False)), two, ["_tiny", "_ok"])


@functools.cache
def exact_key() -> pl.Expr:
    """Exact Int128 key of (region, plus, digits), 2 to 28 digits; null otherwise.

    Its top bits are a bucket (the country code's first digits after '+', else the region)
    so that sorting by key also groups rows by the metadata they will use: keyed regexes
    run several times faster on grouped rows (the lazy DFA reuses one region's states
    instead of thrashing its cache).
    """
    digits = pl.col("d")
    length = digits.str.len_bytes().cast(pl.Int64)
    region = pl.col("region").str.to_integer(base=36, strict=False)
    cc_digits = digits.str.slice(0, 3).cast(pl.Int64, strict=False)
    bucket = pl.when("plus").then(cc_digits + 4096).otherwise(region)
    context = ((bucket * 2048 + region) * 2 + pl.col("plus").cast(pl.Int64)) * 64 + length
    key = context.cast(pl.Int128) * pl.lit(_DIGITS_SPAN, pl.Int128)
    key = key + digits.cast(pl.Int128, strict=False)
    fits = length.is_between(MIN_NSN, _MAX_DIGITS)
    known = pl.col("region").is_in(_TWO_LETTER_SET)
    return pl.when(pl.col("ok") & fits & known).then(key)
