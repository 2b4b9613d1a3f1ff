"""Create the hash library table.

The migration runner owns the transaction: these steps never commit.
"""

from __future__ import annotations

import sqlite3

DESCRIPTION = "create the hashes table (one row per known image or video frame)"


def forward(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS hashes ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " dhash TEXT NOT NULL CHECK (length(dhash) = 16),"
        " source TEXT,"
        " created_at TEXT NOT NULL"
        ")"
    )


def backward(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS hashes")
