"""The monitor's effects: notifications, the automatic rollback, the incident.

The three operations are injected (``MonitorActions``) so tests can watch them;
by default they are the library's own, imported only when first used. A
notification or incident that cannot be made is a warning, never a reason to
skip the rollback; a rollback that fails still opens the incident, then raises
``RollbackFailed`` (exit 4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dhash_gha.adapters.monitoring.poll_log import MonitorLog
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock
from dhash_gha.core.gates.engine import GateVerdict
from dhash_gha.core.gates.spec import format_number
from dhash_gha.errors import RollbackFailed

Operation = Callable[..., Any]


def library_notify(*args: Any, **kwargs: Any) -> Any:
    from dhash_gha.adapters.channels import notify

    return notify(*args, **kwargs)


def library_rollback(*args: Any, **kwargs: Any) -> Any:
    from dhash_gha.steps.rollback import rollback

    return rollback(*args, **kwargs)


def library_open_incident(*args: Any, **kwargs: Any) -> Any:
    from dhash_gha.steps.incident import open_incident

    return open_incident(*args, **kwargs)


@dataclass(frozen=True)
class MonitorActions:
    """``notify(ws, env, kind, message, *, environ, clock, reporter, details)``,
    ``rollback(ws, env, *, backup, environ, clock, reporter, force, automatic, reason)``,
    ``open_incident(ws, env, *, reason, clock, reporter, details)``."""

    notify: Operation = library_notify
    rollback: Operation = library_rollback
    open_incident: Operation = library_open_incident


@dataclass(frozen=True)
class RollbackOutcome:
    backup: str
    result: Any
    incident: Any | None
    reason: str


@dataclass
class Responder:
    ws: Workspace
    env: str
    environ: Mapping[str, str]
    clock: Clock
    reporter: Reporter
    log: MonitorLog
    run_id: str
    release: Mapping[str, Any] | None
    actions: MonitorActions = field(default_factory=MonitorActions)

    @property
    def release_id(self) -> str:
        return str(self.release.get("release_id")) if self.release else "unknown"

    def details(self, verdict: GateVerdict, **extra: Any) -> dict[str, Any]:
        return {
            "release": self.release_id,
            "gate": verdict.name,
            "value": verdict.value,
            "threshold": verdict.threshold,
            "unit": verdict.unit,
            "reason": verdict.reason,
            **extra,
        }

    def notify(self, kind: str, message: str, details: Mapping[str, Any]) -> None:
        try:
            self.actions.notify(
                self.ws,
                self.env,
                kind,
                message,
                environ=self.environ,
                clock=self.clock,
                reporter=self.reporter,
                details=dict(details),
            )
        except Exception as exc:  # a notification never stops the monitor
            self.reporter.warning(f"notification '{kind}' could not be sent: {exc}")
            self.log.write(
                {"event": "notify_failed", "run": self.run_id, "kind": kind, "error": str(exc)},
                level="WARNING",
            )

    def alert(self, verdict: GateVerdict, *, instead_of_rollback: bool) -> None:
        why = " (rollback disabled by --no-rollback)" if instead_of_rollback else ""
        message = f"quality gate {verdict.name} failed in {self.env}: {verdict.reason}{why}"
        self.reporter.warning(message, title=f"gate {verdict.name}")
        self.log.write(
            {
                "event": "gate_alert",
                "run": self.run_id,
                "gate": verdict.name,
                "reason": verdict.reason,
                "action": verdict.action,
            },
            level="WARNING",
        )
        self.notify("gate", message, self.details(verdict))

    def would_roll_back(self, verdict: GateVerdict) -> None:
        message = f"dry-run gate {verdict.name} failed: would have rolled back ({verdict.reason})"
        self.reporter.info(message)
        self.log.write(
            {
                "event": "would_roll_back",
                "run": self.run_id,
                "gate": verdict.name,
                "reason": verdict.reason,
                "message": "would have rolled back",
            }
        )

    def backup_to_restore(self) -> str | Path:
        recorded = self.release.get("pre_deploy_backup") if self.release else None
        if recorded:
            return self.ws.root / str(recorded)
        self.reporter.warning(
            "the release record names no pre-deploy backup: rolling back to the latest "
            "verified backup"
        )
        return "latest"

    def roll_back(self, fired: Sequence[GateVerdict]) -> RollbackOutcome:
        """Roll back because the ``fired`` gates failed (the first one is the headline)."""
        first = fired[0]
        names = ", ".join(v.name for v in fired)
        return self.roll_back_because(
            f"quality gate {names} failed: {first.reason}",
            self.details(first),
            title="quality gate failed",
            gates=names,
            value=format_number(first.value) if first.value is not None else "",
            threshold=format_number(first.threshold),
        )

    def roll_back_because(
        self, reason: str, details: Mapping[str, Any], *, title: str, **log_fields: Any
    ) -> RollbackOutcome:
        """Critical notification, rollback to the pre-deploy backup, incident.

        Raises RollbackFailed (after opening the incident) when the rollback fails.
        """
        backup = self.backup_to_restore()
        shown_backup = _relative(self.ws, backup)
        message = f"{self.env}: {reason}. Rolling back release {self.release_id} to {shown_backup}."
        self.reporter.error(message, title=title)
        self.log.write(
            {"event": "rollback_start", "run": self.run_id, **log_fields, "backup": shown_backup},
            level="ERROR",
        )
        self.notify("critical", message, {**details, "backup": shown_backup})
        try:
            result = self.actions.rollback(
                self.ws,
                self.env,
                backup=backup,
                environ=self.environ,
                clock=self.clock,
                reporter=self.reporter,
                force=True,
                automatic=True,
                reason=reason,
            )
        except Exception as exc:
            failure = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self.log.write(
                {"event": "rollback_failed", "run": self.run_id, "error": failure}, level="ERROR"
            )
            self.open_incident(f"{reason}; the automatic rollback FAILED: {failure}", details)
            raise RollbackFailed(
                f"{reason}, and the automatic rollback to {shown_backup} failed: {failure}",
                tip=getattr(exc, "tip", None)
                or f"roll back by hand: dhash-gha rollback --env {self.env} --backup "
                f"{shown_backup} --force",
            ) from exc
        self.log.write({"event": "rollback_done", "run": self.run_id, "backup": shown_backup})
        incident = self.open_incident(reason, {**details, "backup": shown_backup})
        return RollbackOutcome(shown_backup, result, incident, reason)

    def open_incident(self, reason: str, details: Mapping[str, Any]) -> Any | None:
        try:
            incident = self.actions.open_incident(
                self.ws,
                self.env,
                reason=reason,
                clock=self.clock,
                reporter=self.reporter,
                details={
                    **details,
                    "monitor_run": self.run_id,
                    "monitor_log": _relative(self.ws, self.log.path),
                },
            )
        except Exception as exc:
            self.reporter.warning(f"the incident could not be opened: {exc}")
            return None
        self.log.write(
            {
                "event": "incident_opened",
                "run": self.run_id,
                "incident": str(getattr(incident, "id", "")),
            }
        )
        return incident


def _relative(ws: Workspace, path: str | Path) -> str:
    if isinstance(path, str):
        return path
    try:
        return path.relative_to(ws.root).as_posix()
    except ValueError:
        return str(path)
