"""Judge a branch's effective protection against the policy. Pure: data in, rows out.

Effective protection is classic branch protection and the rulesets that apply
to the branch taken together: GitHub enforces the most restrictive of them, so
a setting passes when either enforces it. When part of the picture could not
be read (a token without admin rights cannot read classic protection), a
setting that the visible part does not already satisfy is reported as
"could not check" — never as a failure that may not be true.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from dhash_gha.errors import BadInput
from dhash_gha.github import codeowners

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


def _level(policy: Policy, setting: str) -> Level:
    return policy.levels.get(setting, DEFAULT_LEVELS[setting])


# --- reading the effective settings -----------------------------------------------------
def _rules_of(snap: Snapshot, rule_type: str) -> list[dict[str, Any]]:
    return [r for r in snap.rules if r.get("type") == rule_type]


def _params(rule: dict[str, Any]) -> dict[str, Any]:
    params = rule.get("parameters")
    return params if isinstance(params, dict) else {}


def _classic_section(snap: Snapshot, key: str) -> dict[str, Any] | None:
    if snap.classic is None:
        return None
    section = snap.classic.get(key)
    return section if isinstance(section, dict) else None


def _classic_flag(snap: Snapshot, key: str) -> bool | None:
    section = _classic_section(snap, key)
    return None if section is None else bool(section.get("enabled"))


def _classic_checks(snap: Snapshot) -> tuple[set[str], bool]:
    section = _classic_section(snap, "required_status_checks")
    if section is None:
        return set(), False
    names = {str(c) for c in section.get("contexts") or []}
    names |= {str(c.get("context")) for c in section.get("checks") or [] if isinstance(c, dict)}
    return names, bool(section.get("strict"))


def _rule_checks(snap: Snapshot) -> tuple[set[str], bool]:
    names: set[str] = set()
    strict = False
    for rule in _rules_of(snap, "required_status_checks"):
        params = _params(rule)
        names |= {str(c.get("context")) for c in params.get("required_status_checks") or []}
        strict = strict or bool(params.get("strict_required_status_checks_policy"))
    return names, strict


def _reviews(snap: Snapshot) -> list[tuple[str, dict[str, Any]]]:
    """Every review requirement, as (source, {count, code_owners, stale, last_push})."""
    found = []
    classic = _classic_section(snap, "required_pull_request_reviews")
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
    for rule in _rules_of(snap, "pull_request"):
        params = _params(rule)
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
    level = _level(policy, setting)
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
        if _level(policy, setting) != "off":
            rows.append(build())
    return rows


def _status_checks(snap: Snapshot, policy: Policy, blind: str | None, where: str) -> Row:
    classic, _ = _classic_checks(snap)
    rules, _ = _rule_checks(snap)
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
    strict = _classic_checks(snap)[1] or _rule_checks(snap)[1]
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
    reviews = _reviews(snap)
    best = max((r["count"] for _, r in reviews), default=0)
    found = ", ".join(f"{r['count']} ({src})" for src, r in reviews) or "no review requirement"
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
    reviews = _reviews(snap)
    sources = [src for src, r in reviews if r[key]]
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
    required = (
        f"@{snap.owner}/{policy.ops_team.split('/')[-1]} owns {', '.join(policy.deploy_paths)}"
    )
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
            f"'/{policy.deploy_paths[0]} @{snap.owner}/{policy.ops_team.split('/')[-1]}'",
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
    team = policy.ops_team if "/" in policy.ops_team else f"{snap.owner}/{policy.ops_team}"
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
            _Verdict(True, "no classic protection (rulesets only: see bypass actors)"),
            required,
            fix,
        )
    enabled = bool(_classic_flag(snap, "enforce_admins"))
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
    reviews = _classic_section(snap, "required_pull_request_reviews") or {}
    allowances = reviews.get("bypass_pull_request_allowances") or {}
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
    if _rules_of(snap, rule_type):
        sources.append("ruleset")
    if snap.classic is not None and not _classic_flag(snap, classic_key):
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


# --- policy from a mapping (the --policy file) ----------------------------------------
_KEYS = {"required_status_checks", "min_approvals", "ops_team", "deploy_paths", "levels"}


def policy_from_mapping(data: Any, *, source: str = "policy") -> Policy:
    """Defaults overridden by ``data``; BadInput naming the key when a value is wrong."""
    if not isinstance(data, dict):
        raise BadInput(f"{source}: expected a mapping of settings, got {type(data).__name__}")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise BadInput(
            f"{source}: unknown key(s) {', '.join(unknown)}",
            tip=f"known keys: {', '.join(sorted(_KEYS))}",
        )
    policy = Policy()
    if "required_status_checks" in data:
        checks = data["required_status_checks"]
        if not isinstance(checks, list) or not all(isinstance(c, str) and c for c in checks):
            raise BadInput(f"{source}: required_status_checks must be a list of check names")
        policy = replace(policy, required_checks=tuple(checks))
    if "min_approvals" in data:
        count = data["min_approvals"]
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 6:
            raise BadInput(f"{source}: min_approvals must be an integer from 0 to 6, got {count!r}")
        policy = replace(policy, min_approvals=count)
    if "ops_team" in data:
        team = data["ops_team"]
        if not isinstance(team, str) or not team.strip("@/ "):
            raise BadInput(f"{source}: ops_team must be a team slug such as 'ops' or 'acme/ops'")
        policy = replace(policy, ops_team=team.strip().lstrip("@"))
    if "deploy_paths" in data:
        paths = data["deploy_paths"]
        if (
            not isinstance(paths, list)
            or not paths
            or not all(isinstance(p, str) and p for p in paths)
        ):
            raise BadInput(f"{source}: deploy_paths must be a non-empty list of paths")
        policy = replace(policy, deploy_paths=tuple(p.lstrip("/") for p in paths))
    if "levels" in data:
        levels = data["levels"]
        if not isinstance(levels, dict):
            raise BadInput(f"{source}: levels must map a setting to required|recommended|off")
        merged: dict[str, Level] = dict(DEFAULT_LEVELS)
        for name, raw_level in levels.items():
            level = "off" if raw_level is False else raw_level  # YAML 1.1 reads `off` as false
            if name not in DEFAULT_LEVELS:
                raise BadInput(
                    f"{source}: levels: unknown setting {name!r}",
                    tip=f"settings: {', '.join(DEFAULT_LEVELS)}",
                )
            if level == "required":
                merged[name] = "required"
            elif level == "recommended":
                merged[name] = "recommended"
            elif level == "off":
                merged[name] = "off"
            else:
                raise BadInput(f"{source}: levels.{name} must be required, recommended or off")
        policy = replace(policy, levels=merged)
    return policy
