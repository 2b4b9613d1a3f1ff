"""What a branch's classic protection and applying rules enforce, read from a Snapshot. Pure."""

from __future__ import annotations

from typing import Any

from dhash_gha.core.protection.model import Snapshot


def rules_of(snap: Snapshot, rule_type: str) -> list[dict[str, Any]]:
    return [r for r in snap.rules if r.get("type") == rule_type]


def params_of(rule: dict[str, Any]) -> dict[str, Any]:
    params = rule.get("parameters")
    return params if isinstance(params, dict) else {}


def classic_section(snap: Snapshot, key: str) -> dict[str, Any] | None:
    if snap.classic is None:
        return None
    section = snap.classic.get(key)
    return section if isinstance(section, dict) else None


def classic_flag(snap: Snapshot, key: str) -> bool | None:
    section = classic_section(snap, key)
    return None if section is None else bool(section.get("enabled"))


def classic_checks(snap: Snapshot) -> tuple[set[str], bool]:
    section = classic_section(snap, "required_status_checks")
    if section is None:
        return set(), False
    names = {str(c) for c in section.get("contexts") or []}
    names |= {str(c.get("context")) for c in section.get("checks") or [] if isinstance(c, dict)}
    return names, bool(section.get("strict"))


def rule_checks(snap: Snapshot) -> tuple[set[str], bool]:
    names: set[str] = set()
    strict = False
    for rule in rules_of(snap, "required_status_checks"):
        params = params_of(rule)
        names |= {str(c.get("context")) for c in params.get("required_status_checks") or []}
        strict = strict or bool(params.get("strict_required_status_checks_policy"))
    return names, strict


def reviews(snap: Snapshot) -> list[tuple[str, dict[str, Any]]]:
    """Every review requirement, as (source, {count, code_owners, stale, last_push})."""
    found = []
    classic = classic_section(snap, "required_pull_request_reviews")
    if classic is not None:
        found.append(
            (
                "classic protection",
                {
                    "count": int(classic.get("required_approving_review_count") or 0),
                    "code_owners": bool(classic.get("require_code_owner_reviews")),
                    "stale": bool(classic.get("dismiss_stale_reviews")),
                    "last_push": bool(classic.get("require_last_push_approval")),
                },
            )
        )
    for rule in rules_of(snap, "pull_request"):
        params = params_of(rule)
        found.append(
            (
                f"ruleset {rule.get('ruleset_id')}",
                {
                    "count": int(params.get("required_approving_review_count") or 0),
                    "code_owners": bool(params.get("require_code_owner_review")),
                    "stale": bool(params.get("dismiss_stale_reviews_on_push")),
                    "last_push": bool(params.get("require_last_push_approval")),
                },
            )
        )
    return found
