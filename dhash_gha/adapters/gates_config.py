"""Every problem in quality-gates-config.json: the schema, then what a schema cannot say.

Reads the file (an adapter); the judgement itself is ``GateSpec.problems`` and
``Schedule.check``, which are pure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dhash_gha.adapters.config import ConfigIssue, gates_config_issues, read_json
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.gates.schedule import Schedule
from dhash_gha.core.gates.spec import GateSpec
from dhash_gha.errors import ConfigError


def _label(ws: Workspace, path: Path) -> str:
    try:
        return path.relative_to(ws.root).as_posix()
    except ValueError:
        return str(path)


def gates_file_issues(
    ws: Workspace, env: str | None = None, path: Path | None = None
) -> list[ConfigIssue]:
    """Schema and semantic problems of the gates file (one environment, or all of them)."""
    source = path or ws.gates_config
    label = _label(ws, source)
    issues = gates_config_issues(source, label, env)
    if issues:
        return issues
    data: dict[str, Any] = read_json(source, "quality gates configuration")
    environments: dict[str, Any] = data["environments"]
    for name, section in environments.items():
        if env is not None and name != env:
            continue
        base = f"$.environments.{name}"
        try:
            Schedule.from_config(section["schedule"])
        except ConfigError as exc:
            issues.append(ConfigIssue(label, f"{base}.schedule", exc.message, exc.tip))
        for index, raw in enumerate(section["gates"]):
            where = f"{base}.gates[{index}]"
            try:
                spec = GateSpec.parse(raw)
            except ConfigError as exc:
                issues.append(ConfigIssue(label, where, exc.message, exc.tip))
                continue
            for message, tip in spec.problems():
                issues.append(ConfigIssue(label, where, f"gate '{spec.name}': {message}", tip))
    if env is None and path is None:
        for missing in sorted(set(ws.environments()) - set(environments)):
            issues.append(
                ConfigIssue(
                    label,
                    "$.environments",
                    f"environment '{missing}' (config/{missing}/) has no gates, so it "
                    "cannot be monitored",
                    f'add "{missing}" under "environments"',
                )
            )
    return issues
