"""``dhash-gha status``: an environment's state; ``status set``: a commit status for PR checks."""

from __future__ import annotations

from typing import Any

from dhash_gha.cli._base import add_command, add_env, not_built


def register(subparsers: Any) -> None:
    status = add_command(
        subparsers,
        "status",
        "show an environment's release, health, backups and monitor; 'status set' posts a "
        "commit status",
        not_built("status"),
    )
    add_env(status, required=False)
    actions = status.add_subparsers(dest="status_action", metavar="ACTION")
    add_command(
        actions,
        "set",
        "post a commit status (context, state, description, URL)",
        not_built("status set"),
    )
