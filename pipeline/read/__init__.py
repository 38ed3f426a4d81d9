"""Read a contact CSV export into a raw frame: every cell a string, every record numbered.

``read_table(source)`` returns a :class:`RawTable`. What it decides, and why:

Bytes
    ``"-"`` reads standard input. A missing file, a directory, an unreadable file and an
    empty file raise :class:`~pipeline.errors.InputError` with a message naming the
    problem. A gzip file (magic ``1f 8b``) is decompressed transparently: people do pass
    ``contacts.csv.gz``. An input that is not CSV text, whatever its name, goes to
    :mod:`pipeline.read.formats`: a workbook's sheet or a JSON (Lines) file comes back as the
    CSV text it would be saved as, read by the rules below; what we do not read is refused.

Encoding
    ``encoding=`` (``--encoding``) forces one: any text codec Python knows, invalid bytes
    replaced and flagged ``bad_encoding``, a leading BOM dropped (a UTF-8 one also before
    an 8-bit codec). Otherwise it is detected. A UTF-16 BOM means UTF-16 (``"utf-16"``),
    and so does a NUL byte in every other position (``"utf-16-le"`` or ``"utf-16-be"``).
    Otherwise strict UTF-8 is tried first (after a UTF-8 BOM: ``"utf-8-sig"``). When
    that fails the file is still read as UTF-8 (invalid sequences replaced with U+FFFD,
    each record holding one flagged ``bad_encoding``) when its valid multi-byte UTF-8
    characters outnumber its invalid byte sequences: a UTF-8 export with a few corrupted
    bytes. Otherwise the whole file is Windows-1252 (``"cp1252"``), or Latin-1
    (``"latin-1"``) when it holds one of the five bytes cp1252 leaves undefined. (A
    cp1252 file almost never contains a valid UTF-8 multi-byte sequence by accident, so
    the count separates the two cases well.) A UTF-8 BOM does not change the rule (tools
    put one before cp1252 text); when it is overruled, ``notes`` holds one line saying so
    and what to do.

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
    only delimiters (``,,,``) *is* a record, counted, but see "Blank records". ``row``
    is the 1-based record number after the header.

Blank records
    A record whose cells are all empty (or spaces), such as the ``,,,`` lines at the end
    of spreadsheet exports or a workbook's empty rows, is left out of the table and
    counted in ``blank_rows``; the other records keep their numbers (a gap where it
    was). One with an error (a JSON line that is no object, whose cells are empty) is
    kept, to be reported. Both readers leave them out the same way.

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
    Too few cells: padded with nulls (read as empty, as spreadsheets mean a row whose
    trailing empty cells were not written) and noted with ``short_row``, a note rather
    than an error: ``validate`` says it in ``error_message`` and the record stays valid
    when nothing else is wrong. Too many: the first cells are
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

from pipeline.read.dialect import DELIMITERS, unique_names
from pipeline.read.encoding import BAD_ENCODING
from pipeline.read.parse import MALFORMED_ROW, SHORT_ROW
from pipeline.read.pieces import even_block, read_chunks
from pipeline.read.source import BLOCK_BYTES
from pipeline.read.table import RawTable, read_table

__all__ = [
    "BAD_ENCODING",
    "BLOCK_BYTES",
    "DELIMITERS",
    "MALFORMED_ROW",
    "RawTable",
    "SHORT_ROW",
    "even_block",
    "read_chunks",
    "read_table",
    "unique_names",
]
