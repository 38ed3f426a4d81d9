"""Records: three readers that give the same cells and errors (see the package docstring,
"Ragged records", "Quotes" and "Speed"): polars alone for a file proven clean, polars with
a vectorized scan of the records, and Python's csv module for the rest."""

from __future__ import annotations

import csv
import io
import itertools
import re
import sys
from dataclasses import dataclass

import polars as pl

from pipeline.outcomes import Code
from pipeline.read.dialect import csv_reader

MALFORMED_ROW = Code.MALFORMED_ROW
#: a record missing trailing cells: read as if they were empty, as spreadsheets mean it; a
#: note, not an error (validate says it in error_message and leaves error_code empty)
SHORT_ROW = "short_row"

#: What pl.read_csv raises on input it cannot take (OSError: it sniffs zlib/zstd magic).
_POLARS_FAILURES = (pl.exceptions.PolarsError, pl.exceptions.PanicException, ValueError, OSError)


@dataclass
class Parsed:
    frame: pl.DataFrame  # without the row column
    errors: list[tuple[int, str, str]]


def _polars_read(
    data: bytes, delimiter: str, names: list[str], width: int, *, ragged: bool
) -> pl.DataFrame | None:
    """Every cell as text with polars (extra header cells padded); None if polars refuses."""
    padded = names + [f"\x00pad{i}" for i in range(width - len(names))]
    try:
        return pl.read_csv(
            data,
            has_header=True,
            separator=delimiter,
            quote_char='"',
            infer_schema=False,
            empty_string_is_null=False,
            truncate_ragged_lines=ragged,
            raise_if_empty=False,
            new_columns=padded,
        )
    except _POLARS_FAILURES:
        return None


def parse_fast(data: bytes, delimiter: str, first: list[str], names: list[str]) -> Parsed | None:
    """polars, when it provably reads the same records as the csv module; else None."""
    if data.count(b'"') % 2:
        return None  # a stray or unclosed quote: polars would read to the end of the file
    frame = _polars_read(data, delimiter, names, len(first), ragged=False)
    if frame is None:
        return None
    if frame.width != len(first) or not _all_cells_present(frame, data, first, delimiter):
        return None
    extra = frame.columns[len(names) :]
    if extra:
        if frame.select(pl.any_horizontal(pl.col(extra) != "").any()).item():
            return None
        frame = frame.drop(extra)
    return Parsed(frame, [])


def _all_cells_present(frame: pl.DataFrame, data: bytes, first: list[str], delimiter: str) -> bool:
    """True when no record was short (polars pads short records silently).

    Every record but a short one holds ``width - 1`` delimiters between its cells; the
    other delimiters in the text are inside cells, which polars hands back. A blank line
    (which polars reads as a record of empty cells) fails the count too.
    """
    if frame.width == 1:  # no delimiters to count; a blank line reads as ""
        return frame.height == 0 or not frame.select((pl.nth(0) == "").any()).item()
    inside = sum(cell.count(delimiter) for cell in first)
    if frame.height:
        counts = pl.all().str.count_matches(delimiter, literal=True).sum()
        inside += int(frame.select(pl.sum_horizontal(counts)).item() or 0)
    separators = (frame.width - 1) * (frame.height + 1)
    return data.count(delimiter.encode()) == separators + inside


def parse_scanned(data: bytes, delimiter: str, first: list[str], names: list[str]) -> Parsed | None:
    """polars for the cells, plus a vectorized scan of the records for their cell counts.

    For files polars reads but pads silently (short records, blank lines): the lines are
    read as one column, quote parity joins them into records, and the delimiters outside
    quoted cells are counted. Only well-formed quoting is scanned (every quote opens or
    closes a whole cell); anything else is left to the csv module (None).
    """
    records = _scan_records(data, delimiter)
    if records is None or records.height < 1 or records["cells"][0] != len(first):
        return None
    frame = _polars_read(data, delimiter, names, len(first), ragged=True)
    if frame is None:
        return None
    body = records.slice(1)
    if frame.height != body.height or frame.width != len(first):
        return None
    keep = ~body["blank"]
    frame = frame.filter(keep)
    body = body.filter(keep)
    cells = body["cells"]
    width = len(names)
    errors: list[tuple[int, str, str]] = []
    short = (cells < width).arg_true()
    if len(short):
        frame = frame.with_columns(
            pl.when(cells > j).then(pl.nth(j)).alias(name)
            for j, name in enumerate(names)
            if (cells <= j).any()
        )
        for i, count in zip(short.to_list(), cells.gather(short).to_list(), strict=True):
            errors.append((i + 1, SHORT_ROW, _too_few(count, width)))
    for i in (cells > width).arg_true().to_list():
        record = next(iter(csv_reader(body["text"][i], delimiter)), [])
        message = _too_many(record, width)
        if message:
            errors.append((i + 1, MALFORMED_ROW, message))
    errors.sort()
    return Parsed(frame.drop(frame.columns[width:]), errors)


_LINE_SEPARATORS = (b"\x1f", b"\x1e", b"\x1d", b"\x1c", b"\x01", b"\x02", b"\x03")
_CLASS_ESCAPES = {",": ",", ";": ";", "\t": r"\t", "|": r"\|"}


def _scan_records(data: bytes, delimiter: str) -> pl.DataFrame | None:
    """One row per record: ``text``, ``cells`` (count), ``blank``; None when unsure."""
    separator = next((s for s in _LINE_SEPARATORS if s not in data), None)
    if separator is None:
        return None
    try:
        lines = pl.read_csv(
            data,
            has_header=False,
            separator=separator.decode(),
            quote_char=None,
            infer_schema=False,
            empty_string_is_null=False,
            raise_if_empty=False,
            new_columns=["text"],
        )
    except _POLARS_FAILURES:
        return None
    if lines.width != 1 or lines.height != data.count(b"\n") + (not data.endswith(b"\n")):
        return None
    quotes = pl.col("text").str.count_matches('"', literal=True)
    lines = lines.with_columns(quotes.alias("q"))
    ends = pl.col("q").cum_sum() % 2 == 0
    lines = lines.with_columns(ends.alias("end"))
    lines = lines.with_columns(
        (pl.col("end").cast(pl.Int64).cum_sum() - pl.col("end").cast(pl.Int64)).alias("rec"),
        (pl.col("end") & pl.col("end").shift(1, fill_value=True)).alias("single"),
    )
    records = lines.filter("single").select("rec", "text", "q")
    if records.height != lines.height:
        joined = (
            lines.filter(~pl.col("single"))
            .group_by("rec", maintain_order=True)
            .agg(pl.col("text").str.join("\n"), pl.col("q").sum())
        )
        records = pl.concat([records, joined], how="vertical_relaxed").sort("rec")
    d = _CLASS_ESCAPES[delimiter]
    quoted = r'"(?:[^"]|"")*"'
    cell = f'(?:{quoted}|[^"{d}\r\n]*)'
    well_formed = rf"\A{cell}(?:{d}{cell})*\r?\z"
    has_quotes = records.filter(pl.col("q") > 0)
    if has_quotes.height and not has_quotes["text"].str.contains(well_formed).all():
        return None
    outside = pl.col("text").str.replace_all(quoted, "")
    count = pl.when(pl.col("q") > 0).then(outside).otherwise(pl.col("text"))
    return records.select(
        "text",
        (count.str.count_matches(delimiter, literal=True) + 1).alias("cells"),
        pl.col("text").str.strip_chars_end("\r").eq("").alias("blank"),
    )


def parse_python(text: str, delimiter: str, width: int, names: list[str]) -> Parsed:
    limit = max(csv.field_size_limit(), len(text) + 1)
    csv.field_size_limit(min(limit, sys.maxsize))
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False
    )
    next(reader, None)
    records: list[list[str | None]] = []
    errors: list[tuple[int, str, str]] = []
    start = reader.line_num
    for record in reader:
        if record:
            records.append(_fit(record, width, len(records) + 1, errors))
            last_start = start
        start = reader.line_num
    if records and (reader.line_num - last_start > 1 or '"' in _last_line(text)):
        _check_last_quote(text, delimiter, last_start, reader.line_num, len(records), errors)
    columns = list(zip(*records, strict=True)) if records else [() for _ in names]
    frame = pl.DataFrame(
        {
            name: pl.Series(name, column, dtype=pl.String)
            for name, column in zip(names, columns, strict=True)
        }
    )
    return Parsed(frame, errors)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _last_line(text: str) -> str:
    body = len(text) - 1
    return text[max(text.rfind("\n", 0, body), text.rfind("\r", 0, body)) + 1 :]


def _check_last_quote(
    text: str, delimiter: str, start: int, end: int, row: int, errors: list[tuple[int, str, str]]
) -> None:
    """Flag the last record when a quote in it runs to the end of the file.

    ``start`` is the number of lines before the record, ``end`` the number read in all.
    """
    breaks = itertools.islice(_LINE_BREAK.finditer(text), start - 1, None)
    offset = next(breaks).end() if start else 0
    strict = csv.reader(
        io.StringIO(text[offset:], newline=""), delimiter=delimiter, quotechar='"', strict=True
    )
    try:
        for _ in strict:
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            message = (
                "a quoted cell in this record is never closed, so the rest of the file "
                f"({end - start} line(s)) was read into it; close or remove the stray quote"
            )
            errors.append((row, MALFORMED_ROW, message))


def _fit(
    record: list[str], width: int, row: int, errors: list[tuple[int, str, str]]
) -> list[str | None]:
    cells: list[str | None] = list(record)
    count = len(record)
    if count < width:
        errors.append((row, SHORT_ROW, _too_few(count, width)))
        return cells + [None] * (width - count)
    if count > width:
        message = _too_many(record, width)
        if message:
            errors.append((row, MALFORMED_ROW, message))
        return cells[:width]
    return cells


def _too_few(count: int, width: int) -> str:
    return f"too few cells: {count} of {width}; the missing ones were read as empty"


def _too_many(record: list[str], width: int) -> str | None:
    """The error for a record longer than the header; None when the extras are empty."""
    dropped = sum(1 for cell in record[width:] if cell.strip())
    if not dropped:
        return None
    return (
        f"too many cells: {len(record)} for {width} columns; "
        f"{dropped} non-empty extra cell(s) dropped"
    )
