"""Remote records as polars frames: API records or list pages → the canonical remote set,
and canonical rows → API bodies.

``names`` maps a canonical field to the API's field (``{"e164": "phone", ...}``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import polars as pl

#: The canonical remote contact. ``metadata`` is a JSON object as text.
REMOTE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "remote_id": pl.String,
    "e164": pl.String,
    "first_name": pl.String,
    "last_name": pl.String,
    "name": pl.String,
    "email": pl.String,
    "company": pl.String,
    "timezone": pl.String,
    "language": pl.String,
    "tags": pl.List(pl.String),
    "lists": pl.List(pl.String),
    "opted_out": pl.Boolean,
    "notes": pl.String,
    "external_id": pl.String,
    "metadata": pl.String,
}


def remote_frame(records: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> pl.DataFrame:
    """API records → canonical remote frame; ``names`` maps canonical field → API field.

    Built by polars from the records in one pass (no per-cell Python), values cast to the
    canonical types; ``metadata`` objects become JSON text.
    """
    return _canonical(_api_frame(records, names), names)


#: the column that holds ``metadata`` as JSON text in an API frame
_METADATA = "\x00metadata"


def page_frame(
    content: bytes,
    key: str,
    names: Mapping[str, str],
    records: Callable[[bytes], Sequence[Mapping[str, Any]]],
) -> pl.DataFrame:
    """The records of one JSON list page (an array under ``key``) as an API frame.

    Polars reads them straight from the bytes, with no Python object per record, when
    the page is an object whose ``key`` holds objects whose fields have the canonical
    types and every record an id; anything else (and any ``metadata``) goes the Python
    way: ``records(content)`` parses the page, checks it and picks its records out.
    """
    fast = _polars_page(content, key, names)
    if fast is not None and not fast[names["remote_id"]].null_count():
        return fast
    return _api_frame(records(content), names)


def _polars_page(content: bytes, key: str, names: Mapping[str, str]) -> pl.DataFrame | None:
    if not content or names.get("metadata"):
        return None
    schema = _api_schema(names)
    try:
        page = pl.read_json(io.BytesIO(content), schema={key: pl.List(pl.Struct(schema))})
    except (pl.exceptions.PolarsError, ValueError, TypeError):
        return None
    if page.height != 1 or page[key].null_count():
        return None  # not one object, or no list under key
    items = page[key][0]
    if items.null_count():
        return None  # a null record: let the adapter's own reading decide
    frame = items.struct.unnest()  # the fields in schema order (no select: it costs more)
    return frame if frame.columns == list(schema) else None


def _api_schema(names: Mapping[str, str]) -> dict[str, Any]:
    """API field → canonical type, for the fields ``names`` uses (``metadata`` aside)."""
    api_schema: dict[str, Any] = {}
    for column, dtype in REMOTE_SCHEMA.items():
        api_name = names.get(column)
        if api_name and column != "metadata":
            api_schema[api_name] = dtype
    return api_schema


def _api_frame(records: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> pl.DataFrame:
    """API records → a frame of the API fields ``names`` uses, typed as their canonical
    fields (``metadata`` as JSON text). No column for fields the API lacks."""
    api_schema = _api_schema(names)
    frame = (
        pl.from_dicts(list(records), schema=api_schema, strict=False)
        if records
        else pl.DataFrame(schema=api_schema)
    )
    api_metadata = names.get("metadata")
    if api_metadata:
        values = [_metadata_text(record.get(api_metadata)) for record in records]
        frame = frame.with_columns(pl.Series(_METADATA, values, dtype=pl.String))
    return frame


def _canonical(frame: pl.DataFrame, names: Mapping[str, str]) -> pl.DataFrame:
    """An API frame (``_api_frame``) → ``REMOTE_SCHEMA``; missing fields are null."""
    columns = []
    for column, dtype in REMOTE_SCHEMA.items():
        api_name = names.get(column)
        if api_name:
            source = _METADATA if column == "metadata" else api_name
            columns.append(pl.col(source).cast(dtype, strict=False).alias(column))
        else:
            columns.append(pl.lit(None, dtype).alias(column))
    return frame.select(columns)


def first_per_id(remote: pl.DataFrame) -> pl.DataFrame:
    """One row per ``remote_id``, the first, in order: what ``unique("remote_id",
    keep="first", maintain_order=True)`` gives, without its large hash table when (as
    almost always) no id repeats."""
    if remote["remote_id"].n_unique() == remote.height:
        return remote
    return remote.filter(pl.col("remote_id").is_first_distinct())


class RemoteFrames:
    """A canonical remote frame built a few thousand records at a time.

    A large remote set read as JSON is a million small dicts; kept alive together they
    cost a gigabyte and make the cyclic garbage collector rescan them again and again.
    Records added here become a small polars frame of the API's fields every ``batch``
    records and are then dropped (pages polars read already, ``page_frame``, are kept as
    they come); ``frame()`` puts the pieces together in order.
    """

    def __init__(self, names: Mapping[str, str], batch: int = 10_000) -> None:
        self.names = names
        self.batch = batch
        self._records: list[Mapping[str, Any]] = []
        self._pieces: list[pl.DataFrame] = []  # API frames, not yet put together
        self._frames: list[pl.DataFrame] = []

    def add(self, records: Iterable[Mapping[str, Any]] | pl.DataFrame) -> None:
        """More records, or an API frame of them (``page_frame``), after those before."""
        if isinstance(records, pl.DataFrame):
            self._flush_records()
            self._pieces.append(records)
        else:
            self._records.extend(records)
        if len(self._records) >= self.batch or len(self._pieces) >= 100:
            self._flush_records()
            self._frames.append(pl.concat(self._pieces, rechunk=True))
            self._pieces = []

    def frame(self) -> pl.DataFrame:
        """Everything added so far, in order, as one canonical frame (``REMOTE_SCHEMA``)."""
        self._flush_records()
        frames = self._frames + self._pieces
        return _canonical(pl.concat(frames) if frames else _api_frame([], self.names), self.names)

    def _flush_records(self) -> None:
        if self._records:
            self._pieces.append(_api_frame(self._records, self.names))
            self._records = []


def _metadata_text(value: Any) -> str | None:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else None


def body_of(
    record: Mapping[str, Any], names: Mapping[str, str], fields: Sequence[str] | None = None
) -> dict[str, Any]:
    """One canonical record → an API body in the API's field names, empty values left out
    (an empty cell never blanks a remote value). ``fields``: only these (None: all)."""
    wanted = names.keys() if fields is None else fields
    body: dict[str, Any] = {}
    for canonical in wanted:
        value = record.get(canonical)
        if canonical not in names or value is None or value == [] or value == "":
            continue
        body[names[canonical]] = json.loads(value) if canonical == "metadata" else value
    return body
