"""``verify_backup``: the sidecar checksum, the zip's CRCs and every manifest hash.

The whole-file hash (for the sidecar) runs on one thread while the members
are inflated and hashed on the others, so verifying costs about one read.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dhash_gha.adapters.archive.members import ArchiveReader, MemberCheck, entry_of
from dhash_gha.adapters.digest import file_sha256
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.archive.entries import Limits, check_entries
from dhash_gha.core.archive.manifest import MANIFEST_NAME, decode_manifest, files_by_path
from dhash_gha.core.archive.sidecar import parse_sidecar
from dhash_gha.errors import BadInput, CheckFailed

MANIFEST_LIMIT = 256 * 1024 * 1024
BATCH_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class VerifyResult:
    path: Path
    sha256: str
    files: int
    bytes: int
    manifest: dict[str, Any]


def sidecar_digest(path: Path) -> str:
    """The checksum the backup's sidecar records; BadInput when missing, empty or malformed."""
    sidecar = Workspace.sidecar(path)
    try:
        text = sidecar.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise BadInput(
            f"{sidecar.name} is missing: {path.name} cannot be verified",
            tip="a backup without its sidecar is incomplete (it may have been interrupted); "
            "use another backup (`dhash-gha backup list --env ENV`)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {sidecar.name}: {exc}") from None
    return parse_sidecar(text, path.name, label=sidecar.name)


def check_path(path: Path) -> Path:
    if not path.is_file():
        raise BadInput(
            f"backup {str(path)!r} does not exist or is not a file",
            tip="list backups with `dhash-gha backup list --env ENV`",
        )
    return path


def read_archive_manifest(reader: ArchiveReader) -> dict[str, Any]:
    infos = [info for info in reader.infos if info.filename == MANIFEST_NAME]
    if len(infos) != 1:
        raise CheckFailed(
            f"{reader.path.name}: {'no' if not infos else 'more than one'} {MANIFEST_NAME}",
            tip="this archive was not written by dhash-gha backup",
        )
    return decode_manifest(reader.read_bytes(infos[0], MANIFEST_LIMIT), source=reader.path.name)


def compare_members(
    source: str, manifest: dict[str, Any], infos: Sequence[zipfile.ZipInfo]
) -> list[zipfile.ZipInfo]:
    """The file members, after checking they are exactly the manifest's files."""
    expected = files_by_path(manifest)
    members = [i for i in infos if not i.filename.endswith("/") and i.filename != MANIFEST_NAME]
    names = [i.filename for i in members]
    extra = sorted(set(names) - set(expected))
    missing = sorted(set(expected) - set(names))
    if extra:
        raise CheckFailed(f"{source}: {extra[0]} is in the archive but not in its manifest")
    if missing:
        raise CheckFailed(f"{source}: {missing[0]} is in the manifest but missing from the archive")
    for info in members:
        if info.file_size != expected[info.filename]["size"]:
            raise CheckFailed(
                f"{source}: {info.filename}: size {info.file_size} differs from the manifest's "
                f"{expected[info.filename]['size']}"
            )
    return members


def check_hash(source: str, hashes: dict[str, str], check: MemberCheck) -> None:
    expected = hashes[check.name]
    if check.sha256 != expected:
        raise CheckFailed(
            f"{source}: {check.name}: sha256 {check.sha256} differs from the manifest's {expected}",
            tip="the backup is corrupt; use another one (`dhash-gha backup list --env ENV`)",
        )


def batches(
    infos: Sequence[zipfile.ZipInfo], limit: int = BATCH_BYTES
) -> Iterator[list[zipfile.ZipInfo]]:
    batch: list[zipfile.ZipInfo] = []
    size = 0
    for info in infos:
        batch.append(info)
        size += info.compress_size
        if size >= limit:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def check_members_parallel(
    reader: ArchiveReader,
    manifest: dict[str, Any],
    members: Sequence[zipfile.ZipInfo],
    pool: ThreadPoolExecutor,
    sink_for: Callable[[zipfile.ZipInfo], Any] | None = None,
) -> None:
    """Read every member on the pool, checking CRC, size and manifest hash."""
    source = reader.path.name
    hashes = {record["path"]: record["sha256"] for record in manifest["files"]}

    def run(batch: list[zipfile.ZipInfo]) -> None:
        for info in batch:
            if sink_for is None:
                check = reader.read_member(info)
            else:
                with sink_for(info) as sink:
                    check = reader.read_member(info, sink)
            check_hash(source, hashes, check)

    for future in [pool.submit(run, batch) for batch in batches(members)]:
        future.result()


def check_restorable(reader: ArchiveReader, manifest: dict[str, Any]) -> None:
    """The entry rules a restore applies (sizes aside: those limits are per workspace)."""
    unlimited = Limits(max_total_bytes=2**63, max_ratio=float("inf"))
    entries = [entry_of(info) for info in reader.infos]
    try:
        check_entries(
            entries,
            manifest["include"],
            unlimited,
            source=reader.path.name,
            allowed_extra=[MANIFEST_NAME],
        )
    except BadInput as exc:
        raise CheckFailed(exc.message, tip=exc.tip) from None


def verify_backup(path: Path, *, workers: int | None = None) -> VerifyResult:
    """Check a backup completely; CheckFailed names the first bad file."""
    check_path(path)
    expected = sidecar_digest(path)
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers + 1) as pool:
        whole = pool.submit(file_sha256, path)
        try:
            with ArchiveReader(path) as reader:
                manifest = read_archive_manifest(reader)
                check_restorable(reader, manifest)
                members = compare_members(path.name, manifest, reader.infos)
                check_members_parallel(reader, manifest, members, pool)
        except CheckFailed as exc:
            actual = whole.result()
            if actual != expected:
                exc.message += " (and the sidecar checksum does not match either)"
            raise
        actual = whole.result()
    if actual != expected:
        raise CheckFailed(
            f"{path.name}: sha256 {actual} does not match its sidecar's {expected}",
            tip="the file or its sidecar changed after the backup was made; use another backup",
        )
    totals = manifest["totals"] if isinstance(manifest.get("totals"), dict) else {}
    return VerifyResult(
        path,
        actual,
        int(totals.get("files", len(members))),
        int(totals.get("bytes", sum(i.file_size for i in members))),
        manifest,
    )


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest inside a backup (no checksum verification: use verify_backup for that)."""
    check_path(path)
    with ArchiveReader(path) as reader:
        return read_archive_manifest(reader)
