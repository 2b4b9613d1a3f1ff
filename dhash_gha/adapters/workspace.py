"""Every path of the workspace, defined once.

The workspace root is the checkout that holds the component on the host
that runs it (DESIGN.md §1). Nothing else in the library builds these
names by hand: ask the ``Workspace``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dhash_gha.core.clock import utc_stamp
from dhash_gha.core.names import (
    ENV_CONFIG,
    ENV_NAME,
    GATES_CONFIG,
    LOG_KINDS,
    backup_name,
    check_env_name,
    is_zip_backup,
    pre_rollback_name,
)
from dhash_gha.errors import BadInput

__all__ = ["ENV_CONFIG", "GATES_CONFIG", "LOG_KINDS", "Workspace", "check_env_name"]


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def at(cls, root: str | Path) -> Workspace:
        path = Path(root)
        if not path.exists():
            raise BadInput(
                f"workspace root {str(path)!r} does not exist",
                tip="pass --root DIR (or set DHASH_ROOT) to the checkout that holds config/ and src/",
            )
        if not path.is_dir():
            raise BadInput(
                f"workspace root {str(path)!r} is not a directory",
                tip="pass --root DIR pointing at a directory",
            )
        return cls(path.resolve())

    # --- component and configuration -------------------------------------------------
    @property
    def src_dir(self) -> Path:
        return self.root / "src"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    def env_config(self, env: str) -> Path:
        return self.config_dir / check_env_name(env) / ENV_CONFIG

    @property
    def gates_config(self) -> Path:
        return self.root / GATES_CONFIG

    def environments(self) -> list[str]:
        """Environments that have a config directory, sorted."""
        if not self.config_dir.is_dir():
            return []
        return sorted(
            p.name for p in self.config_dir.iterdir() if p.is_dir() and ENV_NAME.match(p.name)
        )

    # --- deployments -----------------------------------------------------------------
    @property
    def deployments_dir(self) -> Path:
        return self.root / "deployments"

    def deployment_dir(self, env: str) -> Path:
        return self.deployments_dir / check_env_name(env)

    def release_record(self, env: str) -> Path:
        return self.deployment_dir(env) / "current_release.json"

    def deploy_history(self, env: str) -> Path:
        """Append-only history; lives outside the backed-up tree so no rollback erases it."""
        return self.state_dir / check_env_name(env) / "deploy_history.jsonl"

    def pidfile(self, env: str) -> Path:
        return self.deployment_dir(env) / "dhash.pid"

    def maintenance_flag(self, env: str) -> Path:
        return self.deployment_dir(env) / "MAINTENANCE"

    # --- tool state that must survive a restore ------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.root / ".dhash-state"

    def lock_file(self, env: str) -> Path:
        return self.state_dir / check_env_name(env) / "env.lock"

    def lock_info(self, env: str) -> Path:
        return self.state_dir / check_env_name(env) / "env.lock.json"

    def component_output(self, env: str) -> Path:
        """stdout/stderr of the supervised component (its own log is ``service_log``)."""
        return self.state_dir / check_env_name(env) / "component_output.log"

    def stop_request(self, env: str) -> Path:
        """Created by the supervisor to ask the component to stop (no signal reaches it on Windows)."""
        return self.state_dir / check_env_name(env) / "stop_request"

    def monitor_state(self, env: str) -> Path:
        return self.state_dir / check_env_name(env) / "monitor_state.json"

    # --- migrations ----------------------------------------------------------------------
    @property
    def migrations_dir(self) -> Path:
        return self.root / "migrations"

    def migration_state(self, env: str) -> Path:
        return self.migrations_dir / f"{check_env_name(env)}_migration_state.json"

    # --- data ------------------------------------------------------------------------------
    def data_dir(self, env: str) -> Path:
        return self.root / "data" / check_env_name(env)

    def queue_files(self, env: str) -> list[Path]:
        folder = self.data_dir(env)
        return sorted(folder.glob("*.queue")) if folder.is_dir() else []

    # --- backups -------------------------------------------------------------------------
    @property
    def backups_dir(self) -> Path:
        return self.root / "backups"

    def backup_path(self, env: str, moment: datetime, suffix: str = "") -> Path:
        """``backups/dhash_{env}_{YYYYmmdd_HHMMSS}{suffix}.zip``."""
        return self.backups_dir / backup_name(env, utc_stamp(moment), suffix)

    def backups(self, env: str) -> list[Path]:
        """This environment's zip backups, newest first (the runbook's ``sort -r``)."""
        if not self.backups_dir.is_dir():
            return []
        check_env_name(env)
        found = [
            p for p in self.backups_dir.iterdir() if is_zip_backup(p.name, env) and p.is_file()
        ]
        return sorted(found, key=lambda p: p.name, reverse=True)

    @staticmethod
    def sidecar(backup: Path) -> Path:
        return backup.with_name(backup.name + ".sha256")

    def restore_staging(self, moment: datetime) -> Path:
        """Where a restore extracts before its swap: beside the targets, on the same file system."""
        return self.root / f".dhash-restore-{utc_stamp(moment)}"

    @property
    def restore_journal(self) -> Path:
        """Journal of an unfinished restore swap (one per workspace: the include set is shared)."""
        return self.state_dir / "restore_journal.json"

    @property
    def rollbacks_dir(self) -> Path:
        return self.root / "rollbacks"

    def pre_rollback_archive(self, env: str, moment: datetime) -> Path:
        return self.rollbacks_dir / pre_rollback_name(env, utc_stamp(moment))

    # --- logs, notifications, incidents ------------------------------------------------------
    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def log_file(self, kind: str, env: str, moment: datetime) -> Path:
        if kind not in LOG_KINDS:
            raise ValueError(f"unknown log kind {kind!r}")
        return self.logs_dir / f"{kind}_{check_env_name(env)}_{utc_stamp(moment)}.log"

    def service_log(self, env: str, moment: datetime) -> Path:
        """The component's own log, ``logs/dhash_{env}_{YYYYmmdd}.log``."""
        return self.logs_dir / f"dhash_{check_env_name(env)}_{moment.strftime('%Y%m%d')}.log"

    @property
    def notifications_dir(self) -> Path:
        return self.root / "notifications" / "fallback"

    @property
    def incidents_dir(self) -> Path:
        return self.root / "incidents"

    def incident_dir(self, moment: datetime) -> Path:
        return self.incidents_dir / f"INC-{utc_stamp(moment).replace('_', '-')}"
