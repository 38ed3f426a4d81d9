"""Bytes: the input as a binary stream, a gzip file decompressed as it is read, a workbook
or JSON input turned into CSV text (:mod:`pipeline.read.formats`), and the container formats
people mistake for CSV refused (see the package docstring, "Bytes")."""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from pipeline.errors import InputError, UsageError
from pipeline.read import formats

#: A file bigger than this is read and checked in pieces of about this size (whole
#: records), so that memory follows the piece, not the file.
BLOCK_BYTES = 16 * 1024 * 1024


def describe(source: str | os.PathLike[str]) -> str:
    return "standard input" if source == "-" else str(os.fspath(source))


@contextlib.contextmanager
def open_binary(source: str | os.PathLike[str], name: str) -> Iterator[IO[bytes]]:
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


def read_block(stream: IO[bytes], size: int, name: str) -> bytes:
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


def converted(
    stream: IO[bytes],
    name: str,
    sheet: str | None,
    block_bytes: int,
    *,
    encoding: str | None = None,
) -> formats.Converted | None:
    """A workbook or JSON input as CSV text; None for CSV text (see pipeline.read.formats).
    ``encoding`` (``--encoding``) is for CSV text: with anything else it is a usage error."""
    as_csv = formats.as_csv(
        stream,
        name,
        lambda size: read_block(stream, size, name),
        sheet=sheet,
        block_bytes=block_bytes,
    )
    if as_csv is not None and encoding is not None:
        raise UsageError(
            f"--encoding {encoding}: {name} is not CSV text ({as_csv.label}), and says "
            "its encoding itself; drop --encoding"
        )
    return as_csv


def file_size(source: str | os.PathLike[str]) -> int | None:
    if source == "-":
        return None
    try:
        return os.path.getsize(os.fspath(source))
    except OSError:
        return None


def unwrap(raw: bytes, name: str) -> bytes:
    """Refuse the container formats people mistake for CSV (gzip is decompressed as the
    file is read: see open_binary)."""
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
