"""Deployments and their statuses through the Deployments API, for the deploy action.

A deploy creates a deployment for the ref and environment (payload: release id
and pre-deploy backup), moves it ``in_progress`` → ``success``/``failure`` with
a log URL, and a rollback marks the replaced deployment ``inactive``. A create
that fails with a server error may still have happened, so before trying again
we look for a deployment carrying the same release id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from dhash_gha.adapters.github.client import GitHubApiError, GitHubClient, GitHubNotFound
from dhash_gha.core.ratelimit import FailureKind
from dhash_gha.errors import BadInput, CheckFailed

DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")


def _base(owner: str, repo: str) -> str:
    return f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"


def find_deployment(
    client: GitHubClient, owner: str, repo: str, *, ref: str, env: str, release_id: str
) -> dict[str, Any] | None:
    for item in client.paginate(f"{_base(owner, repo)}/deployments", ref=ref, environment=env):
        payload = item.get("payload") if isinstance(item, dict) else None
        if isinstance(payload, dict) and payload.get("release_id") == release_id:
            return dict(item)
    return None


def create_deployment(
    client: GitHubClient,
    owner: str,
    repo: str,
    *,
    ref: str,
    env: str,
    release_id: str,
    backup: str | None,
    description: str | None = None,
    skip_status_checks: bool = False,
) -> dict[str, Any]:
    """Create (once) the deployment of ``release_id``; returns GitHub's deployment object."""
    if not ref.strip():
        raise BadInput("--ref must name a branch, tag or commit SHA")
    if not release_id.strip():
        raise BadInput("--release-id must not be empty")
    body: dict[str, Any] = {
        "ref": ref,
        "environment": env,
        "auto_merge": False,  # never merge the default branch into the ref behind the operator
        "payload": {"release_id": release_id, "pre_deploy_backup": backup},
        "description": description or f"dhash release {release_id}",
        "production_environment": env == "production",
    }
    if skip_status_checks:
        body["required_contexts"] = []
    attempts = client.policy.server_error_attempts
    for attempt in range(1, attempts + 1):
        try:
            data = client.request(
                "POST", f"{_base(owner, repo)}/deployments", body=body, retry_server_errors=False
            ).data
        except GitHubApiError as exc:
            if exc.status == 409:
                raise CheckFailed(
                    f"GitHub refused the deployment of {ref}: {exc.api_message}",
                    tip="the commit's required status checks have not all passed; wait for them, "
                    "or pass --skip-status-checks when the pipeline checked them already",
                ) from exc
            if exc.kind is not FailureKind.SERVER_ERROR or attempt == attempts:
                raise
            existing = find_deployment(client, owner, repo, ref=ref, env=env, release_id=release_id)
            if existing is not None:
                return existing
            client.clock.sleep(client.policy.server_error_base_delay * 2 ** (attempt - 1))
            continue
        if not isinstance(data, dict) or "id" not in data:
            message = data.get("message") if isinstance(data, dict) else data
            raise CheckFailed(
                f"GitHub did not create the deployment of {ref}: {message}",
                tip="the ref may need the default branch merged in first; update the branch",
            )
        return data
    raise AssertionError("unreachable")  # pragma: no cover


def set_deployment_status(
    client: GitHubClient,
    owner: str,
    repo: str,
    deployment_id: int,
    *,
    state: str,
    log_url: str | None = None,
    description: str | None = None,
    environment_url: str | None = None,
) -> dict[str, Any]:
    if state not in DEPLOYMENT_STATES:
        raise BadInput(f"--state must be one of {', '.join(DEPLOYMENT_STATES)}, got {state!r}")
    for name, url in (("--log-url", log_url), ("--environment-url", environment_url)):
        if url and not url.startswith(("http://", "https://")):
            raise BadInput(f"{name} must be an http(s) URL, got {url!r}")
    body: dict[str, Any] = {"state": state}
    if log_url:
        body["log_url"] = log_url
    if description:
        body["description"] = description[:140]
    if environment_url:
        body["environment_url"] = environment_url
    try:
        data = client.request(
            "POST", f"{_base(owner, repo)}/deployments/{int(deployment_id)}/statuses", body=body
        ).data
    except GitHubNotFound as exc:
        raise BadInput(
            f"deployment {deployment_id} not found in {owner}/{repo}, or the token may not see it",
            tip="pass the id printed by 'deployment create' (step output deployment-id); the "
            "token needs deployments:write",
        ) from exc
    return data if isinstance(data, dict) else {}


def deactivate_deployment(
    client: GitHubClient,
    owner: str,
    repo: str,
    deployment_id: int,
    *,
    description: str | None = None,
) -> dict[str, Any]:
    """Mark a replaced deployment inactive (a rollback superseded it)."""
    return set_deployment_status(
        client,
        owner,
        repo,
        deployment_id,
        state="inactive",
        description=description or "replaced by a rollback",
    )
