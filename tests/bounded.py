"""The CLI in a process of its own whose memory is watched: killed past ``BOUND`` bytes of
resident memory (or a timeout), so that a test of a hostile input or server can show the
peak without ever exhausting the machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import API_KEY

BOUND = 1024 * 1024 * 1024  # bytes of RSS
ROOT = Path(__file__).resolve().parent.parent


def run_bounded(args: list[str], timeout: float = 180) -> tuple[int, str, int]:
    """``contact-sync ARGS``: its exit code, stderr and peak RSS (killed past BOUND)."""
    env = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak, started = 0, time.monotonic()
    while process.poll() is None:
        peak = max(peak, _rss(process.pid))
        if peak > BOUND or time.monotonic() - started > timeout:
            process.kill()
            break
        time.sleep(0.05)
    _, stderr = process.communicate()
    return process.returncode, stderr, peak


def _rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1]) * 1024
