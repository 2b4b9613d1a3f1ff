"""The hash library in SQLite: ``data/{env}/dhash.sqlite3``.

The schema belongs to the migrations in ``migrations/``; this module never
creates or changes it. It opens the file read-write without creating it, and
reports "not migrated" when the tables or columns it needs are missing.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from dhash_app.hashing import hamming, to_hex

REQUIRED_COLUMNS = {"id", "dhash", "source", "created_at", "media_kind"}
NOT_MIGRATED = "database schema not migrated (run dhash-gha migrate)"


class SchemaNotMigrated(Exception):
    """The database is missing, or its schema is older than this release needs."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"{NOT_MIGRATED}: {detail}")
        self.detail = detail


@dataclass(frozen=True)
class Neighbour:
    id: int
    dhash: str
    distance: int
    source: str | None


def _hamming_hex(stored: str, probe: str) -> int:
    # Hashes travel as hex text: a 64-bit unsigned value does not fit SQLite's signed INTEGER.
    return hamming(int(stored, 16), int(probe, 16))


class HashStore:
    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout  # seconds to wait for a lock held by a migration
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            if not self.path.is_file():
                raise SchemaNotMigrated(f"{self.path} does not exist")
            uri = self.path.resolve().as_uri() + "?mode=rw"
            conn = sqlite3.connect(
                uri, uri=True, check_same_thread=False, timeout=self.busy_timeout
            )
            conn.create_function("hamming_hex", 2, _hamming_hex, deterministic=True)
            self._conn = conn
        return self._conn

    def check_schema(self) -> None:
        """Raise SchemaNotMigrated unless the ``hashes`` table has every needed column."""
        with self._lock:
            self._check_locked()

    def _check_locked(self) -> None:
        conn = self._connection()
        columns = {row[1] for row in conn.execute("PRAGMA table_info(hashes)")}
        if not columns:
            raise SchemaNotMigrated("table 'hashes' does not exist")
        missing = sorted(REQUIRED_COLUMNS - columns)
        if missing:
            raise SchemaNotMigrated(f"table 'hashes' lacks column(s) {', '.join(missing)}")

    def nearest(self, value: int, limit: int = 3) -> list[Neighbour]:
        with self._lock:
            self._check_locked()
            rows = self._connection().execute(
                "SELECT id, dhash, hamming_hex(dhash, ?) AS distance, source FROM hashes "
                "ORDER BY distance, id LIMIT ?",
                (to_hex(value), limit),
            )
            return [Neighbour(int(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows]

    def add(self, value: int, *, source: str | None, kind: str, created_at: str) -> int:
        with self._lock:
            self._check_locked()
            conn = self._connection()
            with conn:
                cursor = conn.execute(
                    "INSERT INTO hashes (dhash, source, created_at, media_kind) VALUES (?, ?, ?, ?)",
                    (to_hex(value), source, created_at, kind),
                )
            return int(cursor.lastrowid or 0)

    def count(self) -> int:
        with self._lock:
            self._check_locked()
            row = self._connection().execute("SELECT COUNT(*) FROM hashes").fetchone()
            return int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
