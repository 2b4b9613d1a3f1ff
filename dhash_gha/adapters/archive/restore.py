"""``restore_backup``: the primitive a rollback uses.

All of it under the workspace's restore lock: every environment shares the
include set, the journal and the staging directories.

1. Finish any restore a crash interrupted (its journal says how far it got).
2. Check the source: a dhash-gha zip needs its sidecar; a ``.tar.gz``
   (the runbook's emergency backup) needs ``unverified=True`` unless it has
   a sidecar (pre-rollback archives do).
3. Check every entry, then extract into ``.dhash-restore-<ts>/new/`` while
   checking every size, CRC and hash (the whole-file checksum runs alongside).
   Nothing outside the staging directory has been written yet. Other
   environments' ``deployments/{other}/`` are copied in as they are now.
4. Archive the current state to ``rollbacks/pre_rollback_{env}_{ts}.tar.gz``.
5. Flush the new files to disk, write the journal and swap each include item in
   by renames (``swap.py``).

It does not stop or start anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from dhash_gha.adapters.archive.extract import extract_tar, extract_zip
from dhash_gha.adapters.archive.prerollback import write_pre_rollback
from dhash_gha.adapters.archive.progress import Progress, rate_fields
from dhash_gha.adapters.archive.publish import write_atomic
from dhash_gha.adapters.archive.settings import BackupSettings, load_settings
from dhash_gha.adapters.archive.swap import (
    Fault,
    Journal,
    complete,
    remove_tree,
    stale_staging,
    write_journal,
)
from dhash_gha.adapters.archive.verify import check_path, sidecar_digest
from dhash_gha.adapters.digest import file_sha256
from dhash_gha.adapters.lock import environment_lock
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock
from dhash_gha.errors import BadInput, CheckFailed

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class RestoreResult:
    source: Path
    pre_rollback_archive: Path
    manifest: dict[str, Any]
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    resumed: bool = False


def _kind(source: Path) -> str:
    name = source.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith(TAR_SUFFIXES):
        return "tar"
    raise BadInput(
        f"cannot restore from {source.name}: not a .zip backup or a .tar.gz archive",
        tip="pass a backups/dhash_{env}_{ts}.zip (see `dhash-gha backup list --env ENV`)",
    )


RESTORE_LOCK_WAIT = 600.0  # a restore takes seconds to minutes; a rollback should wait for one


def restore_lock_file(ws: Workspace) -> Path:
    """The workspace's restore lock, outside it: a refused restore leaves the workspace as it was."""
    key = hashlib.sha256(str(ws.root).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"dhash-gha-restore-{key}.lock"


@contextmanager
def restore_lock(ws: Workspace, reporter: Reporter, wait_seconds: float) -> Iterator[None]:
    """One restore at a time per workspace, whatever the environment.

    The environment lock does not cover this: the include set (``src/``,
    ``config/``, ``deployments/``), the journal and the staging directories
    are shared by every environment of the workspace.
    """
    import filelock

    lock = filelock.FileLock(str(restore_lock_file(ws)), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        if wait_seconds > 0:
            reporter.info(
                f"waiting up to {wait_seconds:g}s for another restore in this workspace to finish",
                event="restore_wait",
            )
        try:
            lock.acquire(timeout=max(wait_seconds, 0))
        except filelock.Timeout:
            raise BadInput(
                "another restore is running in this workspace (of this or another environment)",
                tip=f"wait for it to finish, then retry; lock file: {restore_lock_file(ws)}",
            ) from None
    try:
        yield
    finally:
        lock.release()


def resume_pending(
    ws: Workspace, reporter: Reporter, fault: Fault | None = None
) -> tuple[Journal, dict[str, Any]] | None:
    """Complete a restore that was interrupted mid-swap; returns its journal and manifest."""
    if not ws.restore_journal.exists():
        return None
    journal = Journal.load(ws.restore_journal)
    manifest_file = ws.root / journal.staging / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    reporter.warning(
        f"completing the interrupted restore from {journal.source} (journal {ws.restore_journal})"
    )
    complete(ws, journal, fault)
    reporter.event("restore_resumed", source=journal.source, pre_rollback=journal.pre_rollback)
    return journal, manifest


def refuse_if_restore_pending(ws: Workspace, command: str) -> None:
    """BadInput naming the rollback that completes an interrupted restore, when one is pending.

    Until it is completed the include set is part old, part new: nothing should
    back it up, build on it or migrate it.
    """
    if not ws.restore_journal.exists():
        return
    journal = Journal.load(ws.restore_journal)
    raise BadInput(
        f"refusing to {command}: an interrupted restore of '{journal.environment}' from "
        f"{journal.source} is pending ({ws.restore_journal}); the workspace is part old, part new",
        tip=f"complete it first: dhash-gha rollback --env {journal.environment} "
        f"--backup {journal.source} --force",
    )


def finish_interrupted_restore(
    ws: Workspace, *, clock: Clock, reporter: Reporter, lock_wait: float = 0.0
) -> bool:
    """Complete an interrupted restore under its environment's lock; True when there was one.

    Called before anything reads the configuration: the swap may have been
    interrupted with ``config/`` itself moved out.
    """
    if not ws.restore_journal.exists():
        return False

    journal = Journal.load(ws.restore_journal)
    with (
        environment_lock(
            ws,
            journal.environment,
            "rollback (completing an interrupted restore)",
            clock=clock,
            wait_seconds=lock_wait,
            reporter=reporter,
        ),
        restore_lock(ws, reporter, RESTORE_LOCK_WAIT),
    ):
        return resume_pending(ws, reporter) is not None


def _recorded(ws: Workspace, source: Path) -> str:
    """The source as the journal records it: relative to the root when it can be."""
    try:
        return os.path.relpath(source, ws.root)
    except ValueError:  # another drive on Windows
        return str(source.resolve())


def _same_source(ws: Workspace, recorded: str, source: Path) -> bool:
    return (ws.root / recorded).resolve() == source.resolve()


def _check_source(source: Path, kind: str, unverified: bool, reporter: Reporter) -> str | None:
    """The checksum the source must have, or None for an explicitly unverified archive."""
    has_sidecar = Workspace.sidecar(source).exists()
    if kind == "zip" or has_sidecar:
        return sidecar_digest(source)
    if not unverified:
        raise BadInput(
            f"{source.name} has no .sha256 sidecar, so it cannot be verified; restoring it "
            "needs --unverified",
            tip="check the archive yourself, then pass --unverified to restore it anyway",
        )
    reporter.warning(f"restoring {source.name} UNVERIFIED (no checksum): requested explicitly")
    reporter.event("restore_unverified", "WARNING", source=source.name)
    return None


def flush_to_disk() -> None:
    """Put the extracted files on disk before the swap makes them live.

    Renames are journalled by the file system, file data is not: without this
    a power cut soon after the swap could leave empty files in the new tree.
    One ``sync`` is far cheaper than an fsync per file. Windows has no
    ``os.sync``: there the swap relies on the file system's own write-back.
    """
    if hasattr(os, "sync"):
        os.sync()


def _staging(ws: Workspace, clock: Clock) -> Path:
    moment = clock.now()
    while ws.restore_staging(moment).exists():
        moment += timedelta(seconds=1)
    path = ws.restore_staging(moment)
    path.mkdir(mode=0o700)
    return path


def keep_other_environments(ws: Workspace, env: str, items: list[str], new: Path) -> None:
    """Put every other environment's ``deployments/{other}/`` into ``new`` as it is now.

    ``deployments/`` holds each environment's release record and pid file: a restore
    of ``env`` must not revert another environment's release or lose the pid of a
    component that is still running.
    """
    restored = new / ws.deployments_dir.name
    if ws.deployments_dir.relative_to(ws.root).as_posix() not in items or not restored.is_dir():
        return
    names = {
        p.name
        for folder in (ws.deployments_dir, restored)
        if folder.is_dir() and not folder.is_symlink()
        for p in folder.iterdir()
        if p.is_dir() and p.name != env
    }
    for name in sorted(names):
        remove_tree(restored / name)
        current = ws.deployments_dir / name
        if current.is_dir():
            shutil.copytree(current, restored / name, symlinks=True)


def _extract(
    source: Path,
    kind: str,
    new: Path,
    ws: Workspace,
    env: str,
    settings: BackupSettings,
    progress: Progress,
    workers: int,
) -> dict[str, Any]:
    if kind == "zip":
        return extract_zip(
            source,
            new,
            allowed_include=settings.include,
            limits=settings.limits,
            workers=workers,
            final_root=ws.root,
            progress=progress.advance,
        )
    return extract_tar(
        source,
        new,
        environment=env,
        include=settings.include,
        limits=settings.limits,
        final_root=ws.root,
        progress=progress.advance,
    )


def restore_backup(
    ws: Workspace,
    env: str,
    source: Path,
    *,
    clock: Clock,
    reporter: Reporter,
    unverified: bool = False,
    fault: Fault | None = None,
    workers: int | None = None,
    lock_wait: float = RESTORE_LOCK_WAIT,
) -> RestoreResult:
    """Restore ``source`` over the workspace's include set; see the module doc for the steps."""
    with restore_lock(ws, reporter, lock_wait):
        return _restore(ws, env, source, clock, reporter, unverified, fault, workers)


def _restore(
    ws: Workspace,
    env: str,
    source: Path,
    clock: Clock,
    reporter: Reporter,
    unverified: bool,
    fault: Fault | None,
    workers: int | None,
) -> RestoreResult:
    started = clock.monotonic()
    source = Path(source)
    if not source.is_absolute() and not source.exists():
        source = ws.root / source
    # First, because an interrupted swap may have config/ itself half way.
    pending = resume_pending(ws, reporter, fault)
    settings = load_settings(ws, env)
    check_path(source)
    if pending and _same_source(ws, pending[0].source, source):
        journal, manifest = pending
        return RestoreResult(source, ws.root / journal.pre_rollback, manifest, resumed=True)
    for stale in stale_staging(ws):
        remove_tree(stale)
    kind = _kind(source)
    expected = _check_source(source, kind, unverified, reporter)
    staging = _staging(ws, clock)
    progress = Progress("restore", source.stat().st_size, reporter.err_stream, clock)
    workers = workers or os.cpu_count() or 1
    try:
        with ThreadPoolExecutor(max_workers=1) as hasher:
            whole = hasher.submit(file_sha256, source) if expected else None
            try:
                manifest = _extract(
                    source, kind, staging / "new", ws, env, settings, progress, workers
                )
            except FileExistsError as exc:
                raise BadInput(
                    f"refusing {source.name}: two entries write the same file ({exc.filename})",
                    tip="the archive is not one dhash-gha wrote; use another backup",
                ) from None
            except OSError as exc:
                raise CheckFailed(
                    f"restore of {source.name} failed while extracting: {exc}",
                    tip="nothing outside the staging directory was changed; "
                    "check free space and permissions, then retry",
                ) from None
            finally:
                actual = whole.result() if whole else None
        progress.close()
        if expected and actual != expected:
            raise CheckFailed(
                f"{source.name}: sha256 {actual} does not match its sidecar's {expected}",
                tip="the backup changed after it was made; use another one",
            )
        if manifest.get("environment") != env:
            raise BadInput(
                f"{source.name} is a backup of {manifest.get('environment')!r}, not {env!r}",
                tip=f"pick a backup of {env} (`dhash-gha backup list --env {env}`)",
            )
        items = list(manifest["include"])
        if not items:
            raise BadInput(f"{source.name} holds nothing to restore")
        try:
            keep_other_environments(ws, env, items, staging / "new")
        except OSError as exc:
            raise CheckFailed(
                f"cannot carry the other environments' deployments/ over: {exc}",
                tip="nothing outside the staging directory was changed; check free space and "
                "permissions, then retry",
            ) from None
        if fault:
            fault("extracted")
        try:
            pre_rollback = write_pre_rollback(ws, env, items, settings.exclude, clock.now())
        except OSError as exc:
            raise CheckFailed(
                f"cannot archive the current state to {ws.rollbacks_dir}: {exc}",
                tip="nothing was changed; free space in rollbacks/ and retry",
            ) from None
        if fault:
            fault("archived")
        write_atomic(staging / "manifest.json", json.dumps(manifest).encode("utf-8"))
        flush_to_disk()
        journal = Journal(
            staging=staging.name,
            items=[{"path": item, "present": True} for item in items],
            source=_recorded(ws, source),
            pre_rollback=pre_rollback.relative_to(ws.root).as_posix(),
            environment=env,
        )
    except BaseException:
        remove_tree(staging)
        raise
    write_journal(ws, journal)
    if fault:
        fault("journal")
    complete(ws, journal, fault)
    seconds = clock.monotonic() - started
    totals = manifest.get("totals", {})
    result = RestoreResult(
        source,
        pre_rollback,
        manifest,
        int(totals.get("files", 0)),
        int(totals.get("bytes", 0)),
        seconds,
    )
    reporter.event(
        "restore_complete",
        source=source.name,
        pre_rollback=journal.pre_rollback,
        verified=expected is not None,
        **rate_fields(result.files, result.bytes, seconds),
    )
    return result
