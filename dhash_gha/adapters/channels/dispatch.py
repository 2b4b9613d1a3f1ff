"""``notify``: render once, send to every channel independently, record everything."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dhash_gha.adapters.channels.audit import sanitise_details, write_record
from dhash_gha.adapters.channels.delivery import HttpxTransport, RetryPolicy, Runtime, Transport
from dhash_gha.adapters.channels.factory import build_channel
from dhash_gha.adapters.channels.github_issue import UpsertIssue
from dhash_gha.adapters.config import ENV_SCHEMA, load_env_config, read_json, schema_issues
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace, check_env_name
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.core.notify.interface import (
    NOTIFICATION_KINDS,
    Channel,
    ChannelResult,
    Notification,
    NotificationRecord,
)
from dhash_gha.core.notify.paging import paged_roles
from dhash_gha.errors import BadInput, ConfigError

RECORD_FORMAT = 1


def run_url_from(environ: Mapping[str, str]) -> str | None:
    """The Actions run that sent this, from GITHUB_SERVER_URL/REPOSITORY/RUN_ID."""
    server, repo, run = (
        environ.get("GITHUB_SERVER_URL"),
        environ.get("GITHUB_REPOSITORY"),
        environ.get("GITHUB_RUN_ID"),
    )
    if server and repo and run:
        return f"{server.rstrip('/')}/{repo}/actions/runs/{run}"
    return None


def json_safe(value: Any) -> Any:
    """Details as plain JSON: paths and other objects as text, NaN and infinities as null."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def notifications_section(
    ws: Workspace, env: str, reporter: Reporter
) -> tuple[Mapping[str, Any], str | None]:
    """The ``notifications`` config, or an error text. A mistake elsewhere in the file
    (say, in ``component``) must not silence the notification that reports it."""
    try:
        return load_env_config(ws, env).get("notifications") or {}, None
    except ConfigError as exc:
        whole_file = f"{exc.message}" + (f" ({exc.tip})" if exc.tip else "")
    try:
        data = read_json(ws.env_config(env), f"configuration of environment '{env}'")
        section = data.get("notifications") if isinstance(data, dict) else None
    except ConfigError:
        section = None
    if isinstance(section, dict) and not [
        issue
        for issue in schema_issues({"notifications": section}, ENV_SCHEMA, "notifications")
        if issue.path.startswith("$.notifications")
    ]:
        reporter.warning(
            f"notify: config/{env}/dhash.json has problems ({whole_file}); "
            "its notifications section is valid and is used"
        )
        return section, None
    reporter.error(f"notify: cannot read the channels of '{env}': {whole_file}")
    return {}, whole_file


def check_kind(kind: str) -> str:
    if kind not in NOTIFICATION_KINDS:
        raise BadInput(
            f"unknown notification type {kind!r}",
            tip=f"use one of: {', '.join(NOTIFICATION_KINDS)}",
        )
    return kind


def _send_one(channel: Channel, note: Notification, dry_run: bool) -> tuple[ChannelResult, Any]:
    """One channel, fully isolated: whatever happens becomes its result."""
    try:
        rendered = channel.render(note)
        if dry_run:
            return ChannelResult(
                channel.name, channel.type, "dry-run", "rendered, not sent"
            ), rendered
        return channel.send(note), None
    except Exception as exc:  # a bug in one backend must not stop the others
        return (
            ChannelResult(
                channel.name, channel.type, "failed", f"internal error: {type(exc).__name__}"
            ),
            None,
        )


def notify(
    ws: Workspace,
    env: str,
    kind: str,
    message: str,
    *,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    details: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    transport: Transport | None = None,
    sleep: Callable[[float], None] | None = None,
    rand: Callable[[], float] | None = None,
    policy: RetryPolicy | None = None,
    upsert_loader: Callable[[], UpsertIssue] | None = None,
) -> NotificationRecord:
    """Send ``message`` to every channel of ``env`` and write the audit record.

    Raises BadInput only for an unknown type or environment (the caller's mistake);
    delivery failures and a broken channel config are results, never exceptions.
    """
    check_kind(kind)
    check_env_name(env)
    if env not in ws.environments():
        load_env_config(ws, env)  # raises the "unknown environment, known ones are …" error
    now = clock.now()
    notifications, error = notifications_section(ws, env, reporter)
    runtime = Runtime(
        transport=transport or HttpxTransport(),
        now=clock.now,
        sleep=sleep or clock.sleep,
        rand=rand or random.random,
    )
    # Channels first: reading their secrets registers them for redaction below.
    built = [
        build_channel(
            spec,
            notifications,
            environ=environ,
            reporter=reporter,
            runtime=runtime,
            policy=policy or RetryPolicy(),
            upsert_loader=upsert_loader,
        )
        for spec in notifications.get("channels") or []
    ]
    safe_details = sanitise_details(json_safe(dict(details or {})), reporter.redact)
    run_url = str(safe_details.get("run_url") or "") or run_url_from(environ)
    note = Notification(
        kind=kind,
        env=env,
        message=reporter.redact(message),
        at=now,
        details=safe_details,
        run_url=run_url,
        paged_roles=paged_roles(notifications, kind),
    )
    results: list[ChannelResult] = []
    previews: dict[str, Any] = {}
    # Channels are sent in parallel: a slow or failing one never delays the others,
    # and the caller (often a rollback in progress) waits only for the slowest.
    live = [(i, c) for i, c in enumerate(built) if not isinstance(c, ChannelResult)]
    outcomes: dict[int, tuple[ChannelResult, Any]] = {}
    if live:
        with ThreadPoolExecutor(max_workers=len(live), thread_name_prefix="notify") as pool:
            futures = {i: pool.submit(_send_one, c, note, dry_run) for i, c in live}
            outcomes = {i: future.result() for i, future in futures.items()}
    for index, item in enumerate(built):
        if isinstance(item, ChannelResult):
            results.append(item)
            continue
        result, rendered = outcomes[index]
        results.append(result)
        if rendered is not None:
            previews[item.name] = json.loads(reporter.redact(json.dumps(rendered)))
    delivered = error is None and all(r.status != "failed" for r in results)
    _report(reporter, env, kind, results, dry_run)
    record = {
        "format": RECORD_FORMAT,
        "time": iso_utc(now),
        "type": kind,
        "environment": env,
        "message": note.message,
        "details": safe_details,
        "run_url": run_url,
        "paged_roles": list(note.paged_roles),
        "dry_run": dry_run,
        "delivered": delivered,
        "channels": [r.as_record() for r in results],
    }
    if error:
        record["error"] = reporter.redact(error)
    if previews:
        record["rendered"] = previews
    path = write_record(ws.notifications_dir, now, record, on_error=reporter.error)
    if path is not None:
        reporter.event("notification_recorded", file=path.name, type=kind, delivered=delivered)
    return NotificationRecord(path=path, delivered=delivered, results=tuple(results), error=error)


def _report(
    reporter: Reporter, env: str, kind: str, results: list[ChannelResult], dry_run: bool
) -> None:
    if not results:
        reporter.warning(
            f"notify: environment '{env}' has no notification channels; "
            "only the audit record holds this notification"
        )
    for result in results:
        text = f"notify {result.name} ({result.type}): {result.status}"
        if result.reason and result.status != "delivered":
            text += f" — {result.reason}"
        fields = {
            "channel": result.name,
            "channel_type": result.type,
            "status": result.status,
            "notification_type": kind,
            "attempts": result.attempts,
        }
        if result.status == "failed":
            reporter.warning(text, title="notification not delivered", **fields)
            if result.fix:
                reporter.tip(f"{result.name}: {result.fix}")
        else:
            reporter.info(text, event="notification_channel", **fields)
    if results:
        rows = "\n".join(
            f"| {r.name} | {r.type} | {r.status} | {(r.reason or '').replace('|', '/')} |"
            for r in results
        )
        reporter.summary(
            f"### Notification `{kind}` ({env})\n\n| channel | type | status | detail |\n"
            f"|---|---|---|---|\n{rows}"
        )
    if results and not dry_run and all(r.status == "skipped" for r in results):
        reporter.warning(
            "notify: every channel was skipped; only the audit record holds this notification"
        )
