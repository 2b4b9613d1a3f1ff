"""Notifications to Slack, a signed JSON webhook and a GitHub incident issue, with an
audit record of every one in ``notifications/fallback/``.

``notify(ws, env, kind, message, *, environ, clock, reporter, details=None,
dry_run=False) -> NotificationRecord`` never raises for a delivery failure.
"""

from __future__ import annotations

from dhash_gha.adapters.channels.dispatch import notify
from dhash_gha.adapters.channels.webhook import verify_signature
from dhash_gha.core.notify.interface import (
    NOTIFICATION_KINDS,
    Channel,
    ChannelResult,
    Notification,
    NotificationRecord,
)

__all__ = [
    "NOTIFICATION_KINDS",
    "Channel",
    "ChannelResult",
    "Notification",
    "NotificationRecord",
    "notify",
    "verify_signature",
]
