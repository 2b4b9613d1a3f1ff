"""The guarded rollout: backup → deploy → migrate → smoke → monitor, rolling back on failure.

Everything that can be checked before touching the environment is checked
first (configs, gates, the metric sources' settings). Then:

1. **backup + deploy** — ``dhash_gha.steps.deploy.deploy`` takes the pre-deploy
   backup, builds, stops the old release, runs pending forward migrations,
   starts the new one and waits for it to be healthy (a release that never
   becomes healthy is rolled back there, exit 3).
2. **migrate** — confirms no forward migration is left pending.
3. **smoke** — post-deploy smoke tests; a failure rolls back to the pre-deploy
   backup at once (exit 3).
4. **monitor** — the quality gates for the configured duration; a failed
   rollback gate rolls back (exit 3). After any rollback the post-rollback
   smoke tests run; if they fail, the operator must act (exit 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dhash_gha.adapters.config import load_env_config, load_gates_config
from dhash_gha.adapters.lock import environment_lock
from dhash_gha.adapters.migrations import migrate
from dhash_gha.adapters.monitoring.poll_log import MonitorLog
from dhash_gha.adapters.releases import read_release
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.sources.factory import build_sources
from dhash_gha.adapters.sources.interface import collect_sample
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.core.gates.sample import HEALTH_OK, Sample
from dhash_gha.core.gates.spec import load_gate_specs
from dhash_gha.errors import RollbackFailed, RollbackPerformed
from dhash_gha.steps.deploy import deploy
from dhash_gha.steps.monitor import MonitorRolledBack, run_monitor
from dhash_gha.steps.monitor.responses import MonitorActions, Responder
from dhash_gha.steps.smoke import run_smoke


@dataclass
class RolloutResult:
    env: str
    release_id: str = ""
    pre_deploy_backup: str | None = None
    smoke: list[Any] = field(default_factory=list)
    monitor: Any = None  # MonitorResult
    steps: list[tuple[str, str, str]] = field(default_factory=list)  # (time, step, outcome)


def take_baseline(sources: Any, reporter: Reporter) -> Sample | None:
    """One sample of the running release before the deploy, for ``baseline: relative`` gates."""

    sample = collect_sample(sources, at=0.0)
    if sample.get(HEALTH_OK) != 1.0:
        reporter.info("no pre-deploy baseline: no healthy release is running")
        return None
    return sample


def smoke_failures(results: list[Any]) -> list[Any]:
    return [result for result in results if not result.ok]


def rollout(
    ws: Workspace,
    env: str,
    *,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    monitor_clock: Clock | None = None,
    duration_minutes: float | None = None,
    actions: Any = None,
) -> RolloutResult:
    """Run the guarded rollout of ``env``; see the module docstring for the steps and exits.

    ``monitor_clock`` compresses only the monitoring schedule (``--time-scale``);
    deploy, smoke tests and rollbacks keep ``clock``.
    """

    env_config = load_env_config(ws, env)
    section = load_gates_config(ws, env)
    load_gate_specs(section)
    sources = build_sources(ws, env, env_config, section["gates"], environ)
    if reporter.log_path is None:
        reporter.attach_log(ws.log_file("rollout", env, clock.now()))
    result = RolloutResult(env)

    def step(name: str, outcome: str) -> None:
        result.steps.append((iso_utc(clock.now()), name, outcome))
        reporter.event("rollout_step", step=name, outcome=outcome)

    baseline = take_baseline(sources, reporter)
    try:
        _deploy(ws, env, environ, clock, reporter, result, step)
        _migrate(ws, env, clock, reporter, step)
        _smoke_or_roll_back(ws, env, environ, clock, reporter, result, step, actions)
        _monitor(
            ws,
            env,
            environ,
            clock,
            monitor_clock,
            reporter,
            result,
            step,
            actions,
            duration_minutes,
            baseline,
        )
    finally:
        reporter.summary(summary_markdown(result))
    return result


def _deploy(
    ws: Workspace,
    env: str,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    result: RolloutResult,
    step: Any,
) -> None:

    with reporter.group(f"rollout {env}: backup and deploy"):
        try:
            deployed = deploy(
                ws, env, environ=environ, clock=clock, reporter=reporter, no_monitor=True
            )
        except RollbackPerformed:
            step("deploy", "failed; rolled back")
            raise
    result.release_id = deployed.release_id
    result.pre_deploy_backup = deployed.pre_deploy_backup
    step("backup", deployed.pre_deploy_backup or "none")
    step("deploy", f"release {deployed.release_id} healthy")


def _migrate(ws: Workspace, env: str, clock: Clock, reporter: Reporter, step: Any) -> None:

    with (
        reporter.group(f"rollout {env}: migrations"),
        environment_lock(ws, env, "migrate", clock=clock),
    ):
        run = migrate(ws, env, "forward", clock=clock, reporter=reporter)
    step("migrate", f"at {run.to_version}")


def _smoke_or_roll_back(
    ws: Workspace,
    env: str,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    result: RolloutResult,
    step: Any,
    actions: Any,
) -> None:

    with reporter.group(f"rollout {env}: post-deploy smoke tests"):
        result.smoke = run_smoke(ws, env, post_rollback=False, clock=clock, reporter=reporter)
        for check in result.smoke:
            reporter.info(check.line(), event="smoke_check", check=check.name, ok=check.ok)
    failed = smoke_failures(result.smoke)
    if not failed:
        step("smoke", f"{len(result.smoke)} checks passed")
        return
    step("smoke", f"failed: {', '.join(c.name for c in failed)}")
    responder = _responder(ws, env, environ, clock, reporter, result, actions)
    reason = f"post-deploy smoke tests failed ({failed[0].name}: {failed[0].detail})"
    outcome = responder.roll_back_because(
        reason,
        {"release": result.release_id, "reason": reason},
        title="smoke tests failed",
        checks=",".join(c.name for c in failed),
    )
    step("rollback", f"to {outcome.backup}")
    _post_rollback_smoke(ws, env, clock, reporter, step)
    raise RollbackPerformed(
        f"release {result.release_id}: {reason}; rolled back to {outcome.backup}",
        tip="fix the release (see the smoke test output above), then roll out again",
    )


def _responder(
    ws: Workspace,
    env: str,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    result: RolloutResult,
    actions: Any,
) -> Any:

    log_path = reporter.log_path or ws.log_file("rollout", env, clock.now())
    return Responder(
        ws=ws,
        env=env,
        environ=environ,
        clock=clock,
        reporter=reporter,
        log=MonitorLog(log_path, reporter, clock),
        run_id=result.release_id,
        release=read_release(ws, env),
        actions=actions or MonitorActions(),
    )


def _post_rollback_smoke(
    ws: Workspace, env: str, clock: Clock, reporter: Reporter, step: Any
) -> None:

    with reporter.group(f"rollout {env}: post-rollback smoke tests"):
        checks = run_smoke(ws, env, post_rollback=True, clock=clock, reporter=reporter)
        for check in checks:
            reporter.info(check.line(), event="smoke_check", check=check.name, ok=check.ok)
    failed = smoke_failures(checks)
    if failed:
        step("post-rollback smoke", f"failed: {', '.join(c.name for c in failed)}")
        raise RollbackFailed(
            f"'{env}' was rolled back but the post-rollback smoke tests fail: "
            f"{failed[0].name}: {failed[0].detail}",
            tip=failed[0].fix or "an operator must look at this environment now",
        )
    step("post-rollback smoke", f"{len(checks)} checks passed")


def _monitor(
    ws: Workspace,
    env: str,
    environ: Mapping[str, str],
    clock: Clock,
    monitor_clock: Clock | None,
    reporter: Reporter,
    result: RolloutResult,
    step: Any,
    actions: Any,
    duration_minutes: float | None,
    baseline: Sample | None,
) -> None:

    with reporter.group(f"rollout {env}: monitoring"):
        try:
            result.monitor = run_monitor(
                ws,
                env,
                environ=environ,
                clock=monitor_clock or clock,
                reporter=reporter,
                duration_minutes=duration_minutes,
                fresh=True,
                baseline=baseline,
                actions=actions,
                action_clock=clock,
            )
        except MonitorRolledBack as exc:
            result.monitor = exc.result
            trip = exc.result.trips[0] if exc.result.trips else None
            step("monitor", f"gate {trip.gate} failed: {trip.reason}" if trip else "failed")
            step("rollback", f"to {exc.result.rollback.backup}" if exc.result.rollback else "done")
            _post_rollback_smoke(ws, env, clock, reporter, step)
            raise
    step("monitor", f"{result.monitor.status} after {result.monitor.polls} polls")


def summary_markdown(result: RolloutResult) -> str:
    lines = [
        f"### Guarded rollout of `{result.env}`",
        "",
        "| time | step | outcome |",
        "|---|---|---|",
    ]
    for at, name, outcome in result.steps:
        lines.append(f"| {at} | {name} | {outcome.replace('|', '/')} |")
    return "\n".join(lines)
