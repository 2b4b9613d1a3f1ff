"""`environment verify`, `deployment create/status/deactivate` and `status set` via the CLI."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_github import Answer, FakeGitHub
from github_scenarios import REPO_ARG, repo_with

from dhash_gha.core.clock import FakeClock

RunCli = Callable[..., tuple[int, str, str]]
SHA = "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d"


def _env(fake: FakeGitHub, tmp_path: Path | None = None) -> dict[str, str]:
    env = {"GH_TOKEN": "tok", "GITHUB_API_URL": fake.url}
    if tmp_path is not None:
        env["GITHUB_OUTPUT"] = str(tmp_path / "out.txt")
    return env


def _good_environment(fake: FakeGitHub) -> dict[str, Any]:
    data = fake.example("repos/get-environment")
    data["name"] = "production"
    reviewers = next(r for r in data["protection_rules"] if r["type"] == "required_reviewers")
    reviewers["prevent_self_review"] = True
    team = next(r for r in reviewers["reviewers"] if r["type"] == "Team")
    team["reviewer"]["slug"] = "ops"
    data["deployment_branch_policy"] = {"protected_branches": True, "custom_branch_policies": False}
    data["can_admins_bypass"] = False
    return data


def _verify_env(run_cli: RunCli, fake: FakeGitHub) -> tuple[int, dict[str, str], dict[str, Any]]:
    code, out, _ = run_cli(
        "environment",
        "verify",
        "--repo",
        REPO_ARG,
        "--env",
        "production",
        "--json",
        environ=_env(fake),
    )
    result = json.loads(out)
    return code, {r["setting"]: r["status"] for r in result["rows"]}, result


def test_protected_environment_passes(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    repo_with(fake_github, admin=True)
    fake_github.set("repos/get-environment", _good_environment(fake_github))
    code, statuses, _ = _verify_env(run_cli, fake_github)
    assert code == 0
    assert set(statuses.values()) == {"pass"}


def test_missing_environment_is_not_configured(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    repo_with(fake_github, admin=True)
    fake_github.not_found("repos/get-environment")
    code, statuses, result = _verify_env(run_cli, fake_github)
    assert code == 1
    assert statuses == {"environment_exists": "fail"}
    assert "creates it unprotected" in result["rows"][0]["fix"]


MUTATIONS = {
    "required_reviewers_ops_team": lambda d: d.__setitem__(
        "protection_rules", [r for r in d["protection_rules"] if r["type"] != "required_reviewers"]
    ),
    "branch_policy": lambda d: d.__setitem__("deployment_branch_policy", None),
    "admins_cannot_bypass": lambda d: d.__setitem__("can_admins_bypass", True),
}


@pytest.mark.parametrize("setting", sorted(MUTATIONS))
def test_environment_weakness_fails_its_row(
    fake_github: FakeGitHub, run_cli: RunCli, setting: str
) -> None:
    repo_with(fake_github, admin=True)
    data = _good_environment(fake_github)
    MUTATIONS[setting](data)
    fake_github.set("repos/get-environment", data)
    code, statuses, _ = _verify_env(run_cli, fake_github)
    assert code == 1
    bad = {k for k, v in statuses.items() if v != "pass"}
    if setting == "required_reviewers_ops_team":
        assert bad == {setting, "prevent_self_review"}  # no reviewer rule: nothing prevents it
    else:
        assert bad == {setting}


def test_reviewers_without_the_ops_team_and_self_review_allowed(
    fake_github: FakeGitHub, run_cli: RunCli
) -> None:
    repo_with(fake_github, admin=True)
    data = fake_github.example("repos/get-environment")  # the official example: team justice-league
    fake_github.set("repos/get-environment", data)
    code, statuses, _ = _verify_env(run_cli, fake_github)
    assert code == 1
    assert statuses["required_reviewers_ops_team"] == "fail"
    assert statuses["prevent_self_review"] == "fail"
    assert statuses["admins_cannot_bypass"] == "unknown"  # the example does not report it
    assert statuses["branch_policy"] == "warn"  # custom branch policies


def test_deployment_lifecycle(fake_github: FakeGitHub, run_cli: RunCli, tmp_path: Path) -> None:
    env = _env(fake_github, tmp_path)
    code, out, err = run_cli(
        "deployment",
        "create",
        "--repo",
        REPO_ARG,
        "--ref",
        "main",
        "--env",
        "production",
        "--release-id",
        "r-42",
        "--backup",
        "backups/dhash_production_20260101_000000.zip",
        environ=env,
    )
    assert code == 0, err
    deployment_id = out.strip()
    deployment = fake_github.deployments[0]
    assert str(deployment["id"]) == deployment_id
    assert deployment["payload"] == {
        "release_id": "r-42",
        "pre_deploy_backup": "backups/dhash_production_20260101_000000.zip",
    }
    body = fake_github.calls("repos/create-deployment")[0].body
    assert body["auto_merge"] is False and body["production_environment"] is True
    assert "deployment-id<<" in (tmp_path / "out.txt").read_text()
    for state in ("in_progress", "success"):
        code, _, err = run_cli(
            "deployment",
            "status",
            "--repo",
            REPO_ARG,
            "--id",
            deployment_id,
            "--state",
            state,
            "--log-url",
            "https://ci.example/run/1",
            environ=env,
        )
        assert code == 0, err
    code, _, _ = run_cli(
        "deployment", "deactivate", "--repo", REPO_ARG, "--id", deployment_id, environ=env
    )
    assert code == 0
    assert [s["state"] for s in fake_github.deployment_statuses] == [
        "in_progress",
        "success",
        "inactive",
    ]
    assert fake_github.deployment_statuses[0]["log_url"] == "https://ci.example/run/1"


def test_deployment_create_after_a_lost_502_is_not_duplicated(
    fake_github: FakeGitHub, run_cli: RunCli
) -> None:
    fake_github.script(
        "repos/create-deployment", Answer(502, {"message": "Server Error"}), then_apply=True
    )
    fake_github.set(
        "repos/list-deployments", lambda fake, rec: Answer(200, copy.deepcopy(fake.deployments))
    )
    code, out, _ = run_cli(
        "deployment",
        "create",
        "--repo",
        REPO_ARG,
        "--ref",
        "main",
        "--env",
        "staging",
        "--release-id",
        "r-7",
        environ=_env(fake_github),
        clock=FakeClock(),
    )
    assert code == 0
    assert len(fake_github.deployments) == 1 and out.strip() == str(
        fake_github.deployments[0]["id"]
    )


def test_deployment_refused_for_failing_checks_exits_1(
    fake_github: FakeGitHub, run_cli: RunCli
) -> None:
    fake_github.set(
        "repos/create-deployment",
        Answer(
            409,
            {
                "message": "Conflict: Commit status checks failed for main.",
                "documentation_url": "x",
            },
        ),
    )
    code, _, err = run_cli(
        "deployment",
        "create",
        "--repo",
        REPO_ARG,
        "--ref",
        "main",
        "--env",
        "production",
        "--release-id",
        "r-1",
        environ=_env(fake_github),
    )
    assert code == 1 and "--skip-status-checks" in err


@pytest.mark.parametrize(
    "args",
    [
        ["deployment", "status", "--repo", REPO_ARG, "--id", "abc", "--state", "success"],
        ["deployment", "status", "--repo", REPO_ARG, "--id", "1", "--state", "done"],
        [
            "deployment",
            "status",
            "--repo",
            REPO_ARG,
            "--id",
            "1",
            "--state",
            "success",
            "--log-url",
            "ftp://x",
        ],
        [
            "status",
            "set",
            "--repo",
            REPO_ARG,
            "--sha",
            "abc",
            "--context",
            "c",
            "--state",
            "success",
        ],
        ["status", "set", "--repo", "bad", "--sha", SHA, "--context", "c", "--state", "success"],
        ["status", "set", "--repo", REPO_ARG, "--sha", SHA, "--context", "c", "--state", "ok"],
    ],
)
def test_bad_arguments_exit_2_without_calling_github(
    fake_github: FakeGitHub, run_cli: RunCli, args: list[str]
) -> None:
    code, _, _ = run_cli(*args, environ=_env(fake_github))
    assert code == 2
    assert not fake_github.requests


def test_status_set_posts_a_commit_status(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    code, _out, err = run_cli(
        "status",
        "set",
        "--repo",
        REPO_ARG,
        "--sha",
        SHA,
        "--context",
        "premerge-validation",
        "--state",
        "success",
        "--description",
        "x" * 200,
        "--target-url",
        "https://ci.example/run/9",
        environ=_env(fake_github),
    )
    assert code == 0, err
    status = fake_github.commit_statuses[0]
    assert (status["sha"], status["context"], status["state"]) == (
        SHA,
        "premerge-validation",
        "success",
    )
    assert len(status["description"]) == 140
    assert status["target_url"] == "https://ci.example/run/9"


def test_status_set_without_token(run_cli: RunCli) -> None:
    code, _, err = run_cli(
        "status",
        "set",
        "--repo",
        REPO_ARG,
        "--sha",
        SHA,
        "--context",
        "c",
        "--state",
        "pending",
        environ={},
    )
    assert code == 2 and "GITHUB_TOKEN" in err


def test_status_of_unknown_deployment_names_it(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    code, _, err = run_cli(
        "deployment",
        "status",
        "--repo",
        REPO_ARG,
        "--id",
        "999",
        "--state",
        "success",
        environ=_env(fake_github),
    )
    assert code == 2 and "deployment 999 not found" in err
