"""An environment at a glance: release, process, health, latest backup, migrations, incidents."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dhash_gha.adapters import supervisor
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.health import probe
from dhash_gha.adapters.incident_files.archive import open_incidents
from dhash_gha.adapters.migrations import current_version
from dhash_gha.adapters.releases import read_release
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock


@dataclass(frozen=True)
class EnvironmentStatus:
    environment: str
    release_id: str | None
    git_commit: str | None
    deployed_at: str | None
    running: bool
    pid: int | None
    uptime_seconds: float | None
    process_detail: str
    health: str
    healthy: bool
    latest_backup: str | None
    migration_version: str
    open_incidents: list[str]
    maintenance: bool
    monitor: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        uptime = f", up {_duration(self.uptime_seconds)}" if self.uptime_seconds is not None else ""
        release = self.release_id or "none deployed"
        if self.deployed_at:
            release += f" (deployed {self.deployed_at}"
            release += f", commit {self.git_commit[:12]})" if self.git_commit else ")"
        return [
            f"environment:  {self.environment}" + (" [MAINTENANCE]" if self.maintenance else ""),
            f"release:      {release}",
            f"process:      {self.process_detail}{uptime}",
            f"health:       {'✅' if self.healthy else '❌'} {self.health}",
            f"backup:       {self.latest_backup or 'none'}",
            f"migrations:   {self.migration_version}",
            f"incidents:    {', '.join(self.open_incidents) or 'none open'}",
            f"monitor:      {self.monitor}",
        ]


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def monitor_summary(ws: Workspace, env: str) -> str:
    """One line from the monitor's saved state (read as plain JSON: no monitor import)."""
    try:
        data = json.loads(ws.monitor_state(env).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no monitoring run yet"
    except (OSError, ValueError):
        return "state file unreadable"
    if not isinstance(data, dict):
        return "state file unreadable"
    failing = data.get("failing") or []
    status = data.get("status")
    if status == "running" and not _monitor_lock_held(ws.monitor_state(env)):
        status = f"interrupted (no monitor is running; `dhash-gha monitor --env {env}` resumes it)"
    text = (
        f"run {data.get('run_id')} {status}, "
        f"{len(data.get('samples') or [])} polls, started {data.get('started_at')}"
    )
    return text + (f", failing: {', '.join(map(str, failing))}" if failing else "")


def _monitor_lock_held(state_path: Path) -> bool:
    """Whether a monitor process holds the lock beside its state file (as the monitor names it).

    A killed or interrupted monitor leaves its run saved as "running" (so that it can resume):
    only the lock tells whether one is watching right now.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(state_path.with_name(state_path.name + ".lock")))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False


def environment_status(ws: Workspace, env: str, *, clock: Clock) -> EnvironmentStatus:

    config = load_env_config(ws, env)
    record = read_release(ws, env) or {}
    process = supervisor.status(ws, env, config, clock=clock)
    result = probe(
        str(config["health"]["url"]), float(config["health"].get("timeout_seconds", 2.0))
    )
    backups = ws.backups(env)
    return EnvironmentStatus(
        environment=env,
        release_id=record.get("release_id"),
        git_commit=record.get("git_commit"),
        deployed_at=record.get("deployed_at"),
        running=process.running,
        pid=process.pid if process.running else None,
        uptime_seconds=process.uptime_seconds,
        process_detail=process.detail,
        health=result.detail,
        healthy=result.ok,
        latest_backup=backups[0].relative_to(ws.root).as_posix() if backups else None,
        migration_version=current_version(ws, env),
        open_incidents=open_incidents(ws, env),
        maintenance=ws.maintenance_flag(env).exists(),
        monitor=monitor_summary(ws, env),
    )
