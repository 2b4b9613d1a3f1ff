"""Delivering one HTTP request with timeouts, retries and Retry-After.

The policy half is pure: which outcomes are retried, how long to wait
(exponential backoff with full jitter, or the server's Retry-After, capped),
and which answers are configuration errors with a fix. The adapter half posts
with httpx (imported lazily) and turns every transport error into a text that
holds no URL and no secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Protocol

from dhash_gha.core.notify.interface import ChannelResult

# Answers that no retry can fix: the request or the channel's configuration is wrong.
NO_RETRY_STATUSES = frozenset({400, 403, 404, 410})
RETRY_STATUSES = frozenset({408, 425, 429})

# Slack incoming-webhook error bodies -> what the operator must do.
SLACK_FIXES = {
    "invalid_payload": "the message was refused as malformed: check the channel's mentions "
    "(Slack mrkdwn such as <!subteam^ID>) and that {var} holds a Slack incoming-webhook URL",
    "action_prohibited": "a Slack admin restricted this webhook: ask them to allow it, or "
    "create a new incoming webhook and put its URL in {var}",
    "channel_not_found": "the webhook's channel no longer exists: create a new incoming "
    "webhook for an existing channel and put its URL in {var}",
    "channel_is_archived": "the webhook's channel is archived: unarchive it, or create a "
    "webhook for another channel and put its URL in {var}",
    "no_service": "the webhook was revoked or disabled: create a new incoming webhook and "
    "put its URL in {var}",
    "no_team": "the Slack workspace of this webhook is gone: put a valid webhook URL in {var}",
}
STATUS_FIXES = {
    400: "the receiver refused the request as malformed: check that {var} points at the "
    "right endpoint",
    403: "the receiver refused the request: check the credentials/secret configured for "
    "this channel and that {var} is the right endpoint",
    404: "the endpoint does not exist: check the URL in {var}",
    410: "the endpoint is gone: put the new URL in {var}",
}


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    # Longest wait a Retry-After may impose; a larger one is cut to this.
    retry_after_cap: float = 60.0
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    # No new attempt starts after this many seconds: a rollback waits for no channel longer.
    deadline_seconds: float = 60.0


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    text: str


class TransportError(Exception):
    """The request did not get an answer (timeout, refused connection, TLS …)."""

    def __init__(self, kind: str, detail: str, *, retryable: bool = True) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        # False when the URL itself is unusable: retrying cannot help, the config must change.
        self.retryable = retryable


class Transport(Protocol):
    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], policy: RetryPolicy
    ) -> HttpResponse:
        """POST ``body``; raise TransportError when no answer came."""


@dataclass(frozen=True)
class Attempt:
    """The verdict on one answer (or its absence)."""

    ok: bool
    retry: bool
    reason: str
    configuration_error: bool = False
    fix: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class DeliveryOutcome:
    ok: bool
    attempts: int
    reason: str
    configuration_error: bool = False
    fix: str | None = None
    status: int | None = None
    body: str = ""

    def channel_result(self, name: str, channel_type: str) -> ChannelResult:
        return ChannelResult(
            name=name,
            type=channel_type,
            status="delivered" if self.ok else "failed",
            reason=self.reason,
            attempts=self.attempts,
            fix=self.fix,
            configuration_error=self.configuration_error,
        )


# --- pure policy -------------------------------------------------------------------------
def backoff_delay(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(max_delay, base * 2**(attempt-1))]."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** max(attempt - 1, 0)))
    return float(max(0.0, rand()) * ceiling)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as delay-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def judge_response(response: HttpResponse, now: datetime, variable: str) -> Attempt:
    """Delivered, worth retrying, or failed for good (configuration errors name the fix)."""
    status = response.status
    body = response.text.strip()[:200]
    if 200 <= status < 300:
        return Attempt(ok=True, retry=False, reason=f"HTTP {status}")
    short = body.splitlines()[0] if body else ""
    label = f"HTTP {status}" + (f" {short}" if short else "")
    if status in RETRY_STATUSES or status >= 500:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        return Attempt(ok=False, retry=True, reason=label, retry_after=retry_after)
    if status in NO_RETRY_STATUSES:
        template = SLACK_FIXES.get(short) or STATUS_FIXES[status]
        return Attempt(
            ok=False,
            retry=False,
            reason=f"configuration error: {label}",
            configuration_error=True,
            fix=template.format(var=variable),
        )
    return Attempt(ok=False, retry=False, reason=label)


def wait_before_retry(
    verdict: Attempt, attempt: int, policy: RetryPolicy, rand: Callable[[], float]
) -> float:
    if verdict.retry_after is not None:
        return min(verdict.retry_after, policy.retry_after_cap)
    return backoff_delay(attempt, policy, rand)


def sanitise(text: str, secrets: Iterable[str]) -> str:
    """Remove every secret, every URL and every URL path/query fragment from ``text``."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "***")
        match = re.match(r"^[a-z][a-z0-9+.-]*://[^/?#]*([^#]*)", secret, re.IGNORECASE)
        if match and len(match.group(1)) > 1:
            text = text.replace(match.group(1), "/***")
    return re.sub(r"[a-z][a-z0-9+.-]*://\S+", "<url>", text, flags=re.IGNORECASE)


@dataclass(frozen=True)
class Runtime:
    """What delivery needs from the outside world, injected so tests run instantly."""

    transport: Transport
    now: Callable[[], datetime]
    sleep: Callable[[float], None]
    rand: Callable[[], float]


# --- the loop ----------------------------------------------------------------------------
def deliver(
    url: str,
    make_request: Callable[[], tuple[bytes, Mapping[str, str]]],
    *,
    transport: Transport,
    policy: RetryPolicy,
    variable: str,
    secrets: Iterable[str],
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    rand: Callable[[], float],
    judge: Callable[[HttpResponse, datetime, str], Attempt] = judge_response,
) -> DeliveryOutcome:
    """POST until delivered, a non-retryable answer, or ``max_attempts``; never raises.

    ``make_request`` is called for every attempt so signatures carry a fresh timestamp.
    """
    hidden = [url, *secrets]
    started = now()
    verdict = Attempt(ok=False, retry=False, reason="not attempted")
    response: HttpResponse | None = None
    attempts = 0
    for attempts in range(1, policy.max_attempts + 1):
        body, headers = make_request()
        try:
            response = transport.post(url, body, headers, policy)
        except TransportError as exc:
            response = None
            verdict = Attempt(
                ok=False,
                retry=exc.retryable,
                reason=sanitise(f"{exc.kind}: {exc.detail}", hidden),
                configuration_error=not exc.retryable,
                fix=None if exc.retryable else f"put a complete https:// URL in {variable}",
            )
        except Exception as exc:  # an unexpected client error must not reach the caller
            response = None
            detail = sanitise(f"{type(exc).__name__}: {exc}", hidden)
            verdict = Attempt(ok=False, retry=False, reason=f"client error: {detail}")
        else:
            verdict = judge(response, now(), variable)
            verdict = replace(verdict, reason=sanitise(verdict.reason, hidden))
        if verdict.ok or not verdict.retry or attempts == policy.max_attempts:
            break
        wait = wait_before_retry(verdict, attempts, policy, rand)
        if (now() - started).total_seconds() + wait > policy.deadline_seconds:
            verdict = replace(verdict, reason=f"{verdict.reason}; gave up at the delivery deadline")
            break
        sleep(wait)
    return DeliveryOutcome(
        ok=verdict.ok,
        attempts=attempts,
        reason=verdict.reason if verdict.ok else f"{verdict.reason} (after {attempts} attempt(s))",
        configuration_error=verdict.configuration_error,
        fix=verdict.fix,
        status=response.status if response is not None else None,
        body=sanitise(response.text[:2000], hidden) if response is not None else "",
    )


# --- adapter -------------------------------------------------------------------------------
class HttpxTransport:
    """POST with httpx; connect/read timeouts from the policy; no redirects followed."""

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], policy: RetryPolicy
    ) -> HttpResponse:
        import httpx

        timeout = httpx.Timeout(
            policy.read_timeout, connect=policy.connect_timeout, read=policy.read_timeout
        )
        try:
            answer = httpx.post(
                url, content=body, headers=dict(headers), timeout=timeout, follow_redirects=False
            )
        except httpx.TimeoutException as exc:
            raise TransportError("timeout", type(exc).__name__) from None
        except httpx.UnsupportedProtocol:
            raise TransportError(
                "invalid URL", "missing or unsupported scheme", retryable=False
            ) from None
        except httpx.TransportError as exc:
            raise TransportError("connection error", f"{type(exc).__name__}: {exc}") from None
        except httpx.InvalidURL:
            raise TransportError(
                "invalid URL", "the configured URL is not valid", retryable=False
            ) from None
        return HttpResponse(
            status=answer.status_code,
            headers={k.lower(): v for k, v in answer.headers.items()},
            text=answer.text,
        )
