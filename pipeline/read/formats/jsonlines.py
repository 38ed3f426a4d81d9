"""JSON Lines (one object per line) and a JSON array of objects, as CSV text.

Every object is a record, in order, so ``row`` N is the Nth object (blank lines are not
records, as in a CSV). Its keys are the columns, mapped like CSV headers, in the order
they first appear in the file; a key an object lacks is an empty cell. Values become the
text they are written as: a string as it is, a number as written (``14155552671``,
``1.50``, ``1e3``), ``true``/``false``, ``null`` empty, an object or an array as its
compact JSON text. When a key is given twice in one object, the last value counts (as
in every JSON reader).

A line that is not a JSON object (broken JSON, an array, a bare value) is a record with
empty cells and a ``malformed_row`` error naming the line; invalid UTF-8 in a line is
replaced with U+FFFD and flagged ``bad_encoding``. A file holding one JSON object over
several lines (a pretty-printed document, not JSON Lines) is refused, naming the key
that holds the records when one does.

JSON Lines are parsed a block of lines at a time (the Python objects of one block only),
each block kept as a frame of strings until the file's last line: only then are all its
columns known. A JSON array is parsed whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pipeline.errors import InputError
from pipeline.outcomes import Code

MALFORMED_ROW = Code.MALFORMED_ROW
_NOT_UTF8 = (
    "bytes that are not valid UTF-8 were replaced with \ufffd; JSON is UTF-8: re-save the "
    "file as UTF-8"
)
BAD_ENCODING = Code.BAD_ENCODING

#: ``read(size)``: up to ``size`` more bytes of the input (all that is left for -1)
Read = Callable[[int], bytes]
RowError = tuple[int, str, str]


class _Number(str):
    """A JSON number, kept as written."""

    __slots__ = ()


_DECODER = json.JSONDecoder(parse_int=_Number, parse_float=_Number, parse_constant=_Number)


@dataclass
class Records:
    """The records read: one frame of strings per block, the keys in order of appearance."""

    frames: list[pl.DataFrame] = field(default_factory=list)
    keys: dict[str, None] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    def add(self, records: list[dict[str, str]]) -> None:
        if not records:
            return
        block = dict.fromkeys(itertools.chain.from_iterable(records))
        self.keys.update(block)
        self.frames.append(pl.from_dicts(records, schema=dict.fromkeys(block, pl.String)))
        self.rows += len(records)

    def csv(self, name: str) -> bytes:
        """The records as CSV text: a header line of the keys, then a line per record."""
        if not self.rows:
            raise InputError(f"{name}: holds no records (no JSON object)")
        if not self.keys:
            first = self.errors[0][2] if self.errors else "every object is empty"
            raise InputError(f"{name}: no record is a JSON object with keys ({first})")
        out = io.BytesIO()
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(self.keys)
        out.write(b"sep=,\n" + header.getvalue().encode("utf-8"))
        for frame in self.frames:
            missing = [pl.lit(None, pl.String).alias(k) for k in self.keys if k not in frame]
            whole = frame.with_columns(missing).select(list(self.keys)).fill_null("")
            whole.write_csv(out, include_header=False)
        return out.getvalue()


def json_csv(head: bytes, read: Read, name: str, block: int) -> tuple[bytes, str, list[RowError]]:
    """The CSV text of a JSON Lines file or a JSON array, how to name it, its row errors.

    ``head`` is the input's first bytes (not consumed: ``read`` starts with them).
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        read = _replay(read(-1).decode("utf-16").encode("utf-8"))
    elif head.startswith(codecs.BOM_UTF8):
        read(len(codecs.BOM_UTF8))
    first = read(block)
    records = Records()
    if first.lstrip().startswith(b"["):
        _read_array(first + read(-1), name, records)
        return records.csv(name), "JSON array", records.errors
    chunks: Iterator[bytes] = itertools.chain([first], iter(lambda: read(block), b""))
    opening = next((line for line in first.split(b"\n") if line.strip()), b"")
    if _problem(opening) is not None:  # perhaps one object over several lines
        whole = first + read(-1)
        _refuse_document(whole, name)
        chunks = (whole[i : i + block] for i in range(0, len(whole), block))
    _read_lines(chunks, records)
    return records.csv(name), "JSON Lines", records.errors


def _replay(data: bytes) -> Read:
    stream = io.BytesIO(data)
    return stream.read


def _read_lines(chunks: Iterator[bytes], records: Records) -> None:
    line_number = 0
    for lines in _blocks(chunks):
        block: list[dict[str, str]] = []
        for line in lines:
            line_number += 1
            if not line.strip():
                continue
            row = records.rows + len(block) + 1
            block.append(_line_record(line, line_number, row, records.errors))
        records.add(block)


def _blocks(chunks: Iterator[bytes]) -> Iterator[list[bytes]]:
    """The lines of the input, a block of whole lines at a time."""
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            yield data[:cut].split(b"\n")[:-1]
    if rest:
        yield [rest]


def _line_record(line: bytes, number: int, row: int, errors: list[RowError]) -> dict[str, str]:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("utf-8", "replace")
        errors.append((row, BAD_ENCODING, _NOT_UTF8))
    value, problem = _parsed(text)
    if problem is not None:
        errors.append((row, MALFORMED_ROW, f"line {number} {problem}; its cells are empty"))
        return {}
    return _cells(value)


def _problem(line: bytes) -> str | None:
    return _parsed(line.decode("utf-8", "replace"))[1]


def _parsed(text: str) -> tuple[Any, str | None]:
    """The JSON value of one line, or why it is not a record."""
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        return None, f"is not valid JSON ({exc.msg}: column {exc.colno})"
    if not isinstance(value, dict):
        return None, f"is a JSON {_kind(value)}, not an object"
    return value, None


def _read_array(data: bytes, name: str, records: Records) -> None:
    value = _document(data, name)
    if not isinstance(value, list):
        raise InputError(f"{name}: is not a JSON array of objects")
    block: list[dict[str, str]] = []
    for row, item in enumerate(value, start=1):
        if isinstance(item, dict):
            block.append(_cells(item))
            continue
        block.append({})
        message = f"item {row} of the array is a JSON {_kind(item)}, not an object"
        records.errors.append((row, MALFORMED_ROW, f"{message}; its cells are empty"))
    records.add(block)


def _document(data: bytes, name: str) -> Any:
    try:
        return _DECODER.decode(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: is not UTF-8 (byte {exc.start}); JSON is UTF-8: save it as UTF-8"
        ) from exc
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        if exc.msg == "Extra data":
            raise InputError(
                f"{name}: is not one JSON array: more JSON follows it ({where}); JSON Lines "
                "hold one object per line"
            ) from exc
        raise InputError(f"{name}: is not valid JSON ({exc.msg}: {where})") from exc


def _refuse_document(data: bytes, name: str) -> None:
    """Refuse one JSON object written over several lines; return when it is not one."""
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return  # JSON Lines with a broken first line
    if not isinstance(value, dict):
        return
    held = [k for k, v in value.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
    hint = ""
    if held:
        path = f".{held[0]}" if held[0].isidentifier() else f".[{json.dumps(held[0])}]"
        hint = (
            f"; its key {held[0]!r} holds {len(value[held[0]])} record(s): pass them as "
            f"their own file (jq '{path}' {name} > contacts.json)"
        )
    raise InputError(
        f"{name}: holds one JSON object over several lines, not one object per line "
        f"(JSON Lines) or an array of objects{hint}"
    )


def _cells(record: dict[str, Any]) -> dict[str, str]:
    return {k: v if type(v) is str else _cell(v) for k, v in record.items()}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # a _Number
        return str(value)
    return _compact(value)


def _compact(value: Any) -> str:
    """``value`` as compact JSON text, numbers as written."""
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_compact(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(k, ensure_ascii=False)}:{_compact(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    return json.dumps(value)  # true, false, null


def _kind(value: Any) -> str:
    if isinstance(value, _Number):
        return "number"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
