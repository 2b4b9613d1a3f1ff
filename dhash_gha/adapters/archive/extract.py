"""Extracting a checked archive into a staging directory (and nowhere else).

Every entry is checked (``entries.check_entries``) before the first byte
is written. Paths are built from the checked ``/``-separated components
under the staging root, files are created exclusively (never through an
existing name), and each file's size, CRC and SHA-256 are checked while it
is written. On any failure the caller removes the staging directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tarfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from dhash_gha.adapters.archive.members import ArchiveReader, entry_of
from dhash_gha.adapters.archive.verify import (
    check_members_parallel,
    compare_members,
    read_archive_manifest,
)
from dhash_gha.core.archive.entries import (
    RATIO_FLOOR_BYTES,
    Entry,
    Limits,
    check_entries,
    windows_path_too_long,
)
from dhash_gha.core.archive.manifest import MANIFEST_NAME
from dhash_gha.errors import BadInput, CheckFailed

COPY_CHUNK = 1024 * 1024
DIR_MODE = 0o755


def target_path(staging: Path, name: str) -> Path:
    return staging.joinpath(*name.rstrip("/").split("/"))


def create_file(path: Path, mode: int) -> BinaryIO:
    """A new file (never an existing name, never through a link), owner-writable while filled."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o600), "wb")


def _check_windows_lengths(names: Sequence[str], final_root: Path, windows: bool) -> None:
    if not windows:
        return
    long = [n for n in names if windows_path_too_long(str(final_root), n)]
    if long:
        raise BadInput(
            f"{len(long)} path(s) would exceed Windows' 260-character limit under "
            f"{final_root}, e.g. {long[0]!r}",
            tip="enable long paths (LongPathsEnabled) or move the workspace to a shorter path",
        )


def _make_dirs(staging: Path, names: Sequence[str]) -> None:
    for name in names:
        target_path(staging, name).mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def apply_dir_modes(staging: Path, directories: Sequence[dict[str, Any]]) -> None:
    """Directory modes last (deepest first), so a read-only directory was still fillable."""
    for record in sorted(directories, key=lambda d: d["path"].count("/"), reverse=True):
        path = target_path(staging, record["path"])
        if path.is_dir():
            os.chmod(path, stat.S_IMODE(record["mode"]) & 0o777 | 0o700)


def extract_zip(
    source: Path,
    staging: Path,
    *,
    allowed_include: Sequence[str],
    limits: Limits,
    workers: int,
    final_root: Path,
    windows: bool = os.name == "nt",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Check every entry of a dhash-gha backup, then extract it into ``staging``."""
    with ArchiveReader(source) as reader:
        manifest = read_archive_manifest(reader)
        include = manifest["include"]
        foreign = [item for item in include if item not in allowed_include]
        if foreign:
            raise BadInput(
                f"refusing {source.name}: its manifest restores {foreign}, outside this "
                f"environment's backup.include {list(allowed_include)}",
                tip="restore a backup made with this workspace's configuration",
            )
        entries = [entry_of(info) for info in reader.infos]
        check_entries(entries, include, limits, source=source.name, allowed_extra=[MANIFEST_NAME])
        members = compare_members(source.name, manifest, reader.infos)
        names = [i.filename for i in reader.infos if i.filename != MANIFEST_NAME]
        _check_windows_lengths(names, final_root, windows)
        parents = {n.rstrip("/").rpartition("/")[0] for n in names} - {""}
        _make_dirs(staging, sorted({n for n in names if n.endswith("/")} | parents))
        modes = {record["path"]: record["mode"] for record in manifest["files"]}

        @contextlib.contextmanager
        def sink_for(info: Any) -> Iterator[Callable[[bytes], None]]:
            path = target_path(staging, info.filename)
            with create_file(path, 0o600) as handle:

                def write(data: bytes) -> None:
                    handle.write(data)
                    if progress:
                        progress(len(data))

                yield write
            os.chmod(path, stat.S_IMODE(modes[info.filename]) & 0o777)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            check_members_parallel(reader, manifest, members, pool, sink_for)
    # Only directories the entry checks saw: a path in the manifest is never used as given.
    checked = {n.rstrip("/") for n in names if n.endswith("/")} | parents
    apply_dir_modes(staging, [d for d in manifest.get("directories", []) if d["path"] in checked])
    return manifest


def _tar_entry(member: tarfile.TarInfo) -> Entry:
    name = member.name[2:] if member.name.startswith("./") else member.name
    if member.isfile():
        return Entry(name, "file", member.size)
    if member.isdir():
        return Entry(name.rstrip("/") + "/", "dir")
    if member.issym() or member.islnk():
        return Entry(name, "symlink")
    if member.ischr() or member.isblk() or member.isfifo():
        return Entry(name, "device")
    return Entry(name, "other")


def extract_tar(
    source: Path,
    staging: Path,
    *,
    environment: str,
    include: Sequence[str],
    limits: Limits,
    final_root: Path,
    windows: bool = os.name == "nt",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Check every member of a tar(.gz) emergency backup, then extract it into ``staging``."""
    try:
        archive = tarfile.open(source, "r:*")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CheckFailed(f"{source.name}: not a readable tar archive: {exc}") from None
    with archive:
        try:
            members = [m for m in archive.getmembers() if m.name not in (".", "./")]
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise CheckFailed(f"{source.name}: corrupt tar archive: {exc}") from None
        entries = [_tar_entry(m) for m in members]
        check_entries(entries, include, limits, source=source.name)
        total = sum(e.size for e in entries)
        packed = source.stat().st_size
        if total >= RATIO_FLOOR_BYTES and total > limits.max_ratio * max(packed, 1):
            raise BadInput(
                f"refusing {source.name}: {total} bytes from {packed} is a compression ratio "
                f"over {limits.max_ratio:g} (a decompression bomb)"
            )
        _check_windows_lengths([e.name for e in entries], final_root, windows)
        names = [e.name for e in entries]
        parents = {n.rstrip("/").rpartition("/")[0] for n in names} - {""}
        _make_dirs(staging, sorted({n for n in names if n.endswith("/")} | parents))
        files: list[dict[str, Any]] = []
        directories: list[dict[str, Any]] = []
        for member, entry in zip(members, entries, strict=True):
            if entry.kind == "dir":
                directories.append({"path": entry.name.rstrip("/"), "mode": member.mode})
                continue
            files.append(_extract_tar_file(archive, member, entry, staging, progress))
    apply_dir_modes(staging, directories)
    present = sorted({e.name.rstrip("/").split("/")[0] for e in entries})
    return {
        "format": 1,
        "environment": environment,
        "created_at": "",
        "tool_version": "",
        "git_commit": None,
        "migration_version": "",
        "include": [
            item
            for item in include
            if any(e.name.rstrip("/") == item or e.name.startswith(item + "/") for e in entries)
        ]
        or present,
        "exclude": [],
        "unverified": True,
        "totals": {"files": len(files), "bytes": sum(f["size"] for f in files)},
        "directories": directories,
        "files": files,
    }


def _extract_tar_file(
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    entry: Entry,
    staging: Path,
    progress: Callable[[int], None] | None,
) -> dict[str, Any]:
    reader = archive.extractfile(member)
    if reader is None:
        raise CheckFailed(f"{entry.name}: cannot read this tar member")
    path = target_path(staging, entry.name)
    digest = hashlib.sha256()
    size = 0
    try:
        with reader, create_file(path, 0o600) as handle:
            while chunk := reader.read(COPY_CHUNK):
                size += len(chunk)
                if size > member.size:
                    raise CheckFailed(f"{entry.name}: longer than its declared size")
                digest.update(chunk)
                handle.write(chunk)
                if progress:
                    progress(len(chunk))
    except (tarfile.TarError, OSError, EOFError) as exc:
        if isinstance(exc, FileExistsError):
            raise
        raise CheckFailed(f"{entry.name}: corrupt tar data: {exc}") from None
    os.chmod(path, stat.S_IMODE(member.mode) & 0o777)
    return {"path": entry.name, "size": size, "mode": member.mode, "sha256": digest.hexdigest()}
