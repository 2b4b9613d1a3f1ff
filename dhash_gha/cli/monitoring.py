"""Monitoring and the guarded rollout: monitor, rollout, rehearse."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from dhash_gha.cli._base import add_command, add_env
from dhash_gha.cli._index import summary
from dhash_gha.errors import BadInput

if TYPE_CHECKING:
    from dhash_gha.context import Context
    from dhash_gha.core.clock import Clock


def register(subparsers: Any) -> None:
    monitor = add_command(
        subparsers,
        "monitor",
        summary("monitor"),
        _monitor,
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
        summary("rollout"),
        _rollout,
    )
    add_env(rollout)
    rollout.add_argument("--time-scale", type=float, default=1.0, metavar="X")
    rollout.add_argument("--duration", type=float, metavar="MIN")

    rehearse = add_command(
        subparsers,
        "rehearse",
        summary("rehearse"),
        _rehearse,
    )
    rehearse.add_argument("--keep", action="store_true", help="leave the workspace for inspection")
    rehearse.add_argument("--time-scale", type=float, default=60.0, metavar="X")


def check_time_scale(scale: float) -> float:
    if not math.isfinite(scale) or scale <= 0:
        raise BadInput(
            f"--time-scale {scale:g} is not a positive number",
            tip="give a factor > 0, e.g. --time-scale 60 runs an hour in a minute",
        )
    return scale


def check_duration(minutes: float | None) -> float | None:
    if minutes is not None and (not math.isfinite(minutes) or minutes <= 0):
        raise BadInput(
            f"--duration {minutes:g} is not a positive number of minutes",
            tip="give the monitoring time in minutes, e.g. --duration 30",
        )
    return minutes


def monitor_clock(ctx: Context, scale: float) -> Clock:
    """The command's clock, or a scaled one for ``--time-scale`` other than 1."""
    from dhash_gha.adapters.clock import ScaledClock

    return ctx.clock if check_time_scale(scale) == 1.0 else ScaledClock(scale)


def _monitor(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.steps.monitor import run_monitor

    ws = ctx.workspace()
    clock = monitor_clock(ctx, args.time_scale)
    result = run_monitor(
        ws,
        args.env,
        environ=ctx.environ,
        clock=clock,
        reporter=ctx.reporter,
        duration_minutes=check_duration(args.duration),
        no_rollback=args.no_rollback,
        action_clock=ctx.clock,
    )
    ctx.reporter.set_output("monitor_status", result.status)
    ctx.reporter.set_output("monitor_log", result.log_path.relative_to(ws.root).as_posix())
    return 0 if result.status == "passed" else 1


def _rollout(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.compose.rollout import rollout

    ws = ctx.workspace()
    result = rollout(
        ws,
        args.env,
        environ=ctx.environ,
        clock=ctx.clock,
        monitor_clock=monitor_clock(ctx, args.time_scale),
        reporter=ctx.reporter,
        duration_minutes=check_duration(args.duration),
    )
    return 0 if result.monitor.status == "passed" else 1


def _rehearse(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.compose.rehearse import rehearse

    summary = rehearse(
        environ=ctx.environ,
        reporter=ctx.reporter,
        time_scale=check_time_scale(args.time_scale),
        keep=args.keep,
    )
    return 0 if summary.ok else 1
