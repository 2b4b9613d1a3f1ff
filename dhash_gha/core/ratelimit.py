"""When to retry a GitHub API call, and how long to wait: pure policy, no I/O.

GitHub documents two kinds of rate limit. The *primary* limit (403 or 429 with
``x-ratelimit-remaining: 0``) lifts at ``x-ratelimit-reset`` (epoch seconds): we
wait for it only when it is near, otherwise fail at once naming the reset time,
so a job never sleeps for an hour. The *secondary* limit (403/429 with
``retry-after`` or a message naming it) asks for ``retry-after`` seconds, else
at least a minute, growing exponentially, for a few tries. Server errors (5xx)
get a short bounded retry. Everything else is not retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum


class FailureKind(Enum):
    PRIMARY_RATE_LIMIT = "primary_rate_limit"
    SECONDARY_RATE_LIMIT = "secondary_rate_limit"
    SERVER_ERROR = "server_error"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    OTHER = "other"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of our patience; the defaults suit a CI job."""

    max_reset_wait: float = 300.0
    secondary_min_wait: float = 60.0
    secondary_max_wait: float = 600.0
    secondary_attempts: int = 3
    server_error_attempts: int = 3
    server_error_base_delay: float = 2.0


@dataclass(frozen=True)
class Decision:
    retry: bool
    wait: float
    reason: str


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return str(value)
    return None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = _header(headers, name)
    if raw is None:
        return None
    try:
        return int(float(raw.strip()))
    except ValueError:
        return None


def classify(status: int, headers: Mapping[str, str], message: str = "") -> FailureKind:
    """What kind of failure an HTTP answer is, by GitHub's documented signals."""
    lowered = message.lower()
    if status in (403, 429):
        if "secondary rate limit" in lowered or _header(headers, "retry-after") is not None:
            return FailureKind.SECONDARY_RATE_LIMIT
        if _int_header(headers, "x-ratelimit-remaining") == 0 or "rate limit exceeded" in lowered:
            return FailureKind.PRIMARY_RATE_LIMIT
        if status == 429:
            return FailureKind.SECONDARY_RATE_LIMIT
        return FailureKind.FORBIDDEN
    if status == 401:
        return FailureKind.UNAUTHORIZED
    if status == 404:
        return FailureKind.NOT_FOUND
    if status >= 500:
        return FailureKind.SERVER_ERROR
    return FailureKind.OTHER


def reset_time(headers: Mapping[str, str]) -> datetime | None:
    """The moment the primary limit lifts (``x-ratelimit-reset``), if the answer says."""
    reset = _int_header(headers, "x-ratelimit-reset")
    if reset is None:
        return None
    return datetime.fromtimestamp(reset, tz=timezone.utc)


def decide(
    kind: FailureKind,
    *,
    attempt: int,
    headers: Mapping[str, str],
    now: datetime,
    policy: RetryPolicy,
) -> Decision:
    """Retry or give up after failed ``attempt`` (1 = the first try)."""
    if kind is FailureKind.PRIMARY_RATE_LIMIT:
        reset = reset_time(headers)
        if reset is None:
            return Decision(False, 0.0, "primary rate limit exhausted; the reset time is unknown")
        wait = max(0.0, (reset - now).total_seconds()) + 1.0
        stamp = reset.strftime("%Y-%m-%dT%H:%M:%SZ")
        if attempt > 2:
            return Decision(False, 0.0, f"primary rate limit still exhausted; it resets at {stamp}")
        if wait > policy.max_reset_wait:
            return Decision(
                False,
                0.0,
                f"primary rate limit exhausted until {stamp} ({int(wait)} s away, more than the "
                f"{int(policy.max_reset_wait)} s we wait in a job)",
            )
        return Decision(True, wait, f"primary rate limit exhausted; waiting until {stamp}")
    if kind is FailureKind.SECONDARY_RATE_LIMIT:
        if attempt >= policy.secondary_attempts:
            return Decision(
                False, 0.0, f"secondary rate limit still in force after {attempt} tries"
            )
        retry_after = _int_header(headers, "retry-after")
        backoff = policy.secondary_min_wait * (2 ** (attempt - 1))
        wait = float(retry_after) if retry_after is not None else backoff
        wait = min(max(wait, 0.0), policy.secondary_max_wait)
        return Decision(True, wait, f"secondary rate limit; retrying in {int(wait)} s")
    if kind is FailureKind.SERVER_ERROR:
        if attempt >= policy.server_error_attempts:
            return Decision(False, 0.0, f"GitHub answered with a server error {attempt} times")
        wait = policy.server_error_base_delay * (2 ** (attempt - 1))
        return Decision(True, wait, f"server error; retrying in {wait:g} s")
    return Decision(False, 0.0, "not retried")
