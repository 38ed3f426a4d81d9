"""Output files written under a temporary name beside their final one, renamed at the end.

A run writes its report and rejects file piece by piece, for minutes on a big file. Until
``commit`` the pieces go to a hidden file in the same directory (``.NAME.XXXXXXXX.tmp``);
``commit`` makes it durable and renames it over the final name in one step, so the final
name holds either the previous file or the whole new one: never a 0-byte or half-written
file, whatever stops the run (an error, an interrupt, ``kill -9``). ``discard`` removes
the temporary file of a run that ends without output.

A path that is a symlink is followed: the file it points to is replaced, the link stays.
A path that exists and is not a regular file (``/dev/stdout``, a named pipe) cannot be
renamed over: it is written in place, opened by the name given (``/dev/stdout`` on a pipe
has no real path to open: ``/proc/self/fd/1`` resolves to ``pipe:[...]``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import IO, Any


class StagedFile:
    """One output file; ``open`` as often as needed (the first truncates, later ones
    append), then ``commit`` or ``discard``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.final = Path(os.path.realpath(path))
        self._temp: Path | None = None
        self._opened = False
        try:  # the name given: its real path may be no name to stat (a pipe's, above)
            mode = os.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            mode = None
        self._in_place = mode is not None and not stat.S_ISREG(mode)
        #: the permissions of the file replaced (None: new, the umask decides)
        self._mode = stat.S_IMODE(mode) if mode is not None and not self._in_place else None

    def open(self, binary: bool = True, **kwargs: Any) -> IO[Any]:
        """A handle on the file being written (``kwargs`` go to ``open``, for text)."""
        first = not self._opened
        self._opened = True
        if self._in_place:
            target = self.path
        else:
            if self._temp is None:
                self._temp = self._create_temp()
            target = self._temp
        mode = ("w" if first else "a") + ("b" if binary else "")
        return open(target, mode, **kwargs)  # noqa: SIM115 - the caller closes it

    def write_text(self, text: str) -> None:
        """The whole file at once (UTF-8)."""
        with self.open(binary=False, encoding="utf-8", newline="") as handle:
            handle.write(text)

    def commit(self) -> None:
        """Rename the finished file into place (nothing happens when it was never opened)."""
        temp, self._temp = self._temp, None
        if temp is None:
            return
        try:
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
            if self._mode is not None:
                os.chmod(temp, self._mode)
            os.replace(temp, self.final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def discard(self) -> None:
        """Remove the temporary file (the final name keeps what it held)."""
        temp, self._temp = self._temp, None
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()

    def _create_temp(self) -> Path:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        while True:
            temp = self.final.with_name(f".{self.final.name}.{secrets.token_hex(4)}.tmp")
            try:
                # 0o666: the umask decides the permissions of a new file, as for any file
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            os.close(fd)
            return temp


def write_atomically(path: Path, text: str) -> None:
    """``text`` (UTF-8) as the whole of ``path``, renamed into place when complete."""
    staged = StagedFile(path)
    try:
        staged.write_text(text)
        staged.commit()
    finally:
        staged.discard()
