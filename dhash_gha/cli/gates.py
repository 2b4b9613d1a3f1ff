"""``dhash-gha gates``: validate, show and replay quality gates."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dhash_gha.cli._base import add_command, add_env
from dhash_gha.cli._index import summary

if TYPE_CHECKING:
    from pathlib import Path

    from dhash_gha.adapters.workspace import Workspace
    from dhash_gha.context import Context


def register(subparsers: Any) -> None:
    gates = add_command(subparsers, "gates", summary("gates"), _validate)
    actions = gates.add_subparsers(dest="gates_action", metavar="ACTION", required=True)
    validate = add_command(
        actions,
        "validate",
        "validate quality-gates-config.json (schema and meaning)",
        _validate,
    )
    add_env(validate, required=False)
    validate.add_argument(
        "--config", metavar="FILE", help="validate this gates file instead of the workspace's"
    )
    show = add_command(actions, "show", "show an environment's gates and schedule", _show)
    add_env(show)
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    replay = add_command(
        actions,
        "replay",
        "re-evaluate past monitor logs under the current and a candidate gate config",
        _replay,
    )
    add_env(replay)
    replay.add_argument("--config", metavar="CANDIDATE", help="candidate gates config file")
    replay.add_argument(
        "--logs", metavar="GLOB", help="monitor logs (default: logs/monitor_{env}_*.log)"
    )
    replay.add_argument("--json", action="store_true", help="print the report as JSON")


def _relative(ws: Workspace, path: Path) -> str:
    try:
        return path.resolve().relative_to(ws.root).as_posix()
    except ValueError:
        return str(path)


def _known_env(ws: Workspace, env: str) -> str:
    """``env`` when the workspace has it; otherwise a ConfigError with a "did you mean"."""
    import difflib

    from dhash_gha.adapters.workspace import check_env_name
    from dhash_gha.errors import ConfigError

    check_env_name(env)
    known = ws.environments()
    if env in known:
        return env
    close = difflib.get_close_matches(env, known, n=1, cutoff=0.5)
    raise ConfigError(
        f"unknown environment '{env}': known environments are {', '.join(known) or 'none'}",
        tip=f"did you mean '{close[0]}'?" if close else f"create config/{env}/dhash.json to add it",
    )


def _candidate_path(ws: Workspace, given: str) -> Path:
    from pathlib import Path

    from dhash_gha.errors import BadInput

    path = Path(given)
    if not path.is_absolute() and not path.exists() and (ws.root / path).exists():
        path = ws.root / path
    if path.is_dir():
        raise BadInput(
            f"gates config {given} is a directory, not a file",
            tip="pass --config with the path of a quality-gates-config.json",
        )
    if not path.is_file():
        raise BadInput(
            f"gates config file not found: {given}",
            tip="pass --config with the path of a quality-gates-config.json",
        )
    return path


def _validate(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.gates_config import gates_file_issues
    from dhash_gha.adapters.workspace import check_env_name
    from dhash_gha.errors import ConfigError

    ws = ctx.workspace()
    env = getattr(args, "env", None)
    if env is not None:
        check_env_name(env)
    given = getattr(args, "config", None)
    path = _candidate_path(ws, given) if given else None
    issues = gates_file_issues(ws, env, path)
    for issue in issues:
        ctx.reporter.error(str(issue), title="gates validate")
    label = _relative(ws, path) if path else _relative(ws, ws.gates_config)
    if issues:
        raise ConfigError(
            f"{len(issues)} problem(s) in {label}",
            tip="fix each one above; editors validate while typing through the file's $schema",
        )
    scope = f"environment '{env}'" if env else "every environment"
    ctx.reporter.info(f"✅ {label} is valid ({scope})")
    return 0


def _show(args: argparse.Namespace, ctx: Context) -> int:
    import json

    from dhash_gha.adapters.config import load_gates_config
    from dhash_gha.core.gates.schedule import Schedule
    from dhash_gha.core.gates.show import gates_json, gates_table
    from dhash_gha.core.gates.spec import load_gate_specs

    ws = ctx.workspace()
    env = _known_env(ws, args.env)
    section = load_gates_config(ws, env)
    specs = load_gate_specs(section)
    schedule = Schedule.from_config(section["schedule"])
    if args.json:
        print(json.dumps(gates_json(env, specs, schedule), indent=2))
        return 0
    for line in gates_table(env, specs, schedule, _relative(ws, ws.gates_config)):
        ctx.reporter.info(line)
    return 0


def _replay(args: argparse.Namespace, ctx: Context) -> int:
    import json

    from dhash_gha.adapters.config import load_gates_config
    from dhash_gha.adapters.monitoring.past_logs import (
        default_pattern,
        find_monitor_logs,
        read_monitor_logs,
    )
    from dhash_gha.core.gates.replay import replay
    from dhash_gha.core.gates.replay_render import render_markdown, render_text, report_json
    from dhash_gha.core.gates.spec import load_gate_specs
    from dhash_gha.errors import BadInput

    ws = ctx.workspace()
    env = _known_env(ws, args.env)
    current = load_gate_specs(load_gates_config(ws, env))
    candidate = None
    candidate_label = None
    if args.config:
        candidate_path = _candidate_path(ws, args.config)
        candidate = load_gate_specs(load_gates_config(ws, env, candidate_path))
        candidate_label = _relative(ws, candidate_path)
    pattern = args.logs or default_pattern(env)
    paths = find_monitor_logs(ws, env, pattern)
    if not paths:
        raise BadInput(
            f"no monitor logs match {pattern!r} under {ws.root}",
            tip="run 'dhash-gha monitor --env ENV' first, or pass --logs GLOB "
            "(relative to the workspace root, or absolute)",
        )
    labels = [_relative(ws, p) for p in paths]
    parsed = read_monitor_logs(paths, lambda p: _relative(ws, p), ctx.reporter.warning)
    report = replay(parsed, env, current, candidate, files=labels, candidate_label=candidate_label)
    if parsed.skipped:
        ctx.reporter.warning(
            f"skipped {parsed.skipped} unreadable line(s) of {parsed.lines}; first: "
            + "; ".join(parsed.examples[:3])
        )
    if not report.runs:
        ctx.reporter.warning(
            f"no monitoring run of '{env}' with polls found in {len(paths)} file(s)"
        )
    ctx.reporter.summary(render_markdown(report))
    if args.json:
        print(json.dumps(report_json(report), indent=2))
        return 0
    for line in render_text(report):
        ctx.reporter.info(line)
    return 0
