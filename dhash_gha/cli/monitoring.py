"""Monitoring and the guarded rollout: monitor, gates, rollout, rehearse."""

from __future__ import annotations

from typing import Any

from dhash_gha.cli._base import add_command, add_env, not_built


def register(subparsers: Any) -> None:
    monitor = add_command(
        subparsers, "monitor",
        "watch an environment against its quality gates; roll back when one fails",
        not_built("monitor"),
    )
    add_env(monitor)
    monitor.add_argument("--duration", type=float, metavar="MIN", help="minutes (default: config)")
    monitor.add_argument(
        "--time-scale", type=float, default=1.0, metavar="X",
        help="run the schedule X times faster (rehearsals and tests)",
    )
    monitor.add_argument(
        "--no-rollback", action="store_true", help="evaluate and notify, never roll back"
    )

    gates = add_command(
        subparsers, "gates", "validate, show or replay quality gates", not_built("gates")
    )
    actions = gates.add_subparsers(dest="gates_action", metavar="ACTION", required=True)
    validate = add_command(
        actions, "validate", "validate quality-gates-config.json", not_built("gates validate")
    )
    add_env(validate, required=False)
    show = add_command(actions, "show", "show an environment's gates and schedule",
                       not_built("gates show"))
    add_env(show)
    replay = add_command(
        actions, "replay",
        "re-evaluate past monitor logs under the current and a candidate gate config",
        not_built("gates replay"),
    )
    add_env(replay)
    replay.add_argument("--config", metavar="CANDIDATE", help="candidate gates config file")
    replay.add_argument("--logs", metavar="GLOB", help="monitor logs (default: logs/monitor_{env}_*.log)")

    rollout = add_command(
        subparsers, "rollout", "the guarded rollout: backup → deploy → migrate → smoke → monitor",
        not_built("rollout"),
    )
    add_env(rollout)
    rollout.add_argument("--time-scale", type=float, default=1.0, metavar="X")
    rollout.add_argument("--duration", type=float, metavar="MIN")

    rehearse = add_command(
        subparsers, "rehearse",
        "rehearse a bad release on a temporary copy of the example workspace: deploy, detect, "
        "roll back, and print the timeline",
        not_built("rehearse"),
    )
    rehearse.add_argument("--keep", action="store_true", help="leave the workspace for inspection")
    rehearse.add_argument("--time-scale", type=float, default=60.0, metavar="X")
