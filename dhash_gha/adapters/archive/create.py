"""``create_backup``: the include set to ``backups/dhash_{env}_{ts}.zip`` plus its sidecar.

Order of work, so a crash never leaves a backup that looks valid: check free
space, write the zip under a hidden temporary name (owner-only), fsync,
publish it under its final name without replacing anything, then write the
sidecar the same way. Without a sidecar a backup is never "verified".
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dhash_gha import __version__
from dhash_gha.adapters.archive.pack import pack_files
from dhash_gha.adapters.archive.progress import Progress, rate_fields
from dhash_gha.adapters.archive.publish import (
    fsync_dir,
    open_exclusive,
    publish,
    temp_beside,
    write_atomic,
)
from dhash_gha.adapters.archive.restore import (
    RESTORE_LOCK_WAIT,
    refuse_if_restore_pending,
    restore_lock,
)
from dhash_gha.adapters.archive.settings import BackupSettings, load_settings
from dhash_gha.adapters.archive.tree import Tree, scan
from dhash_gha.adapters.archive.zipwrite import DEFLATED, ZipWriter
from dhash_gha.adapters.config import read_json
from dhash_gha.adapters.gitinfo import git_commit
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.archive.entries import Entry, Limits, entry_problems, in_include_set
from dhash_gha.core.archive.manifest import MANIFEST_NAME, build_manifest, encode_manifest
from dhash_gha.core.archive.patterns import excluded
from dhash_gha.core.archive.sidecar import format_sidecar
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.errors import BadInput, CheckFailed

FreeSpace = Callable[[Path], int]
# Headroom for zip headers, the manifest and the file system's own bookkeeping.
SLACK_BYTES = 16 * 1024 * 1024
PER_ENTRY_BYTES = 512


@dataclass(frozen=True)
class BackupResult:
    path: Path
    sha256: str
    files: int
    bytes: int
    seconds: float
    manifest: dict[str, Any]


def disk_free(path: Path) -> int:
    return shutil.disk_usage(path).free


def migration_version(ws: Workspace, env: str) -> str:
    path = ws.migration_state(env)
    if not path.exists():
        return "0000"
    state = read_json(path, f"migration state of '{env}'")
    version = state.get("version") if isinstance(state, dict) else None
    return version if isinstance(version, str) and version else "0000"


def required_bytes(tree: Tree) -> int:
    return (
        tree.total_bytes + SLACK_BYTES + PER_ENTRY_BYTES * (len(tree.files) + len(tree.directories))
    )


def _check_configs_kept(ws: Workspace, settings: BackupSettings) -> None:
    """Refuse excludes that drop an environment's config: a restore would delete it."""
    for name in ws.environments():
        rel = ws.env_config(name).relative_to(ws.root).as_posix()
        if not in_include_set(rel, settings.include):
            continue
        parts = rel.split("/")
        prefixes = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
        if any(excluded(prefix, settings.exclude) for prefix in prefixes):
            raise BadInput(
                f"backup.exclude drops {rel} from the backup: restoring it would delete "
                f"the configuration of '{name}'",
                tip="narrow the pattern in backup.exclude (config/ENV/dhash.json) so that "
                "config/*/dhash.json stays in the backup",
            )


def _check_tree(tree: Tree, settings: BackupSettings) -> None:
    """Refuse now what a restore would refuse later: a backup must be restorable."""
    entries = [Entry(rel + "/", "dir") for rel, _, _ in tree.directories]
    entries += [Entry(f.rel, "file", f.size) for f in tree.files]
    limits = Limits(max_total_bytes=settings.limits.max_total_bytes, max_ratio=float("inf"))
    problems = entry_problems(entries, settings.include, limits)
    if problems:
        raise BadInput(
            "cannot create a restorable backup: " + "; ".join(problems[:5]),
            tip="rename the files (or raise backup.max_uncompressed_bytes), "
            "or exclude them with backup.exclude in config/ENV/dhash.json",
        )


def _free_name(ws: Workspace, env: str, moment: datetime) -> Path:
    """The first free ``dhash_{env}_{ts}.zip`` at or after ``moment``.

    Two backups in one second take consecutive seconds: the name stays
    digits only, so ``sort -r`` orders it right in every locale (a ``_01``
    suffix would not: en_US collation ignores punctuation).
    """
    moment = moment.replace(microsecond=0)
    while True:
        path = ws.backup_path(env, moment)
        if not path.exists() and not ws.sidecar(path).exists():
            return path
        moment += timedelta(seconds=1)


def _write_zip(
    handle: Any,
    tree: Tree,
    manifest_base: dict[str, Any],
    *,
    workers: int,
    progress: Progress,
) -> tuple[str, dict[str, Any]]:
    digest = hashlib.sha256()
    writer = ZipWriter(handle, on_write=digest.update)
    for rel, mode, mtime in tree.directories:
        writer.add_directory(rel, mode, mtime)
    records = pack_files(writer, tree.files, workers=workers, progress=progress.advance)
    manifest = build_manifest(files=records, **manifest_base)
    data = encode_manifest(manifest)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = compressor.compress(data) + compressor.flush()
    writer.add_complete(MANIFEST_NAME, 0o600, 0, DEFLATED, packed, zlib.crc32(data), len(data))
    writer.close()
    return digest.hexdigest(), manifest


def create_backup(
    ws: Workspace,
    env: str,
    *,
    clock: Clock,
    reporter: Reporter,
    free_space: FreeSpace = disk_free,
    workers: int | None = None,
) -> BackupResult:
    """Back up the environment's include set; returns the published backup.

    Under the workspace's restore lock, and never while an interrupted restore is
    pending: a backup of a half-swapped tree would verify and look valid.
    """

    with restore_lock(ws, reporter, RESTORE_LOCK_WAIT):
        refuse_if_restore_pending(ws, "back up")
        return _create(
            ws, env, clock=clock, reporter=reporter, free_space=free_space, workers=workers
        )


def _create(
    ws: Workspace,
    env: str,
    *,
    clock: Clock,
    reporter: Reporter,
    free_space: FreeSpace,
    workers: int | None,
) -> BackupResult:
    settings = load_settings(ws, env)
    _check_configs_kept(ws, settings)
    started = clock.monotonic()
    now = clock.now()
    tree = scan(ws.root, settings.include, settings.exclude)
    for item in tree.missing:
        reporter.warning(f"backup.include item {item!r} does not exist; it is not in the backup")
    _check_tree(tree, settings)
    probe = ws.backups_dir if ws.backups_dir.is_dir() else ws.root
    needed, free = required_bytes(tree), free_space(probe)
    if free < needed:
        raise CheckFailed(
            f"not enough free space for a backup in {ws.backups_dir}: need about "
            f"{needed / 1e6:.0f} MB, {free / 1e6:.0f} MB free",
            tip="free some space (e.g. `dhash-gha backup prune --env ENV --keep N`) and retry; "
            "nothing was written",
        )
    ws.backups_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    manifest_base: dict[str, Any] = {
        "environment": env,
        "created_at": iso_utc(now),
        "tool_version": __version__,
        "git_commit": git_commit(ws.root),
        "migration_version": migration_version(ws, env),
        # Only what exists: a restore never removes a tree the backup knew nothing about.
        "include": [item for item in settings.include if item not in tree.missing],
        "exclude": list(settings.exclude),
        "directories": [(rel, mode) for rel, mode, _ in tree.directories],
    }
    target = _free_name(ws, env, now)
    temp = temp_beside(target)
    progress = Progress("backup", tree.total_bytes, reporter.err_stream, clock)
    published = False
    try:
        with open_exclusive(temp) as handle:
            digest, manifest = _write_zip(
                handle,
                tree,
                manifest_base,
                workers=workers or os.cpu_count() or 1,
                progress=progress,
            )
            handle.flush()
            os.fsync(handle.fileno())
        progress.close()
        while True:
            try:
                publish(temp, target)
                published = True
                break
            except FileExistsError:  # another backup took the name meanwhile
                target = _free_name(ws, env, now)
        write_atomic(ws.sidecar(target), format_sidecar(digest, target.name).encode("ascii"))
    except BaseException as exc:
        if published:  # no sidecar: remove the zip rather than leave an unverifiable backup
            target.unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
        raise CheckFailed(
            f"writing the backup failed: {exc}", tip="check free space and permissions of backups/"
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    fsync_dir(ws.backups_dir)
    seconds = clock.monotonic() - started
    result = BackupResult(target, digest, len(tree.files), tree.total_bytes, seconds, manifest)
    reporter.event(
        "backup_created",
        path=target.relative_to(ws.root).as_posix(),
        sha256=digest,
        **rate_fields(result.files, result.bytes, seconds),
    )
    return result
