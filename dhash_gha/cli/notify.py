"""Notifications and incidents."""

from __future__ import annotations

from typing import Any

from dhash_gha.cli._base import add_command, add_env, not_built

NOTIFICATION_TYPES = ("test", "deploy", "rollback", "gate", "critical")


def register(subparsers: Any) -> None:
    notify = add_command(
        subparsers,
        "notify",
        "send a notification to every channel of an environment",
        not_built("notify"),
    )
    notify.add_argument("--type", choices=NOTIFICATION_TYPES, required=True)
    add_env(notify)
    notify.add_argument("--message", required=True, metavar="TEXT")
    notify.add_argument("--dry-run", action="store_true", help="render and record, send nothing")

    incident = add_command(
        subparsers,
        "incident",
        "open an incident archive or regenerate its report",
        not_built("incident"),
    )
    actions = incident.add_subparsers(dest="incident_action", metavar="ACTION", required=True)
    opened = add_command(
        actions, "open", "archive logs and gate config, write report.md", not_built("incident open")
    )
    add_env(opened)
    opened.add_argument("--reason", metavar="TEXT")
    report = add_command(
        actions, "report", "regenerate an incident's report.md", not_built("incident report")
    )
    report.add_argument("incident_id", metavar="INC-YYYYmmdd-HHMMSS")
