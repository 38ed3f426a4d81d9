"""A --base-url where nothing listens (issue 20 item 14 with issue 16's retry budget): a
run that has had no answer at all gives up connecting after ``UNREACHED_SECONDS``, not
after the whole 15-minute budget, and says which URL and host:port it tried. An API that
answered once and then goes down keeps the whole budget (tests/test_retry_budget.py)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from pipeline.http.client import UNREACHED_SECONDS
from tests.conftest import Cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nothing_listening_is_reported_unreachable_without_waiting_out_the_budget(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "contacts.csv"
    source.write_text("phone\n+14155550101\n", encoding="utf-8")
    port = _free_port()
    started = time.monotonic()
    result = cli(
        "plan", source, "--target", "arnis", "--base-url", f"http://127.0.0.1:{port}/api/v1"
    )
    seconds = time.monotonic() - started
    assert result.exit_code == 3, result.stderr
    assert f"127.0.0.1:{port}" in result.stderr and "--base-url" in result.stderr
    assert "unexpected error" not in result.stderr
    # the 15-minute default budget was not waited out: the first-contact bound was
    assert seconds < 15 * 60 / 4, seconds
    assert seconds >= UNREACHED_SECONDS - 1, "connections were retried a while first"
