"""Migrations on the real SQLite store of the example workspace."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dhash_gha.adapters.migrations import IrreversibleMigration, database_path, migrate, read_state
from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.core.clock import FakeClock
from dhash_gha.errors import BadInput, CheckFailed


def _columns(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[1] for row in conn.execute("PRAGMA table_info(hashes)")}


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


@pytest.fixture
def ws(example_workspace: Path) -> Workspace:
    return Workspace.at(example_workspace)


def _reporter() -> Reporter:
    import io

    return Reporter({}, stream=io.StringIO(), err_stream=io.StringIO())


def test_forward_backward_round_trip_keeps_rows(ws: Workspace) -> None:
    clock = FakeClock()
    migrate(ws, "staging", "forward", clock=clock, reporter=_reporter())
    state = read_state(ws, "staging")
    assert state["version"] == "0002"
    assert [e["version"] for e in state["applied"]] == ["0001", "0002"]
    assert all(len(e["checksum"]) == 64 for e in state["applied"])
    db = database_path(ws, "staging")
    assert "media_kind" in _columns(db)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO hashes (dhash, source, created_at, media_kind) VALUES (?, ?, ?, ?)",
            ("0123456789abcdef", "a.png", "2026-01-01T00:00:00Z", "image"),
        )
    migrate(ws, "staging", "backward", clock=clock, reporter=_reporter())
    assert read_state(ws, "staging")["version"] == "0001"
    assert "media_kind" not in _columns(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT dhash FROM hashes").fetchall() == [("0123456789abcdef",)]
    migrate(ws, "staging", "backward", to="0000", clock=clock, reporter=_reporter())
    assert read_state(ws, "staging")["version"] == "0000"
    assert "hashes" not in _tables(db)
    migrate(ws, "staging", "forward", to="0001", clock=clock, reporter=_reporter())
    assert read_state(ws, "staging")["version"] == "0001"


def test_changed_applied_migration_is_refused(ws: Workspace) -> None:
    migrate(ws, "staging", "forward", clock=FakeClock(), reporter=_reporter())
    before = ws.migration_state("staging").read_bytes()
    path = next(ws.migrations_dir.glob("0001_*.py"))
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    for direction in ("forward", "backward"):
        with pytest.raises(BadInput, match=r"0001_.*has changed since it was applied"):
            migrate(ws, "staging", direction, clock=FakeClock(), reporter=_reporter())
    assert ws.migration_state("staging").read_bytes() == before


def test_failed_migration_stops_and_state_says_what_was_applied(ws: Workspace) -> None:
    (ws.migrations_dir / "0003_broken.py").write_text(
        "def forward(conn):\n"
        "    conn.execute('CREATE TABLE half (x)')\n"
        "    raise RuntimeError('boom')\n"
        "def backward(conn):\n    pass\n",
        encoding="utf-8",
    )
    (ws.migrations_dir / "0004_never.py").write_text(
        "def forward(conn):\n    conn.execute('CREATE TABLE never (x)')\n"
        "def backward(conn):\n    pass\n",
        encoding="utf-8",
    )
    with pytest.raises(CheckFailed, match=r"0003_broken.*boom.*database is at 0002"):
        migrate(ws, "staging", "forward", clock=FakeClock(), reporter=_reporter())
    state = json.loads(ws.migration_state("staging").read_text(encoding="utf-8"))
    assert state["version"] == "0002"
    assert [e["version"] for e in state["applied"]] == ["0001", "0002"]
    assert state["events"][-1]["event"] == "failed" and state["events"][-1]["version"] == "0003"
    tables = _tables(database_path(ws, "staging"))
    assert "half" not in tables and "never" not in tables  # its transaction was rolled back


def test_irreversible_migration_refuses_backward(ws: Workspace) -> None:
    (ws.migrations_dir / "0003_drop_source.py").write_text(
        "IRREVERSIBLE = True\n"
        "def forward(conn):\n    conn.execute('CREATE TABLE t3 (x)')\n"
        "def backward(conn):\n    conn.execute('DROP TABLE t3')\n",
        encoding="utf-8",
    )
    migrate(ws, "staging", "forward", clock=FakeClock(), reporter=_reporter())
    with pytest.raises(IrreversibleMigration, match="0003_drop_source is IRREVERSIBLE"):
        migrate(ws, "staging", "backward", to="0001", clock=FakeClock(), reporter=_reporter())
    assert read_state(ws, "staging")["version"] == "0003"


def test_dry_run_writes_nothing(ws: Workspace, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(
        "--root", str(ws.root), "migrate", "--env", "staging", "--type", "forward", "--dry-run"
    )
    assert code == 0
    assert "would run forward 0001_create_hashes" in out
    assert not ws.migration_state("staging").exists()
    assert not ws.data_dir("staging").exists()
    assert not list(ws.migrations_dir.glob("__pycache__"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--type", "forward", "--to", "9999"], "unknown migration version '9999'"),
        (["--type", "backward", "--to", "0002"], "above the current version 0000"),
        (["--type", "sideways"], "invalid choice"),
    ],
)
def test_bad_input(ws: Workspace, run_cli, argv: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("--root", str(ws.root), "migrate", "--env", "staging", *argv)
    assert code == 2
    assert message in err


def test_bad_file_name_refused(ws: Workspace) -> None:
    (ws.migrations_dir / "3_oops.py").write_text("", encoding="utf-8")
    with pytest.raises(BadInput, match=r"not NNNN_name.py"):
        migrate(ws, "staging", "forward", clock=FakeClock(), reporter=_reporter())


def test_a_migration_running_past_its_timeout_is_interrupted_and_rolled_back(
    ws: Workspace,
) -> None:
    from dhash_gha.adapters.clock import SystemClock

    (ws.migrations_dir / "0003_endless.py").write_text(
        "def forward(conn):\n"
        "    conn.execute('CREATE TABLE endless (x)')\n"
        "    conn.execute('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT count(*) FROM c').fetchall()\n"
        "def backward(conn):\n    pass\n",
        encoding="utf-8",
    )
    with pytest.raises(CheckFailed, match=r"0003_endless \(forward\) failed: timed out after 0.5s"):
        migrate(ws, "staging", "forward", clock=SystemClock(), reporter=_reporter(), timeout=0.5)
    state = read_state(ws, "staging")
    assert state["version"] == "0002" and state["events"][-1]["event"] == "failed"
    assert "endless" not in _tables(database_path(ws, "staging"))
