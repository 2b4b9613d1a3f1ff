"""Operations on an environment: preflight, deploy, migrate, smoke, rollback, service."""

from __future__ import annotations

from typing import Any

from dhash_gha.cli._base import add_command, add_env, not_built


def register(subparsers: Any) -> None:
    preflight = add_command(
        subparsers,
        "preflight",
        "check an environment is ready for a deploy (✅/❌ with the fix)",
        not_built("preflight"),
    )
    add_env(preflight)

    deploy = add_command(
        subparsers,
        "deploy",
        "deploy the workspace's release: lock, backup, build, restart, health, record, monitor",
        not_built("deploy"),
    )
    add_env(deploy)
    deploy.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    deploy.add_argument("--no-backup", action="store_true", help="skip the pre-deploy backup")
    deploy.add_argument("--no-monitor", action="store_true", help="do not monitor after deploy")
    deploy.add_argument(
        "--skip-preflight",
        action="append",
        default=[],
        metavar="CHECK",
        help="deploy even though this preflight check fails (logged; repeatable)",
    )

    migrate = add_command(
        subparsers, "migrate", "run data migrations forward or backward", not_built("migrate")
    )
    add_env(migrate)
    migrate.add_argument("--type", choices=["forward", "backward"], required=True)
    migrate.add_argument("--to", metavar="VERSION", help="target version (default: all / one)")
    migrate.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")

    smoke = add_command(subparsers, "smoke", "smoke-test the running component", not_built("smoke"))
    add_env(smoke)
    phase = smoke.add_mutually_exclusive_group(required=True)
    phase.add_argument("--post-deploy", action="store_true")
    phase.add_argument("--post-rollback", action="store_true")
    smoke.add_argument("--output", metavar="FILE", help="also append the results to FILE")
    smoke.add_argument("--json", action="store_true", help="print results as JSON")

    rollback = add_command(
        subparsers, "rollback", "restore an environment from a backup", not_built("rollback")
    )
    add_env(rollback)
    rollback.add_argument("--backup", default="latest", metavar="PATH|latest")
    rollback.add_argument("--force", action="store_true", help="do not ask for confirmation")
    rollback.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    rollback.add_argument(
        "--unverified",
        action="store_true",
        help="allow restoring a manual .tar.gz backup that has no sidecar (logged)",
    )

    service = add_command(
        subparsers, "service", "start, stop or show the component process", not_built("service")
    )
    service.add_argument("action", choices=["start", "stop", "status"])
    add_env(service)
