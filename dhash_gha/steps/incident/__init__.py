"""Incidents: an archive of the evidence and a report, opened after every automatic rollback.

``open_incident(ws, env, *, reason, clock, reporter, details=None) -> Incident``
creates ``incidents/INC-YYYYmmdd-HHMMSS/`` (logs, quality-gates-config.json,
notifications, release record, ``incident.json``, ``report.md``);
``regenerate_report(ws, incident_id, …)`` rewrites ``report.md`` from the archive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dhash_gha.adapters.channels.audit import write_text_atomically
from dhash_gha.adapters.incident_files.archive import (
    INCIDENT_ID,
    Incident,
    check_incident_id,
    create_archive,
    find_incident,
    read_meta,
)
from dhash_gha.adapters.incident_files.facts import gather_facts
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock
from dhash_gha.core.incident.report import render_report

__all__ = ["INCIDENT_ID", "Incident", "check_incident_id", "open_incident", "regenerate_report"]


def _write_report(ws: Workspace, incident: Incident, clock: Clock, reporter: Reporter) -> str:

    meta = read_meta(incident.path)
    text = reporter.redact(render_report(gather_facts(ws, incident.path, meta, clock.now())))
    write_text_atomically(incident.report_path, text)
    return text


def open_incident(
    ws: Workspace,
    env: str,
    *,
    reason: str,
    clock: Clock,
    reporter: Reporter,
    details: Mapping[str, Any] | None = None,
) -> Incident:
    """Archive the evidence of ``env`` and write its report; returns the new incident."""
    incident = create_archive(
        ws, env, reason=reason, clock=clock, reporter=reporter, details=details
    )
    text = _write_report(ws, incident, clock, reporter)
    where = incident.report_path.relative_to(ws.root).as_posix()
    reporter.info(
        f"incident {incident.id} opened: {where}", event="incident_opened", incident=incident.id
    )
    reporter.summary(text)
    return incident


def regenerate_report(
    ws: Workspace, incident_id: str, *, clock: Clock, reporter: Reporter
) -> Incident:
    """Rewrite ``report.md`` from the archive; filled-in root cause and measures are kept."""
    path = find_incident(ws, incident_id)
    meta = read_meta(path)
    incident = Incident(
        id=path.name, path=path, report_path=path / "report.md", env=str(meta["environment"])
    )
    text = _write_report(ws, incident, clock, reporter)
    reporter.info(
        f"incident {incident.id}: report regenerated: {incident.report_path.relative_to(ws.root).as_posix()}",
        event="incident_report",
        incident=incident.id,
    )
    reporter.summary(text)
    return incident
