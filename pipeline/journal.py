"""Single-instance runs and the run journal, in ``--state-dir``.

``RunLock`` is a lock file per target and base URL holding the owner's pid, host and start
time; a second run exits 3 naming the holder, and a lock left by a dead process on this
host is taken over. ``Journal`` keeps the run's plan (``.plan.parquet``) and appends one
fsynced JSON line per confirmed step (rows and remote ids), so a crash leaves a trace of
what landed. What makes a rerun converge is the diff: it re-reads the remote set and sends
only what is still missing, so nothing is sent twice even if the journal is lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl

from pipeline.errors import LockHeldError
from pipeline.secrets import redact


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def state_key(target: str, base_url: str) -> str:
    digest = hashlib.sha256(base_url.encode()).hexdigest()[:10]
    return f"{target}-{digest}"


class RunLock:
    """An exclusive lock file; use as a context manager."""

    def __init__(self, state_dir: Path, key: str) -> None:
        self.path = state_dir / f"{key}.lock"

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_if_stale()
                continue
            owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
            with os.fdopen(fd, "w") as handle:
                json.dump(owner, handle)
            return self
        raise LockHeldError(self._held_message())

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.path.unlink(missing_ok=True)

    def _owner(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _take_over_if_stale(self) -> None:
        owner = self._owner()
        same_host = owner.get("host") == socket.gethostname()
        pid = owner.get("pid")
        if same_host and isinstance(pid, int) and not _pid_alive(pid):
            self.path.unlink(missing_ok=True)
        elif not owner and time.time() - self.path.stat().st_mtime > 60:
            self.path.unlink(missing_ok=True)  # unreadable and old: a crash mid-write

    def _held_message(self) -> str:
        owner = self._owner()
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner.get("started", 0)))
        return (
            f"another run holds the lock {self.path} (pid {owner.get('pid')} on "
            f"{owner.get('host')}, since {since}). Wait for it to finish; if that process is "
            "gone, delete the lock file."
        )


class Journal:
    """Append-only JSON lines of confirmed outcomes for one target."""

    def __init__(self, state_dir: Path, key: str) -> None:
        self.path = state_dir / f"{key}.journal.jsonl"

    def record(self, event: str, **data: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = redact(json.dumps({"time": time.time(), "event": event, **data}, default=str))
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def record_plan(self, plan: pl.DataFrame | pl.LazyFrame) -> None:
        """The run's plan, whole (``<key>.plan.parquet``), and its counts in the journal.

        A lazy plan (pieces spooled by a big run) is streamed to the file, not collected."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        path = self.path.with_name(self.path.name.replace(".journal.jsonl", ".plan.parquet"))
        lazy = plan.lazy()
        lazy.sink_parquet(path)
        counts = lazy.group_by("action").len().collect(engine="streaming")
        self.record("plan", counts=dict(counts.iter_rows()))

    def record_step(self, step: str, results: pl.DataFrame) -> None:
        """What one step confirmed: the rows by status, with their remote ids (rows that
        failed, or were not sent because the run was interrupted, are only counted)."""
        not_sent = (pl.col("status") == "failed") | (pl.col("error_code") == "interrupted")
        landed = results.filter(~not_sent.fill_null(False))
        self.record(
            "confirmed",
            step=step,
            counts=dict(results.group_by("status").len().iter_rows()),
            rows=landed["row"].to_list(),
            remote_ids=landed["remote_id"].to_list(),
        )

    def events(self, event: str) -> list[dict[str, Any]]:
        """Every recorded line of one kind (a torn last line, from a crash, is skipped)."""
        if not self.path.exists():
            return []
        found = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("event") == event:
                found.append(data)
        return found

    def opted_out_numbers(self) -> set[str]:
        """Numbers this tool opted out on the target (for targets that cannot show them)."""
        return {n for e in self.events("opted_out") for n in e.get("numbers", [])}
