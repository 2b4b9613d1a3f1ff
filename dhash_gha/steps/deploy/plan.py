"""What a deploy will do, decided and described without changing anything.

``choose_pre_deploy_backup`` is pure; ``plan_steps`` reads the workspace (preflight, pending
migrations, process state) for ``deploy --dry-run``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dhash_gha.adapters import supervisor
from dhash_gha.adapters.migrations import discover, read_state
from dhash_gha.adapters.migrations import plan as migration_plan
from dhash_gha.adapters.procs import expand
from dhash_gha.adapters.releases import relative
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.supervisor import placeholders
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.checklist import CheckResult
from dhash_gha.core.clock import Clock
from dhash_gha.steps.preflight import run_preflight


@dataclass(frozen=True)
class BackupChoice:
    """``reuse`` names an existing backup; ``create`` says a fresh one must be made."""

    reuse: str | None
    create: bool
    why: str


def choose_pre_deploy_backup(
    running: Mapping[str, Any] | None,
    tree_sha256: str,
    snapshot: str | None,
    *,
    no_backup: bool,
    latest: str | None,
) -> BackupChoice:
    """Pure: which backup brings back what runs now (see the module docstring)."""
    if running is not None and running.get("tree_sha256") != tree_sha256:
        if snapshot:
            return BackupChoice(
                snapshot,
                False,
                f"the tree already holds the new release: the snapshot of running release "
                f"{running.get('release_id')} is the pre-deploy backup",
            )
        if no_backup:
            return BackupChoice(
                latest,
                False,
                "--no-backup: using the latest backup "
                "(no snapshot of the running release is known)",
            )
        return BackupChoice(
            None,
            True,
            "no snapshot of the running release is known: backing up the tree as it is "
            "(it already holds the new files, so a rollback restores them)",
        )
    if no_backup:
        return BackupChoice(latest, False, "--no-backup: using the latest existing backup")
    if running is None:
        return BackupChoice(None, True, "nothing deployed yet: backing up the tree as it is")
    return BackupChoice(None, True, "the tree is the running release's: backing it up")


def plan_steps(
    ws: Workspace,
    env: str,
    config: Mapping[str, Any],
    *,
    release_id: str,
    choice: BackupChoice,
    running: Mapping[str, Any] | None,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    no_backup: bool,
    no_monitor: bool,
    skips: Sequence[str],
) -> tuple[list[str], list[CheckResult]]:
    """Every step a deploy would take, as text, and the preflight results (reads only)."""

    values = placeholders(ws, env, config)
    checks = run_preflight(ws, env, environ=environ, clock=clock, reporter=reporter)
    pending = migration_plan(discover(ws), read_state(ws, env), "forward", None)
    process = supervisor.status(ws, env, config, clock=clock)
    health = config["health"]
    steps = [
        f"take the lock of '{env}'",
        "preflight: "
        + ", ".join(f"{c.mark} {c.name}" for c in checks)
        + (f" (skipping: {', '.join(skips)})" if skips else ""),
    ]
    steps.append(
        "pre-deploy backup: " + choice.why + (f" ({choice.reuse})" if choice.reuse else "")
    )
    for label in ("install_command", "build_command"):
        argv = config["component"].get(label)
        if argv:
            steps.append(f"{label.replace('_command', '')}: {' '.join(expand(argv, values))}")
    steps.append(
        f"stop the running component ({process.detail})"
        + (f", release {running.get('release_id')}" if running else "")
    )
    steps.append(
        "migrate forward: "
        + (
            ", ".join(s.migration.label for s in pending.steps)
            or f"nothing pending (at {pending.from_version})"
        )
    )
    if supervisor.is_commands(config):
        steps.append("start: " + " ".join(expand(config["component"]["process"]["start"], values)))
    else:
        steps.append(
            "start: " + " ".join(expand(config["component"]["process"]["command"], values))
        )
    steps.append(
        f"wait for {health['url']} to answer 200 (deadline "
        f"{float(health.get('deadline_seconds', 60)):g}s); otherwise roll back"
    )
    steps.append(
        f"record release {release_id} in {relative(ws, ws.release_record(env))} "
        f"and {relative(ws, ws.deploy_history(env))}; snapshot backup"
        + (" skipped (--no-backup)" if no_backup else "")
    )
    steps.append("monitor: skipped (--no-monitor)" if no_monitor else "monitor the release")
    return steps, checks
