"""Telling people through the notifications package, with an audit record whatever happens.

Deploy and rollback must leave a notification record whatever happens; a
delivery problem never changes their result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dhash_gha.adapters.channels import notify
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock, iso_utc, utc_stamp


def _write_fallback_notification(
    ws: Workspace,
    env: str,
    kind: str,
    message: str,
    clock: Clock,
    details: Mapping[str, Any] | None,
) -> Path:
    """Minimal audit record (same keys as the notifications audit), when notify itself failed."""
    folder = ws.notifications_dir
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "time": iso_utc(clock.now()),
        "type": kind,
        "environment": env,
        "message": message,
        "details": dict(details or {}),
        "channels": [],
        "delivered": False,
    }
    path = folder / f"{utc_stamp(clock.now())}_{env}_{kind}_{os.getpid()}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def page(
    ws: Workspace,
    env: str,
    kind: str,
    message: str,
    *,
    environ: Mapping[str, str],
    clock: Clock,
    reporter: Reporter,
    details: Mapping[str, Any] | None = None,
) -> Path | None:
    """Notify ``kind`` (deploy, rollback, critical …); returns the audit record's path."""

    try:
        record = notify(
            ws,
            env,
            kind,
            message,
            environ=environ,
            clock=clock,
            reporter=reporter,
            details=dict(details or {}),
        )
    except Exception as exc:  # a notification problem never changes the caller's outcome
        reporter.warning(f"notification failed: {type(exc).__name__}: {exc}")
        try:
            return _write_fallback_notification(ws, env, kind, message, clock, details)
        except OSError as write_error:
            reporter.warning(f"cannot write the notification record: {write_error}")
            return None
    return record.path
