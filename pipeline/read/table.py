"""A whole input (or one piece of a big one) read into a :class:`RawTable`: the steps of
the package docstring in order, and the report footer dropped ("Report footers")."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

import polars as pl

from pipeline.errors import InputError
from pipeline.fields import ROW
from pipeline.progress import NullProgress, Progress
from pipeline.read.dialect import checked_header, first_record, sep_hint, sniff, trim, unique_names
from pipeline.read.encoding import (
    BAD_ENCODING,
    NUL_MARK,
    REPLACEMENT,
    as_utf8,
    check_text,
    checked_encoding,
    decode,
    may_hold_nul,
    replaced_message,
)
from pipeline.read.formats import Converted
from pipeline.read.parse import SHORT_ROW, parse_fast, parse_python, parse_scanned
from pipeline.read.source import BLOCK_BYTES, converted, describe, open_binary, read_block, unwrap

_VISIBLE = re.compile(r"\S")
_ERROR_SCHEMA = {ROW: pl.Int64, "error_code": pl.String, "error_message": pl.String}


@dataclass(frozen=True)
class RawTable:
    """The input as read: see the package docstring (:mod:`pipeline.read`) for every rule."""

    frame: pl.DataFrame
    headers: list[str]
    encoding: str
    delimiter: str
    row_errors: pl.DataFrame
    #: which reader parsed it: "polars", "scanned" or "python" (see Speed)
    parser: str = "polars"
    #: what the input is, when not CSV: e.g. "Excel workbook (.xlsx), sheet 'Contacts'"
    format: str = "CSV"
    #: lines for the person running about how the input was read (an overruled BOM)
    notes: tuple[str, ...] = ()
    #: records left out as blank: every cell empty (see "Blank records")
    blank_rows: int = 0


def read_table(
    source: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    progress: Progress = NullProgress(),  # noqa: B008 (the interface)
) -> RawTable:
    """Read ``source`` (a path, or ``"-"`` for standard input) into a :class:`RawTable`;
    ``sheet`` names a workbook's sheet (see :mod:`pipeline.read.formats`), ``encoding``
    forces a CSV file's encoding (``--encoding``; else it is detected)."""
    name = describe(source)
    forced = checked_encoding(encoding) if encoding else None
    with open_binary(source, name) as stream:
        as_csv = converted(stream, name, sheet, BLOCK_BYTES, encoding=forced)
        raw = as_csv.csv if as_csv else read_block(stream, -1, name)
    bar = progress.bar("read", total=len(raw), unit="B")
    try:
        table = read_raw(raw, name, encoding=None if as_csv else forced)
        bar.update(len(raw))
    finally:
        bar.close()
    return without_blank_rows(annotated(table, as_csv) if as_csv else table)


@dataclass(frozen=True)
class Piece:
    """A piece as read, with its first record (the header cells as parsed, for the next piece)."""

    table: RawTable
    first: list[str]


def read_raw(raw: bytes, name: str, *, encoding: str | None = None) -> RawTable:
    """``raw`` read whole; ``encoding`` forced (``--encoding``), else detected."""
    return read_piece(raw, name, encoding=encoding, forced=encoding is not None).table


def read_piece(
    raw: bytes,
    name: str,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    forced: bool = False,
    bom: bool = False,
    footer: bool = True,
) -> Piece:
    """Read ``raw`` whole; a later piece of a big file comes with the delimiter and the
    encoding decided on the first piece (``bom``: the file starts with a UTF-8 BOM), and
    only the last piece may end in a footer. ``forced``: ``encoding`` is --encoding's."""
    if not raw:
        raise InputError(f"{name}: the file is empty; it needs a header line and records")
    raw = unwrap(raw, name)
    text_of = decode(raw, encoding, forced=forced, bom=bom)
    decoded, encoding, bad = text_of.text, text_of.encoding, text_of.bad
    check_text(decoded, name)
    text = trim(decoded)
    if not _VISIBLE.search(text):
        raise InputError(f"{name}: the file is empty (only blank lines); it needs a header line")
    nuls = text.count("\x00") if may_hold_nul(raw, encoding) else 0
    if nuls:
        text = text.replace("\x00", NUL_MARK)
    if delimiter is None:
        hinted, text = sep_hint(text)
        delimiter = hinted or sniff(text)
    first = first_record(text, delimiter)
    headers = checked_header(first, name)
    names = unique_names(headers)
    data = as_utf8(raw, decoded, text, encoding, bad)
    parsed, parser = None, "polars"
    if not _bare_cr(data):  # polars knows LF (and CRLF) line ends only
        parsed = parse_fast(data, delimiter, first, names)
        if parsed is None:
            parsed, parser = parse_scanned(data, delimiter, first, names), "scanned"
    if parsed is None:
        parsed, parser = parse_python(text, delimiter, len(headers), names), "python"
    frame, errors = parsed.frame, parsed.errors
    if footer:
        frame, errors = drop_report_footer(frame, errors)
    if bad:
        errors += _flag_cells(frame, REPLACEMENT, replaced_message(encoding))
    if nuls:
        errors += _flag_cells(frame, NUL_MARK, "NUL bytes removed")
        frame = frame.with_columns(pl.all().str.replace_all(NUL_MARK, "", literal=True))
        headers = [h.replace(NUL_MARK, "") for h in headers]
    frame = frame.select(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW), pl.all())
    table = RawTable(
        frame=frame,
        headers=headers,
        encoding=encoding,
        delimiter=delimiter,
        row_errors=_error_frame(errors),
        parser=parser,
        notes=(f"{name}: {text_of.note}",) if text_of.note else (),
    )
    return Piece(table, first)


_FOOTER_START = re.compile(r"\s*Grand Totals \(\d[\d,.\s]*records?\)\s*", re.IGNORECASE)
FOOTER_ROWS = 8


def drop_report_footer(
    frame: pl.DataFrame, errors: list[tuple[int, str, str]]
) -> tuple[pl.DataFrame, list[tuple[int, str, str]]]:
    """Drop a CRM report footer: one-cell records from ``Grand Totals (N records)`` on."""
    if frame.width < 2 or not frame.height:
        return frame, errors
    tail = frame.tail(FOOTER_ROWS).rows()
    lone = 0
    while lone < len(tail) and all(c is None for c in tail[-1 - lone][1:]):
        lone += 1
    block = tail[len(tail) - lone :]
    start = next((i for i, r in enumerate(block) if r[0] and _FOOTER_START.fullmatch(r[0])), None)
    if start is None:
        return frame, errors
    keep = frame.height - lone + start
    return frame.head(keep), [e for e in errors if e[0] <= keep]


def _bare_cr(data: bytes) -> bool:
    return b"\r" in data and data.count(b"\r") != data.count(b"\r\n")


def _flag_cells(frame: pl.DataFrame, mark: str, message: str) -> list[tuple[int, str, str]]:
    if not frame.width or not frame.height:
        return []
    hit = pl.any_horizontal(pl.all().str.contains(mark, literal=True).fill_null(False))
    rows = frame.select(hit.alias("hit")).to_series().arg_true() + 1
    return [(int(r), BAD_ENCODING, message) for r in rows.to_list()]


def _error_frame(errors: list[tuple[int, str, str]]) -> pl.DataFrame:
    frame = pl.DataFrame(errors, schema=_ERROR_SCHEMA, orient="row")
    return frame.sort(ROW, maintain_order=True)


def without_blank_rows(table: RawTable) -> RawTable:
    """``table`` without its blank records (every cell empty or spaces, no error but a
    short row's note), counted in ``blank_rows``; the other rows keep their numbers."""
    frame = table.frame
    width = frame.width
    if width < 2 or not frame.height:
        return table

    def empty(i: int) -> pl.Expr:
        return pl.nth(i).is_null() | ~pl.nth(i).str.contains(r"\S")

    # the first cell rules out most records at once; the others only where it is empty
    maybe = frame.filter(empty(1))
    if not maybe.height:
        return table
    blank = maybe.filter(pl.all_horizontal(empty(i) for i in range(1, width)))[ROW]
    errors = table.row_errors
    kept = errors.filter(pl.col("error_code") != SHORT_ROW)[ROW]
    blank = blank.filter(~blank.is_in(kept.implode()))
    if not len(blank):
        return table
    out = ~pl.col(ROW).is_in(blank.implode())
    return replace(
        table,
        frame=frame.filter(out),
        row_errors=errors.filter(out),
        blank_rows=table.blank_rows + len(blank),
    )


def annotated(table: RawTable, converted: Converted) -> RawTable:
    """``table``, a piece read from a converted input's CSV text, with the input's label and
    the conversion's row errors of its rows."""
    errors = table.row_errors
    if converted.row_errors.height and table.frame.height:
        mine = converted.errors_between(table.frame[ROW][0], table.frame[ROW][-1])
        errors = pl.concat([errors, mine]).sort(ROW, maintain_order=True)
    return replace(table, row_errors=errors, format=converted.label)
