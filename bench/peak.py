"""``python -m bench.peak OUT ARGS...``: run ``contact-sync ARGS`` in this process and write
its peak resident memory in MB (``VmHWM``, see bench.stage.peak_mb) to OUT as it exits."""

from __future__ import annotations

import atexit
import sys
from pathlib import Path

from bench.stage import peak_mb


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    atexit.register(lambda: out.write_text(f"{peak_mb():.1f}\n", encoding="ascii"))
    from pipeline.cli import run

    run(argv[1:])  # the installed command's own entry, quick exit included


if __name__ == "__main__":
    main(sys.argv[1:])
