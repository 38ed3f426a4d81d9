"""The HTTP client's rate limiter, Retry-After handling and write safety, on real sockets."""

from __future__ import annotations

import email.utils
import time

import pytest

from pipeline.errors import AuthError, TransientError
from pipeline.http import (
    AmbiguousWriteError,
    ApiClient,
    Auth,
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
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep, margin=0.0)
    limiter.acquire()
    limiter.acquire()
    limiter.release()  # the second one was answered 429
    limiter.pause(1.0)  # its Retry-After
    limiter.acquire()
    assert clock.now == pytest.approx(1001.0)  # retried after Retry-After, not a whole window


def test_limiter_pause_holds_every_caller() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    limiter.pause(7.5)
    limiter.acquire()
    assert clock.now == pytest.approx(1007.5)


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("12") == 12.0
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after(future) or 0) <= 31
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def _client(url: str, key: str = "test-key-k", limit: float | None = None) -> ApiClient:
    return ApiClient(
        base_url=url,
        key=ApiKey(key),
        auth=Auth(header="X-API-Key"),
        error_message=lambda body: body.get("detail") if isinstance(body, dict) else None,
        limiters={"default": RateLimiter(limit)},
        retry=RetryPolicy(attempts=4, base_delay=0.01),
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


def test_transient_errors_are_retried_then_given_up() -> None:
    sandbox = start("arnis", "test-key-k", faults=Faults(seed=3, transient_rate=1.0))
    try:
        with pytest.raises(TransientError):
            _client(sandbox.url).request("GET", "/contacts")
        assert len(sandbox.store.requests) == 4  # attempts, bounded
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
