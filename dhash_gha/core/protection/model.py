"""The data of a protection check: the policy, what the API showed, and the result rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["required", "recommended", "off"]
Status = Literal["pass", "fail", "warn", "unknown"]

GLYPHS: dict[str, str] = {"pass": "✅", "fail": "❌", "warn": "⚠️", "unknown": "❔"}

DEFAULT_LEVELS: dict[str, Level] = {
    "required_status_checks": "required",
    "strict_status_checks": "recommended",
    "required_approvals": "required",
    "code_owner_review": "required",
    "codeowners_ops_team": "required",
    "codeowners_valid": "recommended",
    "dismiss_stale_reviews": "recommended",
    "last_push_approval": "recommended",
    "enforce_admins": "required",
    "no_bypass_allowances": "required",
    "no_ruleset_bypass": "required",
    "force_pushes_blocked": "required",
    "deletions_blocked": "required",
}


@dataclass(frozen=True)
class Policy:
    required_checks: tuple[str, ...] = ("premerge-validation", "cross-platform-check")
    min_approvals: int = 2
    ops_team: str = "ops"
    deploy_paths: tuple[str, ...] = (
        ".github/workflows/",
        "config/",
        "deployments/",
        "migrations/",
        "quality-gates-config.json",
    )
    levels: Mapping[str, Level] = field(default_factory=lambda: dict(DEFAULT_LEVELS))


@dataclass(frozen=True)
class Snapshot:
    """What the API showed; ``None`` with a reason in ``*_unreadable`` when it could not see."""

    owner: str
    repo: str
    branch: str
    classic: dict[str, Any] | None = None
    classic_absent: bool = False
    classic_unreadable: str | None = None
    rules: list[dict[str, Any]] = field(default_factory=list)
    rules_unreadable: str | None = None
    rulesets: Mapping[int, dict[str, Any]] = field(default_factory=dict)
    rulesets_unreadable: Mapping[int, str] = field(default_factory=dict)
    codeowners_path: str | None = None
    codeowners_text: str | None = None
    codeowners_unreadable: str | None = None
    codeowners_errors: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Row:
    setting: str
    level: Level
    status: Status
    found: str
    required: str
    fix: str

    @property
    def glyph(self) -> str:
        return GLYPHS[self.status]


def level_of(policy: Policy, setting: str) -> Level:
    return policy.levels.get(setting, DEFAULT_LEVELS[setting])
