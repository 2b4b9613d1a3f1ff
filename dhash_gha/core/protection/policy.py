"""Judge a branch's effective protection against the policy. Pure: data in, rows out.

Effective protection is classic branch protection and the rulesets that apply
to the branch taken together: GitHub enforces the most restrictive of them, so
a setting passes when either enforces it. When part of the picture could not
be read (a token without admin rights cannot read classic protection), a
setting that the visible part does not already satisfy is reported as
"could not check" — never as a failure that may not be true.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dhash_gha.core.protection import codeowners
from dhash_gha.core.protection.effective import (
    classic_checks,
    classic_flag,
    classic_section,
    reviews,
    rule_checks,
    rules_of,
)
from dhash_gha.core.protection.model import (
    DEFAULT_LEVELS,
    GLYPHS,
    Level,
    Policy,
    Row,
    Snapshot,
    Status,
    level_of,
)

__all__ = ["DEFAULT_LEVELS", "GLYPHS", "Level", "Policy", "Row", "Snapshot", "Status", "evaluate"]


# --- judging ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Verdict:
    ok: bool
    found: str


def _blind_spot(snap: Snapshot) -> str | None:
    """Why part of the effective protection is invisible, if it is."""
    parts = []
    if snap.classic_unreadable:
        parts.append(f"classic protection unreadable ({snap.classic_unreadable})")
    if snap.rules_unreadable:
        parts.append(f"branch rules unreadable ({snap.rules_unreadable})")
    return "; ".join(parts) or None


def _row(
    snap: Snapshot,
    policy: Policy,
    setting: str,
    verdict: _Verdict,
    required: str,
    fix: str,
    *,
    blind: str | None = None,
) -> Row:
    level = level_of(policy, setting)
    if verdict.ok:
        status: Status = "pass"
        fix = ""
    elif blind:
        status = "unknown"
        found = f"{verdict.found}; could not check: {blind}"
        return Row(setting, level, status, found, required, fix)
    else:
        status = "fail" if level == "required" else "warn"
    return Row(setting, level, status, verdict.found, required, fix)


def _where(snap: Snapshot) -> str:
    return (
        f"Settings → Rules → Rulesets → the ruleset targeting '{snap.branch}' (or Settings → "
        f"Branches → branch protection rule for '{snap.branch}')"
    )


def evaluate(snap: Snapshot, policy: Policy) -> list[Row]:
    """One row per setting the policy names (settings at level "off" are left out)."""
    rows: list[Row] = []
    blind = _blind_spot(snap)
    where = _where(snap)
    builders: list[tuple[str, Callable[[], Row]]] = [
        ("required_status_checks", lambda: _status_checks(snap, policy, blind, where)),
        ("strict_status_checks", lambda: _strict_checks(snap, policy, blind, where)),
        ("required_approvals", lambda: _approvals(snap, policy, blind, where)),
        ("code_owner_review", lambda: _review_flag(snap, policy, blind, where, "code_owners")),
        ("codeowners_ops_team", lambda: _codeowners_team(snap, policy)),
        ("codeowners_valid", lambda: _codeowners_valid(snap, policy)),
        ("dismiss_stale_reviews", lambda: _review_flag(snap, policy, blind, where, "stale")),
        ("last_push_approval", lambda: _review_flag(snap, policy, blind, where, "last_push")),
        ("enforce_admins", lambda: _enforce_admins(snap, policy)),
        ("no_bypass_allowances", lambda: _bypass_allowances(snap, policy)),
        ("no_ruleset_bypass", lambda: _ruleset_bypass(snap, policy)),
        ("force_pushes_blocked", lambda: _blocked(snap, policy, blind, "force_pushes")),
        ("deletions_blocked", lambda: _blocked(snap, policy, blind, "deletions")),
    ]
    for setting, build in builders:
        if level_of(policy, setting) != "off":
            rows.append(build())
    return rows


def _status_checks(snap: Snapshot, policy: Policy, blind: str | None, where: str) -> Row:
    classic, _ = classic_checks(snap)
    rules, _ = rule_checks(snap)
    have = classic | rules
    missing = [c for c in policy.required_checks if c not in have]
    found = ", ".join(sorted(have)) or "none"
    return _row(
        snap,
        policy,
        "required_status_checks",
        _Verdict(not missing, f"required checks: {found}"),
        ", ".join(policy.required_checks),
        f"{where}: enable 'Require status checks to pass' and add {', '.join(missing)}",
        blind=blind,
    )


def _strict_checks(snap: Snapshot, policy: Policy, blind: str | None, where: str) -> Row:
    strict = classic_checks(snap)[1] or rule_checks(snap)[1]
    return _row(
        snap,
        policy,
        "strict_status_checks",
        _Verdict(strict, "branches must be up to date" if strict else "not required"),
        "branches must be up to date before merging",
        f"{where}: enable 'Require branches to be up to date before merging'",
        blind=blind,
    )


def _approvals(snap: Snapshot, policy: Policy, blind: str | None, where: str) -> Row:
    found_reviews = reviews(snap)
    best = max((r["count"] for _, r in found_reviews), default=0)
    found = (
        ", ".join(f"{r['count']} ({src})" for src, r in found_reviews) or "no review requirement"
    )
    return _row(
        snap,
        policy,
        "required_approvals",
        _Verdict(best >= policy.min_approvals, found),
        f"≥ {policy.min_approvals} approving reviews",
        f"{where}: 'Require a pull request before merging' → required approvals = "
        f"{policy.min_approvals}",
        blind=blind,
    )


_REVIEW_FLAGS = {
    "code_owners": (
        "code_owner_review",
        "code-owner review required",
        "'Require review from Code Owners'",
    ),
    "stale": (
        "dismiss_stale_reviews",
        "stale approvals dismissed on push",
        "'Dismiss stale pull request approvals when new commits are pushed'",
    ),
    "last_push": (
        "last_push_approval",
        "approval of the most recent push by someone else",
        "'Require approval of the most recent reviewable push'",
    ),
}


def _review_flag(snap: Snapshot, policy: Policy, blind: str | None, where: str, key: str) -> Row:
    setting, required, option = _REVIEW_FLAGS[key]
    found_reviews = reviews(snap)
    sources = [src for src, r in found_reviews if r[key]]
    found = f"on ({', '.join(sources)})" if sources else "off"
    return _row(
        snap,
        policy,
        setting,
        _Verdict(bool(sources), found),
        required,
        f"{where}: enable {option}",
        blind=blind,
    )


def _codeowners_team(snap: Snapshot, policy: Policy) -> Row:
    setting = "codeowners_ops_team"
    team = policy.ops_team if "/" in policy.ops_team else f"{snap.owner}/{policy.ops_team}"
    required = f"@{team} owns {', '.join(policy.deploy_paths)}"
    fix_file = snap.codeowners_path or ".github/CODEOWNERS"
    if snap.codeowners_unreadable:
        return _row(
            snap,
            policy,
            setting,
            _Verdict(False, "CODEOWNERS not readable"),
            required,
            "",
            blind=snap.codeowners_unreadable,
        )
    if snap.codeowners_text is None:
        return _row(
            snap,
            policy,
            setting,
            _Verdict(False, "no CODEOWNERS file in .github/, the root or docs/"),
            required,
            f"add .github/CODEOWNERS on '{snap.branch}' with lines like "
            f"'/{policy.deploy_paths[0]} @{team}'",
        )
    entries = codeowners.parse(snap.codeowners_text)
    unowned = []
    for path in policy.deploy_paths:
        probes = [f"{path}dhash.json", f"{path}sub/dhash.json"] if path.endswith("/") else [path]
        for probe in probes:
            entry = owners_of_team(entries, probe, policy.ops_team, snap.owner)
            if not entry:
                unowned.append(path)
                break
    found = (
        f"{snap.codeowners_path}: team owns all deploy paths"
        if not unowned
        else f"{snap.codeowners_path}: not owned by the team: {', '.join(unowned)}"
    )
    return _row(
        snap,
        policy,
        setting,
        _Verdict(not unowned, found),
        required,
        f"in {fix_file} add, after any broader pattern, "
        + "; ".join(f"'/{p} @{team}'" for p in unowned),
    )


def owners_of_team(entries: list[codeowners.Entry], path: str, team: str, org: str) -> bool:
    entry = codeowners.owners_of(entries, path)
    return entry is not None and any(codeowners.names_team(o, team, org) for o in entry.owners)


def _codeowners_valid(snap: Snapshot, policy: Policy) -> Row:
    errors = snap.codeowners_errors
    if errors is None:
        return _row(
            snap,
            policy,
            "codeowners_valid",
            _Verdict(False, "syntax not checked"),
            "no CODEOWNERS errors",
            "",
            blind="the codeowners/errors endpoint did not answer",
        )
    found = "; ".join(
        f"line {e.get('line')}: {e.get('kind')} ({e.get('source', '').strip()})" for e in errors[:5]
    )
    return _row(
        snap,
        policy,
        "codeowners_valid",
        _Verdict(not errors, found or "no errors"),
        "no CODEOWNERS errors (lines with errors are ignored by GitHub)",
        f"fix {snap.codeowners_path or 'CODEOWNERS'}: "
        + "; ".join(str(e.get("suggestion") or e.get("kind")) for e in errors[:5]),
    )


def _enforce_admins(snap: Snapshot, policy: Policy) -> Row:
    required = "administrators included (enforce admins)"
    fix = (
        f"Settings → Branches → branch protection rule for '{snap.branch}': enable 'Do not allow "
        "bypassing the above settings'"
    )
    if snap.classic_unreadable:
        return _row(
            snap,
            policy,
            "enforce_admins",
            _Verdict(False, "unknown"),
            required,
            fix,
            blind=f"classic protection unreadable ({snap.classic_unreadable})",
        )
    if snap.classic is None:
        return _row(
            snap,
            policy,
            "enforce_admins",
            _Verdict(
                bool(snap.rules),
                "no classic protection (rulesets only: see bypass actors)"
                if snap.rules
                else "the branch has no protection at all",
            ),
            required,
            fix,
        )
    enabled = bool(classic_flag(snap, "enforce_admins"))
    return _row(
        snap,
        policy,
        "enforce_admins",
        _Verdict(enabled, "enforced" if enabled else "admins can bypass"),
        required,
        fix,
    )


def _bypass_allowances(snap: Snapshot, policy: Policy) -> Row:
    required = "no bypass allowances"
    fix = (
        f"Settings → Branches → branch protection rule for '{snap.branch}': clear 'Allow "
        "specified actors to bypass required pull requests'"
    )
    if snap.classic_unreadable:
        return _row(
            snap,
            policy,
            "no_bypass_allowances",
            _Verdict(False, "unknown"),
            required,
            fix,
            blind=f"classic protection unreadable ({snap.classic_unreadable})",
        )
    classic_reviews = classic_section(snap, "required_pull_request_reviews") or {}
    allowances = classic_reviews.get("bypass_pull_request_allowances") or {}
    actors = [u.get("login") for u in allowances.get("users") or []]
    actors += [f"team {t.get('slug')}" for t in allowances.get("teams") or []]
    actors += [f"app {a.get('slug')}" for a in allowances.get("apps") or []]
    return _row(
        snap,
        policy,
        "no_bypass_allowances",
        _Verdict(not actors, ", ".join(str(a) for a in actors) or "none"),
        required,
        fix,
    )


def _ruleset_bypass(snap: Snapshot, policy: Policy) -> Row:
    required = "no bypass actors in rulesets that apply"
    ids = sorted({int(r["ruleset_id"]) for r in snap.rules if "ruleset_id" in r})
    actors: list[str] = []
    unreadable: list[str] = []
    for rid in ids:
        ruleset = snap.rulesets.get(rid)
        if ruleset is None or "bypass_actors" not in ruleset:
            unreadable.append(f"ruleset {rid}: {snap.rulesets_unreadable.get(rid, 'not shown')}")
            continue
        for actor in ruleset.get("bypass_actors") or []:
            actors.append(
                f"{ruleset.get('name', rid)}: {actor.get('actor_type')} {actor.get('actor_id')} "
                f"({actor.get('bypass_mode', 'always')})"
            )
    fix = (
        "Settings → Rules → Rulesets → "
        + (", ".join(str(snap.rulesets.get(i, {}).get("name", i)) for i in ids) or "the ruleset")
        + ": remove every entry under 'Bypass list'"
    )
    if not ids and snap.rules_unreadable:
        return _row(
            snap,
            policy,
            "no_ruleset_bypass",
            _Verdict(False, "unknown"),
            required,
            fix,
            blind=f"branch rules unreadable ({snap.rules_unreadable})",
        )
    if actors:
        return _row(
            snap, policy, "no_ruleset_bypass", _Verdict(False, "; ".join(actors)), required, fix
        )
    if unreadable:
        return _row(
            snap,
            policy,
            "no_ruleset_bypass",
            _Verdict(False, "bypass list not visible"),
            required,
            fix,
            blind="; ".join(unreadable),
        )
    found = "none" if ids else "no rulesets apply"
    return _row(snap, policy, "no_ruleset_bypass", _Verdict(True, found), required, fix)


def _blocked(snap: Snapshot, policy: Policy, blind: str | None, what: str) -> Row:
    if what == "force_pushes":
        setting, rule_type, classic_key = (
            "force_pushes_blocked",
            "non_fast_forward",
            "allow_force_pushes",
        )
        label, option = "force pushes", "'Block force pushes'"
    else:
        setting, rule_type, classic_key = "deletions_blocked", "deletion", "allow_deletions"
        label, option = "deletions", "'Restrict deletions'"
    sources = []
    if rules_of(snap, rule_type):
        sources.append("ruleset")
    if snap.classic is not None and not classic_flag(snap, classic_key):
        sources.append("classic protection")
    found = f"blocked ({', '.join(sources)})" if sources else f"{label} allowed"
    return _row(
        snap,
        policy,
        setting,
        _Verdict(bool(sources), found),
        f"{label} blocked",
        f"{_where(snap)}: enable {option} (classic: leave 'Allow {label}' unchecked)",
        blind=blind,
    )
