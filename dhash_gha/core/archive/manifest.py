"""The manifest stored inside every backup (pure: builds and checks dicts and bytes).

It records what the backup holds and where it came from, so a restore can
check every byte and an operator can tell which release and data version
a backup belongs to without extracting it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dhash_gha.errors import CheckFailed

MANIFEST_NAME = "dhash-backup-manifest.json"
FORMAT = 1
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str
    size: int
    mode: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mode": self.mode, "sha256": self.sha256}


def build_manifest(
    *,
    environment: str,
    created_at: str,
    tool_version: str,
    git_commit: str | None,
    migration_version: str,
    include: Sequence[str],
    exclude: Sequence[str],
    files: Sequence[FileRecord],
    directories: Sequence[tuple[str, int]],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "environment": environment,
        "created_at": created_at,
        "tool_version": tool_version,
        "git_commit": git_commit,
        "migration_version": migration_version,
        "include": list(include),
        "exclude": list(exclude),
        "totals": {"files": len(files), "bytes": sum(f.size for f in files)},
        "directories": [{"path": path, "mode": mode} for path, mode in directories],
        "files": [record.as_dict() for record in files],
    }


def encode_manifest(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def decode_manifest(data: bytes, *, source: str) -> dict[str, Any]:
    """Parse and check the manifest's shape; CheckFailed naming the backup when it is not sound."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckFailed(f"{source}: {MANIFEST_NAME} is not valid JSON: {exc}") from None
    problem = _shape_problem(manifest)
    if problem:
        raise CheckFailed(f"{source}: {MANIFEST_NAME}: {problem}")
    result: dict[str, Any] = manifest
    return result


def _shape_problem(manifest: Any) -> str | None:
    if not isinstance(manifest, dict):
        return "not a JSON object"
    if manifest.get("format") != FORMAT:
        return f"unsupported format {manifest.get('format')!r} (this version reads {FORMAT})"
    for key in ("environment", "created_at", "migration_version"):
        if not isinstance(manifest.get(key), str):
            return f"{key!r} missing or not a string"
    include = manifest.get("include")
    if not isinstance(include, list) or not all(isinstance(i, str) for i in include):
        return "'include' missing or not a list of paths"
    files = manifest.get("files")
    if not isinstance(files, list):
        return "'files' missing or not a list"
    for record in files:
        if not (
            isinstance(record, dict)
            and isinstance(record.get("path"), str)
            and isinstance(record.get("size"), int)
            and isinstance(record.get("mode"), int)
            and isinstance(record.get("sha256"), str)
            and _HEX64.match(record["sha256"])
        ):
            return f"malformed file record {record!r}"
    directories = manifest.get("directories", [])
    if not isinstance(directories, list) or not all(
        isinstance(d, dict) and isinstance(d.get("path"), str) and isinstance(d.get("mode"), int)
        for d in directories
    ):
        return "'directories' is not a list of {path, mode}"
    return None


def files_by_path(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {record["path"]: record for record in manifest["files"]}
