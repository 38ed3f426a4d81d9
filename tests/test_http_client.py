"""The HTTP client's rate limiter, Retry-After handling and write safety, on real sockets."""

from __future__ import annotations

import email.utils
import time

import pytest

from pipeline.errors import AuthError, RetryAfterTooLong, RetryBudgetSpent
from pipeline.http import (
    AmbiguousWriteError,
    ApiClient,
    Auth,
    Pace,
    RateLimiter,
    RetryPolicy,
    parse_retry_after,
)
from pipeline.sandbox import Faults, start
from pipeline.secrets import ApiKey


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_limiter_bursts_to_the_limit_then_waits_for_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep, margin=0.0)
    starts = []
    for _ in range(25):
        limiter.acquire()
        starts.append(clock.now - 1000.0)
    assert starts[:10] == [0.0] * 10
    assert starts[10:20] == [60.0] * 10
    assert starts[20:] == [120.0] * 5  # the minimum the limit allows: 25 requests in 120 s


def test_a_refused_request_gives_its_place_in_the_window_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep, margin=0.0, jitter=_no_jitter)
    limiter.done(limiter.acquire(), "answered")
    refused = limiter.acquire()
    limiter.done(refused, "throttled")  # the second one was answered 429
    limiter.pause(1.0)  # its Retry-After
    limiter.acquire()
    # retried after Retry-After (and the pace it taught), not after a whole window
    assert 1001.0 <= clock.now < 1002.0


def _no_jitter(low: float, high: float) -> float:
    return low


def _most_jitter(low: float, high: float) -> float:
    return high


def test_limiter_pause_holds_every_caller_and_wakes_them_apart() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep, jitter=_most_jitter)
    limiter.pause(7.5)
    limiter.acquire()
    assert 1007.5 < clock.now <= 1007.5 + 0.25 + 1e-9  # the pause, and a little jitter


def test_a_429_lowers_the_pace_and_the_requests_in_flight_and_answers_raise_them() -> None:
    clock = FakeClock()
    pace = Pace(concurrency=4, jitter=_no_jitter)
    limiter = RateLimiter(None, pace=pace, clock=clock, sleep=clock.sleep)
    for _ in range(10):  # ten answered at once: no limit known, no wait
        limiter.done(limiter.acquire(), "answered")
    assert clock.now == 1000.0 and pace.rate is None
    limiter.done(limiter.acquire(), "throttled")
    first = pace.rate
    assert first is not None and first <= 10.0  # at most what was accepted, per second
    assert pace.in_flight_limit == 2.0  # halved
    held = [limiter.acquire(), limiter.acquire()]
    assert not pace.room()  # two in flight: a third would wait for one to end
    for began in held:
        limiter.done(began, "answered")
    starts, paces = [], []
    for _ in range(3):
        starts.append(limiter.acquire())
        paces.append(pace.rate)
        limiter.done(starts[-1], "answered")
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert all(gap >= 1 / r - 1e-9 for gap, r in zip(gaps, paces, strict=False))  # paced
    assert pace.rate > first and pace.in_flight_limit > 2.0  # raised again
    # a volley of 429s to requests sent before the pace was lowered counts once
    volley = [limiter.acquire() for _ in range(3)]
    before = pace.rate
    limiter.done(volley[0], "throttled")
    lowered = pace.rate
    limiter.done(volley[1], "throttled")
    limiter.done(volley[2], "throttled")
    assert pace.rate == lowered < before


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("12") == 12.0
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after(future) or 0) <= 31
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def _client(
    url: str, key: str = "test-key-k", limit: float | None = None, retry: RetryPolicy | None = None
) -> ApiClient:
    return ApiClient(
        base_url=url,
        key=ApiKey(key),
        auth=Auth(header="X-API-Key"),
        error_message=lambda body: body.get("detail") if isinstance(body, dict) else None,
        limiters={"default": RateLimiter(limit)},
        retry=retry or RetryPolicy(attempts=1, base_delay=0.01),
    )


@pytest.mark.parametrize("http_date", [False, True])
def test_429_with_retry_after_is_waited_out(http_date: bool) -> None:
    sandbox = start(
        "arnis",
        "test-key-k",
        faults=Faults(rate_limit=3, window_seconds=1.0, retry_after_http_date=http_date),
    )
    try:
        client = _client(sandbox.url)
        for _ in range(8):
            client.request("GET", "/contacts")
        statuses = [r.status for r in sandbox.store.requests]
        assert statuses.count(200) == 8
        assert 429 in statuses
    finally:
        sandbox.stop()


def test_429s_never_use_up_attempts() -> None:
    # one attempt only: every request is refused once or more, and waits instead
    sandbox = start("arnis", "test-key-k", faults=Faults(bucket_per_minute=120, bucket_burst=1))
    try:
        client = _client(sandbox.url)
        for _ in range(4):
            client.request("GET", "/contacts")
        statuses = [r.status for r in sandbox.store.requests]
        assert statuses.count(200) == 4 and 429 in statuses
        figures = client.flow()
        assert figures["responses_429"] == statuses.count(429) and figures["retries"] == 0
    finally:
        sandbox.stop()


def test_transient_errors_are_retried_until_the_budget_then_given_up() -> None:
    sandbox = start("arnis", "test-key-k", faults=Faults(seed=3, transient_rate=1.0))
    try:
        client = _client(
            sandbox.url, retry=RetryPolicy(base_delay=0.01, max_delay=0.05, budget=0.5)
        )
        started = time.monotonic()
        with pytest.raises(RetryBudgetSpent) as caught:
            client.request("GET", "/contacts")
        assert time.monotonic() - started < 0.5 + 1.0  # the budget, plus one wait and slack
        assert len(sandbox.store.requests) > 6  # more than the six attempts there were
        assert "HTTP 503" in str(caught.value) and "--retry-timeout" in str(caught.value)
        # nothing answered for the whole budget: the run's budget is spent, and nothing
        # more is sent
        sent = len(sandbox.store.requests)
        with pytest.raises(RetryBudgetSpent, match="not sent"):
            client.request("GET", "/contacts")
        assert len(sandbox.store.requests) == sent
    finally:
        sandbox.stop()


def test_a_retry_after_longer_than_the_budget_ends_at_once() -> None:
    faults = Faults(bucket_per_minute=60, bucket_burst=1, retry_after=3600)
    sandbox = start("arnis", "test-key-k", faults=faults)
    try:
        client = _client(sandbox.url, retry=RetryPolicy(budget=10.0))
        client.request("GET", "/contacts")
        started = time.monotonic()
        with pytest.raises(RetryAfterTooLong) as caught:
            client.request("GET", "/contacts")
        assert time.monotonic() - started < 2.0
        assert "3600 s" in str(caught.value) and "10 s" in str(caught.value)
        assert client.budget.refusal is not None
    finally:
        sandbox.stop()


def test_a_create_that_may_have_landed_is_never_resent_blindly() -> None:
    sandbox = start("arnis", "test-key-k", faults=Faults(seed=3, commit_then_fail_rate=1.0))
    try:
        with pytest.raises(AmbiguousWriteError):
            _client(sandbox.url).request(
                "POST", "/contacts", json_body={"phone_number": "+14155552671"}
            )
        assert len(sandbox.store.requests) == 1
        assert sandbox.store.find_e164("+14155552671") is not None  # it had landed
    finally:
        sandbox.stop()


def test_auth_errors_are_terminal_and_never_show_the_key() -> None:
    sandbox = start("arnis", "right-key")
    try:
        with pytest.raises(AuthError) as caught:
            _client(sandbox.url, key="wrong-key-secret").request("GET", "/contacts")
        assert len(sandbox.store.requests) == 1
        assert "wrong-key-secret" not in str(caught.value)
    finally:
        sandbox.stop()
