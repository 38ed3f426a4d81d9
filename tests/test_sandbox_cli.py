"""``contact-sync sandbox`` stops on Ctrl-C, and a port in use gets exit 2 and what to do
(issue 20 item 15), with real processes."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest


def _sandbox(*args: str, ignore_sigint: bool = False) -> subprocess.Popen[str]:
    def ignore() -> None:  # as a background job of a script starts it
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "sandbox", "--target", "arnis", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ignore if ignore_sigint else None,
    )


@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["plain", "sigint-ignored"])
def test_ctrl_c_stops_the_sandbox_cleanly(ignore_sigint: bool) -> None:
    server = _sandbox(ignore_sigint=ignore_sigint)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith("http://127.0.0.1:")
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
    finally:
        server.kill()
        server.wait()
    assert server.stderr is not None and server.stderr.read() == ""


def test_a_port_in_use_says_so_and_how_to_pick_another() -> None:
    first = _sandbox()
    try:
        assert first.stdout is not None
        port = first.stdout.readline().strip().split(":")[2].split("/")[0]
        second = _sandbox("--port", port)
        _, err = second.communicate(timeout=30)
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 2
    assert f"port {port} is in use; pick another --port (0: any free port)" in err
    assert "unexpected error" not in err
