"""The state a restore replaces, archived first to ``rollbacks/pre_rollback_{env}_{ts}.tar.gz``.

Written under a temporary name and renamed, with a ``.sha256`` sidecar, so
a restore can itself be undone: ``restore_backup`` accepts this archive
as a verified source.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from dhash_gha.adapters.archive.gzchunks import ParallelGzipWriter
from dhash_gha.adapters.archive.publish import (
    fsync_dir,
    open_exclusive,
    publish,
    temp_beside,
    write_atomic,
)
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.archive.patterns import excluded
from dhash_gha.core.archive.sidecar import format_sidecar

GZIP_LEVEL = 1  # a rollback is waiting: speed over size (gzip members on every core)


def _free_name(ws: Workspace, env: str, moment: datetime) -> Path:
    moment = moment.replace(microsecond=0)
    while ws.pre_rollback_archive(env, moment).exists():
        moment += timedelta(seconds=1)
    return ws.pre_rollback_archive(env, moment)


def write_pre_rollback(
    ws: Workspace,
    env: str,
    items: Sequence[str],
    exclude: Sequence[str],
    moment: datetime,
    *,
    workers: int | None = None,
) -> Path:
    """Archive the current ``items`` (those that exist); returns the published archive."""
    ws.rollbacks_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = _free_name(ws, env, moment)
    temp = temp_beside(target)

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if excluded(info.name, exclude) else info

    try:
        with open_exclusive(temp) as raw:
            packed = ParallelGzipWriter(
                raw, workers=workers or os.cpu_count() or 1, level=GZIP_LEVEL
            )
            with tarfile.open(fileobj=packed, mode="w") as archive:  # type: ignore[call-overload]
                for item in items:
                    path = ws.root.joinpath(*item.split("/"))
                    if os.path.lexists(path):
                        archive.add(path, arcname=item, recursive=True, filter=keep)
            packed.close()
            raw.flush()
            os.fsync(raw.fileno())
        publish(temp, target)
        digest = packed.digest.hexdigest()
        write_atomic(
            ws.sidecar(target), format_sidecar(digest, target.name, "rollbacks/").encode("ascii")
        )
    finally:
        temp.unlink(missing_ok=True)
    fsync_dir(ws.rollbacks_dir)
    return target
