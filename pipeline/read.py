"""Read a contact CSV export into a raw frame: every cell a string, every record numbered.

``read_table(source)`` returns a :class:`RawTable`. What it decides, and why:

Bytes
    ``"-"`` reads standard input. A missing file, a directory, an unreadable file and an
    empty file raise :class:`~pipeline.errors.InputError` with a message naming the
    problem. A gzip file (magic ``1f 8b``) is decompressed transparently: people do pass
    ``contacts.csv.gz``. An input that is not CSV text, whatever its name, goes to
    :mod:`pipeline.formats`: a workbook's sheet or a JSON (Lines) file comes back as the
    CSV text it would be saved as, read by the rules below; what we do not read is refused.

Encoding
    A UTF-8 BOM means UTF-8 (``encoding == "utf-8-sig"``); a UTF-16 BOM means UTF-16
    (``"utf-16"``), and so does a NUL byte in every other position (``"utf-16-le"`` or
    ``"utf-16-be"``). Otherwise strict UTF-8 is tried
    first. When that fails the file is still read as UTF-8 (invalid sequences replaced
    with U+FFFD, each record holding one flagged ``bad_encoding``) when it has a BOM or
    when its valid multi-byte UTF-8 characters outnumber its invalid byte sequences: a
    UTF-8 export with a few corrupted bytes. Otherwise the whole file is Windows-1252
    (``"cp1252"``), or Latin-1 (``"latin-1"``) when it holds one of the five bytes
    cp1252 leaves undefined. (A cp1252 file almost never contains a valid UTF-8
    multi-byte sequence by accident, so the count separates the two cases well.)

Binary data and NUL bytes
    When more than 10% of the first 64 KiB of text (and more than 16 characters) are
    control characters other than tab, CR and LF, the input is refused as binary.
    Below that, NUL bytes are removed from the cells and every record that held one
    gets a ``bad_encoding`` row error; NUL padding at the end of the file is dropped
    silently.

Lines and records
    Line endings may be ``\\r\\n``, ``\\n`` or ``\\r``, mixed. A quoted cell may span
    lines; it is still one record. Blank lines (no characters at all) are not records
    and are not counted; leading and trailing blank lines are ignored. A line holding
    only delimiters (``,,,``) *is* a record with empty cells. ``row`` is the 1-based
    record number after the header.

Delimiter
    An Excel ``sep=X`` first line is obeyed (and dropped). Otherwise each of ``,`` ``;``
    tab ``|`` is tried on the first 64 KiB with a quote-aware parser; the winner splits
    the header into more than one cell and gives the most records with the header's
    cell count, then the most header cells; ties go to the earlier candidate, and a
    one-column file gets ``,``.

Header
    The first record is the header. ``headers`` holds its cells exactly as read, except
    that trailing empty header cells (a trailing delimiter on the header line) are
    dropped, so ``len(headers) == frame.width - 1`` and ``headers[i]`` heads frame
    column ``i + 1``. Frame column names are unique: a repeated name gets `` (2)``,
    `` (3)``...; an empty name becomes ``column N`` (its 1-based position); a header
    cell named ``row`` becomes ``row (2)`` so that it cannot collide with ``row``. A
    header holding a phone number or an e-mail address is taken for a data row and
    refused: the mapping needs column names, so the message asks for a header line.

Cells
    Cells are kept exactly as read (no stripping). A present but empty cell is ``""``;
    a cell missing from a short record is null.

Ragged records
    Too few cells: padded with nulls, ``malformed_row``. Too many: the first cells are
    kept; ``malformed_row`` names how many non-empty extra cells were dropped. Extra
    cells that are all empty (a trailing delimiter) are dropped without an error: no
    data is lost. A quote that is never closed swallows the rest of the file into one
    cell (that is what it means to every CSV reader); that record gets a
    ``malformed_row`` saying so.

Report footers
    A CRM report export may end with a footer that is not data: one-cell records from
    ``Grand Totals (N records)`` on (Salesforce: then ``Confidential Information - Do
    Not Distribute`` and a copyright line). Such a footer is dropped, and with it its
    ``malformed_row`` errors; being at the end, it shifts no row number.

Quotes
    ``"`` quotes a cell; ``""`` inside it is one quote. A quote inside an unquoted cell
    (``5" screen``) is an ordinary character, as in Python's ``csv`` module.

Speed
    Three readers, which give the same results (a property test holds them to it):

    1. ``pl.read_csv`` alone (all columns String), for a clean file. It is proven
       clean, not assumed: polars refuses records with too many cells but pads short
       ones, so the delimiters in the text are counted and must equal those between
       the cells plus those inside them; quotes must pair up; no bare ``\\r``.
    2. ``pl.read_csv`` plus a vectorized scan of the records (lines read as one column,
       joined by quote parity, delimiters outside quotes counted), for files with short
       records, blank lines or extra cells, when every quote opens or closes a whole
       cell. About 1.5 s for a million records.
    3. Python's ``csv`` module, for the rest (bare ``\\r`` line ends, stray quotes):
       correct, several seconds per million records.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import itertools
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import polars as pl

from pipeline import formats
from pipeline.errors import InputError
from pipeline.fields import ROW
from pipeline.progress import NullProgress, Progress

MALFORMED_ROW = "malformed_row"
BAD_ENCODING = "bad_encoding"

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_CHARS = 65536
_SNIFF_RECORDS = 50
_BINARY_SHARE = 0.10
_BINARY_MIN = 16
#: Stands in for a removed NUL byte until its record is known (a Unicode noncharacter).
_NUL_MARK = "\ufffe"
_REPLACEMENT = "\ufffd"
_VISIBLE = re.compile(r"\S")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEP_HINT = re.compile(r"\A[\"']?sep=(.)[\"']?[ \t]*(\r\n|\n|\r|\Z)", re.IGNORECASE)
_PHONE_LIKE = re.compile(r"^\s*\+?[\d\s().\-/]{7,}\s*$")
_EMAIL_LIKE = re.compile(r"^\s*[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}\s*$")

#: What pl.read_csv raises on input it cannot take (OSError: it sniffs zlib/zstd magic).
_POLARS_FAILURES = (pl.exceptions.PolarsError, pl.exceptions.PanicException, ValueError, OSError)

_ERROR_SCHEMA = {ROW: pl.Int64, "error_code": pl.String, "error_message": pl.String}


@dataclass(frozen=True)
class RawTable:
    """The input as read: see the module docstring for every rule."""

    frame: pl.DataFrame
    headers: list[str]
    encoding: str
    delimiter: str
    row_errors: pl.DataFrame
    #: which reader parsed it: "polars", "scanned" or "python" (see Speed)
    parser: str = "polars"
    #: what the input is, when not CSV: e.g. "Excel workbook (.xlsx), sheet 'Contacts'"
    format: str = "CSV"


def read_table(
    source: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    progress: Progress = NullProgress(),  # noqa: B008 (the interface)
) -> RawTable:
    """Read ``source`` (a path, or ``"-"`` for standard input) into a :class:`RawTable`;
    ``sheet`` names a workbook's sheet (see :mod:`pipeline.formats`)."""
    name = _describe(source)
    with _open_binary(source, name) as stream:
        converted = _converted(stream, name, sheet, BLOCK_BYTES)
        raw = converted.csv if converted else _read_block(stream, -1, name)
    bar = progress.bar("read", total=len(raw), unit="B")
    try:
        table = _read(raw, name)
        bar.update(len(raw))
    finally:
        bar.close()
    return converted.annotate(table) if converted else table


#: A file bigger than this is read and checked in pieces of about this size (whole
#: records), so that memory follows the piece, not the file.
BLOCK_BYTES = 16 * 1024 * 1024


def read_chunks(
    source: str | os.PathLike[str],
    *,
    block_bytes: int = BLOCK_BYTES,
    sheet: str | None = None,
    progress: Progress = NullProgress(),  # noqa: B008 (the interface)
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
    (Lines) file is read as its CSV text (:mod:`pipeline.formats`).
    """
    name = _describe(source)
    size = _size(source)
    with _open_binary(source, name) as stream:
        converted = _converted(stream, name, sheet, block_bytes)
        if converted is not None:
            stream, size = io.BytesIO(converted.csv), len(converted.csv)
        bar = progress.bar("read", total=size, unit="B")
        if size is not None and not isinstance(stream, gzip.GzipFile):
            block_bytes = even_block(size, block_bytes)
        try:
            for table in _pieces(stream, name, block_bytes, bar.update):
                yield converted.annotate(table) if converted else table
        finally:
            bar.close()


def _converted(
    stream: IO[bytes], name: str, sheet: str | None, block_bytes: int
) -> formats.Converted | None:
    """A workbook or JSON input as CSV text; None for CSV text (see pipeline.formats)."""
    return formats.as_csv(
        stream,
        name,
        lambda size: _read_block(stream, size, name),
        sheet=sheet,
        block_bytes=block_bytes,
    )


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
    stream: IO[bytes], name: str, block_bytes: int, advance: Callable[[int], object]
) -> Iterator[RawTable]:
    block = max(1, block_bytes)
    buffer = _read_block(stream, block, name)
    more = _read_block(stream, block, name) if len(buffer) == block else b""
    if not more or _utf16(buffer):
        whole = buffer + more + _read_block(stream, -1, name)
        advance(len(whole))
        yield _read(whole, name)
        return
    first: _Piece | None = None
    encoding: str | None = None  # decided by the first piece that is not plain ASCII
    held: RawTable | None = None
    rows = 0
    while True:
        final = len(more) < block  # nothing left to read beyond buffer and more
        if final:
            buffer, more = buffer + more, b""
        # The first piece holds the whole sample the delimiter is sniffed from.
        least = 0 if first else 4 * _SAMPLE_CHARS
        if final and len(buffer) <= block + block // 4:
            cut = None  # the rest is the last piece
        elif final:  # more than a piece is left: cut about a block off it (see even_block)
            cut = _record_end(buffer, least, within=block) or _record_end(buffer, least)
        else:
            cut = _record_end(buffer, least)
            if cut is None:  # no record ends in the buffer: a record longer than a block
                buffer += more
                more = _read_block(stream, block, name)
                continue
        last = cut is None
        data = buffer if cut is None else buffer[:cut]
        piece = _read_after(first, data, name, encoding)
        if piece.table.parser == "python" and not last:
            # A stray quote or a bare CR: the cut may be inside a record. Read the rest whole.
            data = buffer + more + _read_block(stream, -1, name)
            piece = _read_after(first, data, name, encoding)
            last = True
        first = first or piece
        if encoding is None and not data.isascii():
            encoding = piece.table.encoding
        advance(len(data))
        table = _numbered_from(piece.table, rows, first.table)
        rows += table.frame.height
        # A footer is found in the last records of the file: the last few records of a
        # piece wait for the next piece, and the footer rule runs on the last one.
        table = _joined(held, table) if held is not None else table
        if last:
            yield _without_footer(table)
            return
        held = _slice(table, table.frame.height - _FOOTER_ROWS)
        yield _slice(table, 0, table.frame.height - _FOOTER_ROWS)
        buffer = buffer[cut:] + more
        more = _read_block(stream, block, name)


def _read_after(first: _Piece | None, data: bytes, name: str, encoding: str | None) -> _Piece:
    """A piece: the first is read as a file; a later one under the first one's header."""
    if first is None:
        return _read_piece(data, name, footer=False)
    delimiter = first.table.delimiter
    header = _header_line(first.first, delimiter, encoding or "utf-8")
    return _read_piece(header + data, name, delimiter=delimiter, encoding=encoding, footer=False)


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
    charset = "utf-8" if encoding == "utf-8-sig" else encoding
    return out.getvalue().replace(_NUL_MARK, "").encode(charset, "replace")


def _numbered_from(table: RawTable, before: int, first: RawTable) -> RawTable:
    """``table`` with its rows numbered after ``before`` rows, under the first piece's names."""
    if before == 0:
        return table
    shift = pl.col(ROW) + before
    return RawTable(
        frame=table.frame.with_columns(shift),
        headers=first.headers,
        encoding=first.encoding,
        delimiter=table.delimiter,
        row_errors=table.row_errors.with_columns(shift),
        parser=table.parser,
    )


def _slice(table: RawTable, start: int, length: int | None = None) -> RawTable:
    # rechunked: string columns sliced and concatenated as views upset polars' concat_str
    frame = table.frame.slice(max(0, start), length if length is None else max(0, length))
    frame = frame.rechunk()
    rows = frame[ROW]
    errors = table.row_errors.filter(pl.col(ROW).is_in(rows.implode()))
    return RawTable(frame, table.headers, table.encoding, table.delimiter, errors, table.parser)


def _joined(before: RawTable, after: RawTable) -> RawTable:
    return RawTable(
        pl.concat([before.frame, after.frame], rechunk=True),
        after.headers,
        after.encoding,
        after.delimiter,
        pl.concat([before.row_errors, after.row_errors]),
        after.parser,
    )


def _without_footer(table: RawTable) -> RawTable:
    errors = list(table.row_errors.iter_rows())
    offset = int(table.frame[ROW][0]) - 1 if table.frame.height else 0
    relative = [(row - offset, code, message) for row, code, message in errors]
    frame, kept = _drop_report_footer(table.frame.drop(ROW), relative)
    if frame.height == table.frame.height:
        return table
    return _slice(table, 0, frame.height)


def _utf16(head: bytes) -> bool:
    return head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or bool(
        _utf16_without_bom(head)
    )


# -- bytes ---------------------------------------------------------------------------


def _describe(source: str | os.PathLike[str]) -> str:
    return "standard input" if source == "-" else str(os.fspath(source))


@contextlib.contextmanager
def _open_binary(source: str | os.PathLike[str], name: str) -> Iterator[IO[bytes]]:
    """The input as a binary stream (a gzip file decompressed as it is read)."""
    if source == "-":
        stdin = sys.stdin
        if stdin is None:
            raise InputError("cannot read standard input: there is none")
        if stdin.isatty():
            raise InputError(
                "INPUT is '-' but standard input is a terminal; pipe a CSV file in "
                "(contact-sync validate - < contacts.csv) or give its path"
            )
        yield _maybe_gunzip(stdin.buffer)
        return
    path = Path(os.fspath(source))
    try:
        handle = path.open("rb")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory; give the path of a CSV file") from exc
    except PermissionError as exc:
        raise InputError(
            f"{path}: permission denied; the file cannot be read by this user"
        ) from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    with handle:
        yield _maybe_gunzip(handle)


def _maybe_gunzip(stream: IO[bytes]) -> IO[bytes]:
    peek = getattr(stream, "peek", None)
    head = peek(2)[:2] if peek else b""
    if head != b"\x1f\x8b":
        return stream
    return cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))


def _read_block(stream: IO[bytes], size: int, name: str) -> bytes:
    """Up to ``size`` bytes (all that is left when ``size`` is -1), fewer only at the end."""
    try:
        if size < 0:
            return stream.read()
        parts, left = [], size
        while left:
            part = stream.read(min(left, 1 << 26))
            if not part:
                break
            parts.append(part)
            left -= len(part)
        return b"".join(parts)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            f"{name}: looks gzip-compressed but cannot be decompressed ({exc}); "
            "check the file, or decompress it yourself (gunzip) and pass the CSV"
        ) from exc
    except OSError as exc:
        raise InputError(f"{name}: cannot be read: {exc.strerror or exc}") from exc


def _size(source: str | os.PathLike[str]) -> int | None:
    if source == "-":
        return None
    try:
        return os.path.getsize(os.fspath(source))
    except OSError:
        return None


def _unwrap(raw: bytes, name: str) -> bytes:
    """Refuse the container formats people mistake for CSV (gzip is decompressed as the
    file is read: see _open_binary)."""
    if raw.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise InputError(
            f"{name}: is a ZIP archive or an Excel .xlsx workbook, not CSV; "
            "export the sheet as CSV (Excel: File > Save As > CSV UTF-8) or unzip it first"
        )
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{name}: is an old Excel .xls workbook, not CSV; "
            "export the sheet as CSV (Excel: File > Save As > CSV UTF-8)"
        )
    if raw.startswith(b"%PDF"):
        raise InputError(f"{name}: is a PDF document, not CSV")
    return raw


# -- text ----------------------------------------------------------------------------


def _decode(raw: bytes, encoding: str | None = None) -> tuple[str, str, int]:
    """(text, encoding name, number of invalid byte sequences replaced).

    ``encoding``, when given, was decided on the first piece of the same file.
    """
    if encoding in ("utf-8", "utf-8-sig") and not raw.startswith(codecs.BOM_UTF8):
        try:  # as fast as decoding with replacements, and nothing to count after
            return raw.decode("utf-8"), "utf-8", 0
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace")
        return text, "utf-8", text.count(_REPLACEMENT) - raw.count(_REPLACEMENT.encode())
    if encoding in ("cp1252", "latin-1"):
        try:
            return raw.decode(encoding), encoding, 0
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "latin-1", 0
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(raw, "utf-16")
    if raw.startswith(codecs.BOM_UTF8):
        body, encoding = raw[len(codecs.BOM_UTF8) :], "utf-8-sig"
    else:
        body, encoding = raw, "utf-8"
        utf16 = _utf16_without_bom(raw)
        if utf16:
            return _decode_utf16(raw, utf16)
    try:
        return body.decode("utf-8"), encoding, 0
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", "replace")
    bad = text.count(_REPLACEMENT) - body.count(_REPLACEMENT.encode())
    good = len(text) - len(text.encode("ascii", "ignore")) - text.count(_REPLACEMENT)
    if encoding == "utf-8-sig" or good > bad:
        return text, encoding, bad
    try:
        return raw.decode("cp1252"), "cp1252", 0
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1", 0


def _utf16_without_bom(raw: bytes) -> str | None:
    head = raw[:4096]
    half = len(head) // 2
    if half < 2:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _decode_utf16(raw: bytes, encoding: str) -> tuple[str, str, int]:
    text = raw.decode(encoding, "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = text.count(_REPLACEMENT)
    return text, encoding, bad


def _check_text(text: str, name: str) -> None:
    sample = text[:_SAMPLE_CHARS].rstrip("\x00")
    controls = len(_CONTROL.findall(sample))
    if controls > _BINARY_MIN and controls > _BINARY_SHARE * len(sample):
        raise InputError(
            f"{name}: does not look like a CSV text file ({controls} control characters "
            f"in the first {len(sample)}); give a CSV export of the contacts"
        )


def _trim(text: str) -> str:
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


def _sep_hint(text: str) -> tuple[str | None, str]:
    match = _SEP_HINT.match(text)
    if match and match.group(1) in DELIMITERS:
        return match.group(1), text[match.end() :].lstrip("\r\n")
    return None, text


def _reader(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        strict=False,
    )


def _sniff(text: str) -> str:
    sample = text[:_SAMPLE_CHARS]
    complete = len(sample) == len(text)
    best, best_score = ",", (False, 0.0, 0)
    for delimiter in DELIMITERS:
        records = [r for r in itertools.islice(_reader(sample, delimiter), _SNIFF_RECORDS) if r]
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


# -- header --------------------------------------------------------------------------


def _first_record(text: str, delimiter: str) -> list[str]:
    """The first record, parsed from as short a prefix as will hold it."""
    size = _SAMPLE_CHARS
    while True:
        records = list(itertools.islice(_reader(text[:size], delimiter), 2))
        if len(records) == 2 or size >= len(text):
            return records[0] if records else []
        size *= 4


def _header(first: list[str], name: str) -> list[str]:
    header = list(first)
    while header and header[-1] == "":
        header.pop()
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
        clean = header.replace(_NUL_MARK, "")
        base = clean if clean.strip() else f"column {position}"
        name, n = base, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        taken.add(name)
        names.append(name)
    return names


# -- records -------------------------------------------------------------------------


@dataclass
class _Parsed:
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


def _parse_fast(data: bytes, delimiter: str, first: list[str], names: list[str]) -> _Parsed | None:
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
    return _Parsed(frame, [])


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


def _parse_scanned(
    data: bytes, delimiter: str, first: list[str], names: list[str]
) -> _Parsed | None:
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
            errors.append((i + 1, MALFORMED_ROW, _too_few(count, width)))
    for i in (cells > width).arg_true().to_list():
        record = next(iter(_reader(body["text"][i], delimiter)), [])
        message = _too_many(record, width)
        if message:
            errors.append((i + 1, MALFORMED_ROW, message))
    errors.sort()
    return _Parsed(frame.drop(frame.columns[width:]), errors)


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


def _parse_python(text: str, delimiter: str, width: int, names: list[str]) -> _Parsed:
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
    return _Parsed(frame, errors)


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
        errors.append((row, MALFORMED_ROW, _too_few(count, width)))
        return cells + [None] * (width - count)
    if count > width:
        message = _too_many(record, width)
        if message:
            errors.append((row, MALFORMED_ROW, message))
        return cells[:width]
    return cells


def _too_few(count: int, width: int) -> str:
    return f"too few cells: {count} of {width}; the missing ones are empty"


def _too_many(record: list[str], width: int) -> str | None:
    """The error for a record longer than the header; None when the extras are empty."""
    dropped = sum(1 for cell in record[width:] if cell.strip())
    if not dropped:
        return None
    return (
        f"too many cells: {len(record)} for {width} columns; "
        f"{dropped} non-empty extra cell(s) dropped"
    )


def _flag_cells(frame: pl.DataFrame, mark: str, message: str) -> list[tuple[int, str, str]]:
    if not frame.width or not frame.height:
        return []
    hit = pl.any_horizontal(pl.all().str.contains(mark, literal=True).fill_null(False))
    rows = frame.select(hit.alias("hit")).to_series().arg_true() + 1
    return [(int(r), BAD_ENCODING, message) for r in rows.to_list()]


@dataclass(frozen=True)
class _Piece:
    table: RawTable
    first: list[str]


def _read(raw: bytes, name: str) -> RawTable:
    return _read_piece(raw, name).table


def _read_piece(
    raw: bytes,
    name: str,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    footer: bool = True,
) -> _Piece:
    """Read ``raw`` whole; a later piece of a big file comes with the delimiter and the
    encoding decided on the first piece, and only the last piece may end in a footer."""
    if not raw:
        raise InputError(f"{name}: the file is empty; it needs a header line and records")
    raw = _unwrap(raw, name)
    decoded, encoding, bad = _decode(raw, encoding)
    _check_text(decoded, name)
    text = _trim(decoded)
    if not _VISIBLE.search(text):
        raise InputError(f"{name}: the file is empty (only blank lines); it needs a header line")
    nuls = text.count("\x00") if _may_hold_nul(raw, encoding) else 0
    if nuls:
        text = text.replace("\x00", _NUL_MARK)
    if delimiter is None:
        hinted, text = _sep_hint(text)
        delimiter = hinted or _sniff(text)
    first = _first_record(text, delimiter)
    headers = _header(first, name)
    names = unique_names(headers)
    data = _utf8(raw, decoded, text, encoding, bad)
    parsed, parser = None, "polars"
    if not _bare_cr(data):  # polars knows LF (and CRLF) line ends only
        parsed = _parse_fast(data, delimiter, first, names)
        if parsed is None:
            parsed, parser = _parse_scanned(data, delimiter, first, names), "scanned"
    if parsed is None:
        parsed, parser = _parse_python(text, delimiter, len(headers), names), "python"
    frame, errors = parsed.frame, parsed.errors
    if footer:
        frame, errors = _drop_report_footer(frame, errors)
    if bad:
        message = f"invalid {encoding} bytes replaced with \ufffd"
        errors += _flag_cells(frame, _REPLACEMENT, message)
    if nuls:
        errors += _flag_cells(frame, _NUL_MARK, "NUL bytes removed")
        frame = frame.with_columns(pl.all().str.replace_all(_NUL_MARK, "", literal=True))
        headers = [h.replace(_NUL_MARK, "") for h in headers]
    frame = frame.select(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW), pl.all())
    table = RawTable(
        frame=frame,
        headers=headers,
        encoding=encoding,
        delimiter=delimiter,
        row_errors=_error_frame(errors),
        parser=parser,
    )
    return _Piece(table, first)


_FOOTER_START = re.compile(r"\s*Grand Totals \(\d[\d,.\s]*records?\)\s*", re.IGNORECASE)
_FOOTER_ROWS = 8


def _drop_report_footer(
    frame: pl.DataFrame, errors: list[tuple[int, str, str]]
) -> tuple[pl.DataFrame, list[tuple[int, str, str]]]:
    """Drop a CRM report footer: one-cell records from ``Grand Totals (N records)`` on."""
    if frame.width < 2 or not frame.height:
        return frame, errors
    tail = frame.tail(_FOOTER_ROWS).rows()
    lone = 0
    while lone < len(tail) and all(c is None for c in tail[-1 - lone][1:]):
        lone += 1
    block = tail[len(tail) - lone :]
    start = next((i for i, r in enumerate(block) if r[0] and _FOOTER_START.fullmatch(r[0])), None)
    if start is None:
        return frame, errors
    keep = frame.height - lone + start
    return frame.head(keep), [e for e in errors if e[0] <= keep]


def _may_hold_nul(raw: bytes, encoding: str) -> bool:
    """False when the text decoded from ``raw`` surely has no NUL character: in these
    encodings only a 0 byte decodes to one, and a byte search is a memchr (some 1-2 ms for
    16 MB, where counting the text's characters takes some 12 ms)."""
    return encoding not in ("utf-8", "utf-8-sig", "cp1252", "latin-1") or b"\x00" in raw


def _bare_cr(data: bytes) -> bool:
    return b"\r" in data and data.count(b"\r") != data.count(b"\r\n")


def _utf8(raw: bytes, decoded: str, text: str, encoding: str, bad: int) -> bytes:
    """``text`` as UTF-8: the input bytes themselves when they are exactly that."""
    if text is decoded and not bad and encoding in ("utf-8", "utf-8-sig"):
        return raw[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else raw
    return text.encode("utf-8")


def _error_frame(errors: list[tuple[int, str, str]]) -> pl.DataFrame:
    frame = pl.DataFrame(errors, schema=_ERROR_SCHEMA, orient="row")
    return frame.sort(ROW, maintain_order=True)
