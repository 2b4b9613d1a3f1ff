"""Commit statuses: the pre-merge results as PR checks."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from dhash_gha.adapters.github.client import GitHubClient, GitHubNotFound
from dhash_gha.errors import BadInput

COMMIT_STATES = ("error", "failure", "pending", "success")
_SHA_RE = re.compile(r"^[0-9a-fA-F]{40}$")
_MAX_DESCRIPTION = 140  # GitHub's limit for a status description


def validate_status(sha: str, state: str, context: str, target_url: str | None) -> None:
    if not _SHA_RE.match(sha):
        raise BadInput(
            f"--sha must be a full 40-character commit SHA, got {sha!r}",
            tip="in a workflow use ${{ github.event.pull_request.head.sha || github.sha }}",
        )
    if state not in COMMIT_STATES:
        raise BadInput(f"--state must be one of {', '.join(COMMIT_STATES)}, got {state!r}")
    if not context.strip():
        raise BadInput("--context must not be empty", tip="e.g. --context premerge-validation")
    if target_url and not target_url.startswith(("http://", "https://")):
        raise BadInput(f"--target-url must be an http(s) URL, got {target_url!r}")


def shorten(text: str, limit: int = _MAX_DESCRIPTION) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def create_commit_status(
    client: GitHubClient,
    owner: str,
    repo: str,
    *,
    sha: str,
    state: str,
    context: str,
    description: str | None = None,
    target_url: str | None = None,
) -> dict[str, Any]:
    validate_status(sha, state, context, target_url)
    body: dict[str, Any] = {"state": state, "context": context}
    if description:
        body["description"] = shorten(description)
    if target_url:
        body["target_url"] = target_url
    try:
        data = client.request(
            "POST",
            f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/statuses/{sha}",
            body=body,
        ).data
    except GitHubNotFound as exc:
        raise BadInput(
            f"cannot post a status on {owner}/{repo}@{sha[:12]}: not found, or the token may not "
            "see the repository",
            tip="check --repo and --sha; the token needs statuses:write",
        ) from exc
    return data if isinstance(data, dict) else {}
