"""``dhash-gha backup``: create, verify, list, latest, prune (and restore, the rollback primitive)."""

from __future__ import annotations

import argparse
from typing import Any

from dhash_gha.cli._base import add_command, add_env, not_built


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "backup",
        "back up src/, config/, deployments/ to backups/dhash_{env}_{ts}.zip (+ .sha256); "
        "'backup --env ENV' is 'backup create --env ENV'",
        not_built("backup"),
    )
    add_env(parser, required=False)
    actions = parser.add_subparsers(dest="backup_action", metavar="ACTION")
    create = add_command(actions, "create", "create a verified backup", not_built("backup create"))
    add_env(create)
    verify = add_command(
        actions,
        "verify",
        "verify a backup: sidecar checksum, zip integrity, every manifest hash",
        not_built("backup verify"),
    )
    verify.add_argument("path", metavar="PATH", help="the backup .zip")
    listing = add_command(
        actions,
        "list",
        "list an environment's backups (name, size, age, verified)",
        not_built("backup list"),
    )
    add_env(listing)
    latest = add_command(
        actions,
        "latest",
        "print the newest backup's path (exit 1 when there is none)",
        not_built("backup latest"),
    )
    add_env(latest)
    prune = add_command(
        actions,
        "prune",
        "delete old backups, keeping N (never the newest verified one, nor the current "
        "release's pre-deploy backup)",
        not_built("backup prune"),
    )
    add_env(prune)
    prune.add_argument("--keep", type=int, required=True, metavar="N")


def _unused(args: argparse.Namespace) -> None:  # pragma: no cover - placeholder for typing
    del args
