"""Migrations forward/backward on a real SQLite file; the service reports an unmigrated schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from component_service import (
    MIGRATIONS,
    Service,
    apply_migrations,
    image_with_hash,
    migration_module,
)

NOT_MIGRATED = "database schema not migrated (run dhash-gha migrate)"


def _columns(conn: sqlite3.Connection) -> list[str]:
    return [row[1] for row in conn.execute("PRAGMA table_info(hashes)")]


def _indexes(conn: sqlite3.Connection) -> set[str]:
    return {row[1] for row in conn.execute("PRAGMA index_list(hashes)")}


def test_each_migration_has_the_contract(example_workspace: Path) -> None:
    files = sorted(
        p.name for p in (example_workspace / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py")
    )
    assert files == [f"{name}.py" for name in MIGRATIONS]
    for name in MIGRATIONS:
        module = migration_module(example_workspace, name)
        assert callable(module.forward) and callable(module.backward)
        assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION
        assert not getattr(module, "IRREVERSIBLE", False)


def test_forward_then_backward_keeps_the_rows(example_workspace: Path, tmp_path: Path) -> None:
    first = migration_module(example_workspace, MIGRATIONS[0])
    second = migration_module(example_workspace, MIGRATIONS[1])
    conn = sqlite3.connect(tmp_path / "dhash.sqlite3")
    try:
        first.forward(conn)
        conn.commit()
        assert _columns(conn) == ["id", "dhash", "source", "created_at"]
        conn.execute(
            "INSERT INTO hashes (dhash, source, created_at) VALUES ('00000000000000ff', 'a', 't')"
        )
        conn.commit()
        second.forward(conn)
        conn.commit()
        assert _columns(conn)[-1] == "media_kind"
        assert "idx_hashes_dhash" in _indexes(conn)
        assert conn.execute("SELECT media_kind FROM hashes").fetchall() == [("image",)]
        second.forward(conn)  # re-running is harmless
        conn.commit()
        conn.execute(
            "INSERT INTO hashes (dhash, source, created_at, media_kind) VALUES ('ff00000000000000', 'v', 't', 'video')"
        )
        conn.commit()

        second.backward(conn)
        conn.commit()
        assert _columns(conn) == ["id", "dhash", "source", "created_at"]
        assert "idx_hashes_dhash" not in _indexes(conn)
        assert conn.execute("SELECT id, dhash FROM hashes ORDER BY id").fetchall() == [
            (1, "00000000000000ff"),
            (2, "ff00000000000000"),
        ]
        second.forward(conn)
        conn.commit()
        first_backward_target = conn.execute("SELECT COUNT(*) FROM hashes").fetchone()
        assert first_backward_target == (2,)
        second.backward(conn)
        first.backward(conn)
        conn.commit()
        assert _columns(conn) == []
        with pytest.raises(sqlite3.IntegrityError):
            first.forward(conn)
            conn.execute(
                "INSERT INTO hashes (dhash, source, created_at) VALUES ('short', 'a', 't')"
            )
    finally:
        conn.close()


@pytest.mark.slow
def test_health_is_degraded_until_migrated_then_ok(example_workspace: Path) -> None:
    service = Service(example_workspace, "staging")
    try:
        reply = service.health()
        assert reply.status_code == 503
        assert reply.json()["status"] == "degraded"
        assert reply.json()["reason"] == NOT_MIGRATED
        refused = service.post(image_with_hash(5))
        assert refused.status_code == 503 and NOT_MIGRATED in refused.json()["error"]
        assert not (example_workspace / "data" / "staging" / "dhash.sqlite3").exists()

        apply_migrations(example_workspace, "staging", MIGRATIONS[:1])
        half = service.health()
        assert half.status_code == 503 and "media_kind" in half.json()["detail"]

        apply_migrations(example_workspace, "staging", MIGRATIONS[1:])
        assert service.health().status_code == 200
        assert service.post(image_with_hash(5)).json()["result"] == "new"
        assert "schema" in service.log_text()
    finally:
        service.stop()


def test_a_locked_database_degrades_health_instead_of_crashing(example_workspace: Path) -> None:
    import logging

    from dhash_app.service import HashService, MediaItem
    from dhash_app.settings import load_settings
    from dhash_app.store import HashStore

    database = apply_migrations(example_workspace, "staging")
    settings = load_settings(example_workspace, "staging", {})
    service = HashService(settings, logger=logging.getLogger("test.locked"))
    service.store = HashStore(database, busy_timeout=0.05)
    assert service.health()[0] == 200
    service.store.close()
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # what a long migration holds
        status, body = service.health()
        assert status == 503 and body["reason"].startswith(
            "database unavailable: database is locked"
        )
        outcome = service.process(
            MediaItem(kind="image", source="t", data=image_with_hash(3)), "r1"
        )
        assert outcome.status == 503 and outcome.body["code"] == "database"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert service.health()[0] == 200
    service.stop()
