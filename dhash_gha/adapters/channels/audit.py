"""The audit trail: every notification, delivered or not, as one JSON file.

Files land in ``notifications/fallback/`` (the runbook's ``ls -la``), named
``{YYYYmmdd_HHMMSS}_{env}_{type}_{random}.json`` so they sort by time. Each is
written to a temporary name, fsynced and renamed, so a reader never sees half
a record. Values that could hold a secret are redacted before writing.
"""

from __future__ import annotations

import json
import re
import secrets as token_source
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from dhash_gha.adapters.atomic import OWNER_ONLY, write_json_atomic, write_text_atomic
from dhash_gha.adapters.channels.delivery import sanitise
from dhash_gha.core.clock import utc_stamp

# Detail keys whose value is never recorded, whatever it holds.
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|webhook|api_key|authorization)", re.I)
_URL_KEYS = frozenset({"run_url", "incident_url"})


def sanitise_details(details: Mapping[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """JSON-safe copy of ``details``: secret-looking keys blanked, known secrets redacted,
    URLs removed (except the run and incident links, which are public)."""
    clean: dict[str, Any] = {}
    for key, value in details.items():
        name = str(key)
        if _SECRET_KEY.search(name):
            clean[name] = "***"
        else:
            clean[name] = _clean_value(value, redact, keep_urls=name in _URL_KEYS)
    return clean


def _clean_value(value: Any, redact: Callable[[str], str], *, keep_urls: bool) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return sanitise_details(value, redact)
    if isinstance(value, (list, tuple)):
        return [_clean_value(v, redact, keep_urls=keep_urls) for v in value]
    text = redact(str(value))
    return text if keep_urls else sanitise(text, [])


def record_name(moment: datetime, env: str, kind: str) -> str:
    return f"{utc_stamp(moment)}_{env}_{kind}_{token_source.token_hex(3)}.json"


def write_atomically(path: Path, data: Mapping[str, Any]) -> None:
    """One JSON record, written atomically (owner-readable only: records may name people)."""
    write_json_atomic(path, data, mode=OWNER_ONLY)


def write_text_atomically(path: Path, text: str) -> None:
    write_text_atomic(path, text, mode=OWNER_ONLY)


def write_record(
    directory: Path,
    moment: datetime,
    record: Mapping[str, Any],
    *,
    on_error: Callable[[str], None],
) -> Path | None:
    """Write one audit record; on failure call ``on_error`` with the reason and return None."""
    path = directory / record_name(moment, str(record["environment"]), str(record["type"]))
    try:
        write_atomically(path, record)
    except OSError as exc:
        on_error(
            f"cannot write the notification audit record in {directory}: "
            f"{exc.strerror or type(exc).__name__} "
            "(make notifications/fallback/ writable; delivery to the channels is not affected)"
        )
        return None
    return path


def read_records(directory: Path, env: str | None = None) -> list[dict[str, Any]]:
    """Audit records, oldest first; unreadable files are skipped."""
    if not directory.is_dir():
        return []
    found: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and (env is None or data.get("environment") == env):
            data["_file"] = path.name
            found.append(data)
    return found
