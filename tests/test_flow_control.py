"""Flow control, through the CLI against the sandboxes on loopback (issue 16).

A busy API never gets a row given up: every target, through a token bucket with a small
burst, 503s, writes applied then answered 500 or dropped, and slow answers, at once,
ends with every row created and the remote state of a fault-free run. An undocumented
limit is learned (few requests answered 429). What ends a run early, the retry budget,
is in ``test_retry_budget.py``.

The fault runs are real ``contact-sync`` processes, all at once (they spend their time
waiting on the sandboxes' limits, not computing): the file takes about as long as the
slowest of them.

The levels of issue 16, but for the token bucket: 600 requests a minute with a burst of
3 instead of 60 a minute (the same mechanism, ten times faster, so that 150 rows one
request each take seconds, not minutes). The throttling run keeps 60 a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.sandbox import Faults, RunningSandbox, start
from tests.conftest import API_KEY
from tests.flow import (
    TARGETS,
    contacts_csv,
    read_report,
    read_summary,
    state,
    sync_args,
)

ROWS = 150
SEEDS = (1, 2)
#: issue 16's bad night, the token bucket scaled up (see the module's docstring)
BAD_NIGHT = {
    "bucket_per_minute": 600,
    "bucket_burst": 3,
    "transient_rate": 0.2,
    "commit_then_fail_rate": 0.2,
    "slow_rate": 0.3,
    "slow_seconds": 0.5,
}
THROTTLED_TARGET, THROTTLED_ROWS = "zexa", 60


@dataclass
class Run:
    """One ``contact-sync sync`` process against its own sandbox."""

    target: str
    sandbox: RunningSandbox
    source: Path
    out: Path
    exit_code: int = -1
    stderr: str = ""
    seconds: float = 0.0


def run_all(runs: list[Run], timeout: float = 400) -> None:
    """Every run's process at once; each one's exit code, stderr and wall time."""
    env = {**os.environ, "CONTACT_SYNC_API_KEY": API_KEY, "PYTHONPATH": os.getcwd()}
    started = []
    for run in runs:
        run.out.mkdir(parents=True, exist_ok=True)
        args = sync_args(run.target, run.sandbox, run.source, run.out)
        command = [sys.executable, "-m", "pipeline", *args]
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        started.append((run, process, time.monotonic()))
    for run, process, began in started:
        _, run.stderr = process.communicate(timeout=timeout)
        run.exit_code, run.seconds = process.returncode, time.monotonic() - began


@dataclass
class Nights:
    clean: dict[str, Run]
    faulty: dict[tuple[str, int], Run]
    throttled: Run
    numbers: list[str]


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    tmp = tmp_path_factory.mktemp("flow")
    source, few = tmp / "contacts.csv", tmp / "throttled.csv"
    numbers = contacts_csv(source, ROWS)
    contacts_csv(few, THROTTLED_ROWS)
    clean = {t: Run(t, start(t, API_KEY), source, tmp / f"clean-{t}") for t in TARGETS}
    faulty = {
        (t, seed): Run(
            t, start(t, API_KEY, faults=Faults(seed=seed, **BAD_NIGHT)), source, tmp / f"{t}-{seed}"
        )
        for t in TARGETS
        for seed in SEEDS
    }
    limited = start(THROTTLED_TARGET, API_KEY, faults=Faults(bucket_per_minute=60, bucket_burst=3))
    throttled = Run(THROTTLED_TARGET, limited, few, tmp / "throttled")
    try:
        run_all([throttled, *clean.values(), *faulty.values()])
        yield Nights(clean, faulty, throttled, numbers)
    finally:
        for run in [*clean.values(), *faulty.values(), throttled]:
            run.sandbox.stop()


@pytest.mark.parametrize("target", TARGETS)
def test_a_bad_night_gives_up_no_row_and_ends_like_a_quiet_one(nights: Nights, target: str) -> None:
    clean = nights.clean[target]
    assert clean.exit_code == 0, clean.stderr
    assert sorted(clean.sandbox.store.by_e164) == sorted(nights.numbers)
    for seed in SEEDS:
        run = nights.faulty[(target, seed)]
        store = run.sandbox.store
        answered = Counter(r.status for r in store.requests)
        # the bad night happened: throttled and unavailable (the writes applied, then
        # answered 500 or dropped, are too few on the bulk targets to be sure of here)
        assert answered[429] and answered[503], answered
        if target not in ("arnis", "oliai"):  # a write a contact: many
            assert answered[500], answered
        assert run.exit_code == 0, run.stderr
        report, summary = read_report(run.out), read_summary(run.out)
        assert [line["status"] for line in report] == ["created"] * ROWS
        assert len(store.contacts) == len(store.by_e164) == ROWS  # no duplicate
        assert state(run.sandbox) == state(clean.sandbox)
        for line in report:  # every row as the report says
            stored = store.find_e164(line["e164"])
            assert stored is not None and stored["id"] == line["remote_id"], line
        assert summary["counts"] == {"created": ROWS}
        assert summary["exit_code"] == 0
        retry = summary["retry"]
        assert retry["responses_429"] == answered[429]
        assert retry["budget_s"] == 900 and 0 < retry["used_s"] < 900
        assert store.violations == []


def test_an_undocumented_limit_is_learned_and_few_requests_are_refused(nights: Nights) -> None:
    run = nights.throttled
    assert run.exit_code == 0, run.stderr
    store = run.sandbox.store
    answered = Counter(r.status for r in store.requests)
    refused = answered[429] / len(store.requests)
    summary = read_summary(run.out)
    retry = summary["retry"]
    assert summary["counts"] == {"created": THROTTLED_ROWS}
    assert retry["responses_429"] == answered[429] > 0  # it was throttled, and says so
    assert retry["share_429"] == pytest.approx(refused, abs=1e-3)
    assert summary["requests_sent"] == len(store.requests)
    assert refused < 0.25  # the limit was learned: never half (issue 16), aim under 10%
    assert "pace_per_minute" in retry
    print(  # the figures, for a person running this file (-s)
        f"{THROTTLED_TARGET} under 60/min, burst 3: {answered[429]} of {len(store.requests)} "
        f"requests answered 429 ({100 * refused:.1f}%), {run.seconds:.1f} s "
        f"against a minimum of {len(store.requests) - answered[429] - 3} s"
    )
