"""Listing, choosing and pruning an environment's backups.

"Verified" here means the sidecar is present, well formed and matches the
file's sha256 (the runbook's ``sha256sum -c``); ``verify_backup`` checks the
members too, and every restore runs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dhash_gha.adapters.archive.verify import sidecar_digest
from dhash_gha.adapters.digest import file_sha256
from dhash_gha.adapters.releases import read_release
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.errors import BadInput, DhashError

_STAMP = re.compile(r"_(\d{8}_\d{6})\.zip$")


def created_at(path: Path) -> datetime:
    """When the backup was made: the name's UTC stamp, else the file's modification time."""
    match = _STAMP.search(path.name)
    if match:
        try:
            return datetime.strptime(match.group(1), "%Y%m%d_%H%M%S").replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    created: datetime
    verified: bool
    problem: str | None

    @property
    def name(self) -> str:
        return self.path.name


def sidecar_matches(path: Path) -> tuple[bool, str | None]:
    """(verified, why not) for one backup: its sidecar against its bytes."""
    try:
        expected = sidecar_digest(path)
    except DhashError as exc:
        return False, exc.message
    if file_sha256(path) != expected:
        return False, "checksum does not match the sidecar"
    return True, None


def list_backups(ws: Workspace, env: str, *, check: bool = True) -> list[BackupInfo]:
    """The environment's backups, newest first; ``check`` hashes each against its sidecar."""
    found: list[BackupInfo] = []
    for path in ws.backups(env):
        stat = path.stat()
        verified, problem = sidecar_matches(path) if check else (False, "not checked")
        found.append(BackupInfo(path, stat.st_size, created_at(path), verified, problem))
    return found


def latest_backup(ws: Workspace, env: str, *, verified: bool = True) -> Path | None:
    """The newest backup (by name, like ``sort -r``); with ``verified`` the newest that checks."""
    for path in ws.backups(env):
        if not verified or sidecar_matches(path)[0]:
            return path
    return None


def _release_backup(ws: Workspace, env: str) -> str | None:
    """The pre-deploy backup the current release record names, if any."""

    record = read_release(ws, env)
    value = record.get("pre_deploy_backup") if record else None
    return Path(value).name if isinstance(value, str) and value else None


@dataclass(frozen=True)
class PrunePlan:
    keep: list[Path]
    delete: list[Path]
    protected: dict[str, str]  # name -> why it is kept beyond N


def plan_prune(ws: Workspace, env: str, keep: int) -> PrunePlan:
    if keep < 1:
        raise BadInput(f"--keep must be at least 1, got {keep}", tip="pass --keep N with N >= 1")
    backups = ws.backups(env)
    protected: dict[str, str] = {}
    newest_verified = latest_backup(ws, env, verified=True)
    if newest_verified is not None:
        protected[newest_verified.name] = "newest verified backup"
    release = _release_backup(ws, env)
    if release:
        protected.setdefault(release, "pre-deploy backup of the current release")
    kept = [p for i, p in enumerate(backups) if i < keep or p.name in protected]
    delete = [p for p in backups if p not in kept]
    return PrunePlan(
        kept, delete, {k: v for k, v in protected.items() if k in {p.name for p in kept}}
    )


def prune_backups(ws: Workspace, env: str, keep: int, *, dry_run: bool = False) -> PrunePlan:
    """Delete all but the newest ``keep`` backups, never a protected one (sidecar first)."""
    plan = plan_prune(ws, env, keep)
    if not dry_run:
        for path in plan.delete:
            Workspace.sidecar(path).unlink(missing_ok=True)  # unverified first, then gone
            path.unlink(missing_ok=True)
    return plan
