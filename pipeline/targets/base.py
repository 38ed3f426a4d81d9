"""The Target interface: what every adapter declares (Capabilities) and does.

A target receives and returns polars frames:

- ``fetch_remote()`` → the remote set in canonical form (``REMOTE_SCHEMA``);
- ``create`` / ``update`` / ``delete`` / ``opt_out`` take plan rows and return one
  result row per input row (``RESULT_SCHEMA``): nothing is dropped, every row gets a
  status (``created``, ``updated``, ``deleted``, ``unchanged``, ``failed``, ``skipped``).

What differs between APIs is data, a ``Description`` (``model.py``, one TOML file per
target) that one engine runs (``engine.py``); code is only for real quirks.
"""

from __future__ import annotations

import math
import threading
import time
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
from pipeline.http import ApiClient, Auth, Pace, RateLimiter, RetryPolicy, error_detail
from pipeline.progress import NullProgress, Progress, tell
from pipeline.secrets import ApiKey
from pipeline.targets.frames import REMOTE_SCHEMA, RemoteFrames

__all__ = ["REMOTE_SCHEMA", "RESULT_SCHEMA", "Capabilities", "Outcome", "Target", "TargetSettings"]

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
    #: every ``--option`` name the target reads (required ones included): others are refused
    known_options: tuple[str, ...] = ()
    #: the options that name a part of the account (its lock and journal are their own)
    identity_options: tuple[str, ...] = ()
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
        self.concurrency = settings.concurrency or caps.default_concurrency
        # documented limits are where the pace starts; what the API's 429s teach comes on
        # top, and lowers the requests in flight too (pipeline.http.limiter)
        pace = Pace(self.concurrency)
        limiters = {
            "default": RateLimiter(per_minute or None, pace=pace),
            "bulk": RateLimiter(bulk or None, pace=pace),
        }
        self._stopped = threading.Event()
        self._last_note = (0.0, 0.0)
        self.client = ApiClient(
            base_url=settings.base_url,
            key=settings.api_key,
            auth=self.auth,
            error_message=self.error_message,
            limiters=limiters,
            retry=settings.retry,
            timeout=settings.timeout,
            max_connections=max(4, self.concurrency),
            on_wait=self._waiting,
        )

    def close(self) -> None:
        self.client.close()

    def _waiting(self, kind: str, seconds: float, error: TargetError) -> None:
        """A request waits on the API: a line for a person watching (``Progress.note``),
        at most one every few seconds unless the wait is longer than the last told."""
        now = time.monotonic()
        last_at, last_wait = self._last_note
        if seconds < 1.0 or (now - last_at < _NOTE_EVERY and seconds <= last_wait):
            return
        self._last_note = (now, seconds)
        shown = f"{math.ceil(seconds)} s"
        if kind == "throttled":
            tell(self.progress, f"{self.name}: throttled: waiting {shown}")
        else:
            why = f"HTTP {error.status}" if error.status else "no answer"
            tell(self.progress, f"{self.name}: {why}: retrying in {shown}")

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

    # -- what the engine implements ---------------------------------------------------
    @abstractmethod
    def fetch_remote(self) -> pl.DataFrame:
        """The whole remote contact set, canonical (``REMOTE_SCHEMA``)."""

    @abstractmethod
    def lookup(self, e164s: Sequence[str]) -> pl.DataFrame:
        """The remote contacts with these numbers."""

    @abstractmethod
    def create(self, contacts: pl.DataFrame) -> pl.DataFrame:
        """Create these contacts; one result row per input row (as every write below)."""

    @abstractmethod
    def create_blind(self, contacts: pl.DataFrame) -> pl.DataFrame:
        """Create without having read the remote set (``--skip-remote-read``): a contact
        that exists already must come back ``skipped`` with ``exists_remotely``."""

    @abstractmethod
    def update(self, contacts: pl.DataFrame) -> pl.DataFrame: ...

    @abstractmethod
    def delete(self, contacts: pl.DataFrame) -> pl.DataFrame: ...

    @abstractmethod
    def opt_out(self, contacts: pl.DataFrame) -> pl.DataFrame: ...

    # -- shared machinery ------------------------------------------------------------
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


#: seconds between two notes of waiting on the API (a longer wait is told at once)
_NOTE_EVERY = 5.0


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
