"""Finding what a backup holds: the include set minus the exclude patterns."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dhash_gha.adapters.archive.pack import SourceFile
from dhash_gha.adapters.archive.swap import STAGING_PREFIX
from dhash_gha.core.archive.entries import name_problem
from dhash_gha.core.archive.patterns import excluded
from dhash_gha.errors import BadInput


@dataclass
class Tree:
    directories: list[tuple[str, int, float]] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


# Top-level directories a restore must never swap: a restore replaces each include item
# wholesale, so listing one of these would let a rollback erase audit records (logs,
# notifications, incidents, deploy history), the backups themselves, or the migration
# state and database that the rollback's migration step works on.
RESERVED_TOP_LEVEL = {
    "logs": "command and service logs",
    "notifications": "the notification audit",
    "incidents": "incident records",
    ".dhash-state": "deploy history, locks and the restore journal",
    "backups": "the backups themselves",
    "rollbacks": "pre-rollback archives",
    "migrations": "migration files and state (a rollback migrates them instead)",
    "data": "the database and queues (a rollback migrates them instead)",
}


def _reserved(item: str) -> str | None:
    top = item.split("/")[0]
    if top.startswith(STAGING_PREFIX):
        return "restore staging directories"
    return RESERVED_TOP_LEVEL.get(top)


def check_include(include: Sequence[str]) -> list[str]:
    """Include items as clean relative paths; overlapping and reserved items are refused."""
    items = [item.strip("/") for item in include]
    for item in items:
        problem = name_problem(item)
        if problem:
            raise BadInput(
                f"backup.include item {item!r}: {problem}",
                tip="list paths relative to the workspace root, e.g. src, config, deployments",
            )
        holds = _reserved(item)
        if holds:
            raise BadInput(
                f"backup.include item {item!r} holds {holds}, which a restore must never "
                "replace (no rollback may erase them)",
                tip=f"remove {item!r} from backup.include in config/ENV/dhash.json",
            )
    for item in items:
        for other in items:
            if item != other and other.startswith(item + "/"):
                raise BadInput(
                    f"backup.include items {item!r} and {other!r} overlap",
                    tip=f"keep only {item!r}",
                )
    return items


def _refuse(rel: str, why: str) -> BadInput:
    return BadInput(
        f"cannot back up {rel!r}: {why}",
        tip="remove or rename it, or add a pattern for it to backup.exclude in "
        "config/ENV/dhash.json",
    )


def scan(root: Path, include: Sequence[str], exclude: Sequence[str]) -> Tree:
    tree = Tree()
    for item in include:
        path = root.joinpath(*item.split("/"))
        try:
            info = path.lstat()
        except FileNotFoundError:
            tree.missing.append(item)
            continue
        _add(tree, path, item, info, exclude)
    tree.files.sort(key=lambda f: f.rel)
    return tree


def _add(tree: Tree, path: Path, rel: str, info: os.stat_result, exclude: Sequence[str]) -> None:
    if excluded(rel, exclude):
        return
    problem = name_problem(rel)
    if problem:
        raise _refuse(rel, problem)
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(rel, "it is a symbolic link (backups hold only files and directories)")
    if stat.S_ISREG(info.st_mode):
        tree.files.append(SourceFile(rel, path, info.st_size, mode, info.st_mtime))
        return
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse(rel, "it is a device, socket or pipe")
    tree.directories.append((rel, mode, info.st_mtime))
    with os.scandir(path) as listing:
        children = sorted(listing, key=lambda e: e.name)
    for child in children:
        _add(
            tree,
            Path(child.path),
            f"{rel}/{child.name}",
            child.stat(follow_symlinks=False),
            exclude,
        )
