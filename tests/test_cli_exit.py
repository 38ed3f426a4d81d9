"""The installed command's quick exit (``pipeline.cli.run`` / ``quick_exit``): a real
``python`` process each time, since what is tested is how the process ends."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "messy.csv"


def _environment(tmp_path: Path) -> dict[str, str]:
    """The environment, with buffered standard streams (as in a cron job's pipes)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return {**env, "TMPDIR": str(tmp_path), "CONTACT_SYNC_API_KEY": "sk_exit_test"}


def _python(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = _environment(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_exit_handlers_run_and_spool_directories_go(tmp_path: Path) -> None:
    """An HTML report keeps the results in a spool under TMPDIR: the directory is removed
    at exit by its finalizer (an exit handler), which a bare os._exit would skip."""
    marker = tmp_path / "handler-ran"
    html = tmp_path / "report.html"
    done = _python(
        """
        import atexit, sys
        from pathlib import Path
        atexit.register(lambda: Path(sys.argv[1]).write_text("yes"))
        from pipeline.cli import run
        run(["validate", sys.argv[2], "--html-report", sys.argv[3], "--quiet"])
        """,
        tmp_path,
        str(marker),
        str(SAMPLE),
        str(html),
    )
    assert done.returncode == 1, done.stderr  # messy.csv has invalid rows
    assert marker.read_text() == "yes"
    assert html.stat().st_size > 0
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("contact-sync-")]


def test_usage_errors_keep_their_status(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "validate", str(tmp_path / "missing.csv")],
        cwd=ROOT,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "missing.csv" in done.stderr


def test_statuses_as_sys_exit_reads_them(tmp_path: Path) -> None:
    """None, a number, a message; and what was printed to a buffered pipe gets out."""
    code = """
        import sys
        from pipeline.cli import quick_exit
        print("before", flush=False)
        quick_exit({status})
        """
    assert _python(code.format(status="None"), tmp_path).returncode == 0
    assert _python(code.format(status="7"), tmp_path).returncode == 7
    said = _python(code.format(status="'went wrong'"), tmp_path)
    assert (said.returncode, said.stdout, said.stderr.strip()) == (1, "before\n", "went wrong")


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    """With a non-daemon thread still at work the normal exit, which joins it, is taken."""
    marker = tmp_path / "thread-done"
    done = _python(
        """
        import sys, threading, time
        from pathlib import Path
        def late():
            time.sleep(0.5)
            Path(sys.argv[1]).write_text("done")
        threading.Thread(target=late).start()
        from pipeline.cli import quick_exit
        quick_exit(4)
        """,
        tmp_path,
        str(marker),
    )
    assert done.returncode == 4, done.stderr
    assert marker.read_text() == "done"
