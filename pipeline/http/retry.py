"""How long a run keeps trying: the backoff between attempts (``RetryPolicy``) and the
run's one time budget for waiting on the API (``RetryBudget``, ``--retry-timeout``).

The budget is a time, not a count, and the same for every target and every kind of
wait (a ``429``'s ``Retry-After``, the backoff after a ``5xx``, a dropped connection or a
timeout, the rounds that settle a write whose outcome is unknown):

- a request, or a write settled in rounds, is retried for as long as its own retries
  stay within the budget; a request that keeps failing while others succeed is given
  up alone when they have lasted the whole budget;
- when nothing the API answered for the whole budget, the budget is *spent* for the run:
  every later request fails at once, without being sent, so the run ends within the
  budget (plus one wait) whatever its size;
- a ``Retry-After`` longer than what is left of the budget ends the run at once
  (``RetryAfterTooLong``): waiting would outlast it anyway.
"""

from __future__ import annotations

import datetime
import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.durations import DEFAULT_BUDGET, seconds_text
from pipeline.errors import RetryAfterTooLong, RetryBudgetSpent, TargetError


@dataclass(frozen=True)
class RetryPolicy:
    #: the first backoff; each later one doubles, up to ``max_delay`` (then jittered)
    base_delay: float = 0.2
    max_delay: float = 20.0
    #: seconds a request may spend waiting on retries; the run's ``--retry-timeout``
    budget: float = DEFAULT_BUDGET
    #: at most this many attempts of one request after transient failures (None: as
    #: many as the budget allows; a 429 is never counted)
    attempts: int | None = None

    def backoff(
        self, failures: int, rng: Callable[[float, float], float] = random.uniform
    ) -> float:
        """The wait after the ``failures``-th failure in a row: exponential, capped per
        wait, with jitter (between half and all of it) so that workers spread out."""
        delay = min(self.max_delay, self.base_delay * 2 ** min(max(0, failures - 1), 30))
        return float(delay * rng(0.5, 1.0))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT; a date without a zone is taken as such
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - time.time())


class RetryBudget:
    """One run's budget for waiting on its API, shared by all of the run's requests
    (thread-safe), and what it was used for (``figures``, for the summary)."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.seconds = max(0.0, policy.budget)
        self._clock = clock
        self._lock = threading.Lock()
        self._answered = clock()
        #: whether the API has answered this run at all (a host that never has is more
        #: likely a wrong --base-url than a busy API: ``UNREACHED_SECONDS``)
        self.reached = False
        #: why the budget is spent for the whole run (None: it is not)
        self.spent: str | None = None
        #: a Retry-After the budget cannot honour: the run ends with this (exit 3)
        self.refusal: str | None = None
        self.waited = 0.0
        self.throttled_waited = 0.0
        self.longest = 0.0
        self.retries = 0
        self.responses_429 = 0
        self.throttled_requests = 0

    def start(self) -> float:
        """The time a request (or a write settled in rounds) begins, for ``allow``."""
        return self._clock()

    def answered(self) -> None:
        """The API answered (anything but a transient failure): it is not down."""
        now = self._clock()
        with self._lock:
            self._answered = max(self._answered, now)
            self.reached = True

    def unreached_for(self, since: float) -> float:
        """How long a run that has had no answer yet has tried to reach its API since
        ``since`` (0 once any answer came: then the whole budget applies)."""
        return 0.0 if self.reached else self._clock() - since

    def check(self, what: str) -> None:
        """Raise at once when the budget is spent for the run: ``what`` is not sent."""
        spent = self.spent
        if spent is None:
            return
        if self.refusal is not None:
            raise RetryAfterTooLong(f"{what}: not sent, the run is ending: {self.refusal}")
        raise RetryBudgetSpent(f"{what}: not sent, the retry budget is spent: {spent}")

    def throttled(self, first: bool) -> None:
        """A 429 answered (``first``: the first one of its request)."""
        with self._lock:
            self.responses_429 += 1
            self.throttled_requests += int(first)

    def allow(
        self, since: float, wait: float, error: TargetError | str, *, throttled: bool = False
    ) -> float:
        """Account for waiting about ``wait`` seconds before trying again something that
        first failed (with ``error``, now) at ``since``: the seconds to wait (a backoff
        is cut to what is left of the budget), or raise if the budget allows no more."""
        with self._lock:
            now = self._clock()
            if self.spent is not None:
                raise RetryBudgetSpent(f"{error} (the retry budget is spent: {self.spent})")
            quiet = now - max(since, self._answered)  # how long the API has not answered
            if throttled and wait > self.seconds - quiet:
                self.spent = self.refusal = (
                    f"{error}: the API asked to wait {_asked(wait)} (Retry-After), more "
                    f"than the {seconds_text(max(0.0, self.seconds - quiet))} left of the "
                    f"retry budget (--retry-timeout {seconds_text(self.seconds)}). Rerun "
                    "later, or give a longer --retry-timeout; a rerun continues safely"
                )
                raise RetryAfterTooLong(self.refusal, status=_status(error))
            left = self.seconds - (now - since)  # of this request's (or write's) retries
            if left < _LAST_WAIT:
                budget = seconds_text(self.seconds)
                reason = (
                    f"{error} (retried for {seconds_text(now - since)}; --retry-timeout {budget})"
                )
                if quiet + _LAST_WAIT > self.seconds:  # nothing answered all along: down
                    self.spent = (
                        f"{error} (no answer for {seconds_text(quiet)}: --retry-timeout {budget})"
                    )
                raise RetryBudgetSpent(reason, status=_status(error))
            wait = wait if throttled else min(wait, left)
            self.waited += wait
            self.longest = max(self.longest, now + wait - since)
            if throttled:
                self.throttled_waited += wait
            else:
                self.retries += 1
            return wait

    def figures(self, requests: int) -> dict[str, Any]:
        """What the summary says of the budget (``requests``: how many were sent)."""
        with self._lock:
            figures: dict[str, Any] = {
                "budget_s": round(self.seconds, 1),
                "used_s": round(min(self.longest, self.seconds), 1),
                "waited_s": round(self.waited, 1),
                "retries": self.retries,
                "throttled_requests": self.throttled_requests,
                "responses_429": self.responses_429,
                "share_429": round(self.responses_429 / requests, 4) if requests else 0.0,
                "throttled_waited_s": round(self.throttled_waited, 1),
            }
            if self.spent is not None:
                figures["spent"] = self.spent
            return figures


#: a retry is not worth a wait shorter than this: the budget is used up
_LAST_WAIT = 0.05


def _asked(wait: float) -> str:
    shown = seconds_text(wait)
    return shown if shown.endswith(" s") else f"{wait:.0f} s ({shown})"


def _status(error: TargetError | str) -> int | None:
    return error.status if isinstance(error, TargetError) else None
