"""Notifications and incidents."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dhash_gha.cli._base import add_command, add_env
from dhash_gha.cli._index import summary
from dhash_gha.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, BadInput

if TYPE_CHECKING:
    from pathlib import Path

    from dhash_gha.adapters.workspace import Workspace
    from dhash_gha.context import Context

NOTIFICATION_TYPES = ("test", "deploy", "rollback", "gate", "critical", "golden")


def _details(text: str | None) -> dict[str, Any]:
    import json

    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"--details-json is not valid JSON: {exc.msg} at column {exc.colno}",
            tip='pass an object, e.g. --details-json \'{"gate": "p95_hash_time", "value": 2450}\'',
        ) from None
    if not isinstance(value, dict):
        raise BadInput(
            "--details-json must be a JSON object",
            tip='pass an object, e.g. --details-json \'{"release": "r42"}\'',
        )
    return value


def _require_known_env(ws: Workspace, env: str) -> None:
    """Refuse an unknown environment before any file is written for it."""
    from dhash_gha.adapters.config import load_env_config
    from dhash_gha.adapters.workspace import check_env_name

    check_env_name(env)
    if env not in ws.environments():
        load_env_config(ws, env)  # raises: unknown environment, lists the known ones


def _show_rendered(ctx: Context, record_path: Path) -> None:
    """--dry-run: print what each channel would have received (no secret is in a payload)."""
    import json

    rendered = json.loads(record_path.read_text(encoding="utf-8")).get("rendered") or {}
    for name, payload in rendered.items():
        with ctx.reporter.group(f"{name}: rendered payload"):
            ctx.reporter.info(json.dumps(payload, indent=2, ensure_ascii=False))


def notify_handler(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.adapters.channels import notify

    details = _details(args.details_json)
    ws = ctx.workspace()
    _require_known_env(ws, args.env)
    ctx.reporter.attach_log(ws.log_file("notify", args.env, ctx.clock.now()))
    record = notify(
        ws,
        args.env,
        args.type,
        args.message,
        environ=ctx.environ,
        clock=ctx.clock,
        reporter=ctx.reporter,
        details=details,
        dry_run=args.dry_run,
    )
    if record.path is not None:
        ctx.reporter.info(f"audit record: {record.path.relative_to(ws.root).as_posix()}")
        if args.dry_run:
            _show_rendered(ctx, record.path)
    if record.error:
        return EXIT_BAD_INPUT
    return EXIT_OK if record.delivered else EXIT_CHECK_FAILED


def incident_open_handler(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.steps.incident import open_incident

    ws = ctx.workspace()
    _require_known_env(ws, args.env)
    ctx.reporter.attach_log(ws.log_file("incident", args.env, ctx.clock.now()))
    incident = open_incident(
        ws,
        args.env,
        reason=args.reason or "opened by hand",
        clock=ctx.clock,
        reporter=ctx.reporter,
    )
    ctx.reporter.set_output("incident_id", incident.id)
    ctx.reporter.set_output("incident_report", incident.report_path.as_posix())
    return EXIT_OK


def incident_report_handler(args: argparse.Namespace, ctx: Context) -> int:
    from dhash_gha.steps.incident import regenerate_report

    ws = ctx.workspace()
    incident = regenerate_report(ws, args.incident_id, clock=ctx.clock, reporter=ctx.reporter)
    ctx.reporter.set_output("incident_report", incident.report_path.as_posix())
    return EXIT_OK


def register(subparsers: Any) -> None:
    notify = add_command(
        subparsers,
        "notify",
        summary("notify"),
        notify_handler,
    )
    notify.add_argument("--type", choices=NOTIFICATION_TYPES, required=True)
    add_env(notify)
    notify.add_argument("--message", required=True, metavar="TEXT")
    notify.add_argument(
        "--details-json",
        metavar="JSON",
        help="structured details as a JSON object (release, gate, value, threshold, unit, "
        "run_url, incident_url, backup, reason)",
    )
    notify.add_argument("--dry-run", action="store_true", help="render and record, send nothing")

    incident = add_command(
        subparsers,
        "incident",
        summary("incident"),
        incident_report_handler,
    )
    actions = incident.add_subparsers(dest="incident_action", metavar="ACTION", required=True)
    opened = add_command(
        actions, "open", "archive logs and gate config, write report.md", incident_open_handler
    )
    add_env(opened)
    opened.add_argument("--reason", metavar="TEXT")
    report = add_command(
        actions, "report", "regenerate an incident's report.md", incident_report_handler
    )
    report.add_argument("incident_id", metavar="INC-YYYYmmdd-HHMMSS")
