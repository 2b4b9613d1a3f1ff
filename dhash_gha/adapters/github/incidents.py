"""Rollback incident issues: one open issue per environment and release.

Each issue carries a hidden marker naming the environment and release. A new
incident for the same pair becomes a comment on the open issue instead of a
second issue. Before creating, and again after a create that failed with a
server error (the issue may have been created anyway), we look for the
marker, so a retried create never makes a duplicate.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from dhash_gha.adapters.clock import SystemClock
from dhash_gha.adapters.github.client import (
    DEFAULT_API_URL,
    GitHubApiError,
    GitHubClient,
    parse_repo,
)
from dhash_gha.core.clock import Clock
from dhash_gha.core.ratelimit import FailureKind, RetryPolicy

LABELS = ("incident", "rollback")


def _token(text: str) -> str:
    """One marker word: nothing that could end the HTML comment or split the word."""
    return re.sub(r"[^A-Za-z0-9._:/@+-]", "_", text).replace("--", "-_") or "_"


def marker(env: str, release: str | None) -> str:
    return f"<!-- dhash-gha:incident env={_token(env)} release={_token(release or 'unknown')} -->"


def find_incident_issue(
    client: GitHubClient, owner: str, repo: str, *, env: str, release: str | None
) -> dict[str, Any] | None:
    tag = marker(env, release)
    issues = client.paginate(
        f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/issues",
        state="open",
        labels="incident",
    )
    for issue in issues:
        if not isinstance(issue, dict) or "pull_request" in issue:
            continue
        if tag in str(issue.get("body") or ""):
            return issue
    return None


def upsert_incident_issue(
    repo: str,
    *,
    token: str,
    api_url: str | None,
    env: str,
    release: str | None,
    title: str,
    body: str,
    clock: Clock | None = None,
    policy: RetryPolicy | None = None,
) -> str:
    """Open the incident issue for ``env`` + ``release``, or comment on the open one.

    Returns the issue's html_url. Raises our error classes (never PyGithub's).
    """
    owner, name = parse_repo(repo)
    client = GitHubClient(
        token=token,
        api_url=(api_url or DEFAULT_API_URL).rstrip("/"),
        clock=clock or SystemClock(),
        policy=policy or RetryPolicy(),
    )
    try:
        return _upsert(client, owner, name, env=env, release=release, title=title, body=body)
    finally:
        client.close()


def _upsert(
    client: GitHubClient,
    owner: str,
    name: str,
    *,
    env: str,
    release: str | None,
    title: str,
    body: str,
) -> str:
    base = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
    tagged_body = f"{body.rstrip()}\n\n{marker(env, release)}\n"
    attempts = client.policy.server_error_attempts
    for attempt in range(1, attempts + 1):
        existing = find_incident_issue(client, owner, name, env=env, release=release)
        if existing is not None:
            if attempt > 1 and str(existing.get("body") or "").strip() == tagged_body.strip():
                return str(existing["html_url"])  # our own create went through after all
            client.request(
                "POST", f"{base}/issues/{int(existing['number'])}/comments", body={"body": body}
            )
            return str(existing["html_url"])
        try:
            created = client.request(
                "POST",
                f"{base}/issues",
                body={"title": title, "body": tagged_body, "labels": [*LABELS, env]},
                retry_server_errors=False,
            ).data
        except GitHubApiError as exc:
            if exc.kind is not FailureKind.SERVER_ERROR or attempt == attempts:
                raise
            client.clock.sleep(client.policy.server_error_base_delay * 2 ** (attempt - 1))
            continue  # look for the marker again: the create may have happened
        return str(created["html_url"])
    raise AssertionError("unreachable")  # pragma: no cover
