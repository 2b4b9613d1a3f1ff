"""GitHub: branch protection, environments, deployments."""

from __future__ import annotations

from typing import Any

from dhash_gha.cli._base import add_command, not_built


def register(subparsers: Any) -> None:
    protection = add_command(subparsers, "protection", "branch protection", not_built("protection"))
    p_actions = protection.add_subparsers(dest="protection_action", metavar="ACTION", required=True)
    verify = add_command(
        p_actions,
        "verify",
        "verify a branch's effective protection against the policy",
        not_built("protection verify"),
    )
    verify.add_argument("--repo", required=True, metavar="OWNER/NAME")
    verify.add_argument("--branch", required=True)
    verify.add_argument("--json", action="store_true")
    verify.add_argument("--policy", metavar="FILE")

    environment = add_command(
        subparsers, "environment", "GitHub deployment environments", not_built("environment")
    )
    e_actions = environment.add_subparsers(
        dest="environment_action", metavar="ACTION", required=True
    )
    e_verify = add_command(
        e_actions,
        "verify",
        "verify a GitHub environment's protection rules",
        not_built("environment verify"),
    )
    e_verify.add_argument("--repo", required=True, metavar="OWNER/NAME")
    e_verify.add_argument("--env", required=True, metavar="ENV")

    deployment = add_command(
        subparsers, "deployment", "GitHub deployments and their statuses", not_built("deployment")
    )
    deployment.add_subparsers(dest="deployment_action", metavar="ACTION")
