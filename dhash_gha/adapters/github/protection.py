"""Fetch what GitHub shows about a branch's protection, for :mod:`dhash_gha.core.protection.policy`.

Reads classic branch protection, the rules that apply to the branch from
rulesets (``GET /repos/{o}/{r}/rules/branches/{b}``), each applying ruleset
(for its bypass list) and CODEOWNERS (contents API, then ``codeowners/errors``).
A part the token may not read is recorded as unreadable with the reason,
never as "unprotected".
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from dhash_gha.adapters.github.client import (
    GitHubApiError,
    GitHubClient,
    GitHubForbidden,
    GitHubNotFound,
)
from dhash_gha.core.protection import codeowners
from dhash_gha.core.protection.model import Snapshot
from dhash_gha.errors import BadInput


def _seg(text: str) -> str:
    return quote(text, safe="")


def repo_permissions(client: GitHubClient, owner: str, repo: str) -> dict[str, Any]:
    """``permissions`` of the token on the repository; BadInput when it cannot see it."""
    try:
        data = client.get(f"/repos/{_seg(owner)}/{_seg(repo)}")
    except GitHubNotFound as exc:
        raise BadInput(
            f"repository {owner}/{repo} not found, or this token may not see it",
            tip="check --repo; for a private repository the token needs read access to it "
            "(contents:read / metadata:read)",
        ) from exc
    perms = data.get("permissions") if isinstance(data, dict) else None
    return perms if isinstance(perms, dict) else {}


def fetch_snapshot(client: GitHubClient, owner: str, repo: str, branch: str) -> Snapshot:
    base = f"/repos/{_seg(owner)}/{_seg(repo)}"
    perms = repo_permissions(client, owner, repo)
    admin = perms.get("admin")
    fields: dict[str, Any] = {"owner": owner, "repo": repo, "branch": branch}

    try:
        fields["classic"] = client.get(f"{base}/branches/{_seg(branch)}/protection")
    except GitHubNotFound as exc:
        said = exc.api_message.lower()
        if "branch not protected" in said:
            fields["classic_absent"] = True
        elif "branch not found" in said:
            raise BadInput(
                f"branch {branch!r} not found in {owner}/{repo}",
                tip="check --branch (the default branch is usually main)",
            ) from exc
        elif admin:
            fields["classic_unreadable"] = f"404 {exc.api_message or 'Not Found'}"
        else:
            fields["classic_unreadable"] = (
                "404: the token lacks admin rights (administration:read), which reading "
                "classic protection needs"
            )
    except GitHubForbidden as exc:
        fields["classic_unreadable"] = (
            f"403 {exc.api_message or 'Forbidden'}: the token lacks administration:read"
        )

    try:
        rules = list(client.paginate(f"{base}/rules/branches/{_seg(branch)}"))
        fields["rules"] = [r for r in rules if isinstance(r, dict)]
    except (GitHubNotFound, GitHubForbidden) as exc:
        fields["rules_unreadable"] = f"{exc.status} {exc.api_message}".strip()
        rules = []

    rulesets: dict[int, dict[str, Any]] = {}
    unreadable: dict[int, str] = {}
    for rid in sorted({int(r["ruleset_id"]) for r in fields.get("rules", []) if "ruleset_id" in r}):
        try:
            data = client.get(f"{base}/rulesets/{rid}")
        except (GitHubNotFound, GitHubForbidden) as exc:
            unreadable[rid] = f"{exc.status} {exc.api_message}".strip()
            continue
        if isinstance(data, dict):
            rulesets[rid] = data
            if "bypass_actors" not in data:
                unreadable[rid] = (
                    "the bypass list is shown only to tokens that may edit the ruleset"
                )
    fields["rulesets"] = rulesets
    fields["rulesets_unreadable"] = unreadable

    fields.update(_fetch_codeowners(client, base, branch))
    return Snapshot(**fields)


def _fetch_codeowners(client: GitHubClient, base: str, branch: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for location in codeowners.LOCATIONS:
        try:
            data = client.get(f"{base}/contents/{quote(location)}", ref=branch)
        except GitHubNotFound:
            continue
        except GitHubForbidden as exc:
            found["codeowners_unreadable"] = f"403 {exc.api_message}: the token lacks contents:read"
            break
        if isinstance(data, dict) and data.get("type") == "file":
            found["codeowners_path"] = location
            text = _decode_content(data)
            if text is None:
                found["codeowners_unreadable"] = f"{location}: content not returned inline"
            else:
                found["codeowners_text"] = text
            break
    try:
        errors = client.get(f"{base}/codeowners/errors", ref=branch)
        found["codeowners_errors"] = (
            list(errors.get("errors") or []) if isinstance(errors, dict) else []
        )
    except GitHubNotFound:
        found["codeowners_errors"] = []  # no CODEOWNERS file: nothing to be wrong
    except GitHubApiError:
        found["codeowners_errors"] = None
    return found


def _decode_content(data: dict[str, Any]) -> str | None:
    if data.get("encoding") != "base64" or not isinstance(data.get("content"), str):
        return None
    try:
        raw = base64.b64decode("".join(data["content"].split()))
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", errors="replace")
