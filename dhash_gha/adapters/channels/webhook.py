"""Generic JSON webhook, signed with HMAC-SHA256 when a secret is configured.

Header: ``X-Dhash-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>``.
A receiver recomputes the HMAC over the raw body with ``verify_signature`` and
refuses a timestamp outside its tolerance, so a captured request cannot be
replayed later. ``X-Dhash-Delivery`` is the same on every retry of one
notification, so a receiver can also drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dhash_gha.adapters.channels.delivery import RetryPolicy, Runtime, deliver
from dhash_gha.core.notify.interface import ChannelResult, Notification
from dhash_gha.core.notify.paging import mentions
from dhash_gha.core.notify.render import webhook_payload

SIGNATURE_HEADER = "X-Dhash-Signature"
DELIVERY_HEADER = "X-Dhash-Delivery"
EVENT_HEADER = "X-Dhash-Event"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is within
    ``tolerance`` seconds of ``now`` (a replayed old request is refused)."""
    if not header:
        return False
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))


@dataclass
class WebhookChannel:
    name: str
    url: str = field(repr=False)
    variable: str
    runtime: Runtime = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    role_handles: Mapping[str, str] = field(default_factory=dict)
    channel_mentions: Mapping[str, str] = field(default_factory=dict)
    type: str = "webhook"

    def render(self, note: Notification) -> Mapping[str, Any]:
        return webhook_payload(
            note, mentions(note.paged_roles, self.role_handles, self.channel_mentions)
        )

    def send(self, note: Notification) -> ChannelResult:
        body = json.dumps(self.render(note), ensure_ascii=False, sort_keys=True).encode("utf-8")
        delivery_id = str(uuid.uuid4())

        def request() -> tuple[bytes, Mapping[str, str]]:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                EVENT_HEADER: note.kind,
                DELIVERY_HEADER: delivery_id,
            }
            if self.secret:
                stamp = int(self.runtime.now().timestamp())
                headers[SIGNATURE_HEADER] = sign(self.secret, stamp, body)
            return body, headers

        outcome = deliver(
            self.url,
            request,
            transport=self.runtime.transport,
            policy=self.policy,
            variable=self.variable,
            secrets=[self.secret] if self.secret else [],
            now=self.runtime.now,
            sleep=self.runtime.sleep,
            rand=self.runtime.rand,
        )
        return outcome.channel_result(self.name, self.type)
