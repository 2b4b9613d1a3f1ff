"""Deploying the workspace's release to an environment.

lock → preflight → pre-deploy backup → install → build → stop the old
component → pending forward migrations → start → wait for health → release
record + history → release snapshot → monitor. A release that never becomes
healthy is rolled back to its pre-deploy backup (RollbackPerformed, exit 3;
RollbackFailed, exit 4, when that fails too).

Which backup is "pre-deploy": the workspace is a checkout, so by the time
``deploy`` runs the new release may already be in src/ and config/. When the
tree still matches the running release (or nothing runs yet), a fresh backup
is made. When it no longer does, a fresh backup would hold the *new* files,
so the running release's snapshot (a backup taken right after it became
healthy, named in the deploy history) is the pre-deploy backup instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from dhash_gha.adapters import supervisor
from dhash_gha.adapters.archive import create_backup, verify_backup
from dhash_gha.adapters.archive.restore import refuse_if_restore_pending
from dhash_gha.adapters.channels.pager import page
from dhash_gha.adapters.config import load_env_config, load_gates_config, mask_configured_secrets
from dhash_gha.adapters.gitinfo import git_commit as read_head
from dhash_gha.adapters.lock import environment_lock
from dhash_gha.adapters.migrations import command_timeout, current_version, migrate
from dhash_gha.adapters.procs import expand, run_command
from dhash_gha.adapters.readiness import wait_healthy
from dhash_gha.adapters.releases import (
    append_history,
    config_digest,
    read_history,
    read_release,
    relative,
    release_snapshot,
    release_tops,
    tree_digest,
    write_release,
)
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.supervisor import component_cwd, placeholders
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock, iso_utc, utc_stamp
from dhash_gha.core.gates.spec import load_gate_specs
from dhash_gha.errors import BadInput, CheckFailed, DhashError, RollbackPerformed
from dhash_gha.steps.deploy.plan import BackupChoice, choose_pre_deploy_backup, plan_steps
from dhash_gha.steps.monitor import run_monitor
from dhash_gha.steps.preflight import CHECKS, run_preflight
from dhash_gha.steps.rollback import log_to, rollback


@dataclass
class DeployResult:
    release_id: str
    dry_run: bool
    pre_deploy_backup: str | None = None
    migration_version: str | None = None
    release_backup: str | None = None
    snapshot: bool = True
    plan: list[str] = field(default_factory=list)


def git_commit(ws: Workspace, environ: Mapping[str, str]) -> str | None:
    for variable in ("DHASH_GIT_COMMIT", "GITHUB_SHA"):
        if environ.get(variable):
            return environ[variable]
    pass  # HOISTED

    return read_head(ws.root)


def check_skips(skips: Sequence[str]) -> None:
    pass  # HOISTED

    unknown = [s for s in skips if s not in CHECKS]
    if unknown:
        raise BadInput(
            f"--skip-preflight {unknown[0]!r} is not a preflight check",
            tip=f"checks: {', '.join(CHECKS)}",
        )


def deploy(
    ws: Workspace,
    env: str,
    *,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    dry_run: bool = False,
    no_backup: bool = False,
    no_monitor: bool = False,
    skip_preflight: Sequence[str] = (),
    lock_wait: float = 0.0,
) -> DeployResult:
    pass  # HOISTED
    pass  # HOISTED

    check_skips(skip_preflight)
    pass  # HOISTED

    refuse_if_restore_pending(ws, "deploy")
    config = load_env_config(ws, env)
    if not no_monitor:  # a release that cannot be monitored must not go live unguarded
        pass  # HOISTED
        pass  # HOISTED

        load_gate_specs(load_gates_config(ws, env))
    running = read_release(ws, env)
    tree = tree_digest(ws, release_tops(config))
    commit = git_commit(ws, environ)
    release_id = f"{utc_stamp(clock.now())}-{(commit or tree)[:8]}"
    snapshot = (
        release_snapshot(read_history(ws, env), str(running["release_id"])) if running else None
    )
    if snapshot and not (ws.root / snapshot).is_file():
        reporter.warning(f"the running release's snapshot {snapshot} is gone (pruned?)")
        snapshot = None
    backups = ws.backups(env)
    choice = choose_pre_deploy_backup(
        running,
        tree,
        snapshot,
        no_backup=no_backup,
        latest=relative(ws, backups[0]) if backups else None,
    )
    run = _Deploy(
        ws,
        env,
        config,
        environ,
        clock,
        reporter,
        running,
        commit,
        tree,
        DeployResult(release_id, dry_run, snapshot=not no_backup),
    )
    if dry_run:
        return run.show_plan(
            choice, no_backup=no_backup, no_monitor=no_monitor, skips=skip_preflight
        )
    pass  # HOISTED
    pass  # HOISTED

    with (
        environment_lock(ws, env, "deploy", clock=clock, wait_seconds=lock_wait, reporter=reporter),
        log_to(reporter, ws.log_file("deploy", env, clock.now())),
    ):
        reporter.event("deploy_start", release=release_id, git_commit=commit or "")
        stage = "preflight"
        try:
            run.preflight(skip_preflight)
            stage = "backup"
            run.pre_deploy_backup(choice)
            stage = "build"
            run.build()
        except DhashError as exc:
            run.record_refusal(stage, exc.message)
            raise
        try:
            run.switch()
        except KeyboardInterrupt:
            run.record_interruption()
            raise
    if no_monitor:
        reporter.info("monitoring not started (--no-monitor)", event="monitor_skipped")
    else:
        run.monitor()
    return run.result


@dataclass
class _Deploy:
    """One deploy's inputs, shared by its steps."""

    ws: Workspace
    env: str
    config: Mapping[str, Any]
    environ: Mapping[str, str]
    clock: Clock
    reporter: Reporter
    running: Mapping[str, Any] | None
    commit: str | None
    tree: str
    result: DeployResult

    # --- before the running release is touched ----------------------------------------------
    def preflight(self, skips: Sequence[str]) -> None:
        pass  # HOISTED

        reporter = self.reporter
        with reporter.group(f"preflight: {self.env}"):
            results = run_preflight(
                self.ws, self.env, environ=self.environ, clock=self.clock, reporter=reporter
            )
            for check in results:
                reporter.info(check.line(), event="preflight_check", check=check.name, ok=check.ok)
        for check in results:
            if not check.ok and check.name in skips:
                reporter.warning(
                    f"preflight check '{check.name}' failed and is skipped "
                    f"(--skip-preflight): {check.detail}"
                )
        blocking = [c for c in results if not c.ok and c.name not in skips]
        if blocking:
            first = blocking[0]
            raise CheckFailed(
                f"preflight failed: {', '.join(c.name for c in blocking)} — {first.detail}; "
                "nothing was deployed",
                tip=(first.fix or "fix it") + f" (or, knowingly: --skip-preflight {first.name})",
            )

    def pre_deploy_backup(self, choice: BackupChoice) -> None:
        reporter = self.reporter
        reporter.info(f"pre-deploy backup: {choice.why}", event="pre_deploy_backup")
        if choice.create:
            pass  # HOISTED

            made = create_backup(self.ws, self.env, clock=self.clock, reporter=reporter)
            self.result.pre_deploy_backup = relative(self.ws, made.path)
            reporter.info(
                f"pre-deploy backup: {self.result.pre_deploy_backup}", event="backup_created"
            )
        elif choice.reuse is None:
            reporter.warning("no pre-deploy backup: a failed release cannot be rolled back")
        else:
            pass  # HOISTED

            verify_backup(self.ws.root / choice.reuse)
            reporter.info(f"pre-deploy backup {choice.reuse} verifies")
            self.result.pre_deploy_backup = choice.reuse

    def build(self) -> None:
        pass  # HOISTED
        pass  # HOISTED
        pass  # HOISTED

        mask_configured_secrets(self.config, self.environ, self.reporter)
        values = placeholders(self.ws, self.env, self.config)
        for key in ("install_command", "build_command"):
            argv = self.config["component"].get(key)
            if not argv:
                continue
            label = key.replace("_command", "")
            with self.reporter.group(label):
                run_command(
                    label,
                    expand(argv, values),
                    cwd=component_cwd(self.ws, self.config),
                    environ=self.environ,
                    timeout=command_timeout(self.config),
                    clock=self.clock,
                    reporter=self.reporter,
                )

    def record_refusal(self, stage: str, error: str) -> None:
        """History line for a deploy that stopped before touching the running release."""
        pass  # HOISTED

        append_history(
            self.ws,
            self.env,
            {
                "type": "deploy",
                "at": iso_utc(self.clock.now()),
                "environment": self.env,
                "ok": False,
                "release_id": self.result.release_id,
                "stage": stage,
                "error": error,
                "running_release_untouched": True,
            },
        )

    def record_interruption(self) -> None:
        """History line and the way out for a deploy interrupted after the old component stopped."""
        pass  # HOISTED

        ws, env, result = self.ws, self.env, self.result
        append_history(
            ws,
            env,
            {
                "type": "deploy",
                "at": iso_utc(self.clock.now()),
                "environment": env,
                "ok": False,
                "release_id": result.release_id,
                "stage": "switch",
                "error": "interrupted",
                "pre_deploy_backup": result.pre_deploy_backup,
            },
        )
        self.reporter.error(
            f"deploy of release {result.release_id} to '{env}' interrupted after the running "
            "component was stopped: the release record still names the previous release"
        )
        if self.running is not None and result.pre_deploy_backup:
            way_out = (
                f"roll back: dhash-gha rollback --env {env} --backup {result.pre_deploy_backup} "
                f"--force; or deploy again with --skip-preflight release-health"
            )
        else:
            way_out = f"deploy again: dhash-gha deploy --env {env}"
        self.reporter.tip(f"{way_out} (check first: dhash-gha status --env {env})")

    # --- the switch ------------------------------------------------------------------------
    def switch(self) -> None:
        """Stop the old component, migrate, start the new one and wait for it to be healthy."""
        pass  # HOISTED
        pass  # HOISTED
        pass  # HOISTED

        ws, env, config, clock, reporter = self.ws, self.env, self.config, self.clock, self.reporter
        supervisor.stop(ws, env, config, environ=self.environ, clock=clock, reporter=reporter)
        try:
            migrate(
                ws, env, "forward", clock=clock, reporter=reporter, timeout=command_timeout(config)
            )
            printed_before = supervisor.output_size(ws, env)
            started = supervisor.start(
                ws,
                env,
                config,
                environ=self.environ,
                clock=clock,
                reporter=reporter,
                git_commit=self.commit,
            )

            def alive() -> bool:
                return supervisor.status(ws, env, config, clock=clock).running

            waited = wait_healthy(
                config,
                clock=clock,
                reporter=reporter,
                is_alive=alive if started.pid is not None else None,
            )
            failure = None if waited.ok else f"never became healthy: {waited.detail}"
            if failure and started.pid is not None:
                tail = supervisor.output_tail(ws, env, 5, since=printed_before)
                if tail:
                    failure += " — last output: " + " | ".join(tail)
            failure_tip = None
        except DhashError as exc:
            failure, failure_tip = exc.message, exc.tip
        if failure:
            self.failed_release(failure, tip=failure_tip)
        self.result.migration_version = current_version(ws, env)
        self.record()

    def record(self) -> None:
        """Release record, snapshot, history and the deploy notification."""
        pass  # HOISTED
        pass  # HOISTED

        ws, env, result, reporter = self.ws, self.env, self.result, self.reporter
        record = {
            "release_id": result.release_id,
            "git_commit": self.commit,
            "deployed_at": iso_utc(self.clock.now()),
            "pre_deploy_backup": result.pre_deploy_backup,
            "migration_version": result.migration_version,
            "config_sha256": config_digest(ws, env),
            "tree_sha256": self.tree,
        }
        write_release(ws, env, record)
        if result.snapshot:
            self.snapshot()
        append_history(
            ws,
            env,
            {
                "type": "deploy",
                "at": record["deployed_at"],
                "environment": env,
                "ok": True,
                **record,
                "release_backup": result.release_backup,
            },
        )
        message = f"release {result.release_id} deployed to '{env}' and healthy"
        reporter.info(message, event="deploy_done", release=result.release_id)
        reporter.set_output("release_id", result.release_id)
        page(
            ws,
            env,
            "deploy",
            message,
            environ=self.environ,
            clock=self.clock,
            reporter=reporter,
            details={"release": result.release_id, "backup": result.pre_deploy_backup or ""},
        )

    def snapshot(self) -> None:
        """Back up the tree exactly as it now runs: the next deploy's rollback target."""
        pass  # HOISTED

        try:
            made = create_backup(self.ws, self.env, clock=self.clock, reporter=self.reporter)
        except DhashError as exc:
            self.reporter.warning(
                f"no snapshot of the new release: {exc.message} (the next "
                "deploy will back up the tree as it finds it)"
            )
            return
        self.result.release_backup = relative(self.ws, made.path)
        self.reporter.info(
            f"release snapshot (the next deploy's rollback target): {self.result.release_backup}",
            event="release_snapshot",
        )

    def failed_release(self, failure: str, *, tip: str | None = None) -> NoReturn:
        """Roll back to the pre-deploy backup (or stop, when nothing ran before)."""
        pass  # HOISTED
        pass  # HOISTED
        pass  # HOISTED

        ws, env, result, reporter = self.ws, self.env, self.result, self.reporter
        reporter.error(f"release {result.release_id} {failure}")
        append_history(
            ws,
            env,
            {
                "type": "deploy",
                "at": iso_utc(self.clock.now()),
                "environment": env,
                "ok": False,
                "release_id": result.release_id,
                "error": failure,
                "pre_deploy_backup": result.pre_deploy_backup,
            },
        )
        if self.running is None or result.pre_deploy_backup is None:
            supervisor.stop(
                ws, env, self.config, environ=self.environ, clock=self.clock, reporter=reporter
            )
            what = (
                "no release ran before it"
                if self.running is None
                else "there is no pre-deploy backup"
            )
            raise CheckFailed(
                f"release {result.release_id} {failure}; {what}, so there is nothing to roll "
                "back to: the component is stopped",
                tip=tip or "fix the release and deploy again",
            )
        reporter.info(
            f"rolling back automatically to {result.pre_deploy_backup}", event="automatic_rollback"
        )
        done = rollback(
            ws,
            env,
            backup=result.pre_deploy_backup,
            environ=self.environ,
            clock=self.clock,
            reporter=reporter,
            force=True,
            automatic=True,
            reason=f"release {result.release_id} {failure}",
            release_id=result.release_id,
            lock_held=True,
        )
        raise RollbackPerformed(
            f"release {result.release_id} {failure}; rolled back automatically to "
            f"{result.pre_deploy_backup}: release {done.to_release} is healthy again",
            tip=f"fix the release (see logs/deploy_{env}_*.log and the component's output in "
            f"{relative(ws, ws.component_output(env))}), then deploy again",
        )

    # --- after ------------------------------------------------------------------------------
    def monitor(self) -> None:
        run_monitor(
            self.ws,
            self.env,
            environ=self.environ,
            clock=self.clock,
            reporter=self.reporter,
            fresh=True,
        )

    def show_plan(
        self, choice: BackupChoice, *, no_backup: bool, no_monitor: bool, skips: Sequence[str]
    ) -> DeployResult:
        pass  # HOISTED

        steps, checks = plan_steps(
            self.ws,
            self.env,
            self.config,
            release_id=self.result.release_id,
            choice=choice,
            running=self.running,
            environ=self.environ,
            clock=self.clock,
            reporter=self.reporter,
            no_backup=no_backup,
            no_monitor=no_monitor,
            skips=skips,
        )
        self.result.plan = steps
        self.reporter.info(f"deploy plan for '{self.env}' (dry run: nothing is changed):")
        for number, step in enumerate(steps, 1):
            self.reporter.info(f"  {number}. {step}")
        for check in checks:
            if not check.ok:
                self.reporter.info(f"     {check.line()}")
        return self.result
