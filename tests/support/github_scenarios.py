"""Scenario variants built from GitHub's official examples, for the fake GitHub server."""

from __future__ import annotations

import base64
from typing import Any

from fake_github import Answer, FakeGitHub

OWNER, REPO, BRANCH = "acme", "dhash", "main"
REPO_ARG = f"{OWNER}/{REPO}"

GOOD_CODEOWNERS = """\
# deploy paths belong to Ops/SRE
*                           @acme/media-eng
/.github/workflows/         @acme/ops
/config/                    @acme/ops
/deployments/               @acme/ops
/migrations/                @acme/ops @acme/media-eng
/quality-gates-config.json  @acme/ops
"""


def repo_with(fake: FakeGitHub, *, admin: bool) -> None:
    repo = fake.example("repos/get")
    repo.update(name=REPO, full_name=REPO_ARG)
    repo["owner"]["login"] = OWNER
    repo["permissions"] = {"admin": admin, "push": True, "pull": True}
    fake.set("repos/get", repo)


def classic_compliant(fake: FakeGitHub) -> dict[str, Any]:
    """Classic protection meeting the whole policy, from the official example."""
    protection = fake.example("repos/get-branch-protection")
    protection["required_status_checks"].update(
        contexts=["premerge-validation", "cross-platform-check"], strict=True
    )
    protection["enforce_admins"]["enabled"] = True
    reviews = protection["required_pull_request_reviews"]
    reviews.update(
        required_approving_review_count=2,
        require_code_owner_reviews=True,
        dismiss_stale_reviews=True,
        require_last_push_approval=True,
    )
    reviews["bypass_pull_request_allowances"] = {"users": [], "teams": [], "apps": []}
    protection["allow_force_pushes"] = {"enabled": False}
    protection["allow_deletions"] = {"enabled": False}
    return protection


def rules_compliant(fake: FakeGitHub, ruleset_id: int = 42) -> list[dict[str, Any]]:
    """Branch rules (as rules/branches answers) that meet the whole policy."""
    source = {
        "ruleset_source_type": "Repository",
        "ruleset_source": REPO_ARG,
        "ruleset_id": ruleset_id,
    }
    return [
        {"type": "deletion", **source},
        {"type": "non_fast_forward", **source},
        {
            "type": "pull_request",
            **source,
            "parameters": {
                "required_approving_review_count": 2,
                "require_code_owner_review": True,
                "dismiss_stale_reviews_on_push": True,
                "require_last_push_approval": True,
                "required_review_thread_resolution": False,
            },
        },
        {
            "type": "required_status_checks",
            **source,
            "parameters": {
                "strict_required_status_checks_policy": True,
                "required_status_checks": [
                    {"context": "premerge-validation"},
                    {"context": "cross-platform-check"},
                ],
            },
        },
    ]


def ruleset(
    fake: FakeGitHub, ruleset_id: int = 42, bypass: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    data = fake.example("repos/get-repo-ruleset")
    data.update(id=ruleset_id, name=f"protect-main-{ruleset_id}", bypass_actors=bypass or [])
    return data


def codeowners_file(
    fake: FakeGitHub, text: str | None, location: str = ".github/CODEOWNERS"
) -> None:
    for candidate in (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"):
        fake.not_found("repos/get-content", path=candidate)
    if text is None:
        fake.not_found("repos/codeowners-errors")
        return
    content = fake.example("repos/get-content", "200", "response-if-content-is-a-file")
    encoded = base64.b64encode(text.encode()).decode()
    content.update(
        name=location.rsplit("/", 1)[-1],
        path=location,
        size=len(text),
        content="\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)),
    )
    fake.set("repos/get-content", content, match={"path": location})
    fake.set("repos/codeowners-errors", {"errors": []})


def protected(
    fake: FakeGitHub,
    *,
    classic: dict[str, Any] | str | None = "compliant",
    rules: list[dict[str, Any]] | None = None,
    rulesets: dict[int, dict[str, Any]] | None = None,
    admin: bool = True,
    codeowners: str | None = GOOD_CODEOWNERS,
) -> None:
    """Set up a repository: ``classic`` "compliant", a dict, None (not protected) or "hidden"."""
    repo_with(fake, admin=admin)
    if classic == "compliant":
        fake.set("repos/get-branch-protection", classic_compliant(fake))
    elif classic == "hidden":
        fake.set(
            "repos/get-branch-protection",
            Answer(403, fake.error_body(403, "Resource not accessible by integration")),
        )
    elif classic is None:
        fake.not_found("repos/get-branch-protection", "Branch not protected")
    else:
        assert isinstance(classic, dict)
        fake.set("repos/get-branch-protection", classic)
    fake.set("repos/get-branch-rules", rules or [])
    for rid, data in (rulesets or {}).items():
        fake.set("repos/get-repo-ruleset", data, match={"ruleset_id": str(rid)})
    codeowners_file(fake, codeowners)
