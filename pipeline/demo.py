"""``make demo``: start the arnis sandbox, sync sample_data/contacts.csv twice, stop it.

The first sync creates every contact; the second finds every row unchanged and sends no
write. Both go through the real command (``python -m pipeline sync``) over loopback.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

SAMPLE = Path("sample_data/contacts.csv")
OUT = Path("out/demo")


def _sync(url: str, report: Path, env: dict[str, str]) -> int:
    command = [
        sys.executable,
        "-m",
        "pipeline",
        "sync",
        str(SAMPLE),
        "--target",
        "arnis",
        "--base-url",
        url,
        "--report",
        str(report),
        "--summary-json",
        str(report.with_suffix(".json")),
        "--state-dir",
        str(OUT / "state"),
        "--no-progress",
    ]
    print("$ contact-sync " + " ".join(command[3:]), flush=True)  # the command as run
    done = subprocess.run(command, env=env, check=False)
    print(f"  exit code {done.returncode}\n", flush=True)  # the files: in the summary
    return done.returncode


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CONTACT_SYNC_API_KEY": "demo-" + secrets.token_hex(8)}
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "sandbox", "--target", "arnis"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        print(f"arnis sandbox listening on {url}\n", flush=True)
        first = _sync(url, OUT / "first-sync.csv", env)
        print("Second run of the same file: every row should be unchanged, with no write sent.")
        second = _sync(url, OUT / "second-sync.csv", env)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print("sandbox stopped.")
    return 0 if first in (0, 1) and second == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
