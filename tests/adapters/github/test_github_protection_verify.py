"""`dhash-gha protection verify` against the fake GitHub API, scenario by scenario."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fake_github import Answer, FakeGitHub
from github_scenarios import (
    BRANCH,
    GOOD_CODEOWNERS,
    REPO_ARG,
    classic_compliant,
    protected,
    rules_compliant,
    ruleset,
)

from dhash_gha.core.clock import FakeClock

RunCli = Callable[..., tuple[int, str, str]]


def _env(fake: FakeGitHub, tmp_path: Path | None = None) -> dict[str, str]:
    env = {"GITHUB_TOKEN": "ghs_secret_token_value", "GITHUB_API_URL": fake.url}
    if tmp_path is not None:
        env["GITHUB_ACTIONS"] = "true"
        env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
        env["GITHUB_OUTPUT"] = str(tmp_path / "output.txt")
    return env


def _verify(run_cli: RunCli, fake: FakeGitHub, *extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli(
        "protection",
        "verify",
        "--repo",
        REPO_ARG,
        "--branch",
        BRANCH,
        "--json",
        *extra,
        environ=_env(fake),
        clock=FakeClock(datetime.now(timezone.utc)),
    )
    return code, json.loads(out), err


def _statuses(result: dict[str, Any]) -> dict[str, str]:
    return {row["setting"]: row["status"] for row in result["rows"]}


def test_fully_compliant_branch_passes_every_row(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    protected(fake_github)
    code, result, _ = _verify(run_cli, fake_github)
    assert code == 0
    assert result["ok"] is True
    assert set(_statuses(result).values()) == {"pass"}
    assert len(result["rows"]) == 13


def _mutate_classic(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(protection: dict[str, Any]) -> None:
        section, _, field = key.partition(".")
        if field:
            protection[section][field] = value
        else:
            protection[section] = value

    return mutate


VIOLATIONS = [
    (
        "required_status_checks",
        _mutate_classic("required_status_checks.contexts", ["premerge-validation"]),
        1,
    ),
    ("strict_status_checks", _mutate_classic("required_status_checks.strict", False), 0),
    (
        "required_approvals",
        _mutate_classic("required_pull_request_reviews.required_approving_review_count", 1),
        1,
    ),
    (
        "code_owner_review",
        _mutate_classic("required_pull_request_reviews.require_code_owner_reviews", False),
        1,
    ),
    (
        "dismiss_stale_reviews",
        _mutate_classic("required_pull_request_reviews.dismiss_stale_reviews", False),
        0,
    ),
    (
        "last_push_approval",
        _mutate_classic("required_pull_request_reviews.require_last_push_approval", False),
        0,
    ),
    ("enforce_admins", _mutate_classic("enforce_admins.enabled", False), 1),
    (
        "no_bypass_allowances",
        _mutate_classic(
            "required_pull_request_reviews.bypass_pull_request_allowances",
            {"users": [{"login": "octocat"}], "teams": [], "apps": []},
        ),
        1,
    ),
    ("force_pushes_blocked", _mutate_classic("allow_force_pushes", {"enabled": True}), 1),
    ("deletions_blocked", _mutate_classic("allow_deletions", {"enabled": True}), 1),
]


@pytest.mark.parametrize(
    ("setting", "mutate", "exit_code"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS]
)
def test_each_classic_violation_alone_fails_only_its_row(
    fake_github: FakeGitHub,
    run_cli: RunCli,
    setting: str,
    mutate: Callable[[dict[str, Any]], None],
    exit_code: int,
) -> None:
    classic = classic_compliant(fake_github)
    mutate(classic)
    protected(fake_github, classic=classic)
    code, result, _ = _verify(run_cli, fake_github)
    statuses = _statuses(result)
    bad = {name: status for name, status in statuses.items() if status != "pass"}
    assert bad == {setting: "fail" if exit_code else "warn"}
    assert code == exit_code
    row = next(r for r in result["rows"] if r["setting"] == setting)
    assert row["fix"], "a failing row names the fix"


def test_ruleset_bypass_actor_fails(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    bypass = [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    protected(
        fake_github,
        rules=rules_compliant(fake_github, 7),
        rulesets={7: ruleset(fake_github, 7, bypass)},
    )
    code, result, _ = _verify(run_cli, fake_github)
    assert code == 1
    assert {k for k, v in _statuses(result).items() if v != "pass"} == {"no_ruleset_bypass"}
    row = next(r for r in result["rows"] if r["setting"] == "no_ruleset_bypass")
    assert "RepositoryRole 5" in row["found"] and "Bypass list" in row["fix"]


def test_codeowners_not_naming_the_team_fails(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    protected(fake_github, codeowners="* @acme/media-eng\n/config/ @acme/ops\n")
    code, result, _ = _verify(run_cli, fake_github)
    assert code == 1
    row = next(r for r in result["rows"] if r["setting"] == "codeowners_ops_team")
    assert row["status"] == "fail"
    assert "migrations/" in row["found"] and "config/" not in row["found"].split(":", 1)[1]
    assert "@acme/ops" in row["fix"]


def test_codeowners_missing_fails_with_where_to_add_it(
    fake_github: FakeGitHub, run_cli: RunCli
) -> None:
    protected(fake_github, codeowners=None)
    code, result, _ = _verify(run_cli, fake_github)
    assert code == 1
    row = next(r for r in result["rows"] if r["setting"] == "codeowners_ops_team")
    assert row["status"] == "fail" and "no CODEOWNERS" in row["found"]
    assert ".github/CODEOWNERS" in row["fix"]


def test_codeowners_errors_are_a_warning(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    protected(fake_github)
    fake_github.set("repos/codeowners-errors", fake_github.example("repos/codeowners-errors"))
    code, result, _ = _verify(run_cli, fake_github)
    assert code == 0
    assert _statuses(result)["codeowners_valid"] == "warn"


def test_protection_only_through_rulesets(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    protected(
        fake_github,
        classic=None,
        rules=rules_compliant(fake_github),
        rulesets={42: ruleset(fake_github)},
    )
    code, result, _ = _verify(run_cli, fake_github)
    assert code == 0, result
    assert set(_statuses(result).values()) == {"pass"}
    assert fake_github.calls("repos/get-repo-ruleset"), "bypass actors come from the ruleset itself"


def test_classic_and_rulesets_combine_to_the_strictest(
    fake_github: FakeGitHub, run_cli: RunCli
) -> None:
    classic = classic_compliant(fake_github)
    classic["required_pull_request_reviews"]["required_approving_review_count"] = 1
    classic["required_status_checks"]["contexts"] = ["premerge-validation"]
    classic["allow_force_pushes"] = {"enabled": True}
    rules = [
        r for r in rules_compliant(fake_github) if r["type"] in ("pull_request", "non_fast_forward")
    ]
    rules.append(
        {
            "type": "required_status_checks",
            "ruleset_id": 42,
            "ruleset_source_type": "Repository",
            "ruleset_source": REPO_ARG,
            "parameters": {
                "strict_required_status_checks_policy": False,
                "required_status_checks": [{"context": "cross-platform-check"}],
            },
        }
    )
    protected(fake_github, classic=classic, rules=rules, rulesets={42: ruleset(fake_github)})
    code, result, _ = _verify(run_cli, fake_github)
    assert code == 0, result
    statuses = _statuses(result)
    assert statuses["required_status_checks"] == "pass"  # one from each
    assert statuses["required_approvals"] == "pass"  # 2 from the ruleset
    assert statuses["force_pushes_blocked"] == "pass"  # the ruleset blocks them


def test_no_protection_at_all_fails_every_required_setting(
    fake_github: FakeGitHub, run_cli: RunCli
) -> None:
    protected(fake_github, classic=None, rules=[])
    code, result, _err = _verify(run_cli, fake_github)
    assert code == 1
    statuses = _statuses(result)
    for setting in (
        "required_status_checks",
        "required_approvals",
        "code_owner_review",
        "force_pushes_blocked",
        "deletions_blocked",
        "enforce_admins",
    ):
        assert statuses[setting] == "fail"
    assert "unknown" not in statuses.values()


@pytest.mark.parametrize("hidden", ["403", "404"])
def test_token_without_admin_judges_rules_and_lists_what_it_could_not_check(
    fake_github: FakeGitHub, run_cli: RunCli, hidden: str
) -> None:
    rules = [r for r in rules_compliant(fake_github) if r["type"] != "pull_request"]
    protected(
        fake_github, classic="hidden", admin=False, rules=rules, rulesets={42: ruleset(fake_github)}
    )
    if hidden == "404":
        fake_github.not_found("repos/get-branch-protection")
    code, result, _err = _verify(run_cli, fake_github)
    statuses = _statuses(result)
    # what the rules show is judged ...
    assert statuses["required_status_checks"] == "pass"
    assert statuses["force_pushes_blocked"] == "pass"
    # ... what only classic protection could show is "could not check", never "fail"
    assert statuses["required_approvals"] == "unknown"
    assert statuses["enforce_admins"] == "unknown"
    assert "fail" not in statuses.values()
    assert "required_approvals" in result["could_not_check"]
    assert code == 1
    assert any("administration:read" in note for note in result["notes"])
    code, _, _ = _verify(run_cli, fake_github, "--allow-unchecked")
    assert code == 0


def test_hidden_bypass_list_is_could_not_check(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    hidden = ruleset(fake_github)
    del hidden["bypass_actors"]
    protected(fake_github, rules=rules_compliant(fake_github), rulesets={42: hidden})
    code, result, _ = _verify(run_cli, fake_github)
    assert _statuses(result)["no_ruleset_bypass"] == "unknown"
    assert code == 1


def test_table_and_job_summary_on_actions(
    fake_github: FakeGitHub, run_cli: RunCli, tmp_path: Path
) -> None:
    classic = classic_compliant(fake_github)
    classic["enforce_admins"]["enabled"] = False
    protected(fake_github, classic=classic)
    code, out, err = run_cli(
        "protection",
        "verify",
        "--repo",
        REPO_ARG,
        "--branch",
        BRANCH,
        environ=_env(fake_github, tmp_path),
    )
    assert code == 1
    assert "❌  enforce_admins" in out and "✅  required_approvals" in out
    assert "fix: Settings → Branches" in out
    assert "::error" in out and "1 required setting(s) fail" in out
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "| ❌ | `enforce_admins` |" in summary and "| ✅ | `deletions_blocked` |" in summary
    assert "protection-ok<<" in (tmp_path / "output.txt").read_text(encoding="utf-8")
    assert "::add-mask::ghs_secret_token_value" in err
    shown = [
        line for line in (out + err + summary).splitlines() if not line.startswith("::add-mask::")
    ]
    assert not any("ghs_secret_token_value" in line for line in shown)


def test_policy_file_overrides_defaults(
    fake_github: FakeGitHub, run_cli: RunCli, tmp_path: Path
) -> None:
    protected(fake_github, codeowners=GOOD_CODEOWNERS.replace("@acme/ops", "@acme/sre"))
    policy = tmp_path / "policy.yml"
    policy.write_text("ops_team: sre\nmin_approvals: 3\nlevels:\n  strict_status_checks: off\n")
    code, result, _ = _verify(run_cli, fake_github, "--policy", str(policy))
    statuses = _statuses(result)
    assert statuses["codeowners_ops_team"] == "pass"
    assert statuses["required_approvals"] == "fail"
    assert "strict_status_checks" not in statuses
    assert code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repo", "not-a-repo"], "OWNER/NAME"),
        (["--repo", "acme/dhash/extra"], "OWNER/NAME"),
        (
            ["--repo", REPO_ARG, "--policy", "/nonexistent/policy.yml"],
            "cannot read the policy file",
        ),
    ],
)
def test_bad_input_exits_2(
    fake_github: FakeGitHub, run_cli: RunCli, args: list[str], message: str
) -> None:
    code, _, err = run_cli(
        "protection", "verify", "--branch", BRANCH, *args, environ=_env(fake_github)
    )
    assert code == 2
    assert message in err
    assert not fake_github.requests, "bad input is caught before any API call"


def test_invalid_policy_content_exits_2(
    fake_github: FakeGitHub, run_cli: RunCli, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"min_approvals": "two"}))
    code, _, err = run_cli(
        "protection",
        "verify",
        "--repo",
        REPO_ARG,
        "--branch",
        BRANCH,
        "--policy",
        str(policy),
        environ=_env(fake_github),
    )
    assert code == 2 and "min_approvals" in err


def test_no_token_is_a_clear_error(run_cli: RunCli) -> None:
    code, _, err = run_cli(
        "protection", "verify", "--repo", REPO_ARG, "--branch", BRANCH, environ={}
    )
    assert code == 2
    assert "GITHUB_TOKEN" in err and "GH_TOKEN" in err


def test_invalid_token_is_not_retried(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    fake_github.set("repos/get", Answer(401, fake_github.error_body(401, "Bad credentials")))
    code, _, err = run_cli(
        "protection", "verify", "--repo", REPO_ARG, "--branch", BRANCH, environ=_env(fake_github)
    )
    assert code == 2
    assert "invalid or expired" in err
    assert len(fake_github.requests) == 1


def test_repository_not_visible_is_told_apart(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    fake_github.not_found("repos/get")
    code, _, err = run_cli(
        "protection", "verify", "--repo", REPO_ARG, "--branch", BRANCH, environ=_env(fake_github)
    )
    assert code == 2
    assert "not found, or this token may not see it" in err


def test_missing_branch_is_bad_input(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    protected(fake_github)
    fake_github.not_found("repos/get-branch-protection", "Branch not found")
    code, _, err = run_cli(
        "protection", "verify", "--repo", REPO_ARG, "--branch", "nope", environ=_env(fake_github)
    )
    assert code == 2 and "branch 'nope' not found" in err


def test_rate_limited_then_ok_through_the_cli(fake_github: FakeGitHub, run_cli: RunCli) -> None:
    protected(fake_github)
    fake_github.script("repos/get-branch-rules", fake_github.primary_limit(reset_in=30))
    code, result, err = _verify(run_cli, fake_github)
    assert code == 0 and result["ok"]
    assert "primary rate limit exhausted; waiting until" in err


def test_reset_far_away_fails_fast_through_the_cli(
    fake_github: FakeGitHub, run_cli: RunCli
) -> None:
    protected(fake_github)
    fake_github.script("repos/get-branch-protection", fake_github.primary_limit(reset_in=2400))
    started = time.monotonic()
    code, out, err = run_cli(
        "protection",
        "verify",
        "--repo",
        REPO_ARG,
        "--branch",
        BRANCH,
        environ=_env(fake_github),
        clock=FakeClock(datetime.now(timezone.utc)),
    )
    assert code == 1
    assert "rate limit" in err and "resets" not in out
    assert re.search(r"exhausted until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", err)
    assert time.monotonic() - started < 10
