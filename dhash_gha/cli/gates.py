"""``dhash-gha gates``: validate, show and replay quality gates."""

from __future__ import annotations

from typing import Any

from dhash_gha.cli._base import add_command, add_env, not_built


def register(subparsers: Any) -> None:
    gates = add_command(
        subparsers, "gates", "validate, show or replay quality gates", not_built("gates")
    )
    actions = gates.add_subparsers(dest="gates_action", metavar="ACTION", required=True)
    validate = add_command(
        actions, "validate", "validate quality-gates-config.json", not_built("gates validate")
    )
    add_env(validate, required=False)
    show = add_command(
        actions, "show", "show an environment's gates and schedule", not_built("gates show")
    )
    add_env(show)
    replay = add_command(
        actions,
        "replay",
        "re-evaluate past monitor logs under the current and a candidate gate config",
        not_built("gates replay"),
    )
    add_env(replay)
    replay.add_argument("--config", metavar="CANDIDATE", help="candidate gates config file")
    replay.add_argument(
        "--logs", metavar="GLOB", help="monitor logs (default: logs/monitor_{env}_*.log)"
    )
