"""Lines, delimiter and header: blank lines trimmed, an Excel ``sep=`` line obeyed or the
delimiter sniffed, the header checked and its names made unique (see the package
docstring, "Lines and records", "Delimiter" and "Header")."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator

import pipeline.read.encoding as enc
from pipeline.errors import InputError
from pipeline.fields import ROW
from pipeline.read.encoding import NUL_MARK

DELIMITERS = (",", ";", "\t", "|")
_SNIFF_RECORDS = 50
_SEP_HINT = re.compile(r"\A[\"']?sep=(.)[\"']?[ \t]*(\r\n|\n|\r|\Z)", re.IGNORECASE)
_PHONE_LIKE = re.compile(r"^\s*\+?[\d\s().\-/]{7,}\s*$")
_EMAIL_LIKE = re.compile(r"^\s*[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}\s*$")


def trim(text: str) -> str:
    """Drop NUL padding, leading blank lines and all but one trailing line end.

    Returns ``text`` itself when there is nothing to drop (no copy of a big file).
    """
    end = len(text)
    if text.endswith("\x00"):
        end = len(text.rstrip("\x00"))
    body_end = end
    while body_end and text[body_end - 1] in "\r\n":
        body_end -= 1
    for ending in ("\r\n", "\n", "\r"):
        if text.startswith(ending, body_end, end):
            end = body_end + len(ending)
            break
    start = 0
    if text.startswith(("\r", "\n")):
        start = len(text) - len(text.lstrip("\r\n"))
    return text if (start, end) == (0, len(text)) else text[start:end]


def sep_hint(text: str) -> tuple[str | None, str]:
    match = _SEP_HINT.match(text)
    if match and match.group(1) in DELIMITERS:
        return match.group(1), text[match.end() :].lstrip("\r\n")
    return None, text


def csv_reader(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        strict=False,
    )


def sniff(text: str) -> str:
    sample = text[: enc.SAMPLE_CHARS]
    complete = len(sample) == len(text)
    best, best_score = ",", (False, 0.0, 0)
    for delimiter in DELIMITERS:
        records = [r for r in itertools.islice(csv_reader(sample, delimiter), _SNIFF_RECORDS) if r]
        if not complete and len(records) < _SNIFF_RECORDS:
            records = records[:-1] or records  # the last one may be cut off
        if not records:
            continue
        width = len(records[0])
        rest = records[1:]
        consistency = sum(len(r) == width for r in rest) / len(rest) if rest else 1.0
        score = (width > 1, consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def first_record(text: str, delimiter: str) -> list[str]:
    """The first record, parsed from as short a prefix as will hold it."""
    size = enc.SAMPLE_CHARS
    while True:
        records = list(itertools.islice(csv_reader(text[:size], delimiter), 2))
        if len(records) == 2 or size >= len(text):
            return records[0] if records else []
        size *= 4


#: No header has more columns: Excel's own limit (column XFD), so no spreadsheet export
#: passes it; a wider "header" is no contact list, and would cost a frame that wide.
MAX_COLUMNS = 16_384


def checked_header(first: list[str], name: str) -> list[str]:
    header = list(first)
    while header and header[-1] == "":
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise InputError(
            f"{name}: the header line has {len(header):,} columns, more than the "
            f"{MAX_COLUMNS:,} a spreadsheet can hold: this is not a contact list (check "
            "the delimiter and the first line)"
        )
    if not header:
        raise InputError(
            f"{name}: the header line is empty; the first line must name the columns, "
            "e.g. phone,first_name,last_name"
        )
    for cell in header:
        if _PHONE_LIKE.match(cell) or _EMAIL_LIKE.match(cell):
            raise InputError(
                f"{name}: the first line looks like data, not a header (it holds "
                f"{cell.strip()!r}); add a header line naming the columns, "
                "e.g. phone,first_name,last_name,email, and run again"
            )
    return header


def unique_names(headers: list[str]) -> list[str]:
    """Frame column names for ``headers``: unique, never empty, never ``row``."""
    taken = {ROW}
    names = []
    for position, header in enumerate(headers, start=1):
        clean = header.replace(NUL_MARK, "")
        base = clean if clean.strip() else f"column {position}"
        name, n = base, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        taken.add(name)
        names.append(name)
    return names
