"""The run journal, in ``--state-dir`` (the lock beside it is ``pipeline.lock``).

``Journal`` keeps the run's plan (``.plan.parquet``) and appends one fsynced JSON line per
confirmed step (rows and remote ids), so a crash leaves a trace of what landed. What makes
a rerun converge is the diff: it re-reads the remote set and sends only what is still
missing, so nothing is sent twice even if the journal is lost. What a rerun does read
back is the numbers the tool opted out on a target that cannot show them (consuelo).

Files are named by the target identity (``pipeline.identity``). A journal written under
an old key (the URL's text) is read as well, never written to: nothing to migrate, and
a rerun with the old spelling finds its opt-outs.

A journal that cannot be read (a bad byte, a line of the wrong shape) is a
``StateError`` naming the file and line, and the way out: ``reset`` (``--reset-state``)
moves it aside under a timestamped name and keeps the opt-outs still readable in it.
A last line torn by a crash is no damage: it is skipped, and cut off before the next write.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from pipeline.errors import StateError
from pipeline.identity import target_identity
from pipeline.lock import RunLock
from pipeline.outcomes import Code
from pipeline.secrets import redact

__all__ = ["Journal", "RunLock", "state_key"]

_SUFFIX = ".journal.jsonl"
#: how every line ``record`` writes begins
_ENTRY_START = b'{"time": '


def state_key(target: str, base_url: str) -> str:
    """The key of ``target`` at ``base_url`` with no identity options (``identity.py``)."""
    return target_identity(target, base_url, {}, ()).key


class Journal:
    """Append-only JSON lines of confirmed outcomes for one target identity."""

    def __init__(self, state_dir: Path, key: str, legacy_keys: Sequence[str] = ()) -> None:
        self.path = state_dir / f"{key}{_SUFFIX}"
        self.legacy = [state_dir / f"{k}{_SUFFIX}" for k in legacy_keys]
        self._mended = False

    def record(self, event: str, **data: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self._mended:
            _mend_torn_tail(self.path)
            self._mended = True
        line = redact(json.dumps({"time": time.time(), "event": event, **data}, default=str))
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def record_plan(self, plan: pl.DataFrame | pl.LazyFrame) -> None:
        """The run's plan, whole (``<key>.plan.parquet``), and its counts in the journal.

        A lazy plan (pieces spooled by a big run) is streamed to the file, not collected."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        path = self.path.with_name(self.path.name.replace(_SUFFIX, ".plan.parquet"))
        lazy = plan.lazy()
        lazy.sink_parquet(path)
        counts = lazy.group_by("action").len().collect(engine="streaming")
        self.record("plan", counts=dict(counts.iter_rows()))

    def record_step(self, step: str, results: pl.DataFrame) -> None:
        """What one step confirmed: the rows by status, with their remote ids (rows that
        failed, or were not sent because the run was interrupted, are only counted)."""
        not_sent = (pl.col("status") == "failed") | (pl.col("error_code") == Code.INTERRUPTED)
        landed = results.filter(~not_sent.fill_null(False))
        self.record(
            "confirmed",
            step=step,
            counts=dict(results.group_by("status").len().iter_rows()),
            rows=landed["row"].to_list(),
            remote_ids=landed["remote_id"].to_list(),
        )

    def events(self, event: str) -> list[dict[str, Any]]:
        """Every recorded line of one kind, from this journal and the old-keyed ones.

        Raises StateError when a file is damaged (a torn last line is skipped)."""
        found: list[dict[str, Any]] = []
        for path in self._files():
            found.extend(e for e in read_events(path) if e["event"] == event)
        return found

    def opted_out_numbers(self) -> set[str]:
        """Numbers this tool opted out on the target (for targets that cannot show them)."""
        return {n for e in self.events("opted_out") for n in e.get("numbers", [])}

    def reset(self) -> dict[str, Any]:
        """Move this journal (and old-keyed ones) aside, damaged or not, keeping the
        opt-outs still readable in them in a fresh journal. Returns what was done."""
        kept: set[str] = set()
        moved = []
        for path in self._files():
            kept |= _readable_opt_outs(path)
            aside = _aside_name(path)
            path.rename(aside)
            moved.append(str(aside))
        if moved:
            self.record("reset", moved_to=moved)
        if kept:
            self.record("opted_out", numbers=sorted(kept))
        return {"moved_to": moved, "opt_outs_kept": len(kept)}

    def _files(self) -> list[Path]:
        return [p for p in (self.path, *self.legacy) if p.exists()]


def read_events(path: Path) -> list[dict[str, Any]]:
    """The lines of one journal file, each checked (``StateError`` names the first bad one)."""
    events = []
    for number, line, last in _lines(path):
        try:
            events.append(_event(line))
        except ValueError as exc:
            if last:
                continue  # a line the crash of a run cut short: no damage
            rest = _after_torn_prefix(line)
            if rest is None:
                raise StateError(_damaged(path, number, str(exc))) from exc
            events.append(rest)
    return events


def _after_torn_prefix(line: bytes) -> dict[str, Any] | None:
    """A whole entry appended (by an earlier version) right after a line torn by a
    crash, as one line: the entry, or None when the line is not that."""
    start = line.rfind(_ENTRY_START)
    if start <= 0:
        return None
    try:
        return _event(line[start:])
    except ValueError:
        return None


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, line, whether it is an unterminated last line) for non-blank lines."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StateError(
            f"cannot read the journal {path} ({exc.strerror or exc}). Nothing was sent. Make "
            "it a file this user can read, or move it out of the state directory"
        ) from exc
    lines = data.split(b"\n")
    for index, line in enumerate(lines):
        if line.strip():
            yield index + 1, line, index == len(lines) - 1


def _event(line: bytes) -> dict[str, Any]:
    """One line as an event, or ValueError saying what is wrong with it."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"byte {exc.start + 1} is not UTF-8 ({line[exc.start]:#04x})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not a JSON line ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise ValueError("not a journal entry (a JSON object with an 'event' name)")
    for name, (check, wanted) in _SHAPES.get(data["event"], {}).items():
        if not check(data.get(name)):
            raise ValueError(f"'{name}' of a '{data['event']}' entry must be {wanted}")
    return data


def _list_of(kind: type | tuple[type, ...]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(isinstance(x, kind) for x in v)


def _counts(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(n, int) for n in value.values())


_COUNTS = (_counts, "an object of counts")
#: the fields each kind of entry must have, and their shape (other kinds: any fields)
_SHAPES: dict[str, dict[str, tuple[Callable[[Any], bool], str]]] = {
    "opted_out": {"numbers": (_list_of(str), "a list of phone numbers")},
    "plan": {"counts": _COUNTS},
    "done": {"counts": _COUNTS},
    "interrupted": {"counts": _COUNTS},
    "confirmed": {
        "step": (lambda v: isinstance(v, str), "a step name"),
        "counts": _COUNTS,
        # a remote-only contact (mirror mode's deletes) has no row: null
        "rows": (_list_of((int, type(None))), "a list of row numbers"),
        "remote_ids": (lambda v: isinstance(v, list), "a list of ids"),
    },
}


def _damaged(path: Path, number: int, what: str) -> str:
    return (
        f"the journal {path} is damaged at line {number}: {what}. Nothing was sent. To "
        "start again from a fresh read of the remote set (safe for upsert), rerun sync with "
        f"--reset-state: it moves the journal aside (to {path.name}.reset-<date-time>) and "
        "keeps the opt-outs still readable in it. Or move the file out of the state "
        "directory yourself."
    )


def _readable_opt_outs(path: Path) -> set[str]:
    numbers: set[str] = set()
    for _, line, _ in _lines(path):
        try:
            event = _event(line)
        except ValueError:
            continue
        if event["event"] == "opted_out":
            numbers.update(event["numbers"])
    return numbers


def _aside_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.reset-{stamp}")
    count = 1
    while aside.exists():
        count += 1
        aside = path.with_name(f"{path.name}.reset-{stamp}-{count}")
    return aside


def _mend_torn_tail(path: Path) -> None:
    """Before appending: a last line without its newline ends with one (a whole entry)
    or is cut off (torn by a crash, never readable), so the next line starts clean."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with path.open("r+b") as handle:
        start = _last_line_start(handle, size)
        if start is None:
            return  # empty, or ends with a newline
        handle.seek(start)
        try:
            _event(handle.read())
        except ValueError:
            handle.truncate(start)
        else:
            handle.write(b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def _last_line_start(handle: BinaryIO, size: int, block: int = 65536) -> int | None:
    """Where the unterminated last line of a file starts; None if there is none."""
    if size == 0:
        return None
    handle.seek(size - 1)
    if handle.read(1) == b"\n":
        return None
    end = size
    while end > 0:
        begin = max(0, end - block)
        handle.seek(begin)
        found = handle.read(end - begin).rfind(b"\n")
        if found >= 0:
            return begin + found + 1
        end = begin
    return 0
