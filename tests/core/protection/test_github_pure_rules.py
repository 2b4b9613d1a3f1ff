"""Pure parts: the retry policy, CODEOWNERS matching, the policy file mapping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dhash_gha.adapters.github.policy_file import policy_from_mapping
from dhash_gha.core.protection import codeowners
from dhash_gha.core.protection.policy import Policy, Snapshot, evaluate
from dhash_gha.core.ratelimit import FailureKind, RetryPolicy, classify, decide
from dhash_gha.errors import BadInput

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def _reset_in(seconds: float) -> dict[str, str]:
    return {
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int((NOW + timedelta(seconds=seconds)).timestamp())),
    }


@pytest.mark.parametrize(
    ("status", "headers", "message", "kind"),
    [
        (
            403,
            {"x-ratelimit-remaining": "0"},
            "API rate limit exceeded",
            FailureKind.PRIMARY_RATE_LIMIT,
        ),
        (429, {"x-ratelimit-remaining": "0"}, "", FailureKind.PRIMARY_RATE_LIMIT),
        (403, {"retry-after": "30"}, "", FailureKind.SECONDARY_RATE_LIMIT),
        (
            403,
            {"x-ratelimit-remaining": "12"},
            "You have exceeded a secondary rate limit",
            FailureKind.SECONDARY_RATE_LIMIT,
        ),
        (429, {}, "", FailureKind.SECONDARY_RATE_LIMIT),
        (
            403,
            {"x-ratelimit-remaining": "4999"},
            "Resource not accessible by integration",
            FailureKind.FORBIDDEN,
        ),
        (401, {}, "Bad credentials", FailureKind.UNAUTHORIZED),
        (404, {}, "Not Found", FailureKind.NOT_FOUND),
        (502, {}, "", FailureKind.SERVER_ERROR),
        (422, {}, "Validation Failed", FailureKind.OTHER),
    ],
)
def test_classify(status: int, headers: dict[str, str], message: str, kind: FailureKind) -> None:
    assert classify(status, headers, message) is kind


def test_primary_near_waits_until_reset_far_fails_at_once() -> None:
    policy = RetryPolicy(max_reset_wait=300)
    near = decide(
        FailureKind.PRIMARY_RATE_LIMIT, attempt=1, headers=_reset_in(120), now=NOW, policy=policy
    )
    assert near.retry and 120 <= near.wait <= 122
    far = decide(
        FailureKind.PRIMARY_RATE_LIMIT, attempt=1, headers=_reset_in(301), now=NOW, policy=policy
    )
    assert not far.retry and "2026-01-01T12:05:01Z" in far.reason
    unknown = decide(FailureKind.PRIMARY_RATE_LIMIT, attempt=1, headers={}, now=NOW, policy=policy)
    assert not unknown.retry


def test_secondary_backoff_is_exponential_and_bounded() -> None:
    policy = RetryPolicy(secondary_attempts=4)
    waits = [
        decide(FailureKind.SECONDARY_RATE_LIMIT, attempt=n, headers={}, now=NOW, policy=policy)
        for n in (1, 2, 3, 4)
    ]
    assert [w.wait for w in waits[:3]] == [60, 120, 240]
    assert not waits[3].retry
    with_header = decide(
        FailureKind.SECONDARY_RATE_LIMIT,
        attempt=1,
        headers={"Retry-After": "5"},
        now=NOW,
        policy=policy,
    )
    assert with_header.wait == 5


@pytest.mark.parametrize(
    "kind",
    [FailureKind.UNAUTHORIZED, FailureKind.NOT_FOUND, FailureKind.FORBIDDEN, FailureKind.OTHER],
)
def test_other_failures_are_never_retried(kind: FailureKind) -> None:
    assert not decide(kind, attempt=1, headers={}, now=NOW, policy=RetryPolicy()).retry


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*", "any/file.py", True),
        ("*.js", "src/deep/app.js", True),
        ("/config/", "config/production/dhash.json", True),
        ("/config/", "src/config/x", False),
        ("config/", "src/config/x", True),
        ("docs/*", "docs/a.md", True),
        ("docs/*", "docs/sub/b.md", False),
        ("apps/", "apps/x/y", True),
        ("/build/logs/", "build/logs/a.log", True),
        ("**/logs", "deep/logs/a", True),
        ("quality-gates-config.json", "quality-gates-config.json", True),
        ("/migrations/**", "migrations/0001_x.py", True),
    ],
)
def test_codeowners_pattern(pattern: str, path: str, matches: bool) -> None:
    entries = codeowners.parse(f"{pattern} @acme/ops\n")
    assert (codeowners.owners_of(entries, path) is not None) is matches


def test_codeowners_last_match_wins_and_comments_are_ignored() -> None:
    entries = codeowners.parse("# header\n/config/ @acme/ops  # ops\n* @acme/devs\n")
    decided = codeowners.owners_of(entries, "config/a.json")
    assert decided is not None and decided.owners == ("@acme/devs",)
    assert codeowners.names_team("@acme/ops", "ops", "acme")
    assert codeowners.names_team("@ACME/Ops", "acme/ops")
    assert not codeowners.names_team("@other/ops", "ops", "acme")
    assert not codeowners.names_team("@ops", "ops")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a mapping"),
        ({"nope": 1}, "unknown key"),
        ({"min_approvals": -1}, "min_approvals"),
        ({"min_approvals": True}, "min_approvals"),
        ({"required_status_checks": "premerge"}, "required_status_checks"),
        ({"ops_team": ""}, "ops_team"),
        ({"deploy_paths": []}, "deploy_paths"),
        ({"levels": {"enforce_admins": "maybe"}}, "levels.enforce_admins"),
        ({"levels": {"made_up": "off"}}, "unknown setting"),
    ],
)
def test_bad_policy_mapping(data: object, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        policy_from_mapping(data)


def test_policy_mapping_overrides() -> None:
    policy = policy_from_mapping(
        {
            "required_status_checks": ["a"],
            "ops_team": "@acme/sre",
            "deploy_paths": ["/config/"],
            "levels": {"codeowners_valid": "off"},
        }
    )
    assert policy.required_checks == ("a",) and policy.ops_team == "acme/sre"
    assert policy.deploy_paths == ("config/",)
    rows = evaluate(Snapshot("acme", "dhash", "main", classic_absent=True), policy)
    assert "codeowners_valid" not in {r.setting for r in rows}


def test_nothing_visible_is_unknown_not_unprotected() -> None:
    snap = Snapshot(
        "acme",
        "dhash",
        "main",
        classic_unreadable="403",
        rules_unreadable="403",
        codeowners_unreadable="403",
        codeowners_errors=None,
    )
    rows = evaluate(snap, Policy())
    assert {r.status for r in rows} == {"unknown"}
    assert all(r.glyph == "❔" for r in rows)


def test_markdown_table_escapes_pipes_and_keeps_one_row_per_setting() -> None:
    from dhash_gha.core.protection.report import Outcome, markdown_table

    rows = evaluate(
        Snapshot("acme", "dhash", "main", classic_absent=True, codeowners_errors=[]), Policy()
    )
    table = markdown_table("t", rows, ["a | b"])
    body = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    assert len(body) == len(rows)
    outcome = Outcome.of(rows)
    assert not outcome.ok() and "required setting(s) fail" in outcome.headline("x")
    escaped = markdown_table("t", [rows[0].__class__("s", "required", "fail", "x|y", "r", "f")])
    assert "x\\|y" in escaped
