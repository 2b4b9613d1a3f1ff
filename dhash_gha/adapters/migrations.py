"""Data migrations: ``migrations/NNNN_name.py`` run forward or backward on the SQLite store.

A migration file defines ``forward(conn)`` and ``backward(conn)`` and may set
``IRREVERSIBLE = True`` (its backward step would lose data) and
``DESCRIPTION``. Each migration runs in its own SQLite transaction (so it must
not call ``executescript``, which commits on its own); the state file
``migrations/{env}_migration_state.json`` is rewritten atomically after each
one, so after a failure it says exactly what was applied. An applied migration
whose file changed since (checksum) is refused: the database no longer matches
the code that claims to describe it.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from dhash_gha.adapters.atomic import write_json_atomic
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import Clock, iso_utc
from dhash_gha.errors import BadInput, CheckFailed

NONE_APPLIED = "0000"
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.py$")
DATABASE = "dhash.sqlite3"


class IrreversibleMigration(CheckFailed):
    """Going backward would pass a migration that declared its backward step lossy."""

    def __init__(self, version: str, name: str, target: str) -> None:
        super().__init__(
            f"migration {version}_{name} is IRREVERSIBLE: refusing to migrate backward past it "
            f"to {target} (its data would not survive)",
            tip="restore the data from a copy taken before that migration, or roll forward "
            "with a fix; an operator must decide",
        )
        self.version = version
        self.name = name


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    checksum: str

    @property
    def label(self) -> str:
        return f"{self.version}_{self.name}"

    def load(self) -> ModuleType:
        """Import the file without writing ``__pycache__`` (a dry run must change no file)."""
        module = ModuleType(f"dhash_migration_{self.label}")
        module.__file__ = str(self.path)
        try:
            code = compile(self.path.read_bytes(), str(self.path), "exec")
            exec(code, module.__dict__)
        except Exception as exc:
            raise BadInput(
                f"migration {self.path.name} does not import: {type(exc).__name__}: {exc}",
                tip="fix the migration file",
            ) from None
        for step in ("forward", "backward"):
            if not callable(getattr(module, step, None)):
                raise BadInput(
                    f"migration {self.path.name} has no {step}(conn) function",
                    tip="define both forward(conn) and backward(conn)",
                )
        return module


@dataclass(frozen=True)
class Step:
    migration: Migration
    direction: str  # "forward" | "backward"


@dataclass
class MigrationRun:
    direction: str
    from_version: str
    to_version: str
    steps: list[Step] = field(default_factory=list)
    dry_run: bool = False


# --- discovery and state -----------------------------------------------------------------
def discover(ws: Workspace) -> list[Migration]:
    if not ws.migrations_dir.is_dir():
        return []
    found: dict[str, Migration] = {}
    for path in sorted(ws.migrations_dir.glob("*.py")):
        match = FILE_NAME.match(path.name)
        if not match:
            if not path.name.startswith("_"):
                raise BadInput(
                    f"migration file name {path.name!r} is not NNNN_name.py",
                    tip="rename it, e.g. 0003_add_index.py (lower case, digits, underscores)",
                )
            continue
        version, name = match.groups()
        if version == NONE_APPLIED:
            raise BadInput(
                f"{path.name}: version 0000 means 'nothing applied'", tip="start at 0001"
            )
        if version in found:
            raise BadInput(
                f"two migrations have version {version}: {found[version].path.name}, {path.name}",
                tip="give each migration its own number",
            )
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        found[version] = Migration(version, name, path, checksum)
    return [found[v] for v in sorted(found)]


def empty_state(env: str) -> dict[str, Any]:
    return {"environment": env, "version": NONE_APPLIED, "applied": [], "events": []}


def read_state(ws: Workspace, env: str) -> dict[str, Any]:
    path = ws.migration_state(env)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return empty_state(env)
    except (OSError, ValueError) as exc:
        raise BadInput(
            f"migration state {path} is unreadable: {exc}",
            tip="restore it from a backup; do not guess what was applied",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("applied"), list):
        raise BadInput(f"migration state {path} has no 'applied' list", tip="restore it")
    data.setdefault("events", [])
    return data


def current_version(ws: Workspace, env: str) -> str:
    return str(read_state(ws, env).get("version", NONE_APPLIED))


def _write_state(ws: Workspace, env: str, state: dict[str, Any]) -> None:
    write_json_atomic(ws.migration_state(env), state, ensure_ascii=True)


# --- planning (pure) -----------------------------------------------------------------------
def check_applied(migrations: Sequence[Migration], state: dict[str, Any]) -> None:
    """Refuse when an applied migration's file is missing or changed."""
    by_version = {m.version: m for m in migrations}
    for entry in state["applied"]:
        version = str(entry.get("version"))
        migration = by_version.get(version)
        if migration is None:
            raise BadInput(
                f"applied migration {version}_{entry.get('name')} has no file in migrations/",
                tip="restore the migration file that was applied (from git history)",
            )
        if migration.checksum != entry.get("checksum"):
            raise BadInput(
                f"applied migration {migration.path.name} has changed since it was applied "
                f"(checksum {str(entry.get('checksum'))[:12]}… now {migration.checksum[:12]}…)",
                tip="never edit an applied migration: restore the file and add a new migration",
            )


def plan(
    migrations: Sequence[Migration], state: dict[str, Any], direction: str, to: str | None
) -> MigrationRun:
    check_applied(migrations, state)
    applied = [str(e["version"]) for e in state["applied"]]
    current = applied[-1] if applied else NONE_APPLIED
    known = {m.version for m in migrations} | {NONE_APPLIED}
    if to is not None and (not re.fullmatch(r"\d{4}", to) or to not in known):
        raise BadInput(
            f"unknown migration version {to!r}",
            tip=f"use one of: {', '.join(sorted(known))}",
        )
    run = MigrationRun(direction, current, current)
    if direction == "forward":
        target = to or (migrations[-1].version if migrations else NONE_APPLIED)
        if target < current:
            raise BadInput(
                f"--to {target} is below the current version {current} for a forward migration",
                tip="use --type backward to go down",
            )
        run.steps = [
            Step(m, "forward")
            for m in migrations
            if m.version not in applied and m.version <= target
        ]
    elif direction == "backward":
        one_step_back = applied[-2] if len(applied) >= 2 else NONE_APPLIED
        target = one_step_back if to is None else to
        if target > current:
            raise BadInput(
                f"--to {target} is above the current version {current} for a backward migration",
                tip="use --type forward to go up",
            )
        by_version = {m.version: m for m in migrations}
        run.steps = [Step(by_version[v], "backward") for v in reversed(applied) if v > target]
    else:
        raise BadInput(f"unknown migration direction {direction!r}", tip="forward or backward")
    run.to_version = target if run.steps else current
    return run


# --- running (adapter) ---------------------------------------------------------------------
def database_path(ws: Workspace, env: str) -> Path:
    return ws.data_dir(env) / DATABASE


def _run_step(conn: sqlite3.Connection, module: ModuleType, direction: str) -> None:
    conn.execute("BEGIN")
    try:
        getattr(module, direction)(conn)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if conn.in_transaction:
        conn.execute("COMMIT")


def migrate(
    ws: Workspace,
    env: str,
    direction: str,
    *,
    to: str | None = None,
    dry_run: bool = False,
    clock: Clock,
    reporter: Reporter,
    timeout: float | None = None,
) -> MigrationRun:
    """Plan and (unless ``dry_run``) apply; raises CheckFailed at the first failed migration.

    ``timeout`` (seconds per migration) interrupts a migration's SQL when it runs longer
    (SQLite's progress handler); the migration is then rolled back like any failure.
    """
    state = read_state(ws, env)
    state["environment"] = env
    run = plan(discover(ws), state, direction, to)
    run.dry_run = dry_run
    modules = {step.migration.version: step.migration.load() for step in run.steps}
    if direction == "backward":
        for step in run.steps:
            if getattr(modules[step.migration.version], "IRREVERSIBLE", False):
                raise IrreversibleMigration(
                    step.migration.version, step.migration.name, run.to_version
                )
    if not run.steps:
        reporter.info(f"migrations: '{env}' is at {run.from_version}; nothing to do")
        return run
    prefix = "would run" if dry_run else "running"
    for step in run.steps:
        description = getattr(modules[step.migration.version], "DESCRIPTION", "")
        reporter.info(
            f"  {prefix} {step.direction} {step.migration.label}"
            + (f" — {description}" if description else ""),
            event="migration_planned" if dry_run else "migration_start",
            version=step.migration.version,
            direction=step.direction,
        )
    if dry_run:
        return run
    ws.data_dir(env).mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(database_path(ws, env), isolation_level=None)
    try:
        for step in run.steps:
            module = modules[step.migration.version]
            _apply(ws, env, conn, state, step, module, clock, reporter, timeout)
    finally:
        conn.close()
    reporter.info(f"migrations: '{env}' is now at {state['version']}", event="migration_done")
    return run


def _apply(
    ws: Workspace,
    env: str,
    conn: sqlite3.Connection,
    state: dict[str, Any],
    step: Step,
    module: ModuleType,
    clock: Clock,
    reporter: Reporter,
    timeout: float | None,
) -> None:
    migration = step.migration
    started = clock.monotonic()
    deadline = None if timeout is None else started + timeout
    if deadline is not None:
        conn.set_progress_handler(lambda: int(clock.monotonic() > deadline), 10_000)
    try:
        _run_step(conn, module, step.direction)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if deadline is not None and clock.monotonic() > deadline:
            error = f"timed out after {timeout:g}s ({error})"
        state["events"].append(
            {
                "at": iso_utc(clock.now()),
                "event": "failed",
                "direction": step.direction,
                "version": migration.version,
                "name": migration.name,
                "error": error,
            }
        )
        _write_state(ws, env, state)
        reporter.event("migration_failed", "ERROR", version=migration.version, error=error)
        raise CheckFailed(
            f"migration {migration.label} ({step.direction}) failed: {error}; "
            f"the database is at {state['version']} (that migration was rolled back)",
            tip="fix the migration (or the data) and run the migration again",
        ) from None
    if step.direction == "forward":
        state["applied"].append(
            {
                "version": migration.version,
                "name": migration.name,
                "checksum": migration.checksum,
                "applied_at": iso_utc(clock.now()),
            }
        )
    else:
        state["applied"] = [e for e in state["applied"] if e["version"] != migration.version]
    state["version"] = state["applied"][-1]["version"] if state["applied"] else NONE_APPLIED
    seconds = clock.monotonic() - started
    state["events"].append(
        {
            "at": iso_utc(clock.now()),
            "event": step.direction,
            "version": migration.version,
            "name": migration.name,
            "seconds": round(seconds, 3),
        }
    )
    _write_state(ws, env, state)
    reporter.event(
        "migration_applied", version=migration.version, direction=step.direction, seconds=seconds
    )


def migrate_to(
    ws: Workspace,
    env: str,
    target: str,
    *,
    dry_run: bool = False,
    clock: Clock,
    reporter: Reporter,
    timeout: float | None = None,
) -> MigrationRun:
    """Bring the database to ``target`` whichever way that is (used by rollback)."""
    current = current_version(ws, env)
    direction = "backward" if target < current else "forward"
    return migrate(
        ws,
        env,
        direction,
        to=target,
        dry_run=dry_run,
        clock=clock,
        reporter=reporter,
        timeout=timeout,
    )


def command_timeout(config: Mapping[str, Any]) -> float:
    """The environment's per-command (and per-migration) timeout in seconds."""
    return float(config["component"].get("command_timeout_seconds", 600))
