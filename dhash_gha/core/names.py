"""Names the tool gives files and environments, defined once (pure).

Every pattern a backup, a pre-rollback archive, a log or an environment name must
match lives here; the workspace builds paths with these rules and every command
that accepts a name (rollback, the actions' backup input) checks it with them.
"""

from __future__ import annotations

import re

from dhash_gha.errors import BadInput

ENV_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
GATES_CONFIG = "quality-gates-config.json"
ENV_CONFIG = "dhash.json"
STAMP = r"\d{8}_\d{6}"  # utc_stamp(): YYYYmmdd_HHMMSS

# Kinds of log file the tool writes; logs/{kind}_{env}_{ts}.log
LOG_KINDS = frozenset(
    {
        "deploy",
        "monitor",
        "rollback",
        "smoke_test",
        "backup",
        "migrate",
        "preflight",
        "notify",
        "incident",
        "premerge",
        "rollout",
        "service",
        "gates",
        "config",
        "status",
        "rehearse",
        "provenance",
        "deployment",
        "protection",
        "environment",
        "init",
    }
)


def check_env_name(env: str) -> str:
    """An environment name is a path component: refuse anything that could escape."""
    if not ENV_NAME.match(env):
        raise BadInput(
            f"invalid environment name {env!r}",
            tip="use lower-case letters, digits, '-' or '_' (for example: production, staging)",
        )
    return env


def backup_name(env: str, stamp: str, suffix: str = "") -> str:
    """``dhash_{env}_{YYYYmmdd_HHMMSS}{suffix}.zip``."""
    return f"dhash_{check_env_name(env)}_{stamp}{suffix}.zip"


def backup_name_pattern(env: str) -> re.Pattern[str]:
    """A backup of ``env`` by name: the tool's zip, or the runbook's manual tar.gz.

    A timestamp follows the environment, so ``dhash_prod_eu_….zip`` is never a backup
    of ``prod``.
    """
    return re.compile(
        rf"^dhash_{re.escape(env)}_(?:manual_)?{STAMP}(?:_[0-9A-Za-z]{{1,16}})?\.(zip|tar\.gz)$"
    )


def is_zip_backup(name: str, env: str) -> bool:
    """A zip backup of ``env`` (what `backup list` and ``latest`` choose among)."""
    found = backup_name_pattern(env).match(name)
    return found is not None and found.group(1) == "zip"


def pre_rollback_name(env: str, stamp: str) -> str:
    return f"pre_rollback_{check_env_name(env)}_{stamp}.tar.gz"


def pre_rollback_pattern(env: str) -> re.Pattern[str]:
    """The state a rollback archived first: restoring it undoes that rollback."""
    return re.compile(rf"^pre_rollback_{re.escape(env)}_{STAMP}\.tar\.gz$")
