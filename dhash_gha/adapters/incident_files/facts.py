"""Gathering an incident's facts from its archive directory (the report's only input)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dhash_gha.adapters.channels.audit import read_records
from dhash_gha.adapters.incident_files.archive import (
    HISTORY_COPY,
    LOGS,
    NOTIFICATIONS,
    RELEASE_COPY,
)
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.incident.evidence import (
    ACTION_KINDS,
    LogEvent,
    MonitorRun,
    TimelineEntry,
    event_entries,
    gate_config,
    log_kind,
    monitoring_run,
    notification_entries,
    parse_log,
    parse_time,
)
from dhash_gha.core.incident.report import BackupFacts, GateFacts, IncidentFacts, kept_sections

# Left out of "Actions and outcomes" (still in the timeline): progress, not decisions.
_ROUTINE_EVENTS = frozenset(
    {
        "poll",
        "info",
        "tip",
        "traceback",
        "health_probe",
        "preflight_check",
        "command_start",
        "command_end",
    }
)
# The notification records themselves are in the report; their log lines would repeat them.
_DUPLICATED_EVENTS = frozenset({"notification_channel", "notification_recorded"})
# Deploy-history keys worth a timeline line, in order.
_HISTORY_KEYS = ("type", "release_id", "rolled_back_release", "ok", "automatic", "backup", "reason")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _logs(folder: Path, env: str) -> dict[str, list[LogEvent]]:
    found: dict[str, list[LogEvent]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.log")):
        kind = log_kind(path.name, env) or "log"
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found[path.name] = parse_log(text, kind)
    return found


def _monitor_run(
    logs: Mapping[str, list[LogEvent]], details: Mapping[str, Any]
) -> MonitorRun | None:
    wanted = Path(str(details["monitor_log"])).name if details.get("monitor_log") else None
    names = [n for n, events in logs.items() if events and events[0].source == "monitor"]
    if wanted is not None and wanted in logs:
        names = [wanted]
    named = details.get("monitor_run") or details.get("run")
    run_id = str(named) if named else None
    for name in sorted(names, reverse=True):
        run = monitoring_run(logs[name], run_id)
        if run is not None:
            return run
    return None


def _gate(
    details: Mapping[str, Any], run: MonitorRun | None, gates: Any, env: str
) -> GateFacts | None:
    name = details.get("gate") or (run.first_failure() if run else None)
    if not name:
        return None
    name = str(name)
    config = gate_config(gates, env, name)
    value = _float(details.get("value"))
    if value is None and run is not None:
        failing = [p.values.get(name) for p in run.polls if p.statuses.get(name) == "fail"]
        seen = [v for v in failing or [p.values.get(name) for p in run.polls] if v is not None]
        value = seen[-1] if seen else None
    threshold = _float(details.get("threshold"))
    if threshold is None:
        threshold = _float(config.get("threshold"))
    return GateFacts(
        name=name,
        value=value,
        threshold=threshold,
        unit=str(details.get("unit") or config.get("unit") or ""),
        action=str(config.get("action", "")),
        description=str(config.get("description", "")),
    )


def _thresholds(
    gates: Any, env: str, run: MonitorRun | None
) -> dict[str, tuple[float | None, str]]:
    names = run.gates() if run else []
    found: dict[str, tuple[float | None, str]] = {}
    for name in names:
        config = gate_config(gates, env, name)
        found[name] = (_float(config.get("threshold")), str(config.get("unit", "")))
    return found


def _backup(
    ws: Workspace, details: Mapping[str, Any], events: Sequence[LogEvent], release: Any
) -> BackupFacts | None:
    candidate, note = details.get("backup"), ""
    if not candidate:
        for event in reversed(events):
            if event.source == "rollback":
                value = event.fields.get("backup") or event.fields.get("source") or ""
                if value.endswith(".zip"):
                    candidate = value
                    break
    if not candidate and isinstance(release, dict) and release.get("pre_deploy_backup"):
        candidate = release["pre_deploy_backup"]
        note = "taken from the release record's pre-deploy backup (no rollback log names one)"
    if not candidate:
        return None
    path = Path(str(candidate))
    absolute = path if path.is_absolute() else ws.root / path
    try:
        shown = absolute.resolve().relative_to(ws.root).as_posix()
    except (ValueError, OSError):
        shown = str(candidate)
    sidecar = ws.sidecar(absolute)
    try:
        first = sidecar.read_text(encoding="utf-8").split()
    except OSError:
        return BackupFacts(shown, None, note or f"sidecar {sidecar.name} is missing")
    digest = first[0].lower() if first else ""
    if not _SHA256.match(digest):
        return BackupFacts(shown, None, note or f"sidecar {sidecar.name} is malformed")
    return BackupFacts(shown, digest, note)


def gather_facts(
    ws: Workspace, folder: Path, meta: Mapping[str, Any], now: datetime
) -> IncidentFacts:
    env = str(meta["environment"])
    details: Mapping[str, Any] = meta.get("details") or {}
    logs = _logs(folder / LOGS, env)
    events = sorted((e for evs in logs.values() for e in evs), key=lambda e: e.at)
    run = _monitor_run(logs, details)
    gates = _read_json(folder / ws.gates_config.name)
    release = _read_json(folder / RELEASE_COPY)
    notes = notification_entries(read_records(folder / NOTIFICATIONS, env))
    history = _history_entries(folder / HISTORY_COPY)
    timeline_events = [e for e in events if e.event not in _DUPLICATED_EVENTS]
    since = _actions_since(events, run)
    actions = event_entries(
        e
        for e in timeline_events
        if e.source in ACTION_KINDS
        and e.at >= since
        and (
            e.event not in _ROUTINE_EVENTS
            or e.level in ("WARNING", "ERROR", "CRITICAL")
            or e.fields.get("ok") == "false"
        )
    )
    notes_since = [n for n in notes if n.at >= since]
    release_id = details.get("release") or (
        release.get("release_id") if isinstance(release, dict) else None
    )
    previous = folder / "report.md"
    kept = kept_sections(previous.read_text(encoding="utf-8")) if previous.is_file() else {}
    return IncidentFacts(
        incident_id=str(meta["id"]) if meta.get("id") else folder.name,
        env=env,
        opened_at=parse_time(str(meta["opened_at"])) or now,
        reason=str(meta.get("reason", "")),
        generated_at=now,
        release=str(release_id) if release_id else None,
        gate=_gate(details, run, gates, env),
        thresholds=_thresholds(gates, env, run),
        run=run,
        timeline=[*event_entries(timeline_events), *notes, *history],
        actions=[*actions, *notes_since, *(h for h in history if h.at >= since)],
        backup=_backup(ws, details, events, release),
        evidence=meta.get("evidence") or [],
        kept_sections=kept,
        details=details,
    )


def _actions_since(events: Sequence[LogEvent], run: MonitorRun | None) -> datetime:
    """Actions of this incident: from the deploy that started the monitored release on."""
    if run is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    starts = [e.at for e in events if e.event == "deploy_start" and e.at <= run.started]
    return starts[-1] if starts else run.started


def _history_entries(path: Path) -> list[TimelineEntry]:
    if not path.is_file():
        return []
    entries: list[TimelineEntry] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        item = _read_json_line(line)
        at = parse_time(str(item.get("at") or item.get("time") or item.get("deployed_at") or ""))
        if at is None:
            continue
        shown = [f"{k}={item[k]}" for k in _HISTORY_KEYS if item.get(k) not in (None, "")]
        entries.append(TimelineEntry(at, "deploy_history", ", ".join(shown)[:300] or "entry"))
    return entries


def _read_json_line(line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
