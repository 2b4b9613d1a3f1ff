"""Who is paged: notification type → roles → each channel's mention for a role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The runbook's defaults, used when config/{env}/dhash.json has no "paging" entry for a type.
DEFAULT_PAGING: Mapping[str, tuple[str, ...]] = {
    "test": (),
    "deploy": ("ops",),
    "gate": ("on_call", "ops"),
    "rollback": ("on_call", "ops", "triage_lead"),
    "critical": ("on_call", "ops", "triage_lead"),
    "golden": ("media_eng",),
}


def paged_roles(notifications: Mapping[str, Any], kind: str) -> tuple[str, ...]:
    paging = notifications.get("paging") or {}
    if kind in paging:
        return tuple(str(role) for role in paging[kind])
    return DEFAULT_PAGING.get(kind, ())


def mentions(
    roles: Sequence[str],
    role_handles: Mapping[str, str],
    channel_mentions: Mapping[str, str],
) -> list[str]:
    """A channel's own mention for a role wins over the environment's default handle."""
    found: list[str] = []
    for role in roles:
        handle = channel_mentions.get(role) or role_handles.get(role) or f"@{role}"
        if handle not in found:
            found.append(handle)
    return found
