"""Add the media kind column (image / video frame) and an index on the hash.

Backward rebuilds the table without the column (instead of ALTER TABLE DROP
COLUMN), so it works on every SQLite a Python 3.10+ build ships. The
migration runner owns the transaction: these steps never commit.
"""

from __future__ import annotations

import sqlite3

DESCRIPTION = "add hashes.media_kind ('image' or 'video') and an index on hashes.dhash"


def _columns(conn: sqlite3.Connection) -> set[str]:
    return {row[1] for row in conn.execute("PRAGMA table_info(hashes)")}


def forward(conn: sqlite3.Connection) -> None:
    if "media_kind" not in _columns(conn):
        conn.execute("ALTER TABLE hashes ADD COLUMN media_kind TEXT NOT NULL DEFAULT 'image'")
    conn.execute("CREATE INDEX IF NOT EXISTS idx_hashes_dhash ON hashes (dhash)")


def backward(conn: sqlite3.Connection) -> None:
    conn.execute("DROP INDEX IF EXISTS idx_hashes_dhash")
    if "media_kind" not in _columns(conn):
        return
    conn.execute(
        "CREATE TABLE hashes_0001 ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " dhash TEXT NOT NULL CHECK (length(dhash) = 16),"
        " source TEXT,"
        " created_at TEXT NOT NULL"
        ")"
    )
    conn.execute(
        "INSERT INTO hashes_0001 (id, dhash, source, created_at)"
        " SELECT id, dhash, source, created_at FROM hashes"
    )
    conn.execute("DROP TABLE hashes")
    conn.execute("ALTER TABLE hashes_0001 RENAME TO hashes")
