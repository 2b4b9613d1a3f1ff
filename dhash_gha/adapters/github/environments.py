"""Verify a GitHub deployment environment: it exists and it gates deploys.

A workflow job that names a missing environment makes GitHub create it on the
fly, *without* any protection rule, so "exists" is the first check. The
judgement (:func:`judge_environment`) is pure; :func:`verify_environment` fetches.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from dhash_gha.adapters.github.client import GitHubClient, GitHubNotFound
from dhash_gha.adapters.github.protection import repo_permissions
from dhash_gha.core.protection import codeowners
from dhash_gha.core.protection.model import Row


def _where(owner: str, repo: str, env: str) -> str:
    return (
        f"Settings → Environments → {env} (https://github.com/{owner}/{repo}/settings/environments)"
    )


def judge_environment(
    env_data: dict[str, Any] | None, *, owner: str, repo: str, env: str, ops_team: str
) -> list[Row]:
    where = _where(owner, repo, env)
    if env_data is None:
        return [
            Row(
                "environment_exists",
                "required",
                "fail",
                "not configured",
                f"environment '{env}' exists with protection rules",
                f"Settings → Environments → New environment → '{env}', then add required "
                f"reviewers (@{owner}/{ops_team.split('/')[-1]}) and a deployment branch policy; "
                "a workflow naming a missing environment creates it unprotected",
            )
        ]
    rows = [Row("environment_exists", "required", "pass", f"'{env}' exists", "exists", "")]
    rules = [r for r in env_data.get("protection_rules") or [] if isinstance(r, dict)]
    reviewer_rules = [r for r in rules if r.get("type") == "required_reviewers"]
    reviewers: list[str] = []
    team_found = False
    for rule in reviewer_rules:
        for item in rule.get("reviewers") or []:
            who = item.get("reviewer") or {}
            if item.get("type") == "Team":
                slug = str(who.get("slug", ""))
                reviewers.append(f"team {slug}")
                team_found = team_found or codeowners.names_team(
                    f"@{owner}/{slug}", ops_team, owner
                )
            else:
                reviewers.append(str(who.get("login", "?")))
    team = ops_team.split("/")[-1]
    rows.append(
        Row(
            "required_reviewers_ops_team",
            "required",
            "pass" if team_found else "fail",
            ", ".join(reviewers) or "no required reviewers",
            f"required reviewers include team {team}",
            "" if team_found else f"{where}: 'Required reviewers' → add team {team}",
        )
    )
    prevent = any(bool(r.get("prevent_self_review")) for r in reviewer_rules)
    rows.append(
        Row(
            "prevent_self_review",
            "required",
            "pass" if prevent else "fail",
            "on" if prevent else "off",
            "the person who triggers a deploy cannot approve it",
            "" if prevent else f"{where}: enable 'Prevent self-review'",
        )
    )
    bypass = env_data.get("can_admins_bypass")
    if bypass is None:
        rows.append(
            Row(
                "admins_cannot_bypass",
                "required",
                "unknown",
                "could not check: the API answer has no can_admins_bypass",
                "administrators cannot bypass the protection rules",
                f"{where}: uncheck 'Allow administrators to bypass configured protection rules'",
            )
        )
    else:
        rows.append(
            Row(
                "admins_cannot_bypass",
                "required",
                "fail" if bypass else "pass",
                "admins can bypass" if bypass else "admins cannot bypass",
                "administrators cannot bypass the protection rules",
                f"{where}: uncheck 'Allow administrators to bypass configured protection rules'"
                if bypass
                else "",
            )
        )
    policy = env_data.get("deployment_branch_policy")
    fix = f"{where}: 'Deployment branches and tags' → 'Protected branches only'"
    if isinstance(policy, dict) and policy.get("protected_branches"):
        rows.append(
            Row(
                "branch_policy",
                "required",
                "pass",
                "protected branches only",
                "protected branches only",
                "",
            )
        )
    elif isinstance(policy, dict) and policy.get("custom_branch_policies"):
        rows.append(
            Row(
                "branch_policy",
                "required",
                "warn",
                "custom branch patterns (not verified to be protected)",
                "protected branches only",
                fix,
            )
        )
    else:
        rows.append(
            Row(
                "branch_policy",
                "required",
                "fail",
                "any branch may deploy",
                "protected branches only",
                fix,
            )
        )
    return rows


def verify_environment(
    client: GitHubClient, owner: str, repo: str, env: str, *, ops_team: str
) -> list[Row]:
    repo_permissions(client, owner, repo)  # a 404 below then means "not configured"
    try:
        data = client.get(
            f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/environments/"
            f"{quote(env, safe='')}"
        )
    except GitHubNotFound:
        data = None
    return judge_environment(
        data if isinstance(data, dict) else None, owner=owner, repo=repo, env=env, ops_team=ops_team
    )
