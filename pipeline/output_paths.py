"""A run's output paths, resolved and checked before anything is read or sent.

``resolve_outputs`` fills in ``{date}`` and refuses (``UsageError``, exit 2), naming the
flag and the path:

- an output that is the input file or the job file (the same real path, or the same
  device and inode: ``./x.csv``, ``../dir/x.csv``, a symlink, a hard link), which the run
  would destroy;
- two outputs that are the same file;
- an output that cannot be written: a directory, a path under a file, a directory that
  cannot be created, a file or directory without write permission.

Nothing is created here: a missing directory is made when its first file is written.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import UsageError

if TYPE_CHECKING:
    from pipeline.config import Settings

#: the output settings and the flag each comes from
FLAGS = {
    "report": "--report",
    "rejects": "--rejects",
    "html_report": "--html-report",
    "summary_json": "--summary-json",
}


@dataclass(frozen=True)
class OutputPaths:
    """Where one run writes (``{date}`` filled in); None: not asked for."""

    report: Path | None = None
    rejects: Path | None = None
    html_report: Path | None = None
    summary_json: Path | None = None

    def given(self) -> Iterator[tuple[str, Path]]:
        """(setting name, path) of every output asked for, in the order they are written."""
        for item in fields(self):
            path = getattr(self, item.name)
            if path is not None:
                yield item.name, path


def resolve_outputs(settings: Settings) -> OutputPaths:
    """The run's output paths, each checked (see the module's docstring)."""
    paths = OutputPaths(**{name: settings.path(name) for name in FLAGS})
    protected = [("the input file", settings.input), ("the job file", settings.job_file)]
    seen: list[tuple[str, Path, str]] = []
    for name, path in paths.given():
        flag = FLAGS[name]
        shown = str(getattr(settings, name)).replace("{date}", settings.run_date)  # as typed
        _check_writable(flag, path, shown)
        for what, source in protected:
            if source is not None and str(source) != "-" and _same_file(path, Path(source)):
                _refuse_input(flag, shown, what, str(source))
        for other_name, other, other_shown in seen:
            if _same_file(path, other) and not _is_device(path):
                raise UsageError(
                    f"{FLAGS[other_name]} {other_shown} and {flag} {shown} are the same file: "
                    "each would overwrite the other. Give each output its own path. Nothing "
                    "was read or sent."
                )
        seen.append((name, path, shown))
    return paths


def _refuse_input(flag: str, shown: str, what: str, source: str) -> None:
    same_name = os.path.normpath(shown) == os.path.normpath(source)
    also = "" if same_name else f" ({source}, the same file)"
    raise UsageError(
        f"{flag} {shown} is {what}{also}: writing it would destroy {what}. Give {flag} "
        "another path. Nothing was read or sent."
    )


def _same_file(a: Path, b: Path) -> bool:
    """The same real path, or (both existing) the same device and inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet), or cannot be looked at
        return False


def _is_device(path: Path) -> bool:
    """A character device (/dev/null, a terminal) or a pipe (/dev/stdout of ``| less``):
    written in place, where several outputs may go."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _check_writable(flag: str, path: Path, shown: str) -> None:
    """``path`` can be written: not a directory, its directory exists or can be made,
    and write permission where the file (or its temporary twin) will be created."""
    real = Path(os.path.realpath(path))
    try:  # the name given: /dev/stdout on a pipe has no real path (pipe:[...]) to stat
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None  # not there yet (or under a file: see _check_directory)
    except OSError as exc:
        raise UsageError(
            f"{flag} {shown}: cannot be checked ({exc.strerror}). Give a path you can write "
            "to. Nothing was read or sent."
        ) from exc
    if shown.endswith(("/", os.sep)) or (mode is not None and stat.S_ISDIR(mode)):
        raise UsageError(
            f"{flag} {shown} is a directory: give a file path, such as "
            f"{Path(path) / _example(flag)}. Nothing was read or sent."
        )
    if mode is not None and not stat.S_ISREG(mode):
        if not os.access(path, os.W_OK):
            raise UsageError(
                f"{flag} {shown}: no permission to write it. Nothing was read or sent."
            )
        return  # a device or a pipe, written where it is
    if mode is not None and not os.access(real, os.W_OK):
        raise UsageError(
            f"{flag} {shown} is read-only: make it writable or give another path. "
            "Nothing was read or sent."
        )
    _check_directory(flag, shown, real.parent)


def _check_directory(flag: str, shown: str, directory: Path) -> None:
    """``directory`` exists and takes new files, or the first existing one above it can
    take the missing ones."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        blocked = "" if existing == directory else f", so {directory} cannot be created"
        raise UsageError(
            f"{flag} {shown}: {existing} is a file, not a directory{blocked}. Give another "
            "path. Nothing was read or sent."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        missing = "" if existing == directory else f" to create {directory}"
        raise UsageError(
            f"{flag} {shown}: no permission to write in {existing}{missing}. Give a path in a "
            "directory you can write to. Nothing was read or sent."
        )


def _example(flag: str) -> str:
    return {
        "--report": "report.csv",
        "--rejects": "rejects.csv",
        "--html-report": "report.html",
        "--summary-json": "summary.json",
    }[flag]
