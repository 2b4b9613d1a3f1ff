"""Swapping restored trees into place by renames, with a journal so a re-run completes it.

Layout inside the staging directory ``.dhash-restore-<ts>/`` (in the
workspace root, so every rename stays on one file system):

    new/<item>      the extracted tree, waiting to be swapped in
    old/<item>      the replaced tree, after it was moved out
    manifest.json   what is being restored

The journal (``.dhash-state/restore_journal.json``) is written once, before
the first rename, and removed after the last one. Each step is a single
rename whose effect can be recognised on disk, so completing a journal is
idempotent: for each item, move the current tree to ``old/`` unless it is
already there, then move ``new/`` into place unless it already is. An
interruption leaves every item either old or new (an item between its two
renames is absent until the re-run), never a mixture of files.

Windows refuses to rename a directory while a process holds a file in it
open: stop the component before a restore (rollback does), or re-run.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dhash_gha.adapters.archive.publish import fsync_dir, write_atomic
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.archive.entries import name_problem
from dhash_gha.errors import CheckFailed

JOURNAL_VERSION = 1
STAGING_PREFIX = ".dhash-restore-"
Fault = Callable[[str], None]


@dataclass(frozen=True)
class Journal:
    staging: str  # directory name under the workspace root
    items: list[dict[str, Any]]  # {"path": "src", "present": true}
    source: str
    pre_rollback: str
    environment: str

    def as_json(self) -> bytes:
        data = {"version": JOURNAL_VERSION, **self.__dict__}
        return (json.dumps(data, indent=1) + "\n").encode("utf-8")

    @classmethod
    def load(cls, path: Path) -> Journal:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.pop("version") != JOURNAL_VERSION:
                raise ValueError("unknown journal version")
            journal = cls(**data)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise CheckFailed(
                f"unfinished restore journal {path} is unreadable: {exc}",
                tip=f"inspect {path} and the .dhash-restore-* directory by hand",
            ) from None
        if not journal.staging.startswith(STAGING_PREFIX) or name_problem(journal.staging):
            raise CheckFailed(f"restore journal {path} names an unexpected staging directory")
        for item in journal.items:
            if not isinstance(item.get("path"), str) or name_problem(item["path"]):
                raise CheckFailed(f"restore journal {path} names an unsafe item {item!r}")
        return journal


def _path(root: Path, item: str) -> Path:
    return root.joinpath(*item.split("/"))


def _rename(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
    except OSError as exc:
        raise CheckFailed(
            f"cannot move {source} to {target}: {exc}",
            tip="on Windows a directory cannot be moved while a program has a file in it open: "
            "stop the component, then run the restore (or rollback) again to complete it",
        ) from None
    fsync_dir(target.parent)
    fsync_dir(source.parent)


def write_journal(ws: Workspace, journal: Journal) -> None:
    ws.restore_journal.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(ws.restore_journal, journal.as_json())


def complete(ws: Workspace, journal: Journal, fault: Fault | None = None) -> None:
    """Run (or finish) the swap a journal describes, then clean up."""
    staging = ws.root / journal.staging
    for entry in journal.items:
        item = entry["path"]
        current = _path(ws.root, item)
        new = _path(staging / "new", item)
        old = _path(staging / "old", item)
        swapped_in = entry["present"] and not os.path.lexists(new)
        if not swapped_in and os.path.lexists(current) and not os.path.lexists(old):
            _rename(current, old)
            if fault:
                fault(f"out:{item}")
        elif not swapped_in and os.path.lexists(current):
            raise CheckFailed(
                f"restore of {item!r} cannot continue: {current} exists again, and the tree it "
                f"replaces is already in {old}",
                tip=f"move {current} aside by hand, then run the restore again",
            )
        if entry["present"] and os.path.lexists(new):
            _rename(new, current)
            if fault:
                fault(f"in:{item}")
    ws.restore_journal.unlink()
    fsync_dir(ws.restore_journal.parent)
    if fault:
        fault("committed")
    remove_tree(staging)


def remove_tree(path: Path) -> None:
    """Delete a staging tree, including read-only files and directories."""

    def make_writable(function: Any, target: str, _exc: Any) -> None:
        parent = os.path.dirname(target)
        os.chmod(parent, stat.S_IRWXU)
        if os.path.isdir(target) and not os.path.islink(target):
            os.chmod(target, stat.S_IRWXU)
        function(target)

    if not os.path.lexists(path):
        return
    if os.path.islink(path):  # never through a link: rmtree's error hook would chmod its parent
        os.unlink(path)
        return
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=make_writable)
    else:
        shutil.rmtree(path, onerror=make_writable)


def stale_staging(ws: Workspace) -> list[Path]:
    """Staging directories left by an interrupted extraction.

    Called only once any pending journal has been completed, so none is in use.
    """
    return sorted(
        p
        for p in ws.root.iterdir()
        if p.name.startswith(STAGING_PREFIX) and p.is_dir() and not p.is_symlink()
    )
