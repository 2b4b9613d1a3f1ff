"""``dhash-gha config validate``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dhash_gha.cli._base import add_command, add_env
from dhash_gha.cli._index import summary

if TYPE_CHECKING:
    from dhash_gha.context import Context


def register(subparsers: Any) -> None:
    config = add_command(subparsers, "config", summary("config"), _validate)
    actions = config.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    validate = add_command(
        actions,
        "validate",
        "validate config/{env}/dhash.json and quality-gates-config.json against their schemas",
        _validate,
    )
    add_env(validate, required=False)


def _validate(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.config import validate_workspace
    from dhash_gha.errors import ConfigError

    ws = ctx.workspace()
    issues = validate_workspace(ws, args.env)
    for issue in issues:
        ctx.reporter.error(str(issue), title="config validate")
    if issues:
        raise ConfigError(
            f"{len(issues)} configuration problem(s) found",
            tip="fix each one above; editors validate while typing through the files' $schema",
        )
    scope = f"environment '{args.env}'" if args.env else ", ".join(ws.environments())
    ctx.reporter.info(f"✅ configuration valid ({scope})")
    return 0
