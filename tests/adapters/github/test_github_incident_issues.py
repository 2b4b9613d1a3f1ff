"""Incident issues: one per environment and release, comments after that, no duplicates."""

from __future__ import annotations

import pytest
from fake_github import Answer, FakeGitHub

from dhash_gha.adapters.github.client import GitHubApiError
from dhash_gha.adapters.github.incidents import marker, upsert_incident_issue
from dhash_gha.core.clock import FakeClock


def _upsert(
    fake: FakeGitHub, *, env: str = "production", release: str | None = "r-42", body: str = "report"
) -> str:
    return upsert_incident_issue(
        "acme/dhash",
        token="t",
        api_url=fake.url,
        env=env,
        release=release,
        title=f"Rollback of {release} in {env}",
        body=body,
        clock=FakeClock(),
    )


def test_first_incident_opens_an_issue_with_labels_and_marker(fake_github: FakeGitHub) -> None:
    url = _upsert(fake_github)
    assert url.endswith(f"/issues/{fake_github.issues[0]['number']}")
    issue = fake_github.issues[0]
    assert {label["name"] for label in issue["labels"]} == {"incident", "rollback", "production"}
    assert marker("production", "r-42") in issue["body"]
    assert issue["body"].startswith("report")


def test_same_env_and_release_comments_instead_of_a_second_issue(fake_github: FakeGitHub) -> None:
    first = _upsert(fake_github)
    second = _upsert(fake_github, body="second failure")
    assert first == second
    assert len(fake_github.issues) == 1
    assert [c["body"] for c in fake_github.comments] == ["second failure"]


def test_other_release_or_env_gets_its_own_issue(fake_github: FakeGitHub) -> None:
    _upsert(fake_github)
    _upsert(fake_github, release="r-43")
    _upsert(fake_github, env="staging")
    assert len(fake_github.issues) == 3


def test_closed_issue_is_not_reused(fake_github: FakeGitHub) -> None:
    _upsert(fake_github)
    fake_github.issues[0]["state"] = "closed"
    _upsert(fake_github)
    assert len(fake_github.issues) == 2


def test_create_retried_after_a_502_makes_one_issue(fake_github: FakeGitHub) -> None:
    fake_github.script(
        "issues/create",
        Answer(502, {"message": "Server Error"}),
        then_apply=True,  # GitHub created it, then the answer was lost
    )
    url = _upsert(fake_github)
    assert len(fake_github.issues) == 1
    assert url == fake_github.issues[0]["html_url"]
    assert len(fake_github.calls("issues/create")) == 1
    assert not fake_github.comments, "the report is not posted twice"


def test_create_that_failed_before_writing_is_retried(fake_github: FakeGitHub) -> None:
    fake_github.script("issues/create", Answer(502, {"message": "Server Error"}))
    _upsert(fake_github)
    assert len(fake_github.issues) == 1
    assert len(fake_github.calls("issues/create")) == 2


def test_persistent_server_errors_give_up(fake_github: FakeGitHub) -> None:
    for _ in range(5):
        fake_github.script("issues/create", Answer(502, {"message": "Server Error"}))
    with pytest.raises(GitHubApiError, match="server error 502"):
        _upsert(fake_github)
    assert not fake_github.issues


def test_bad_repo_is_bad_input() -> None:
    from dhash_gha.errors import BadInput

    with pytest.raises(BadInput):
        upsert_incident_issue(
            "nope", token="t", api_url=None, env="e", release=None, title="t", body="b"
        )


def test_marker_cannot_be_broken_by_the_release_name() -> None:
    tag = marker("production", "r 1 --> <b>")
    assert tag.count("-->") == 1 and tag.endswith("-->")
    assert marker("production", "r-4") not in marker("production", "r-42")
