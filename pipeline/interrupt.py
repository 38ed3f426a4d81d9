"""Ctrl-C (SIGINT) and SIGTERM: a request to stop that a run honours where it can.

``StopRequest`` is what a run watches. While a run is inside ``StopRequest.graceful()``
(sync's push and what follows it), the first signal only sets ``event``: no write is sent
any more, the requests in flight finish, and the run writes its report, summary and
journal for what it knows, then ends with ``RunInterrupted`` (exit 3). If that takes
longer than ``GRACE_SECONDS``, or a second signal comes, or the signal comes outside
``graceful`` (reading the file or the remote set: nothing was sent yet), the run stops at
once with ``KeyboardInterrupt``, releasing its lock on the way out.

``handle_signals`` installs the handlers for the time of one command (the CLI; the
Python API's callers may set ``StopRequest.event`` themselves).
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

import polars as pl

from pipeline.errors import RunInterrupted
from pipeline.outcomes import Code

if TYPE_CHECKING:
    from pipeline.output_paths import OutputPaths
    from pipeline.report import Tally

#: how long the requests in flight may take to finish once a stop was asked for
GRACE_SECONDS = 30.0

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Whether, and why, the run was asked to stop."""

    def __init__(self) -> None:
        self.event = threading.Event()
        #: the signal's name (``SIGINT``, ``SIGTERM``), once asked
        self.reason: str | None = None
        #: set when the grace period ran out before the run stopped by itself
        self.overdue = False
        self._graceful = 0

    def request(self, reason: str) -> None:
        self.reason = reason
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    @property
    def accepts_graceful(self) -> bool:
        return self._graceful > 0

    @contextlib.contextmanager
    def graceful(self) -> Iterator[None]:
        """While inside, a first signal asks the run to stop instead of stopping it."""
        self._graceful += 1
        try:
            yield
        finally:
            self._graceful -= 1


@contextlib.contextmanager
def handle_signals(stop: StopRequest, grace: float = GRACE_SECONDS) -> Iterator[StopRequest]:
    """SIGINT and SIGTERM handled as described in the module's docstring, inside only
    (from the main thread; elsewhere nothing is installed)."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    timers: list[threading.Timer] = []

    def overdue() -> None:
        stop.overdue = True
        _thread.interrupt_main(signal.SIGINT)

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.accepts_graceful and not stop.is_set():
            stop.request(name)
            timer = threading.Timer(grace, overdue)
            timer.daemon = True
            timer.start()
            timers.append(timer)
            return
        raise KeyboardInterrupt(hard_stop_message(name, stop))

    previous = {number: signal.signal(number, handler) for number in _SIGNALS}
    try:
        yield stop
    finally:
        for timer in timers:
            timer.cancel()
        for number, old in previous.items():
            signal.signal(number, old)


def hard_stop_message(name: str, stop: StopRequest) -> str:
    """The one line for a run stopped at once by signal ``name``."""
    if stop.overdue:
        return (
            f"interrupted ({stop.reason}); the requests in flight did not finish within "
            f"{GRACE_SECONDS:.0f} s, so the run stopped at once, without a report. A rerun "
            "continues safely."
        )
    if stop.is_set():
        return f"interrupted again ({name}): stopped at once, without a report. A rerun continues safely."
    return f"interrupted ({name}); a rerun continues safely"


def interruption(
    stop: StopRequest, tally: Tally | None, paths: OutputPaths
) -> RunInterrupted | None:
    """What a run that honoured ``stop`` ends with (None: it was not asked to stop, or
    every write had been sent when it was)."""
    if not stop.is_set() or tally is None:
        return None
    codes = tally.codes.filter(pl.col("error_code") == Code.INTERRUPTED)["len"]
    not_sent = int(codes.sum())
    if not not_sent:
        return None
    landed = sum(tally.count(s) for s in ("created", "updated", "deleted"))
    written = ", ".join(str(path) for _, path in paths.given())
    where = f"; written: {written}" if written else ""
    return RunInterrupted(
        f"interrupted ({stop.reason or 'stop requested'}): stopped sending after {landed} "
        f"writes landed; {not_sent} records not sent are reported skipped (interrupted)"
        f"{where}. A rerun continues safely."
    )
