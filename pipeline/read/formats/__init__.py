"""Inputs that are not CSV text, each turned into the CSV text it would be saved as.

| input | detected by | read with |
|---|---|---|
| Excel ``.xlsx`` ``.xlsm`` ``.xlsb`` | a ZIP holding ``xl/workbook.xml`` (``.bin``) | calamine |
| Excel 97-2003 ``.xls`` | an OLE2 compound file | calamine |
| OpenDocument ``.ods`` | a ZIP whose ``mimetype`` is a spreadsheet's | calamine |
| JSON Lines, JSON array | text starting with ``{``, or ``[`` and a value | :mod:`json` |

The content decides, never the name, on standard input too (:mod:`.detect`); what we do
not read (Apple Numbers, PDF, a Word file, another ZIP, an encrypted or corrupt workbook,
a vCard, an HTML page) is an :class:`~pipeline.errors.InputError` naming it.

``pipeline.read`` calls :func:`as_csv` on the opened input. For a workbook
(:mod:`.workbook`) or JSON (:mod:`.jsonlines`) it gets CSV text back and reads it as it
reads any CSV: one set of rules for headers, cells, rows and pieces, so a sheet or a JSON
Lines file reads exactly as the same records saved as CSV. :meth:`Converted.annotate`
then gives each piece read the input's name and the rows the conversion found broken.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import polars as pl

from pipeline.errors import UsageError
from pipeline.fields import ROW
from pipeline.read.formats import detect
from pipeline.read.formats.jsonlines import json_csv

#: bytes looked at to tell what an input is
HEAD_BYTES = 4096

_ERROR_SCHEMA = {ROW: pl.Int64, "error_code": pl.String, "error_message": pl.String}


@dataclass(frozen=True)
class Converted:
    """An input turned into CSV text."""

    csv: bytes
    #: what the input is, for the report: e.g. ``Excel workbook (.xlsx), sheet 'Contacts'``
    label: str
    #: the records the conversion found broken: (row, error_code, error_message)
    row_errors: pl.DataFrame

    def errors_between(self, first: int, last: int) -> pl.DataFrame:
        """The conversion's row errors of rows ``first`` to ``last``."""
        return self.row_errors.filter(pl.col(ROW).is_between(first, last))


def as_csv(
    stream: IO[bytes],
    name: str,
    read: Callable[[int], bytes],
    *,
    sheet: str | None,
    block_bytes: int,
) -> Converted | None:
    """The input as CSV text, or None when it is CSV text already (nothing consumed).

    ``read(size)`` reads the opened ``stream`` (-1: to the end), its failures mapped;
    JSON Lines are read ``block_bytes`` at a time.
    """
    head = peek(stream, HEAD_BYTES)
    kind = detect.sniff(head, name)
    if kind == detect.TEXT:
        if sheet is not None:
            raise UsageError(
                f"--sheet {sheet}: {name} is CSV text, which has no sheets; drop --sheet"
            )
        return None
    if kind == detect.JSON:
        if sheet is not None:
            raise UsageError(f"--sheet {sheet}: {name} is JSON, which has no sheets")
        text, label, errors = json_csv(head, read, name, block_bytes)
        return Converted(text, label, pl.DataFrame(errors, schema=_ERROR_SCHEMA, orient="row"))
    raw = read(-1)
    workbook = detect.zip_kind(raw, name) if kind == detect.ZIP else detect.ole_kind(raw, name)
    from pipeline.read.formats.workbook import sheet_csv  # fastexcel: loaded for workbooks only

    text, label = sheet_csv(raw, workbook, name, sheet)
    return Converted(text, label, pl.DataFrame(schema=_ERROR_SCHEMA))


def peek(stream: IO[bytes], size: int) -> bytes:
    """Up to ``size`` first bytes of ``stream``, left unread (b"" when it cannot tell)."""
    try:
        look = getattr(stream, "peek", None)
        if look is not None:
            return bytes(look(size)[:size])
        if stream.seekable():
            start = stream.tell()
            head = stream.read(size)
            stream.seek(start)
            return head
    except (
        OSError,
        EOFError,
        ValueError,
        zlib.error,
    ):  # a broken gzip file: the CSV reader says so
        return b""
    return b""
