"""Bytes: the input as a binary stream, a gzip file decompressed as it is read, a workbook
or JSON input turned into CSV text (:mod:`pipeline.read.formats`), and the container formats
people mistake for CSV refused (see the package docstring, "Bytes")."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import stat
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from pipeline.errors import InputError, UsageError
from pipeline.read import formats
from pipeline.sizes import format_size

#: A file bigger than this is read and checked in pieces of about this size (whole
#: records), so that memory follows the piece, not the file.
BLOCK_BYTES = 16 * 1024 * 1024

#: No record (a line, or the lines of one quoted cell) is longer: a file with no line end
#: in this many bytes is no contact list (a 10 MB cell is read; a sparse file, a device).
MAX_RECORD_BYTES = 64 * 1024 * 1024

#: The default of ``--max-input-size``: the input as read (gzip: once decompressed).
MAX_INPUT_BYTES = 4 * 1024 * 1024 * 1024


def describe(source: str | os.PathLike[str]) -> str:
    return "standard input" if source == "-" else str(os.fspath(source))


@contextlib.contextmanager
def open_binary(
    source: str | os.PathLike[str], name: str, max_bytes: int | None = None
) -> Iterator[IO[bytes]]:
    """The input as a binary stream (a gzip file decompressed as it is read); past
    ``max_bytes`` read (decompressed), an ``InputError`` naming the limit."""
    with _opened(source, name) as stream:
        yield stream if max_bytes is None else cast(IO[bytes], _Capped(stream, max_bytes, name))


@contextlib.contextmanager
def _opened(source: str | os.PathLike[str], name: str) -> Iterator[IO[bytes]]:
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


def is_compressed(stream: IO[bytes]) -> bool:
    """Whether ``stream`` is decompressed as it is read (its size on disk tells nothing)."""
    return isinstance(stream, gzip.GzipFile) or bool(getattr(stream, "gzipped", False))


class _Capped(io.RawIOBase):
    """A stream that refuses to give more than ``limit`` bytes in all."""

    def __init__(self, stream: IO[bytes], limit: int, name: str) -> None:
        self.stream, self.limit, self.name, self.given = stream, limit, name, 0
        self.gzipped = isinstance(stream, gzip.GzipFile)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        want = self.limit - self.given + 1
        data = self.stream.read(want if size is None or size < 0 else min(size, want))
        self.given += len(data)
        if self.given > self.limit:
            how = " once decompressed" if self.gzipped else ""
            raise InputError(
                f"{self.name}: the input is larger than {format_size(self.limit)}{how} "
                f"(--max-input-size {format_size(self.limit).replace(' ', '')}); if it really "
                "is a contact list that big, raise the limit (--max-input-size 20G, or "
                "max_input_size in the job file); else check the file"
            )
        return data

    def peek(self, size: int = 0) -> bytes:
        """The next bytes, left unread (how ``formats`` looks at the input)."""
        return formats.peek(self.stream, size)


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
    """The size of a regular file (None: standard input, a pipe, a device, ...: the size
    they show is no measure of what they hold, and they are read in plain blocks)."""
    if source == "-":
        return None
    try:
        status = os.stat(os.fspath(source))
    except OSError:
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


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
