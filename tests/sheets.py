"""Real workbooks and JSON for the tests, written from the same records as a CSV fixture.

``.xlsx`` files are written with xlsxwriter (a dev dependency). No Python library on the
package lists the project uses writes ``.ods`` besides odfpy, so :func:`write_ods` writes
the three parts of an OpenDocument spreadsheet itself (``mimetype`` stored first,
``content.xml``, ``META-INF/manifest.xml``), typed cells as LibreOffice writes them.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import xlsxwriter

from pipeline.read import read_table

Cell = str | int | float | bool | dt.date | None
Sheets = dict[str, list[list[Cell]]]


def typed(cell: str | None) -> Cell:
    """A CSV cell as a spreadsheet user would have it: digits (no leading zero) as a
    number, TRUE/FALSE as a boolean, the rest as text."""
    if cell is None or cell == "":
        return None
    if cell.isdigit() and not cell.startswith("0") and len(cell) <= 15:
        return int(cell)
    if cell.upper() in ("TRUE", "FALSE"):
        return cell.upper() == "TRUE"
    return cell


def csv_records(path: Path) -> tuple[list[str], list[list[str | None]]]:
    """The header and the records of a CSV fixture, as the CSV reader reads them."""
    table = read_table(path)
    return table.headers, [list(r[1:]) for r in table.frame.rows()]


def as_sheet(headers: list[str], records: list[list[str | None]]) -> list[list[Cell]]:
    return [list(headers)] + [[typed(c) for c in record] for record in records]


def write_xlsx(path: Path, sheets: Sheets) -> Path:
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                _write_cell(sheet, r, c, cell, day)
    book.close()
    return path


def _write_cell(sheet: xlsxwriter.worksheet.Worksheet, r: int, c: int, cell: Cell, day: object):
    if cell is None:
        return
    if isinstance(cell, bool):
        sheet.write_boolean(r, c, cell)
    elif isinstance(cell, int | float):
        sheet.write_number(r, c, cell)
    elif isinstance(cell, dt.date):
        sheet.write_datetime(r, c, cell, day)
    else:
        sheet.write_string(r, c, cell)


_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def write_ods(path: Path, sheets: Sheets) -> Path:
    tables = "".join(
        f"<table:table table:name={quoteattr(name)}>"
        + "".join(
            "<table:table-row>" + "".join(_ods_cell(c) for c in row) + "</table:table-row>"
            for row in rows
        )
        + "</table:table>"
        for name, rows in sheets.items()
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS} '
        f'office:version="1.2"><office:body><office:spreadsheet>{tables}'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", _MANIFEST, zipfile.ZIP_DEFLATED)
    return path


def _ods_cell(cell: Cell) -> str:
    if cell is None:
        return "<table:table-cell/>"
    if isinstance(cell, bool):
        value = f'office:value-type="boolean" office:boolean-value="{str(cell).lower()}"'
        return f"<table:table-cell {value}><text:p>{str(cell).upper()}</text:p></table:table-cell>"
    if isinstance(cell, int | float):
        value = f'office:value-type="float" office:value="{cell}"'
        return f"<table:table-cell {value}><text:p>{cell}</text:p></table:table-cell>"
    if isinstance(cell, dt.date):
        value = f'office:value-type="date" office:date-value="{cell.isoformat()}"'
        return f"<table:table-cell {value}><text:p>{cell}</text:p></table:table-cell>"
    return (
        '<table:table-cell office:value-type="string">'
        f"<text:p>{escape(cell)}</text:p></table:table-cell>"
    )


def write_jsonl(path: Path, headers: list[str], records: list[list[str | None]]) -> Path:
    """One object per record, typed as a JSON export would be (numbers, booleans; an
    empty cell left out)."""
    lines = []
    for record in records:
        item = {h: typed(c) for h, c in zip(headers, record, strict=True) if c not in (None, "")}
        lines.append(json.dumps(item, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
