"""What the composite actions need beyond the commands themselves.

- ``run_step``: run one dhash-gha command for an action step, then publish its
  result as step outputs (exit code, result, backup path and sha256, release
  id, incident) and a job-summary table — whatever the command itself printed.
- ``resolve_backup_name``: the rollback workflow's ``backup`` input is a *name*
  of one of this environment's backups (or ``latest``), never a path.
- ``plan_waves``: a fleet's hosts as a canary wave and the rest.
- ``split_command``: the root action's ``command`` input, split like a POSIX
  shell would split it, but never given to one.

Pure functions first; the adapters (reading the workspace) follow.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.names import backup_name_pattern, check_env_name
from dhash_gha.errors import BadInput

RESULT_BY_EXIT_CODE = {
    0: "success",
    1: "failure",
    2: "bad-input",
    3: "rolled-back",
    4: "rollback-failed",
    130: "interrupted",
}
_HOST_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def result_for(exit_code: int) -> str:
    return RESULT_BY_EXIT_CODE.get(exit_code, "failure")


def split_command(text: str) -> list[str]:
    """Split the root action's ``command`` input into argv (no shell ever sees it)."""
    try:
        argv = shlex.split(text, comments=False, posix=True)
    except ValueError as exc:
        raise BadInput(
            f"cannot split the command {text!r}: {exc}",
            tip="quote arguments with '...' or \"...\" and close every quote",
        ) from None
    if not argv:
        raise BadInput(
            "the command is empty", tip="set the action's 'command' input, e.g. 'config validate'"
        )
    if argv[0] in ("dhash-gha", "python"):
        raise BadInput(
            f"the command starts with {argv[0]!r}",
            tip="give only the dhash-gha arguments, e.g. 'backup create --env production'",
        )
    if any(a == "--root" or a.startswith("--root=") for a in argv):
        raise BadInput(
            "the command sets --root itself",
            tip="use the action's 'root' input for the workspace directory",
        )
    return argv


def check_backup_name(env: str, name: str) -> str:
    """``latest`` or the bare file name of one of ``env``'s backups; anything else is refused."""
    check_env_name(env)
    name = name.strip()
    if name == "latest":
        return name
    if not backup_name_pattern(env).match(name):
        raise BadInput(
            f"backup {name!r} is not a backup name of environment '{env}'",
            tip=f"give a file name such as dhash_{env}_20260101_120000.zip (as listed by "
            f"'dhash-gha backup list --env {env}') or 'latest'; paths are never accepted",
        )
    return name


def resolve_backup(ws: Workspace, env: str, name: str) -> Path:
    """The backup file a checked name stands for; it must exist under backups/."""
    name = check_backup_name(env, name)
    if name == "latest":
        found = ws.backups(env)
        if not found:
            raise BadInput(
                f"environment '{env}' has no backup in {ws.backups_dir}",
                tip=f"create one with 'dhash-gha backup create --env {env}'",
            )
        return found[0]
    path = ws.backups_dir / name
    if not path.is_file():
        raise BadInput(
            f"backup {name!r} does not exist in {ws.backups_dir}",
            tip=f"list the backups with 'dhash-gha backup list --env {env}'",
        )
    return path


@dataclass(frozen=True)
class Waves:
    """Where the deploy jobs run: the canary first, then the rest (each host its own runner)."""

    canary: list[str]
    rest: list[dict[str, Any]]

    def as_outputs(self) -> dict[str, str]:
        return {
            "canary-runs-on": json.dumps(self.canary),
            "rest": json.dumps(self.rest),
            "has-rest": "true" if self.rest else "false",
        }


def _labels(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return ["ubuntu-latest"]
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInput(
                f"runner labels are not valid JSON: {exc.msg}",
                tip='set DHASH_RUNNER_LABELS to e.g. ["self-hosted","linux","dhash"]',
            ) from None
        if (
            not isinstance(loaded, list)
            or not loaded
            or not all(isinstance(x, str) for x in loaded)
        ):
            raise BadInput("runner labels must be a non-empty JSON list of strings")
        labels = [x.strip() for x in loaded]
    else:
        labels = [x for x in re.split(r"[\s,]+", text) if x]
    for label in labels:
        if not _HOST_LABEL.match(label):
            raise BadInput(
                f"runner label {label!r} is not valid",
                tip="use letters, digits, '.', '_' or '-'",
            )
    return labels


def _hosts(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInput(
                f"hosts is not valid JSON: {exc.msg}", tip='use e.g. ["dhash-01","dhash-02"]'
            ) from None
        if not isinstance(loaded, list) or not all(isinstance(h, str) for h in loaded):
            raise BadInput("hosts must be a JSON list of strings", tip='e.g. ["dhash-01"]')
        hosts = [h.strip() for h in loaded]
    else:
        hosts = [h for h in re.split(r"[\s,]+", text) if h]
    for host in hosts:
        if not _HOST_LABEL.match(host):
            raise BadInput(
                f"host label {host!r} is not a runner label",
                tip="use letters, digits, '.', '_' or '-' (the label of that host's runner)",
            )
    if len(set(hosts)) != len(hosts):
        raise BadInput("a host is listed twice", tip="list each host once")
    return hosts


def plan_waves(hosts_text: str, labels_text: str = "") -> Waves:
    """No hosts: one deploy job on the configured runner labels (default ubuntu-latest).
    Hosts (JSON list or comma-separated, canary first): each on ``[self-hosted, HOST]``."""
    hosts = _hosts(hosts_text)
    if not hosts:
        return Waves(_labels(labels_text), [])
    rest: list[dict[str, Any]] = [{"host": h, "runs-on": ["self-hosted", h]} for h in hosts[1:]]
    return Waves(["self-hosted", hosts[0]], rest)


def summary_table(rows: Sequence[tuple[str, str]]) -> str:
    lines = ["| | |", "|---|---|"]
    for key, value in rows:
        cell = value.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {key} | {cell} |")
    return "\n".join(lines)


# --- adapters: what a run left in the workspace ------------------------------------------------
def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def sidecar_digest(backup: Path) -> str | None:
    """The sha256 the backup's sidecar records (first field of its line), if readable."""
    try:
        text = Workspace.sidecar(backup).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    first = text.split()[0].lower() if text else ""
    return first if re.fullmatch(r"[0-9a-f]{64}", first) else None


def newest_incident(ws: Workspace, since_names: set[str]) -> Path | None:
    if not ws.incidents_dir.is_dir():
        return None
    fresh = [p for p in ws.incidents_dir.iterdir() if p.is_dir() and p.name not in since_names]
    return max(fresh, key=lambda p: p.name) if fresh else None


def incident_names(ws: Workspace) -> set[str]:
    if not ws.incidents_dir.is_dir():
        return set()
    return {p.name for p in ws.incidents_dir.iterdir() if p.is_dir()}


def _incident_url_from_notifications(ws: Workspace, since: set[str]) -> str | None:
    """A github_issue channel's URL from a notification record written during this run."""
    folder = ws.notifications_dir
    if not folder.is_dir():
        return None
    for record_path in sorted(folder.glob("*.json"), reverse=True):
        if record_path.name in since:
            continue
        record = _read_json(record_path)
        if not isinstance(record, dict):
            continue
        for result in record.get("channels") or []:
            if isinstance(result, dict) and result.get("type") == "github_issue":
                url = result.get("link")
                if isinstance(url, str) and url.startswith("https://"):
                    return url
    return None


def notification_names(ws: Workspace) -> set[str]:
    folder = ws.notifications_dir
    return {p.name for p in folder.glob("*.json")} if folder.is_dir() else set()


@dataclass(frozen=True)
class Before:
    """What existed before the step ran, to tell what the step produced."""

    backups: set[str]
    incidents: set[str]
    notifications: set[str]

    @classmethod
    def snapshot(cls, ws: Workspace, env: str | None) -> Before:
        backups = {p.name for p in ws.backups(env)} if env else set()
        return cls(backups, incident_names(ws), notification_names(ws))


def collect_outputs(
    ws: Workspace, env: str | None, before: Before, exit_code: int
) -> dict[str, str]:
    """Step outputs from the workspace after a command ran (empty string when not applicable)."""
    outputs = {
        "exit-code": str(exit_code),
        "result": result_for(exit_code),
        "backup-path": "",
        "backup-sha256": "",
        "release-id": "",
        "incident-id": "",
        "incident-path": "",
        "incident-url": "",
    }
    if env:
        backups = ws.backups(env)
        fresh = [b for b in backups if b.name not in before.backups]
        chosen = fresh[0] if fresh else None
        if chosen is None:
            record = _read_json(ws.release_record(env))
            pre = record.get("pre_deploy_backup") if isinstance(record, dict) else None
            if isinstance(pre, str) and pre:
                candidate = ws.root / pre
                chosen = candidate if candidate.is_file() else None
        if chosen is not None:
            outputs["backup-path"] = chosen.relative_to(ws.root).as_posix()
            outputs["backup-sha256"] = sidecar_digest(chosen) or ""
        record = _read_json(ws.release_record(env))
        if isinstance(record, dict) and isinstance(record.get("release_id"), str):
            outputs["release-id"] = record["release_id"]
    incident = newest_incident(ws, before.incidents)
    if incident is not None:
        outputs["incident-id"] = incident.name
        outputs["incident-path"] = incident.relative_to(ws.root).as_posix()
    outputs["incident-url"] = _incident_url_from_notifications(ws, before.notifications) or ""
    return outputs


def env_from_argv(argv: Sequence[str]) -> str | None:
    for index, arg in enumerate(argv):
        if arg == "--env" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--env="):
            return arg.split("=", 1)[1]
    return None
