"""A big input read in pieces of whole records, numbered and checked as the whole file
would be (see :func:`read_chunks`)."""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

import polars as pl

import pipeline.read.encoding as enc
from pipeline.errors import InputError
from pipeline.fields import ROW
from pipeline.progress import NullProgress, Progress
from pipeline.read.encoding import NUL_MARK, checked_encoding, is_utf16
from pipeline.read.source import (
    BLOCK_BYTES,
    MAX_INPUT_BYTES,
    MAX_RECORD_BYTES,
    converted,
    describe,
    file_size,
    is_compressed,
    open_binary,
    read_block,
)
from pipeline.read.table import (
    FOOTER_ROWS,
    Piece,
    RawTable,
    annotated,
    drop_report_footer,
    read_piece,
    read_raw,
    without_blank_rows,
)
from pipeline.sizes import format_size


def read_chunks(
    source: str | os.PathLike[str],
    *,
    block_bytes: int = BLOCK_BYTES,
    sheet: str | None = None,
    encoding: str | None = None,
    progress: Progress = NullProgress(),  # noqa: B008 (the interface)
    max_bytes: int | None = MAX_INPUT_BYTES,
) -> Iterator[RawTable]:
    """``source`` as consecutive :class:`RawTable` pieces of whole records.

    Rows are numbered across the pieces, exactly as :func:`read_table` numbers them, and
    every piece has the same headers. Pieces are about ``block_bytes`` (a file of known
    size is cut into pieces of one size: :func:`even_block`), and a file no bigger than
    a piece is one piece. Each is cut after a line end where the quotes seen so far pair
    up, a record boundary whenever every quote opens or closes a whole cell. The pieces are
    read with the first piece's delimiter and encoding; only the last may hold a report
    footer. When a piece needs the csv module (a stray quote, bare CR line ends), its
    cut cannot be trusted: the rest of the input from that piece on is read as one piece.
    UTF-16 input, whose line ends are two bytes, is read whole. A workbook or a JSON
    (Lines) file is read as its CSV text (:mod:`pipeline.read.formats`). ``encoding``
    forces a CSV file's encoding (``--encoding``), as :func:`~pipeline.read.read_table`.
    Past ``max_bytes`` read (decompressed), or a record longer than
    ``MAX_RECORD_BYTES``, the read stops with an ``InputError`` naming the limit: memory
    stays that of a piece.
    """
    name = describe(source)
    size = file_size(source)
    forced = checked_encoding(encoding) if encoding else None
    with open_binary(source, name, max_bytes) as stream:
        as_csv = converted(stream, name, sheet, block_bytes, encoding=forced)
        if as_csv is not None:
            stream, size = io.BytesIO(as_csv.csv), len(as_csv.csv)
        bar = progress.bar("read", total=size, unit="B")
        if size is not None and not is_compressed(stream):
            block_bytes = even_block(size, block_bytes)
        try:
            for table in _pieces(stream, name, block_bytes, bar.update, forced):
                yield without_blank_rows(annotated(table, as_csv) if as_csv else table)
        finally:
            bar.close()


def even_block(size: int, block_bytes: int) -> int:
    """The block for a file of ``size`` bytes that cuts it into pieces of one size, as
    near ``block_bytes`` as whole pieces allow.

    A file is read a block ahead and its last piece is the rest (one block to two), so
    with plain blocks the last piece is the largest: 305k, 301k and 394k rows for 1M
    contacts in 16 MB blocks, and the threads checking the others wait for it.
    """
    block = max(1, block_bytes)
    pieces = max(1, round(size / block))
    return -(-size // pieces)  # ceil: the rest after pieces - 1 blocks is one block or less


def _pieces(
    stream: IO[bytes],
    name: str,
    block_bytes: int,
    advance: Callable[[int], object],
    forced: str | None = None,
) -> Iterator[RawTable]:
    block = max(1, block_bytes)
    buffer = read_block(stream, block, name)
    more = read_block(stream, block, name) if len(buffer) == block else b""
    if not more or is_utf16(buffer) or (forced or "").startswith(("utf-16", "utf-32")):
        whole = buffer + more + read_block(stream, -1, name)
        advance(len(whole))
        yield read_raw(whole, name, encoding=forced)
        return
    first: Piece | None = None
    # decided by the first piece that is not plain ASCII (a BOM aside), or forced
    encoding: str | None = forced
    bom = buffer.startswith(codecs.BOM_UTF8)
    held: RawTable | None = None
    rows = 0
    while True:
        final = len(more) < block  # nothing left to read beyond buffer and more
        if final:
            buffer, more = buffer + more, b""
        # The first piece holds the whole sample the delimiter is sniffed from.
        least = 0 if first else 4 * enc.SAMPLE_CHARS
        if final and len(buffer) <= block + block // 4:
            cut = None  # the rest is the last piece
        elif final:  # more than a piece is left: cut about a block off it (see even_block)
            cut = _record_end(buffer, least, within=block) or _record_end(buffer, least)
        else:
            cut = _record_end(buffer, least)
            if cut is None:  # no record ends in the buffer: a record longer than a block
                if len(buffer) + len(more) > MAX_RECORD_BYTES:
                    raise InputError(_too_long(name, rows))
                buffer += more
                more = read_block(stream, block, name)
                continue
        last = cut is None
        data = buffer if cut is None else buffer[:cut]
        read = _Reading(name, encoding, forced is not None, bom)
        piece = read.after(first, data)
        if piece.table.parser == "python" and not last:
            # A stray quote or a bare CR: the cut may be inside a record. Read the rest whole.
            data = buffer + more + read_block(stream, -1, name)
            piece = read.after(first, data)
            last = True
        if (
            encoding is None
            and not data.removeprefix(codecs.BOM_UTF8 if first is None else b"").isascii()
        ):
            encoding = piece.table.encoding
        first = first or piece
        advance(len(data))
        table = _numbered_from(piece.table, rows, first.table)
        rows += table.frame.height
        # A footer is found in the last records of the file: the last few records of a
        # piece wait for the next piece, and the footer rule runs on the last one.
        table = _joined(held, table) if held is not None else table
        if last:
            yield _without_footer(table)
            return
        held = _slice(table, table.frame.height - FOOTER_ROWS, notes=False)
        yield _slice(table, 0, table.frame.height - FOOTER_ROWS)
        buffer = buffer[cut:] + more
        more = read_block(stream, block, name)


def _too_long(name: str, rows: int) -> str:
    return (
        f"{name}: record {rows + 1} is longer than {format_size(MAX_RECORD_BYTES)} (no line "
        "end in it, or a quoted cell that never closes): this is not a contact list, or a "
        "cell holds a whole file; check the file (a quote left open is the usual cause)"
    )


@dataclass(frozen=True)
class _Reading:
    """How the pieces of one file are read: its name, the encoding decided so far (or
    forced), whether the file starts with a UTF-8 BOM."""

    name: str
    encoding: str | None
    forced: bool
    bom: bool

    def after(self, first: Piece | None, data: bytes) -> Piece:
        """A piece: the first is read as a file; a later one under the first one's header."""
        delimiter = None
        if first is not None:
            delimiter = first.table.delimiter
            data = _header_line(first.first, delimiter, self.encoding or "utf-8") + data
        return read_piece(
            data,
            self.name,
            delimiter=delimiter,
            encoding=self.encoding,
            forced=self.forced,
            bom=self.bom,
            footer=False,
        )


def _record_end(data: bytes, least: int = 0, within: int | None = None) -> int | None:
    """Just after the last line end of ``data[:within]`` before which the quotes pair up
    (None when there is none at ``least`` or after)."""
    stop = len(data) if within is None else min(within, len(data))
    quotes = data.count(b'"', 0, stop)
    end = data.rfind(b"\n", 0, stop)
    while end >= least:
        if (quotes - data.count(b'"', end, stop)) % 2 == 0:
            return end + 1
        end = data.rfind(b"\n", 0, end)
    return None


def _header_line(first: list[str], delimiter: str, encoding: str) -> bytes:
    """The header record as a CSV line in the file's encoding (it reads back as ``first``)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quotechar='"', lineterminator="\n").writerow(first)
    charset = "utf-8" if encoding in ("utf-8-sig", "utf-8") else encoding
    return out.getvalue().replace(NUL_MARK, "").encode(charset, "replace")


def _numbered_from(table: RawTable, before: int, first: RawTable) -> RawTable:
    """``table`` with its rows numbered after ``before`` rows, under the first piece's names."""
    if before == 0:
        return table
    shift = pl.col(ROW) + before
    return RawTable(
        frame=table.frame.with_columns(shift),
        headers=first.headers,
        # a later piece decoded as plain UTF-8 (ASCII) is in the first piece's encoding
        encoding=first.encoding if table.encoding == "utf-8" else table.encoding,
        delimiter=table.delimiter,
        row_errors=table.row_errors.with_columns(shift),
        parser=table.parser,
        notes=table.notes,
    )


def _slice(
    table: RawTable, start: int, length: int | None = None, *, notes: bool = True
) -> RawTable:
    """Rows of ``table``; ``notes``: with its notes (of the piece's rows that go out first,
    not those held back for the next piece, so that each note is yielded once)."""
    # rechunked: string columns sliced and concatenated as views upset polars' concat_str
    frame = table.frame.slice(max(0, start), length if length is None else max(0, length))
    frame = frame.rechunk()
    rows = frame[ROW]
    errors = table.row_errors.filter(pl.col(ROW).is_in(rows.implode()))
    return RawTable(
        frame,
        table.headers,
        table.encoding,
        table.delimiter,
        errors,
        table.parser,
        notes=table.notes if notes else (),
    )


def _joined(before: RawTable, after: RawTable) -> RawTable:
    return RawTable(
        pl.concat([before.frame, after.frame], rechunk=True),
        after.headers,
        after.encoding,
        after.delimiter,
        pl.concat([before.row_errors, after.row_errors]),
        after.parser,
        notes=before.notes + after.notes,
    )


def _without_footer(table: RawTable) -> RawTable:
    errors = list(table.row_errors.iter_rows())
    offset = int(table.frame[ROW][0]) - 1 if table.frame.height else 0
    relative = [(row - offset, code, message) for row, code, message in errors]
    frame, kept = drop_report_footer(table.frame.drop(ROW), relative)
    if frame.height == table.frame.height:
        return table
    return _slice(table, 0, frame.height)
