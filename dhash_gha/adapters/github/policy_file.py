"""Read a ``--policy`` file (JSON or YAML) into a :class:`Policy`; the mapping check is pure."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from dhash_gha.core.protection.model import DEFAULT_LEVELS, Level, Policy
from dhash_gha.errors import BadInput


def load_policy(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(
            f"cannot read the policy file {path}: {exc.strerror or exc}",
            tip="pass an existing JSON or YAML file to --policy (see docs/github.md)",
        ) from exc
    data: Any
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BadInput(f"policy file {path} is not valid JSON: {exc}") from exc
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise BadInput(f"policy file {path} is not valid YAML: {exc}") from exc
    return policy_from_mapping(data, source=str(path))


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
