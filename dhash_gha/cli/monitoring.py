"""Monitoring and the guarded rollout: monitor, rollout, rehearse."""

from __future__ import annotations

from typing import Any

from dhash_gha.cli._base import add_command, add_env, not_built


def register(subparsers: Any) -> None:
    monitor = add_command(
        subparsers,
        "monitor",
        "watch an environment against its quality gates; roll back when one fails",
        not_built("monitor"),
    )
    add_env(monitor)
    monitor.add_argument("--duration", type=float, metavar="MIN", help="minutes (default: config)")
    monitor.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="run the schedule X times faster (rehearsals and tests)",
    )
    monitor.add_argument(
        "--no-rollback", action="store_true", help="evaluate and notify, never roll back"
    )

    rollout = add_command(
        subparsers,
        "rollout",
        "the guarded rollout: backup → deploy → migrate → smoke → monitor",
        not_built("rollout"),
    )
    add_env(rollout)
    rollout.add_argument("--time-scale", type=float, default=1.0, metavar="X")
    rollout.add_argument("--duration", type=float, metavar="MIN")

    rehearse = add_command(
        subparsers,
        "rehearse",
        "rehearse a bad release on a temporary copy of the example workspace: deploy, detect, "
        "roll back, and print the timeline",
        not_built("rehearse"),
    )
    rehearse.add_argument("--keep", action="store_true", help="leave the workspace for inspection")
    rehearse.add_argument("--time-scale", type=float, default=60.0, metavar="X")
