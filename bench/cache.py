"""The OS file cache, warmed before a timed run (what ``hyperfine --warmup`` is for).

A run that finds its input file or its libraries out of the page cache waits for the
disk, and that wait is the machine's, not the code's. On the VM this bench is developed
on, pages no process maps are paged out within seconds (DAMON's ``pageout`` scheme), so
every fresh process read parts of polars' 180 MB runtime library back from disk: one
``validate`` of 1M rows took 6.58 s with 2.87 s of iowait, and 2.95-3.58 s once the
library had been read just before (``/proc/stat``'s iowait, runs back to back).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

_CHUNK = 16 * 1024 * 1024


def shared_libraries() -> list[Path]:
    """The compiled extension modules this process has loaded (polars' runtime among
    them): what a ``contact-sync`` process started from here loads too."""
    paths = set()
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None) or ""
        if name.endswith((".so", ".pyd")):
            paths.add(Path(name))
    return sorted(paths)


def warm(paths: Iterable[str | Path]) -> None:
    """Read every file once, so that a run started next finds it in the page cache."""
    for path in paths:
        try:
            with open(path, "rb") as stream:
                while stream.read(_CHUNK):
                    pass
        except OSError:
            continue  # not a file (a URL, a flag's value): nothing to warm


def iowait_seconds() -> float:
    """The machine's time waiting for the disk so far (all cores), from ``/proc/stat``;
    0 where there is none."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[5]) / os.sysconf("SC_CLK_TCK")  # cpu user nice system idle iowait
    except (OSError, IndexError, ValueError):
        return 0.0
