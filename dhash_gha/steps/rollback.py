"""Rolling an environment back to a backup.

Order (nothing is touched until the backup has verified and the migration plan
is known to be possible): resolve and verify the backup → plan the backward
migration (an IRREVERSIBLE one refuses and pages) → lock → stop → restore
(the backup package archives the current state to rollbacks/ first and swaps)
→ migrate to the backup's migration version → start → N consecutive OK health
checks → history record and notification.

A re-run after a crash (even SIGKILL) redoes the same steps on whatever tree
the crash left, which restore guarantees is the old or the new one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from dhash_gha.adapters import supervisor
from dhash_gha.adapters.archive import read_manifest, restore_backup, verify_backup
from dhash_gha.adapters.archive.restore import finish_interrupted_restore
from dhash_gha.adapters.archive.verify import sidecar_digest
from dhash_gha.adapters.channels.pager import page
from dhash_gha.adapters.config import load_env_config
from dhash_gha.adapters.digest import file_sha256
from dhash_gha.adapters.lock import environment_lock
from dhash_gha.adapters.migrations import (
    IrreversibleMigration,
    command_timeout,
    current_version,
    migrate_to,
)
from dhash_gha.adapters.readiness import wait_healthy
from dhash_gha.adapters.releases import append_history, read_history, read_release, relative
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.core.names import backup_name_pattern, pre_rollback_pattern
from dhash_gha.errors import BadInput, CheckFailed, DhashError, RollbackFailed


@dataclass
class RollbackResult:
    backup: Path
    dry_run: bool
    from_release: str | None
    to_release: str | None = None
    migration_from: str | None = None
    migration_to: str | None = None
    pre_rollback_archive: Path | None = None
    health_checks: int = 0
    plan: list[str] = field(default_factory=list)


@contextmanager
def log_to(reporter: Reporter, path: Path) -> Iterator[Path]:
    """Write events to ``path`` for the block, then back to the caller's log (if any)."""
    previous = reporter.log_path
    reporter.attach_log(path)
    try:
        yield path
    finally:
        if previous is not None:
            reporter.attach_log(previous)


# --- choosing the backup (pure checks on names and paths) -----------------------------------
def resolve_backup(ws: Workspace, env: str, value: str | Path) -> Path:
    """``latest``, this environment's backup inside backups/, or its pre-rollback archive."""
    if str(value) == "latest":
        backups = ws.backups(env)  # newest first
        if not backups:
            raise BadInput(
                f"no backup of '{env}' in {ws.backups_dir}",
                tip=f"make one first: dhash-gha backup create --env {env}",
            )
        return backups[0]
    given = Path(value)
    candidate = given if given.is_absolute() else ws.root / given
    # A bare name, as `backup list` prints it, names a file in backups/ (or rollbacks/).
    if given.name == str(value) and backup_name_pattern(env).match(given.name):
        candidate = ws.backups_dir / given
    elif given.name == str(value) and pre_rollback_pattern(env).match(given.name):
        candidate = ws.rollbacks_dir / given
    resolved = candidate.resolve()
    in_backups = resolved.parent == ws.backups_dir.resolve() and backup_name_pattern(env).match(
        resolved.name
    )
    in_rollbacks = resolved.parent == ws.rollbacks_dir.resolve() and pre_rollback_pattern(
        env
    ).match(resolved.name)
    if not (in_backups or in_rollbacks):
        raise BadInput(
            f"--backup {str(value)!r} is not a backup of '{env}' inside backups/",
            tip=f"give 'latest' or backups/dhash_{env}_YYYYmmdd_HHMMSS.zip (see: dhash-gha backup "
            f"list --env {env}); to undo a rollback, rollbacks/pre_rollback_{env}_….tar.gz",
        )
    if not resolved.is_file():
        raise BadInput(f"backup {str(value)!r} does not exist", tip="see: dhash-gha backup list")
    return resolved


def recent_automatic_rollback(
    history: list[dict[str, Any]], release_id: str | None, now: datetime, minutes: float
) -> dict[str, Any] | None:
    """The automatic rollback of ``release_id`` within ``minutes`` before ``now``, if any."""
    if release_id is None or minutes <= 0:
        return None
    since = now - timedelta(minutes=minutes)
    for entry in reversed(history):
        if entry.get("type") != "rollback" or not entry.get("automatic"):
            continue
        if entry.get("rolled_back_release") != release_id:
            continue
        try:
            at = datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            continue
        if at >= since:
            found: dict[str, Any] = dict(entry)
            return found
    return None


# --- the rollback ------------------------------------------------------------------------------
def rollback(
    ws: Workspace,
    env: str,
    *,
    backup: str | Path = "latest",
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    force: bool,
    automatic: bool = False,
    reason: str = "",
    dry_run: bool = False,
    unverified: bool = False,
    release_id: str | None = None,
    confirm: Callable[[str], bool] | None = None,
    lock_held: bool = False,
    lock_wait: float = 0.0,
) -> RollbackResult:
    """Roll ``env`` back; raises RollbackFailed when it started and could not complete.

    ``release_id`` names the release being rolled back (default: the current record's);
    ``lock_held`` is for a caller (deploy) that already holds the environment lock.
    """

    if not (lock_held or dry_run):  # an interrupted swap may have config/ itself moved out
        finish_interrupted_restore(ws, clock=clock, reporter=reporter, lock_wait=lock_wait)
    config = load_env_config(ws, env)
    source = resolve_backup(ws, env, backup)
    rolled_back = release_id or (read_release(ws, env) or {}).get("release_id")
    run = _Rollback(
        ws,
        env,
        environ,
        clock,
        reporter,
        source,
        automatic,
        reason,
        unverified,
        RollbackResult(source, dry_run, rolled_back),
    )
    if not (force or automatic or dry_run):
        if confirm is None:
            raise BadInput(
                "refusing to roll back without confirmation: there is no terminal to ask on",
                tip="pass --force to roll back non-interactively",
            )
        if not confirm(f"Roll '{env}' back to {relative(ws, source)}? [y/N] "):
            raise BadInput("rollback not confirmed: nothing was changed")
    if automatic:
        minutes = float(config.get("rollback", {}).get("loop_guard_minutes", 60))
        history = read_history(ws, env)
        previous = recent_automatic_rollback(history, rolled_back, clock.now(), minutes)
        if previous is not None:
            run.refuse(
                f"loop guard: release {rolled_back} was already rolled back automatically at "
                f"{previous.get('at')} (within {minutes:g} min); not rolling back again",
                tip="an operator must look at this environment now",
            )
    manifest = run.verify()
    target = manifest.get("migration_version") if manifest else None
    run.check_migration_plan(target)
    if dry_run:
        return run.dry_run(config, target)

    with log_to(reporter, ws.log_file("rollback", env, clock.now())):
        reporter.event(
            "rollback_start",
            backup=relative(ws, source),
            automatic=automatic,
            reason=reason,
            release=rolled_back,
            unverified=unverified,
        )
        if unverified and manifest is None:
            reporter.warning(f"restoring {source.name} UNVERIFIED (no checksum sidecar)")
        if lock_held:
            return run.perform(config, target)
        with environment_lock(
            ws, env, "rollback", clock=clock, wait_seconds=lock_wait, reporter=reporter
        ):
            return run.perform(config, target)


@dataclass
class _Rollback:
    """One rollback's inputs, shared by its steps."""

    ws: Workspace
    env: str
    environ: Mapping[str, str]
    clock: Clock
    reporter: Reporter
    source: Path
    automatic: bool
    reason: str
    unverified: bool
    result: RollbackResult

    # --- before anything is touched ----------------------------------------------------------
    def refuse(self, message: str, *, tip: str | None) -> NoReturn:
        """Page and stop: nothing was touched."""
        self.page("critical", message)
        raise RollbackFailed(message, tip=tip)

    def verify(self) -> dict[str, Any] | None:
        """The backup's manifest once it verifies (None for an unverified manual tar.gz)."""

        tar = self.source.name.endswith(".tar.gz")
        if tar and not Workspace.sidecar(self.source).exists():
            if not self.unverified:
                raise BadInput(
                    f"{self.source.name} is a manual tar.gz backup without a checksum sidecar",
                    tip="restore it only knowingly: add --unverified (it is logged)",
                )
            return None
        try:
            if tar:
                manifest: dict[str, Any] = self.verify_pre_rollback_archive()
            else:
                verify_backup(self.source)
                manifest = read_manifest(self.source)
        except DhashError as exc:
            if self.automatic:
                self.refuse(
                    f"backup {self.source.name} does not verify: {exc.message}; "
                    "nothing was touched",
                    tip="an operator must pick another backup now",
                )
            raise
        if manifest.get("environment") not in (None, self.env):
            raise BadInput(
                f"{self.source.name} is a backup of '{manifest.get('environment')}', "
                f"not of '{self.env}'",
                tip=f"pick a backup of '{self.env}'",
            )
        return manifest

    def verify_pre_rollback_archive(self) -> dict[str, Any]:
        """A tar.gz with a sidecar (a pre-rollback archive): its checksum, and the migration
        version it ran with, which the rollback that wrote it recorded in the history."""

        if file_sha256(self.source) != sidecar_digest(self.source):
            raise CheckFailed(
                f"{self.source.name} does not match its .sha256 sidecar: it was changed or is "
                "incomplete",
                tip="pick another archive or backup",
            )
        name = relative(self.ws, self.source)
        version = next(
            (
                entry.get("migration_from")
                for entry in reversed(read_history(self.ws, self.env))
                if entry.get("pre_rollback_archive") == name
            ),
            None,
        )
        return {"environment": self.env, "migration_version": version}

    def check_migration_plan(self, target: Any) -> None:
        """Refuse (and page) before touching anything when the data cannot go back."""

        if not isinstance(target, str):
            return
        quiet = Reporter(
            self.environ,
            stream=io.StringIO(),
            err_stream=io.StringIO(),
            clock=self.clock,
            quiet=True,
        )
        try:
            migrate_to(self.ws, self.env, target, dry_run=True, clock=self.clock, reporter=quiet)
        except IrreversibleMigration as exc:
            self.refuse(
                f"{exc.message}; nothing was touched and the operator was paged", tip=exc.tip
            )
        except DhashError as exc:
            if self.automatic:
                self.refuse(f"cannot plan the migration to {target}: {exc.message}", tip=exc.tip)
            raise

    def dry_run(self, config: Mapping[str, Any], target: Any) -> RollbackResult:

        ws, env = self.ws, self.env
        process = supervisor.status(ws, env, config, clock=self.clock)
        consecutive = int(config["health"].get("consecutive_ok_after_rollback", 3))
        self.result.plan = [
            f"verify {relative(ws, self.source)}: OK",
            f"take the lock of '{env}'",
            f"stop the component ({process.detail})",
            f"archive the current src/, config/, deployments/ to "
            f"rollbacks/pre_rollback_{env}_…tar.gz",
            f"restore {relative(ws, self.source)}",
            f"migrate {current_version(ws, env)} → {target}"
            if isinstance(target, str)
            else "no migration version recorded in the backup: migrations left as they are",
            "start the component",
            f"require {consecutive} consecutive OK health checks at {config['health']['url']}",
            f"append to {relative(ws, ws.deploy_history(env))}, log to logs/rollback_{env}_….log",
        ]
        self.reporter.info(f"rollback plan for '{env}' (dry run: nothing is changed):")
        for number, step in enumerate(self.result.plan, 1):
            self.reporter.info(f"  {number}. {step}")
        return self.result

    # --- the change --------------------------------------------------------------------------
    def perform(self, config: Mapping[str, Any], target: Any) -> RollbackResult:

        ws, env, clock, reporter, result = self.ws, self.env, self.clock, self.reporter, self.result
        step = "stop"
        try:
            reporter.info(
                f"rolling '{env}' back to {relative(ws, self.source)}", event="rollback_step"
            )
            supervisor.stop(ws, env, config, environ=self.environ, clock=clock, reporter=reporter)
            step = "restore"
            restored = restore_backup(
                ws, env, self.source, clock=clock, reporter=reporter, unverified=self.unverified
            )
            result.pre_rollback_archive = restored.pre_rollback_archive
            reporter.info(
                "restored; previous state archived to "
                f"{relative(ws, restored.pre_rollback_archive)}",
                event="rollback_step",
            )
            step = "migrate"
            result.migration_from = current_version(ws, env)
            if isinstance(target, str):
                migrate_to(
                    ws, env, target, clock=clock, reporter=reporter, timeout=command_timeout(config)
                )
            result.migration_to = current_version(ws, env)
            step = "start"
            config = load_env_config(ws, env)  # the restored config is the one to run with
            record = read_release(ws, env) or {}
            result.to_release = record.get("release_id")
            if supervisor.status(ws, env, config, clock=clock).running:
                # The component was stopped above, so this one was launched meanwhile (by an
                # interrupted earlier run): it may run the replaced tree. Restart it.
                reporter.warning("a component started while restoring: restarting it")
                supervisor.stop(
                    ws, env, config, environ=self.environ, clock=clock, reporter=reporter
                )
            started = supervisor.start(
                ws,
                env,
                config,
                environ=self.environ,
                clock=clock,
                reporter=reporter,
                git_commit=record.get("git_commit"),
            )
            step = "health"
            consecutive = int(config["health"].get("consecutive_ok_after_rollback", 3))
            restored_config = config

            def alive() -> bool:
                return supervisor.status(ws, env, restored_config, clock=clock).running

            waited = wait_healthy(
                config,
                clock=clock,
                reporter=reporter,
                consecutive=consecutive,
                is_alive=alive if started.pid is not None else None,
            )
            result.health_checks = waited.attempts
            if not waited.ok:
                raise CheckFailed(f"not healthy after the rollback: {waited.detail}")
        except DhashError as exc:
            message = f"rollback of '{env}' failed at step '{step}': {exc.message}"
            self.record(ok=False, error=message)
            self.page("critical", message)
            raise RollbackFailed(
                message, tip="an operator must restore service by hand now"
            ) from None
        self.record(ok=True)
        message = (
            f"'{env}' rolled back to {relative(ws, self.source)} "
            f"(release {result.to_release}); healthy ({consecutive} consecutive OK)"
        )
        reporter.info(message, event="rollback_done")
        self.page("rollback", message + (f"; reason: {self.reason}" if self.reason else ""))
        return result

    # --- telling ------------------------------------------------------------------------------
    def page(self, kind: str, message: str) -> None:

        details = {
            "release": self.result.from_release or "",
            "reason": self.reason or message,
            "backup": relative(self.ws, self.source),
        }
        page(
            self.ws,
            self.env,
            kind,
            message,
            environ=self.environ,
            clock=self.clock,
            reporter=self.reporter,
            details=details,
        )

    def record(self, *, ok: bool, error: str = "") -> None:

        result, ws = self.result, self.ws
        archive = result.pre_rollback_archive
        entry: dict[str, Any] = {
            "type": "rollback",
            "at": iso_utc(self.clock.now()),
            "environment": self.env,
            "ok": ok,
            "automatic": self.automatic,
            "reason": self.reason,
            "backup": relative(ws, result.backup),
            "pre_rollback_archive": relative(ws, archive) if archive else None,
            "rolled_back_release": result.from_release,
            "release_id": result.to_release,
            "migration_from": result.migration_from,
            "migration_version": result.migration_to,
        }
        if ok:
            entry["release_backup"] = relative(ws, result.backup)  # this release's tree, exactly
        if error:
            entry["error"] = error
        append_history(ws, self.env, entry)
