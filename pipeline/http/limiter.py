"""The pace of a client's requests: the documented limit of each class of requests (a
target's ``default`` and ``bulk`` ones, ``RateLimiter``), and what the API's ``429``s
teach, shared by all of them (``Pace``: an API's limit is usually its key's, whatever
the endpoint).

- **Documented** (``per_minute``: a target's ``[limits]`` or ``--rate-limit``): at most
  that many request starts in any sliding 60-second window, as the targets count, so a
  burst up to the limit goes at once and a long run takes the minimum time it allows.
- **Learned** (AIMD, in the spirit of TCP and the AWS SDKs' adaptive retry mode), on
  top: a ``429`` lowers the pace multiplicatively (to DECREASE of the pace it was sent
  at; far too fast, at once below the rate the API accepted since the last 429), and
  halves the requests allowed in flight. Each answer raises them again: the requests in
  flight by one per round of answers; the pace quickly (a fraction of itself) up to
  NEAR the last pace found too fast, then additively, by a fixed step that makes the
  climb back last CYCLE waits of a 429 (a 429 costs about one wait: so they cost a
  small share of the time), and quickly again past it, probing. Only a request sent at
  the current pace lowers it: a volley of 429s to requests in flight counts once.
  Starts are spaced by the pace, so after a pause the workers do not all wake
  together; each also wakes with a little jitter.
- ``pause(seconds)`` holds every caller back, e.g. for a ``Retry-After``.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable

#: a 429 lowers the pace to DECREASE of the pace it was sent at, or, when the API
#: accepted less than FAR_ABOVE of the pace since the last 429, to BELOW_ACCEPTED of what
#: it accepted (with a ceiling of CEILING times that: what it accepted is a low guess)
DECREASE = 0.85
FAR_ABOVE = 0.5
BELOW_ACCEPTED = 0.9
CEILING = 2.0
#: an answer raises the pace by FIRST_CLIMB of itself until a pace is found too fast,
#: then by QUICK_CLIMB of itself below NEAR that pace and past it, and in between by
#: a step making the climb last CYCLE waits of a 429 (at most STEP of that pace)
FIRST_CLIMB = 0.1
QUICK_CLIMB = 0.05
NEAR = 0.8
CYCLE = 20
STEP = 1 / 60
#: what the API accepted is counted over the last RECENT seconds, or the time of
#: RECENT_ANSWERS answers at the pace, if longer (the last RECENT_KEPT answers at most)
RECENT = 3.0
RECENT_ANSWERS = 10
RECENT_KEPT = 1000
#: the pace is never below one request a minute
SLOWEST = 1 / 60
#: the requests in flight are multiplied by this on a 429 (never below one)
IN_FLIGHT_DECREASE = 0.5


class Pace:
    """What one client's 429s teach, shared by its limiters (their lock is this one's)."""

    def __init__(
        self,
        concurrency: int | None = None,
        *,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.lock = threading.Lock()
        self.freed = threading.Condition(self.lock)
        self._jitter = jitter
        self.paused_until = 0.0
        #: requests a second the API takes, learned from its 429s (None: not throttled)
        self.rate: float | None = None
        self.slowest_rate: float | None = None
        self._step = 0.0
        self._next = 0.0
        self._lowered: float | None = None  # when the pace was last lowered
        self._ceiling: float | None = None  # the last pace found too fast
        self._quantum = 1.0  # the last pause asked for
        self._answers = 0  # answers since the pace was last lowered (or since the start)
        self._answered: deque[float] = deque()  # when the last answers came
        self._first: float | None = None
        self.max_in_flight = max(0, concurrency or 0)
        self.in_flight_limit = float(self.max_in_flight)
        self.fewest_in_flight = self.max_in_flight
        self._in_flight = 0

    # what a RateLimiter asks, its lock held ---------------------------------------
    def wait_needed(self, now: float) -> float:
        wait = self.paused_until - now
        if wait > 0:  # wake a little apart from the other callers held back
            wait += self._jitter(0.0, min(0.25, 0.1 * wait))
        if self.rate is not None:
            wait = max(wait, self._next - now)
        return wait

    def room(self) -> bool:
        return not self.max_in_flight or self._in_flight < max(1, int(self.in_flight_limit))

    def started(self, now: float) -> None:
        if self.rate is not None:
            self._next = max(now, self._next) + 1.0 / self.rate
        if self.max_in_flight:
            self._in_flight += 1
        if self._first is None:
            self._first = now

    def ended(self, start: float, outcome: str, now: float) -> None:
        if self.max_in_flight:
            self._in_flight = max(0, self._in_flight - 1)
            self.freed.notify()
        if outcome == "throttled" and (self._lowered is None or start > self._lowered):
            self._lower(now)
        elif outcome == "answered":
            self._raise(now)

    def pause(self, now: float, seconds: float) -> bool:
        until = now + seconds
        self._quantum = seconds
        if until <= self.paused_until:
            return False
        self.paused_until = until
        return True

    # AIMD --------------------------------------------------------------------------
    def _lower(self, now: float) -> None:
        """A 429 to a request sent at the current pace: the pace and the requests in
        flight lowered multiplicatively (the pace at once below the rate the API
        accepted since the last 429, when lower)."""
        if self._lowered is not None and self.rate is not None:
            # over the last few seconds only: long ago, the pace may have been far lower
            since = max(self._lowered, now - max(RECENT, RECENT_ANSWERS / self.rate))
            while self._answered and self._answered[0] < since:
                self._answered.popleft()
            accepted = len(self._answered) / max(0.5, now - since)
        else:  # the first: what was accepted (a burst included; one at least) over a
            # second at least, to climb from quickly until the pace finds a ceiling
            first = self._first if self._first is not None else now
            accepted = max(1, self._answers) / max(1.0, now - first)
        if self.rate is None:
            rate = accepted
        else:
            self._ceiling = self.rate  # too fast: the climb slows down below it
            rate = DECREASE * self.rate
            if 0 < accepted < FAR_ABOVE * self.rate:  # far too fast: below what it took
                rate = BELOW_ACCEPTED * accepted
                self._ceiling = CEILING * accepted
        self.rate = max(SLOWEST, rate)
        self.slowest_rate = min(self.slowest_rate or self.rate, self.rate)
        # the climb back to the pace found too fast lasts CYCLE waits of a 429
        quantum = max(self._quantum, 1.0 / self.rate)
        ceiling = self._ceiling or self.rate
        self._step = min((1.0 - DECREASE) / (CYCLE * quantum), ceiling * STEP)
        self._next = now + 1.0 / self.rate
        self._lowered = now
        self._answers = 0
        if self.max_in_flight:
            self.in_flight_limit = max(1.0, self.in_flight_limit * IN_FLIGHT_DECREASE)
            self.fewest_in_flight = min(self.fewest_in_flight, int(self.in_flight_limit))

    def _raise(self, now: float) -> None:
        """An answer: the pace raised (quickly up to near the last pace found too fast,
        then by a fixed step), the requests in flight by one per round of answers."""
        self._answers += 1
        self._answered.append(now)
        if len(self._answered) > RECENT_KEPT:
            self._answered.popleft()
        if self.rate is not None:
            if self._ceiling is None:
                self.rate *= 1.0 + FIRST_CLIMB
            elif not NEAR * self._ceiling <= self.rate <= self._ceiling:
                self.rate *= 1.0 + QUICK_CLIMB  # far below it, or past it: probing
            else:
                self.rate += self._step
        if self.max_in_flight and self.in_flight_limit < self.max_in_flight:
            grown = self.in_flight_limit + 1.0 / max(1.0, self.in_flight_limit)
            self.in_flight_limit = min(float(self.max_in_flight), grown)


class RateLimiter:
    """Starts requests no faster than the documented limit and the learned ``pace``
    allow, with at most ``concurrency`` in flight (thread-safe). Limiters given the same
    ``pace`` share it: the learned pace, the requests in flight and the pauses."""

    def __init__(
        self,
        per_minute: float | None,
        *,
        window: float = 60.0,
        margin: float | None = None,
        concurrency: int | None = None,
        pace: Pace | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.capacity = max(1, int(per_minute)) if per_minute else 0
        self.window = window
        #: slack for the server counting a request later than we sent it (a busy server
        #: reads a large body for a while): 1% of the window, at least 0.3 s
        self.margin = max(0.3, 0.01 * window) if margin is None else margin
        self.pace = pace or Pace(concurrency, jitter=jitter)
        self._clock = clock
        self._sleep = sleep
        self._lock = self.pace.lock
        self._starts: deque[float] = deque()

    def acquire(self, stop: threading.Event | None = None) -> float:
        """Wait for a place; the request's start time (give it to ``done``). Once
        ``stop`` is set the wait ends at once: the caller, stopping, does not send, and
        gives the place back (``done(start, "unsent")``) instead of waiting out a window."""
        while True:
            with self._lock:
                now = self._clock()
                wait = max(self.pace.wait_needed(now), self._window_wait(now))
                stopping = stop is not None and stop.is_set()
                if wait <= 0 and not self.pace.room() and not stopping:
                    self.pace.freed.wait(timeout=1.0)
                    continue
                if wait <= 0 or stopping:
                    if self.capacity:
                        self._starts.append(now)
                    self.pace.started(now)
                    return now
            if stop is None:
                self._sleep(wait)
            else:
                stop.wait(wait)

    def done(self, start: float, outcome: str) -> None:
        """The request started at ``start`` ended: ``answered`` (any answer but a 429),
        ``throttled`` (a 429), ``failed`` (a 5xx, a timeout, a dropped connection) or
        ``unsent`` (given up before it reached the server)."""
        with self._lock:
            if outcome in ("throttled", "unsent") and start in self._starts:
                # a refused request must not use up a place in our window, nor make its
                # retry wait a whole window
                self._starts.remove(start)
            self.pace.ended(start, outcome, self._clock())

    def pause(self, seconds: float) -> bool:
        """Hold every caller back ``seconds`` from now; whether that holds them longer
        than they were held already."""
        with self._lock:
            return self.pace.pause(self._clock(), seconds)

    def _window_wait(self, now: float) -> float:
        if not self.capacity:
            return -math.inf
        while self._starts and now - self._starts[0] >= self.window + self.margin:
            self._starts.popleft()
        if len(self._starts) >= self.capacity:
            return self._starts[0] + self.window + self.margin - now
        return -math.inf
