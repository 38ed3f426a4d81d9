"""The HTTP client every target uses (``client``), what paces its requests
(``limiter``: documented limits, and what 429s teach), how long it keeps trying
(``retry``: backoff and the run's retry budget), and its fast path to httpx's transport
(``fast_path``)."""

from pipeline.durations import DEFAULT_BUDGET
from pipeline.http.client import AmbiguousWriteError, ApiClient, Auth, ErrorMessage, error_detail
from pipeline.http.limiter import Pace, RateLimiter
from pipeline.http.retry import RetryBudget, RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_BUDGET",
    "AmbiguousWriteError",
    "ApiClient",
    "Auth",
    "ErrorMessage",
    "Pace",
    "RateLimiter",
    "RetryBudget",
    "RetryPolicy",
    "error_detail",
    "parse_retry_after",
]
