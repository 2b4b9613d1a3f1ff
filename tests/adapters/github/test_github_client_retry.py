"""Rate limits and errors as GitHub documents them, through PyGithub against the fake API."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timezone

import pytest
from fake_github import Answer, FakeGitHub

from dhash_gha.adapters.github.client import (
    GitHubApiError,
    GitHubClient,
    GitHubUnauthorized,
    credentials_from_env,
    parse_repo,
)
from dhash_gha.core.clock import FakeClock
from dhash_gha.core.ratelimit import FailureKind
from dhash_gha.errors import BadInput


def _client(fake: FakeGitHub) -> tuple[GitHubClient, FakeClock]:
    clock = FakeClock(datetime.fromtimestamp(int(time.time()), tz=timezone.utc))
    return GitHubClient("token", fake.url, clock=clock), clock


def test_primary_rate_limit_with_near_reset_waits_then_succeeds(fake_github: FakeGitHub) -> None:
    client, clock = _client(fake_github)
    fake_github.script("repos/get", fake_github.primary_limit(reset_in=40))
    started = clock.now()
    data = client.get("/repos/acme/dhash")
    assert data["full_name"]
    waited = (clock.now() - started).total_seconds()
    assert 35 <= waited <= 45, "waited for the reset, not longer"
    assert len(fake_github.calls("repos/get")) == 2
    assert "waiting until" in client.notes[0]


def test_primary_rate_limit_429_is_handled_too(fake_github: FakeGitHub) -> None:
    client, _ = _client(fake_github)
    fake_github.script("repos/get", fake_github.primary_limit(reset_in=5, status=429))
    assert client.get("/repos/acme/dhash")["full_name"]


def test_reset_far_away_fails_at_once_naming_the_reset_time(fake_github: FakeGitHub) -> None:
    client, clock = _client(fake_github)
    answer = fake_github.primary_limit(reset_in=3000)
    fake_github.script("repos/get", answer)
    started = clock.now()
    with pytest.raises(GitHubApiError) as caught:
        client.get("/repos/acme/dhash")
    reset = datetime.fromtimestamp(int(answer.headers["X-RateLimit-Reset"]), tz=timezone.utc)
    assert reset.strftime("%Y-%m-%dT%H:%M:%SZ") in caught.value.message
    assert caught.value.exit_code == 1 and caught.value.tip
    assert clock.now() == started, "no sleep at all"
    assert len(fake_github.calls("repos/get")) == 1


def test_secondary_limit_honours_retry_after(fake_github: FakeGitHub) -> None:
    client, clock = _client(fake_github)
    fake_github.script("repos/get", fake_github.secondary_limit(retry_after=17))
    started = clock.now()
    client.get("/repos/acme/dhash")
    assert (clock.now() - started).total_seconds() == 17


def test_secondary_limit_without_retry_after_backs_off_from_a_minute_then_gives_up(
    fake_github: FakeGitHub,
) -> None:
    client, clock = _client(fake_github)
    for _ in range(5):
        fake_github.script("repos/get", fake_github.secondary_limit())
    started = clock.now()
    with pytest.raises(GitHubApiError) as caught:
        client.get("/repos/acme/dhash")
    assert caught.value.kind is FailureKind.SECONDARY_RATE_LIMIT
    assert (clock.now() - started).total_seconds() == 60 + 120
    assert len(fake_github.calls("repos/get")) == 3


def test_server_error_retried_a_bounded_number_of_times(fake_github: FakeGitHub) -> None:
    client, _ = _client(fake_github)
    fake_github.script("repos/get", Answer(502, {"message": "Server Error"}))
    assert client.get("/repos/acme/dhash")["full_name"]
    for _ in range(5):
        fake_github.script("repos/get", Answer(503, {"message": "Unavailable", "code": "x"}))
    with pytest.raises(GitHubApiError, match="server error 503"):
        client.get("/repos/acme/dhash")
    assert len(fake_github.calls("repos/get")) == 2 + 3


def test_401_is_token_invalid_and_never_retried(fake_github: FakeGitHub) -> None:
    client, _ = _client(fake_github)
    fake_github.set(
        "users/get-authenticated", Answer(401, fake_github.error_body(401, "Bad credentials"))
    )
    with pytest.raises(GitHubUnauthorized, match="invalid or expired") as caught:
        client.get("/user")
    assert caught.value.exit_code == 2
    assert len(fake_github.calls("users/get-authenticated")) == 1


def test_unreachable_api_is_a_clear_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = GitHubClient("t", f"http://127.0.0.1:{port}", clock=FakeClock())
    with pytest.raises(GitHubApiError, match="cannot reach the GitHub API"):
        client.get("/repos/a/b")


def test_token_and_api_url_from_the_environment() -> None:
    creds = credentials_from_env(
        {"GH_TOKEN": "abc", "GITHUB_API_URL": "https://ghe.example/api/v3/"}
    )
    assert creds.token == "abc" and creds.api_url == "https://ghe.example/api/v3"
    assert credentials_from_env({"GITHUB_TOKEN": "x", "GH_TOKEN": "y"}).token == "x"
    assert credentials_from_env({"GITHUB_TOKEN": "x"}).api_url == "https://api.github.com"
    with pytest.raises(BadInput, match="no GitHub token"):
        credentials_from_env({"GITHUB_TOKEN": "  "})
    with pytest.raises(BadInput, match="GITHUB_API_URL"):
        credentials_from_env({"GITHUB_TOKEN": "x", "GITHUB_API_URL": "ghe.example"})


@pytest.mark.parametrize("bad", ["", "acme", "acme/", "/dhash", "a/b/c", "ac me/dhash", "acme/.."])
def test_repo_argument_is_validated(bad: str) -> None:
    with pytest.raises(BadInput, match="OWNER/NAME"):
        parse_repo(bad)


def test_pagination_follows_link_next(fake_github: FakeGitHub) -> None:
    client, _ = _client(fake_github)
    first = fake_github.example("issues/list-for-repo")
    second = fake_github.example("issues/list-for-repo")
    second[0]["number"] = 2
    fake_github.set(
        "issues/list-for-repo",
        lambda fake, rec: Answer(
            200,
            second if rec.query.get("page") == "2" else first,
            {}
            if rec.query.get("page") == "2"
            else {"Link": f'<{fake.url}/repos/a/b/issues?page=2>; rel="next"'},
        ),
    )
    numbers = [i["number"] for i in client.paginate("/repos/a/b/issues")]
    assert numbers == [first[0]["number"], 2]


def test_enterprise_server_base_url_prefix_is_kept(fake_github: FakeGitHub) -> None:
    fake_github.prefix = "/api/v3"
    creds = credentials_from_env(
        {"GITHUB_TOKEN": "t", "GITHUB_API_URL": f"{fake_github.url}/api/v3"}
    )
    client = GitHubClient.from_credentials(creds, clock=FakeClock())
    assert client.get("/repos/acme/dhash")["full_name"]
    assert fake_github.calls("repos/get")[0].headers["authorization"] == "token t"
