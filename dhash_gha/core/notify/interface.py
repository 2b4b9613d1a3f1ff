"""What a notification is, what a channel must do with it, and what it reports back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

NOTIFICATION_KINDS = ("test", "deploy", "rollback", "gate", "critical", "golden")
# Kinds that describe an incident (a GitHub issue channel acts only on these).
INCIDENT_KINDS = frozenset({"rollback", "gate", "critical", "golden"})

ChannelStatus = Literal["delivered", "failed", "skipped", "dry-run"]


@dataclass(frozen=True)
class Notification:
    """One message to every channel of an environment, with its structured details."""

    kind: str
    env: str
    message: str
    at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)
    run_url: str | None = None
    paged_roles: tuple[str, ...] = ()

    def detail(self, key: str) -> str | None:
        value = self.details.get(key)
        return None if value is None or value == "" else str(value)

    @property
    def incident_url(self) -> str | None:
        return self.detail("incident_url")

    @property
    def release(self) -> str | None:
        return self.detail("release")


@dataclass(frozen=True)
class ChannelResult:
    """What happened on one channel. ``reason`` and ``fix`` never hold a secret."""

    name: str
    type: str
    status: ChannelStatus
    reason: str | None = None
    attempts: int = 0
    fix: str | None = None
    configuration_error: bool = False
    link: str | None = None

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"name": self.name, "type": self.type, "status": self.status}
        if self.reason:
            record["reason"] = self.reason
        if self.attempts:
            record["attempts"] = self.attempts
        if self.configuration_error:
            record["configuration_error"] = True
        if self.fix:
            record["fix"] = self.fix
        if self.link:
            record["link"] = self.link
        return record


@dataclass(frozen=True)
class NotificationRecord:
    """The outcome of ``notify``: the audit file (None if it could not be written)."""

    path: Path | None
    delivered: bool
    results: tuple[ChannelResult, ...]
    error: str | None = None

    @property
    def failed(self) -> tuple[ChannelResult, ...]:
        return tuple(r for r in self.results if r.status == "failed")


class Channel(Protocol):
    """A destination. ``render`` is pure (used by --dry-run); ``send`` never raises."""

    name: str
    type: str

    def render(self, note: Notification) -> Mapping[str, Any]:
        """The payload this channel would send (without secrets)."""

    def send(self, note: Notification) -> ChannelResult:
        """Deliver ``note``; every failure becomes a ``failed`` result."""
