"""The release record and the deploy history.

``deployments/{env}/current_release.json`` says what runs now (it is part of
the backed-up tree, so a rollback restores the record of the release it brings
back). ``.dhash-state/{env}/deploy_history.jsonl`` is append-only and lives
outside the backed-up tree, so no rollback erases a line of it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dhash_gha.adapters.atomic import write_json_atomic
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.errors import ConfigError

_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def read_release(ws: Workspace, env: str) -> dict[str, Any] | None:
    """The current release record, or None when nothing was deployed yet."""
    path = ws.release_record(env)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"release record {path} is unreadable: {exc}",
            tip="restore it from the latest backup, or remove it if nothing is deployed",
        ) from None
    if not isinstance(data, dict) or "release_id" not in data:
        raise ConfigError(
            f"release record {path} is not a release record (no release_id)",
            tip="restore it from the latest backup, or remove it if nothing is deployed",
        )
    return data


def write_release(ws: Workspace, env: str, record: Mapping[str, Any]) -> Path:
    path = ws.release_record(env)
    write_json_atomic(path, dict(record), sort_keys=True)
    return path


def append_history(ws: Workspace, env: str, entry: Mapping[str, Any]) -> Path:
    """Append one JSON line; fsynced, so a crash right after keeps it."""
    path = ws.deploy_history(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(dict(entry), sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def read_history(ws: Workspace, env: str) -> list[dict[str, Any]]:
    """Every history entry, oldest first (a torn last line is skipped)."""
    try:
        lines = ws.deploy_history(env).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def release_snapshot(history: Iterable[Mapping[str, Any]], release_id: str) -> str | None:
    """The latest backup known to hold exactly ``release_id``'s tree (None when there is none)."""
    found = None
    for entry in history:
        if entry.get("release_id") == release_id and entry.get("release_backup"):
            found = str(entry["release_backup"])
    return found


def _tree_files(ws: Workspace, top: str) -> Iterable[Path]:
    base = ws.root / top
    if base.is_file():
        yield base
        return
    if not base.is_dir():
        return
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(ws.root)
        if any(part in _SKIPPED_PARTS for part in rel.parts) or path.suffix in _SKIPPED_SUFFIXES:
            continue
        if path.is_file():
            yield path


def tree_digest(ws: Workspace, tops: Iterable[str]) -> str:
    """sha256 over the release's files (names and contents), ignoring caches."""
    digest = hashlib.sha256()
    for top in sorted(tops):
        for path in _tree_files(ws, top):
            digest.update(path.relative_to(ws.root).as_posix().encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).hexdigest().encode("ascii") + b"\n")
    return digest.hexdigest()


def release_tops(config: Mapping[str, Any]) -> list[str]:
    """The parts of the backed-up tree that make up a release (all but deployments/)."""
    include = config.get("backup", {}).get("include", ["src", "config"])
    return [str(top) for top in include if str(top).split("/")[0] != "deployments"]


def config_digest(ws: Workspace, env: str) -> str:
    return hashlib.sha256(ws.env_config(env).read_bytes()).hexdigest()


def relative(ws: Workspace, path: Path) -> str:
    """``path`` as the workspace-relative POSIX name records and messages use."""
    try:
        return path.resolve().relative_to(ws.root).as_posix()
    except ValueError:
        return str(path)
