"""The Target interface: what every adapter declares (Capabilities) and does.

A target receives and returns polars frames:

- ``fetch_remote()`` → the remote set in canonical form (``REMOTE_SCHEMA``);
- ``create`` / ``update`` / ``delete`` / ``opt_out`` take plan rows and return one
  result row per input row (``RESULT_SCHEMA``): nothing is dropped, every row gets a
  status (``created``, ``updated``, ``deleted``, ``unchanged``, ``failed``, ``skipped``).

What differs between APIs as data (paths, field names, limits) lives in each adapter's
``Description``; code in an adapter is only for real behavioural differences.
"""

from __future__ import annotations

import io
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import polars as pl

from pipeline.errors import (
    AuthError,
    ConflictError,
    SendingStopped,
    TargetError,
    TerminalError,
    TransientError,
)
from pipeline.http import ApiClient, Auth, RateLimiter, RetryPolicy, error_detail
from pipeline.progress import NullProgress, Progress
from pipeline.secrets import ApiKey

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

RESULT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "row": pl.Int64,
    "status": pl.String,
    "remote_id": pl.String,
    "error_code": pl.String,
    "error_message": pl.String,
}


@dataclass(frozen=True)
class Capabilities:
    """What a target can do, shown by ``contact-sync targets`` and used by diff and push."""

    can_list: bool
    bulk_create: int
    can_update: bool
    can_delete: bool
    bulk_delete: int
    opt_out: str
    lists: str
    page_size: int
    rate_limit: float | None
    bulk_rate_limit: float | None
    default_concurrency: int
    fields: tuple[str, ...]
    default_base_url: str | None = None
    required_options: tuple[str, ...] = ()
    notes: str = ""
    #: False when the API takes opt-outs but cannot show them back (consuelo's DNC list):
    #: the journal in --state-dir then remembers which numbers were opted out.
    opt_out_readable: bool = True


@dataclass(frozen=True)
class TargetSettings:
    """Everything an adapter needs from the run's configuration."""

    base_url: str
    api_key: ApiKey
    options: Mapping[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    rate_limit: float | None = None
    chunk_size: int = 1000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 30.0


@dataclass(frozen=True)
class Outcome:
    """One row's result, as adapters build it before it becomes a result frame."""

    row: int
    status: str
    remote_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class Target(ABC):
    """One platform's contact API."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    auth: ClassVar[Auth]

    @staticmethod
    def error_message(body: Any) -> str | None:
        """The human message inside one of this API's error bodies."""
        return None

    def __init__(self, settings: TargetSettings, progress: Progress | None = None) -> None:
        self.settings = settings
        self.progress = progress or NullProgress()
        caps = self.capabilities
        per_minute = settings.rate_limit if settings.rate_limit is not None else caps.rate_limit
        bulk = _bulk_limit(settings.rate_limit, caps.bulk_rate_limit)
        limiters = {"default": RateLimiter(per_minute or None), "bulk": RateLimiter(bulk or None)}
        self.concurrency = settings.concurrency or caps.default_concurrency
        self._stopped = threading.Event()
        self.client = ApiClient(
            base_url=settings.base_url,
            key=settings.api_key,
            auth=self.auth,
            error_message=self.error_message,
            limiters=limiters,
            retry=settings.retry,
            timeout=settings.timeout,
            max_connections=max(4, self.concurrency),
        )

    def close(self) -> None:
        self.client.close()

    def stop(self) -> None:
        """Let no request of ``stream`` begin any more (they raise ``Stopped``): for a read
        started ahead that the run no longer wants. ``resume`` undoes it."""
        self._stopped.set()

    def resume(self) -> None:
        self._stopped.clear()

    def stop_writes_on(self, event: threading.Event) -> None:
        """Once ``event`` is set, no write is sent any more (``ApiClient.stop_writes``)."""
        self.client.stop_writes = event

    @property
    def stopping(self) -> bool:
        """Whether writes are no longer sent (the run was asked to stop)."""
        return self.client.stop_writes.is_set()

    @property
    def chunk_size(self) -> int:
        return max(1, min(self.settings.chunk_size, self.capabilities.bulk_create))

    # -- what adapters implement -------------------------------------------------------
    @abstractmethod
    def fetch_remote(self) -> pl.DataFrame:
        """The whole remote contact set, canonical (``REMOTE_SCHEMA``)."""

    def lookup(self, e164s: Sequence[str]) -> pl.DataFrame:
        """The remote contacts with these numbers (targets that cannot list override)."""
        wanted = set(e164s)
        return self.fetch_remote().filter(pl.col("e164").is_in(list(wanted)))

    @abstractmethod
    def create(self, contacts: pl.DataFrame) -> pl.DataFrame:
        """Create these contacts; one result row per input row."""

    def create_blind(self, contacts: pl.DataFrame) -> pl.DataFrame:
        """Create without having read the remote set (``--skip-remote-read``): a contact
        that exists already must come back ``skipped`` with ``exists_remotely``."""
        return self.create(contacts)

    def update(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return skip_all(contacts, "update_unsupported", f"{self.name} cannot update contacts")

    def delete(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return skip_all(contacts, "delete_unsupported", f"{self.name} cannot delete contacts")

    def opt_out(self, contacts: pl.DataFrame) -> pl.DataFrame:
        return skip_all(contacts, "opt_out_unsupported", f"{self.name} has no opt-out")

    # -- shared machinery ------------------------------------------------------------
    def delete_each(self, contacts: pl.DataFrame, path: str = "/contacts/{id}") -> pl.DataFrame:
        """``DELETE path`` per contact, concurrently; a ``404`` means already gone."""
        work = list(contacts.select("row", "remote_id").iter_rows())
        return outcomes_frame(
            self.parallel(self._delete_one, [(r, i, path) for r, i in work], "deleting")
        )

    def _delete_one(self, work: tuple[Any, str, str]) -> Outcome:
        row, remote_id, path = work
        try:
            self.client.request("DELETE", path.format(id=remote_id))
        except TargetError as exc:
            if exc.status != 404:
                return failure_outcome(row, exc, remote_id)
        return Outcome(row, "deleted", remote_id)

    def parallel(self, fn: Callable[[T], R], items: Iterable[T], label: str) -> list[R]:
        """``fn`` over ``items`` with the target's concurrency, ticking a progress bar."""
        return list(self.stream(fn, items, label))

    def stream(self, fn: Callable[[T], R], items: Iterable[T], label: str) -> Iterator[R]:
        """``parallel``, handing each result on (in order) as soon as it is there, so the
        caller can fold results away instead of holding them all."""
        work = list(items)
        bar = self.progress.bar(label, len(work), "req")

        def unless_stopped(item: T) -> R:
            if self._stopped.is_set():
                raise Stopped(f"{self.name}: {label} stopped")
            return fn(item)

        try:
            with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
                for result in pool.map(unless_stopped, work):
                    bar.update(1)
                    yield result
        finally:
            bar.close()

    def fetch_pages(
        self,
        fetch: Callable[[T], Sequence[Mapping[str, Any]] | pl.DataFrame],
        keys: Iterable[T],
        names: Mapping[str, str],
        *,
        first: Sequence[Mapping[str, Any]] = (),
        label: str = "fetching",
        into: RemoteFrames | None = None,
    ) -> pl.DataFrame:
        """Records of every page ``fetch(key)`` returns (records, or a ``page_frame``),
        concurrently, as one canonical frame (``remote_frame``, page order kept) built as
        the pages arrive; ``into``: after the records gathered there already."""
        frames = RemoteFrames(names) if into is None else into
        frames.add(first)
        for records in self.stream(fetch, keys, label):
            frames.add(records)
        return frames.frame()


class Stopped(Exception):
    """A request of ``Target.stream`` not sent because the target was ``stop``ped."""


def _bulk_limit(requested: float | None, documented: float | None) -> float | None:
    """``--rate-limit`` caps bulk requests too, never above their documented limit; 0 is off."""
    if requested is None:
        return documented
    if requested == 0:
        return None
    return min(requested, documented) if documented else requested


T = TypeVar("T")
R = TypeVar("R")


def outcomes_frame(outcomes: Iterable[Outcome]) -> pl.DataFrame:
    rows = [(o.row, o.status, o.remote_id, o.error_code, o.error_message) for o in outcomes]
    return pl.DataFrame(rows, schema=RESULT_SCHEMA, orient="row")


def status_rows(
    contacts: pl.DataFrame, status: str, code: str | None = None, message: str | None = None
) -> pl.DataFrame:
    """Result rows (``RESULT_SCHEMA``) giving every contact the same status, error code and
    message, with its ``remote_id`` (null without one): what ``outcomes_frame`` would
    build from one ``Outcome`` a contact, at once."""
    return contacts.select(
        pl.col("row").cast(pl.Int64),
        pl.lit(status, pl.String).alias("status"),
        pl.col("remote_id").cast(pl.String)
        if "remote_id" in contacts.columns
        else pl.lit(None, pl.String).alias("remote_id"),
        pl.lit(code, pl.String).alias("error_code"),
        pl.lit(message, pl.String).alias("error_message"),
    )


#: the message of a row whose write the run did not send because it was asked to stop
INTERRUPTED_MESSAGE = "not sent: the run was interrupted; a rerun sends it"


def skip_all(contacts: pl.DataFrame, code: str, message: str) -> pl.DataFrame:
    return status_rows(contacts, "skipped", code, message)


def failure_outcome(row: int, exc: TargetError, remote_id: str | None = None) -> Outcome:
    """A terminal or exhausted error as one row's outcome (auth errors abort the run)."""
    if isinstance(exc, AuthError):
        raise exc
    if isinstance(exc, SendingStopped):
        return Outcome(row, "skipped", remote_id, "interrupted", INTERRUPTED_MESSAGE)
    if isinstance(exc, ConflictError):
        return Outcome(row, "failed", remote_id, "conflict", error_detail(exc))
    if isinstance(exc, TerminalError):
        return Outcome(row, "failed", remote_id, "rejected", error_detail(exc))
    if isinstance(exc, TransientError):
        return Outcome(row, "failed", remote_id, "failed", f"gave up after retries: {exc}")
    return Outcome(row, "failed", remote_id, "failed", str(exc))


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
    records: Callable[[Any], Sequence[Mapping[str, Any]]],
) -> pl.DataFrame:
    """The records of one JSON list page (an array under ``key``) as an API frame.

    Polars reads them straight from the bytes, with no Python object per record, when
    the page is an object whose ``key`` holds objects whose fields have the canonical
    types; anything else (and any ``metadata``) goes the Python way: ``records(body)``
    picks the records out of the parsed body, as the adapter always did.
    """
    fast = _polars_page(content, key, names)
    if fast is not None:
        return fast
    return _api_frame(records(json.loads(content) if content else None), names)


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


def payloads(
    contacts: pl.DataFrame, names: Mapping[str, str], fields: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """One API body per row (``body_of``), also when no wanted column is present."""
    wanted = [f for f in (names.keys() if fields is None else fields) if f in contacts.columns]
    if not wanted:
        return [{} for _ in range(contacts.height)]
    return [body_of(r, names, wanted) for r in contacts.select(wanted).iter_rows(named=True)]
