"""The one exception tree of contact-sync.

    ContactSyncError                 root: every error the tool raises on purpose
    ├── UsageError                   bad flag, bad config, missing option       → exit 2
    ├── InputError                   unreadable file, no phone column, ...      → exit 2
    │   └── StateError               the --state-dir journal is damaged
    ├── AbortError                   a guard tripped or the lock is held        → exit 3
    │   ├── GuardError               --max-invalid / --max-deletes
    │   ├── LockHeldError            another run holds the state-dir lock
    │   ├── RunInterrupted           SIGINT/SIGTERM: stopped sending, reported what is known
    │   └── RunCutShort              the API asked to wait past --retry-timeout: reported
    └── TargetError                  anything a target API did                  → per row or exit 3
        ├── SendingStopped           a write not sent: the run is stopping      → row skipped
        ├── TransientError           may succeed if retried: timeout, 429, 5xx, connection drop
        │   ├── RateLimitedError     429, carries retry_after seconds when the server gave one
        │   └── RetryBudgetSpent     --retry-timeout spent: given up, or not sent at all
        │       └── RetryAfterTooLong    the API asked to wait longer than the budget allows → exit 3
        └── TerminalError            retrying will not help: 4xx, validation
            ├── AuthError            401/403: the key is refused or lacks a scope → exit 3
            ├── ConflictError        409: the contact exists already
            └── NotFoundError        404

Foreign exceptions (httpx, OSError, polars) are mapped at the boundary with
``raise X(...) from exc``. Messages never contain an API key: targets pass URLs through
``pipeline.secrets.redact`` before they build a message.
"""

from __future__ import annotations


class ContactSyncError(Exception):
    """Root of every error contact-sync raises on purpose."""

    exit_code = 1


class UsageError(ContactSyncError):
    exit_code = 2


class InputError(ContactSyncError):
    exit_code = 2


class StateError(InputError):
    """The journal in ``--state-dir`` cannot be read: nothing was sent; the message says
    where it is damaged and how to start afresh (``--reset-state``)."""


class AbortError(ContactSyncError):
    exit_code = 3


class GuardError(AbortError):
    pass


class LockHeldError(AbortError):
    pass


class RunInterrupted(AbortError):
    """The run stopped on a signal after reporting what it knew (``result``: that run)."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class RunCutShort(AbortError):
    """The API asked to wait longer than the retry budget allows (``Retry-After``): the
    run stopped sending and reported what it knew (``result``: that run)."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class TargetError(ContactSyncError):
    """An error from a target API. ``status`` is the HTTP status when there was one."""

    exit_code = 3

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SendingStopped(TargetError):
    """A write the client did not send because the run was asked to stop: its row is
    ``skipped`` with ``interrupted`` (neither retried nor a failure of the target)."""


class TransientError(TargetError):
    pass


class RateLimitedError(TransientError):
    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class RetryBudgetSpent(TransientError):
    """The run's retry budget (``--retry-timeout``) does not allow another wait: the
    request is given up (or, once the budget is spent for the whole run, not sent)."""


class RetryAfterTooLong(RetryBudgetSpent):
    """A ``Retry-After`` longer than what is left of the retry budget: the run ends at
    once (exit 3), its message saying what the API asked and what the budget allows."""


class TerminalError(TargetError):
    pass


class AuthError(TerminalError):
    pass


class ConflictError(TerminalError):
    pass


class NotFoundError(TerminalError):
    pass
