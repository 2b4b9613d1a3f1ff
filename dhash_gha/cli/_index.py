"""Which module owns each top-level command, and its one-line summary.

Kept apart from the command modules so that ``dhash-gha --help`` lists every command
while importing only the module of the command being run.
"""

from __future__ import annotations

# name: (module under dhash_gha.cli, summary). Order here is the order in --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "backup": (
        "backup",
        "back up src/, config/, deployments/ to backups/dhash_{env}_{ts}.zip (+ .sha256); 'backup --env ENV' is 'backup create --env ENV'",
    ),
    "preflight": (
        "operations",
        "check an environment is ready for a deploy (✅/❌ with the fix)",
    ),
    "deploy": (
        "operations",
        "deploy the workspace's release: lock, backup, build, restart, health, record, monitor",
    ),
    "migrate": (
        "operations",
        "run data migrations forward or backward",
    ),
    "smoke": (
        "operations",
        "smoke-test the running component",
    ),
    "rollback": (
        "operations",
        "restore an environment from a backup",
    ),
    "service": (
        "operations",
        "start, stop or show the component process",
    ),
    "monitor": (
        "monitoring",
        "watch an environment against its quality gates; roll back when one fails",
    ),
    "rollout": (
        "monitoring",
        "the guarded rollout: backup → deploy → migrate → smoke → monitor",
    ),
    "rehearse": (
        "monitoring",
        "rehearse a bad release on a temporary copy of the example workspace: deploy, detect, roll back, and print the timeline",
    ),
    "gates": (
        "gates",
        "validate, show or replay quality gates",
    ),
    "notify": (
        "notify",
        "send a notification to every channel of an environment",
    ),
    "incident": (
        "notify",
        "open an incident archive or regenerate its report",
    ),
    "config": (
        "config_cmd",
        "workspace configuration",
    ),
    "protection": (
        "github",
        "branch protection",
    ),
    "environment": (
        "github",
        "GitHub deployment environments",
    ),
    "deployment": (
        "github",
        "GitHub deployments and their statuses",
    ),
    "status": (
        "status",
        "show an environment's release, health, backups and monitor; 'status set' posts a commit status",
    ),
    "premerge": (
        "premerge",
        "run the pre-merge checks and write the premerge_artifacts/ bundle",
    ),
    "provenance": (
        "premerge",
        "write an in-toto / SLSA v1 provenance statement for backups and artifacts",
    ),
    "init": (
        "premerge",
        "adopt dhash-gha in a repository: configs, scripts and workflows",
    ),
    "gha": (
        "premerge",
        "steps of the composite actions: run a command and publish its outputs, check a backup name, plan fleet waves",
    ),
}


def summary(name: str) -> str:
    return COMMANDS[name][1]
