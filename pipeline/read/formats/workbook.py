"""One sheet of an Excel or OpenDocument workbook, as the CSV text it saves as.

The sheet is read with polars' ``read_excel`` on the calamine engine (``fastexcel``), the
whole sheet at once, every cell as text: the header row is the sheet's first row, read
like the rest, so that the CSV reader applies its header rules to it (trailing empty
cells, repeated and empty names, a header that looks like data). What a cell becomes:

- text as typed; a number as Excel shows it in General format, so a phone typed as a
  number (``14155552671``) is its digits, not ``1.4155552671e10`` or ``14155552671.0``;
- a date as ``YYYY-MM-DD``, a date and time as ``YYYY-MM-DD HH:MM:SS``, a time as
  ``HH:MM:SS`` (ISO: a cell's display format is not read), a boolean as ``true``/``false``;
- an empty cell, or a formula error (``#N/A``), empty.

Rows are kept where they are, empty ones included, so that ``row`` N is the Nth row under
the header, as in the sheet saved as CSV; empty rows at the end are dropped (they shift
nothing). Leading empty rows and columns are not part of the sheet's range.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Final

import fastexcel
import polars as pl

from pipeline.errors import InputError, UsageError
from pipeline.read.formats.detect import encrypted

#: what each kind of workbook is called in messages and in the report
KINDS: Final = {
    "xlsx": "Excel workbook (.xlsx)",
    "xlsm": "Excel macro-enabled workbook (.xlsm)",
    "xlsb": "Excel binary workbook (.xlsb)",
    "xls": "Excel 97-2003 workbook (.xls)",
    "ods": "OpenDocument spreadsheet (.ods)",
}

_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"
#: calamine's day for a time without a date (Excel's day 0)
_TIME_ONLY = r"^1899-12-31 (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$"


def sheet_csv(raw: bytes, kind: str, name: str, sheet: str | None) -> tuple[bytes, str]:
    """The CSV text of the chosen sheet (the first without ``sheet``), and how to name
    the input: e.g. ``Excel workbook (.xlsx), sheet 'Contacts' (1 of 3)``."""
    what = KINDS[kind]
    with _reading(name, what):
        names = fastexcel.read_excel(raw).sheet_names
    if not names:
        raise InputError(f"{name}: the {what} has no sheets")
    index = choose_sheet(names, sheet, name)
    with _reading(name, what):
        frame = _cells(_load(raw, names[index]))
    if frame.height == 0 or frame.width == 0:
        raise InputError(
            f"{name}: sheet {names[index]!r} is empty (no cells); "
            f"give the sheet that holds the contacts with --sheet ({_listed(names)})"
        )
    label = f"{what}, sheet {names[index]!r}"
    if len(names) > 1:
        label += f" ({index + 1} of {len(names)})"
    return b"sep=,\n" + frame.write_csv(include_header=False).encode("utf-8"), label


def choose_sheet(names: list[str], sheet: str | None, name: str) -> int:
    """The 0-based index of the sheet ``sheet`` names: its exact name, else its name in
    any case, else its 1-based number; the first sheet without ``sheet``."""
    if sheet is None:
        return 0
    if sheet in names:
        return names.index(sheet)
    folded = [i for i, n in enumerate(names) if n.strip().casefold() == sheet.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    if sheet.strip().isdigit() and 1 <= int(sheet) <= len(names):
        return int(sheet) - 1
    raise UsageError(
        f"--sheet {sheet}: {name} has no such sheet ({_listed(names)}); --sheet takes a "
        "sheet's name or its number, from 1"
    )


def _listed(names: list[str]) -> str:
    shown = ", ".join(f"{i} {n!r}" for i, n in enumerate(names[:10], start=1))
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    return f"its sheets: {shown}{more}"


def _load(raw: bytes, sheet_name: str) -> pl.DataFrame:
    return pl.read_excel(
        raw,
        sheet_name=sheet_name,
        engine="calamine",
        read_options={"header_row": None, "dtypes": "string"},
        drop_empty_rows=False,
        drop_empty_cols=False,
        raise_if_empty=False,
    )


def _cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Every cell as the text the CSV gets; empty rows at the end dropped."""
    if not frame.width:
        return frame
    frame = frame.with_columns(
        pl.all()
        .cast(pl.String)
        .str.replace(_MIDNIGHT, "$1")
        .str.replace(_TIME_ONLY, "$1")
        .fill_null("")
    )
    filled = frame.select(pl.any_horizontal(pl.all() != "")).to_series().arg_true()
    return frame.head(int(filled[-1]) + 1) if len(filled) else frame.head(0)


@contextlib.contextmanager
def _reading(name: str, what: str) -> Iterator[None]:
    """calamine's failures (a corrupt, cut short or encrypted file) as an InputError; a
    panic in the Rust reader too (it is not an Exception)."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit, InputError, UsageError):
        raise
    except BaseException as exc:  # noqa: BLE001 - fastexcel, polars and a Rust panic alike
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if "password" in reason.lower() or "encrypt" in reason.lower():
            raise encrypted(name) from exc
        raise InputError(
            f"{name}: looks like an {what} but cannot be read ({reason}): it may be "
            "corrupt or cut short; open it in Excel or LibreOffice and save it again, or "
            "save the sheet as CSV"
        ) from exc
