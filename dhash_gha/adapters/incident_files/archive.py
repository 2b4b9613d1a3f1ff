"""Incident archives: ``incidents/INC-YYYYmmdd-HHMMSS/`` with the evidence and ``report.md``.

The archive is assembled under a temporary name and renamed into place, so an
incident directory is either complete or absent. ``incident.json`` keeps what
the opener knew (reason, details), so ``incident report`` can regenerate the
report from the archive alone, even after logs/ has moved on.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dhash_gha.adapters.channels.audit import read_records, sanitise_details, write_atomically
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace, check_env_name
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.core.incident.evidence import log_kind, parse_time
from dhash_gha.errors import BadInput, CheckFailed

# An incident folder holding this file is closed: it no longer blocks deploys.
RESOLVED_MARKER = "RESOLVED"

INCIDENT_ID = re.compile(r"^INC-\d{8}-\d{6}$")
META = "incident.json"
REPORT = "report.md"
LOGS = "logs"
NOTIFICATIONS = "notifications"
RELEASE_COPY = "current_release.json"
HISTORY_COPY = "deploy_history.jsonl"


@dataclass(frozen=True)
class Incident:
    id: str
    path: Path
    report_path: Path
    env: str


def check_incident_id(text: str) -> str:
    """An incident id is a name, never a path: ``INC-YYYYmmdd-HHMMSS`` exactly."""
    if not INCIDENT_ID.match(text):
        raise BadInput(
            f"invalid incident id {text!r}",
            tip="give the directory name under incidents/, e.g. INC-20260301-120000 "
            "(list them with: ls incidents/)",
        )
    return text


def find_incident(ws: Workspace, incident_id: str) -> Path:
    path = ws.incidents_dir / check_incident_id(incident_id)
    if not (path / META).is_file():
        known = sorted(
            (p.name for p in ws.incidents_dir.glob("INC-*") if INCIDENT_ID.match(p.name)),
            reverse=True,
        )[:5]
        listing = ", ".join(known) if known else "none"
        raise BadInput(
            f"no incident {incident_id} under {ws.incidents_dir}",
            tip=f"recent incidents: {listing}",
        )
    return path


def _free_directory(ws: Workspace, moment: datetime) -> tuple[datetime, Path]:
    """Two incidents in the same second get consecutive seconds, never one directory."""
    for offset in range(3600):
        candidate = moment + timedelta(seconds=offset)
        path = ws.incident_dir(candidate)
        if not path.exists():
            return candidate, path
    raise BadInput(f"cannot find a free incident id near {iso_utc(moment)}")


def _copy(source: Path, target: Path, reporter: Reporter) -> bool:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    except OSError as exc:
        reporter.warning(f"incident: could not archive {source.name}: {exc.strerror or exc}")
        return False
    return True


def _resolve_in_root(ws: Workspace, value: Any) -> Path | None:
    if not value:
        return None
    path = Path(str(value))
    path = path if path.is_absolute() else ws.root / path
    try:
        path.resolve().relative_to(ws.root)
    except (ValueError, OSError):
        return None
    return path if path.is_file() else None


def collect_evidence(
    ws: Workspace, env: str, target: Path, details: Mapping[str, Any], reporter: Reporter
) -> list[str]:
    """Copy this environment's logs, the gates config, its notifications and release record."""
    copied: list[str] = []
    if ws.logs_dir.is_dir():
        for source in sorted(ws.logs_dir.iterdir()):
            if (
                source.is_file()
                and log_kind(source.name, env)
                and _copy(source, target / LOGS / source.name, reporter)
            ):
                copied.append(f"{LOGS}/{source.name}")
    monitor_log = _resolve_in_root(ws, details.get("monitor_log"))
    if (
        monitor_log is not None
        and f"{LOGS}/{monitor_log.name}" not in copied
        and _copy(monitor_log, target / LOGS / monitor_log.name, reporter)
    ):
        copied.append(f"{LOGS}/{monitor_log.name}")
    if ws.gates_config.is_file() and _copy(
        ws.gates_config, target / ws.gates_config.name, reporter
    ):
        copied.append(ws.gates_config.name)
    for record in read_records(ws.notifications_dir, env):
        name = str(record["_file"])
        if _copy(ws.notifications_dir / name, target / NOTIFICATIONS / name, reporter):
            copied.append(f"{NOTIFICATIONS}/{name}")
    for source, name in (
        (ws.release_record(env), RELEASE_COPY),
        (ws.deploy_history(env), HISTORY_COPY),
    ):
        if source.is_file() and _copy(source, target / name, reporter):
            copied.append(name)
    return copied


def create_archive(
    ws: Workspace,
    env: str,
    *,
    reason: str,
    clock: Clock,
    reporter: Reporter,
    details: Mapping[str, Any] | None,
) -> Incident:
    check_env_name(env)
    moment, final = _free_directory(ws, clock.now())
    staging = final.with_name(f".{final.name}.partial")
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
    except OSError as exc:
        raise CheckFailed(
            f"cannot create the incident directory under {ws.incidents_dir}: "
            f"{exc.strerror or type(exc).__name__}",
            tip="make incidents/ writable by this user, then run 'dhash-gha incident open' again",
        ) from None
    try:
        details = dict(details or {})
        evidence = collect_evidence(ws, env, staging, details, reporter)
        meta = {
            "id": final.name,
            "environment": env,
            "opened_at": iso_utc(moment),
            "reason": reporter.redact(reason),
            "details": sanitise_details(details, reporter.redact),
            "evidence": evidence,
        }
        write_atomically(staging / META, meta)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Incident(id=final.name, path=final, report_path=final / REPORT, env=env)


def read_meta(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(
            f"{path / META} is unreadable: {exc}",
            tip="restore incident.json (environment, opened_at, reason, details) and retry",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("environment"), str):
        raise BadInput(f"{path / META} has no 'environment'", tip="restore incident.json")
    if parse_time(str(data.get("opened_at", ""))) is None:
        raise BadInput(f"{path / META} has no valid 'opened_at'", tip="restore incident.json")
    return data


def open_incidents(ws: Workspace, env: str) -> list[str]:
    """Ids of incidents without a RESOLVED marker that concern ``env`` (or do not say)."""
    if not ws.incidents_dir.is_dir():
        return []
    found = []
    for folder in sorted(ws.incidents_dir.glob("INC-*")):
        if not folder.is_dir() or (folder / RESOLVED_MARKER).exists():
            continue
        try:
            meta = json.loads((folder / "incident.json").read_text(encoding="utf-8"))
            if isinstance(meta, dict) and meta.get("environment") not in (None, env):
                continue
        except (OSError, ValueError):
            pass
        found.append(folder.name)
    return found
