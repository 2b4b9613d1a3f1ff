"""Helpers for the backup tests: a small workspace, tree snapshots, hand-built archives."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import warnings
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.archive.manifest import MANIFEST_NAME
from dhash_gha.core.clock import FakeClock

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPO / "examples" / "dhash-app" / "config"
START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def small_workspace(root: Path, *, backup_section: dict[str, Any] | None = None) -> Workspace:
    """A workspace with the example configs and a small src/ tree (fast to back up)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLE_CONFIG, root / "config")
    if backup_section is not None:
        for env in ("production", "staging"):
            path = root / "config" / env / "dhash.json"
            data = json.loads(path.read_text(encoding="utf-8"))
            data["backup"].update(backup_section)
            path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    src = root / "src" / "dhash_app"
    src.mkdir(parents=True)
    (src / "__init__.py").write_text("VERSION = 'A'\n", encoding="utf-8")
    (src / "server.py").write_text("print('hello')\n" * 200, encoding="utf-8")
    script = src / "run.sh"
    script.write_text("#!/bin/sh\necho run\n", encoding="utf-8")
    script.chmod(0o755)
    (root / "src" / "media").mkdir()
    (root / "src" / "media" / "photo.jpg").write_bytes(os.urandom(3000))
    (root / "src" / "empty").mkdir()
    (root / "src" / "ünïcødé ñame.txt").write_text("unicode ✓\n", encoding="utf-8")
    (root / "src" / "__pycache__").mkdir()
    (root / "src" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"cache")
    deploy = root / "deployments" / "production"
    deploy.mkdir(parents=True)
    (deploy / "current_release.json").write_text('{"release_id": "r1"}\n', encoding="utf-8")
    (deploy / "dhash.pid").write_text("12345\n", encoding="utf-8")
    return Workspace.at(root)


def quiet_reporter(clock: FakeClock | None = None) -> Reporter:
    return Reporter({}, clock=clock or FakeClock(START), quiet=True)


def snapshot(root: Path, *, skip: tuple[str, ...] = ("logs",)) -> dict[str, Any]:
    """Every path under ``root`` with its kind, mode and content hash."""
    found: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        if rel_dir.split("/")[0] in skip:
            continue
        for name in dirnames:
            path = Path(dirpath) / name
            found[(Path(rel_dir) / name).as_posix()] = ("dir", stat.S_IMODE(path.lstat().st_mode))
        for name in filenames:
            path = Path(dirpath) / name
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[(Path(rel_dir) / name).as_posix()] = (
                "file",
                stat.S_IMODE(path.lstat().st_mode),
                digest,
            )
    return found


def tree_of(
    root: Path, items: tuple[str, ...] = ("src", "config", "deployments")
) -> dict[str, Any]:
    snap = snapshot(root)
    return {k: v for k, v in snap.items() if k.split("/")[0] in items}


def write_sidecar(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    Workspace.sidecar(path).write_text(f"{digest}  backups/{path.name}\n", encoding="ascii")


def manifest_for(files: dict[str, bytes], env: str = "production") -> dict[str, Any]:
    return {
        "format": 1,
        "environment": env,
        "created_at": "2026-03-01T12:00:00Z",
        "tool_version": "0",
        "git_commit": None,
        "migration_version": "0000",
        "include": ["src", "config", "deployments"],
        "exclude": [],
        "totals": {"files": len(files), "bytes": sum(len(v) for v in files.values())},
        "directories": [],
        "files": [
            {"path": k, "size": len(v), "mode": 0o644, "sha256": hashlib.sha256(v).hexdigest()}
            for k, v in files.items()
        ],
    }


def hostile_zip(
    ws: Workspace,
    members: list[tuple[zipfile.ZipInfo | str, bytes]],
    *,
    name: str = "dhash_production_20260301_110000.zip",
    manifest: dict[str, Any] | None = None,
) -> Path:
    """A zip with a sound manifest and sidecar around the given (hostile) members."""
    ws.backups_dir.mkdir(exist_ok=True)
    path = ws.backups_dir / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point of some tests
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, data in members:
                archive.writestr(info, data)
            plain = {
                (i.filename if isinstance(i, zipfile.ZipInfo) else i): d
                for i, d in members
                if not (i.filename if isinstance(i, zipfile.ZipInfo) else i).endswith("/")
            }
            archive.writestr(
                MANIFEST_NAME, json.dumps(manifest or manifest_for(plain)).encode("utf-8")
            )
    write_sidecar(path)
    return path
