"""One run at a time per target identity: an OS file lock in ``--state-dir``.

The run holds ``fcntl.flock`` on ``<key>.lock`` for its whole lifetime; the kernel lets
go of it when the process ends, however it ends (``kill -9`` and a reboot included), so a
lock nobody holds is stale by definition and is simply taken: no pid to trust, no pid
reuse to be fooled by. The file also says, for people, who holds it (pid, the process's
start time, host, since when, and which target).

Lock files written by earlier versions (no OS lock, only the pid) are still respected
while their process lives: the pid must be alive on this host and must have started
before the lock was written (a younger process got the pid by reuse).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from pipeline.errors import LockHeldError, StateError

#: the mark of a lock file whose holder holds the OS lock (a file without it is an old one)
_KIND = "flock"
#: seconds the boot time /proc gives may be off by (NTP steps): an old holder's process
#: started before it wrote the lock, a process that got its pid by reuse long after
_CLOCK_SLACK = 5.0


class RunLock:
    """The lock of one target identity; use as a context manager.

    ``legacy_keys``: keys of old-style lock files of the same target (see
    ``pipeline.identity``) that a run of an earlier version may still hold."""

    def __init__(
        self, state_dir: Path, key: str, *, describe: str = "", legacy_keys: Sequence[str] = ()
    ) -> None:
        self.path = state_dir / f"{key}.lock"
        self.describe = describe
        self.legacy = [state_dir / f"{k}.lock" for k in legacy_keys]
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            return self._take()
        except OSError as exc:
            raise StateError(_state_dir_problem(self.path, exc)) from exc

    def _take(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for path in self.legacy:
            _clear_old_lock(path)
        for _ in range(10):  # a holder may remove the file between our open and our lock
            fd = _open_locked(self.path)
            if fd is None:
                continue
            try:
                _refuse_if_old_holder_alive(self.path, fd)
            except LockHeldError:
                os.close(fd)
                raise
            self._fd = fd
            self._write_holder(fd)
            return self
        raise LockHeldError(f"could not take the lock {self.path}: it keeps changing hands")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)  # while still holding it: see _open_locked
            os.close(self._fd)
            self._fd = None

    def _write_holder(self, fd: int) -> None:
        holder = {
            "lock": _KIND,
            "pid": os.getpid(),
            "pid_start": _start_ticks(os.getpid()),
            "host": socket.gethostname(),
            "started": time.time(),
            "target": self.describe,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        os.fsync(fd)


def _open_locked(path: Path) -> int | None:
    """``path`` opened and locked by us; None if it was removed under us (try again);
    LockHeldError (naming the holder) while another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise LockHeldError(_held_message(path, _read_holder(path))) from exc
    try:
        same = os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        same = False
    if not same:  # its holder unlinked it on leaving: this inode is no lock any more
        os.close(fd)
        return None
    return fd


def _clear_old_lock(path: Path) -> None:
    """An old-style lock file of the same target: LockHeldError while its run lives,
    removed when it is stale."""
    if not path.exists():
        return
    with contextlib.suppress(FileNotFoundError):
        fd = _open_locked(path)
        if fd is None:
            return
        try:
            _refuse_if_old_holder_alive(path, fd)
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def _refuse_if_old_holder_alive(path: Path, fd: int) -> None:
    """We hold the OS lock of ``path``; a holder of an old version never took it, so an
    old-style holder that is still alive holds the lock all the same."""
    holder = _read_holder(path)
    if not holder or holder.get("lock") == _KIND:
        return  # empty (a crash mid-write) or ours: nobody holds it now
    if _old_holder_alive(holder):
        raise LockHeldError(_held_message(path, holder))


def _old_holder_alive(holder: dict[str, Any]) -> bool:
    if holder.get("host") != socket.gethostname():
        return True  # cannot tell from here: the run may be going on on that machine
    try:
        pid = int(holder.get("pid"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False  # no pid: nothing to wait for
    if pid <= 0 or not _pid_alive(pid):
        return False
    started = holder.get("started")
    born = _start_time(pid)
    # a process younger than the lock got that pid by reuse: not the holder
    reused = isinstance(started, int | float) and born is not None and born > started + _CLOCK_SLACK
    return not reused


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _held_message(path: Path, holder: dict[str, Any]) -> str:
    started = holder.get("started")
    since = (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started))
        if isinstance(started, int | float)
        else "an unknown time"
    )
    what = f" for {holder['target']}" if holder.get("target") else ""
    who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since {since}"
    advice = "Wait for it to finish."
    if holder and holder.get("lock") != _KIND:
        advice += " If that process is gone, delete the lock file."
    return f"another run holds the lock {path}{what} ({who}). {advice}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_ticks(pid: int) -> int | None:
    """The process's start, in clock ticks after boot (Linux ``/proc/<pid>/stat``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) ": state is field 3
    try:
        return int(fields[19])  # field 22, starttime
    except (IndexError, ValueError):
        return None


def _start_time(pid: int) -> float | None:
    """When the process started, as a Unix time (None where /proc cannot tell)."""
    ticks = _start_ticks(pid)
    if ticks is None:
        return None
    try:
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _state_dir_problem(lock: Path, exc: OSError) -> str:
    """Why the lock cannot be taken, in terms of ``--state-dir`` and what to do."""
    state_dir = lock.parent
    existing = state_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return (
            f"--state-dir {state_dir}: {existing} is a file, not a directory; give a "
            "directory (it is created when missing; the default is .contact-sync)"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        missing = "" if existing == state_dir else f" to create {state_dir}"
        return (
            f"--state-dir {state_dir}: no permission to write in {existing}{missing}; give "
            "a directory this user can write to"
        )
    return (
        f"cannot take the lock {lock} ({exc.strerror or exc}): --state-dir must be a "
        "directory this user can write to"
    )
