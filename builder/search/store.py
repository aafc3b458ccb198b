"""What the next build needs to update the search index without rewriting it, in
``.zhuanti-cache/search-index.sqlite``: the base's documents (url → id, record digest), the delta's
documents (record or tombstone) and the index files as written (path → sha256). The files are
checked against the build state on every build; any disagreement (a killed build, an output edited
by hand, a damaged cache) means a full rebuild of the index, never a wrong one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SCHEMA = "1"


class SearchStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError:
                self.path.unlink(missing_ok=True)  # a damaged cache costs one full index
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None or row[0] != SCHEMA:
            for table in ("base", "delta", "meta"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
        db.execute("CREATE TABLE IF NOT EXISTS base (url TEXT PRIMARY KEY, id INTEGER, digest TEXT) WITHOUT ROWID")
        # digest NULL: a tombstone (the page is gone or no longer indexed)
        db.execute("CREATE TABLE IF NOT EXISTS delta (url TEXT PRIMARY KEY, digest TEXT, doc TEXT) WITHOUT ROWID")
        db.commit()
        return db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # ---- reading ---------------------------------------------------------------------------
    def files(self) -> dict[str, str]:
        row = self.db.execute("SELECT value FROM meta WHERE key='files'").fetchone()
        return json.loads(row[0]) if row else {}

    def base(self) -> dict[str, tuple[int, str]]:
        return {u: (i, d) for u, i, d in self.db.execute("SELECT url, id, digest FROM base")}

    def delta(self) -> dict[str, tuple[str | None, str | None]]:
        return {u: (d, doc) for u, d, doc in self.db.execute("SELECT url, digest, doc FROM delta")}

    # ---- writing ---------------------------------------------------------------------------
    def save(self, files: dict[str, str], base: dict[str, tuple[int, str]] | None,
             delta: dict[str, tuple[str | None, str | None]]) -> None:
        """Record the index as written: its files, the base (None: unchanged), the whole delta."""
        with self.db as db:
            if base is not None:
                db.execute("DELETE FROM base")
                db.executemany("INSERT INTO base VALUES (?, ?, ?)", [(u, i, d) for u, (i, d) in base.items()])
            db.execute("DELETE FROM delta")
            db.executemany("INSERT INTO delta VALUES (?, ?, ?)", [(u, d, doc) for u, (d, doc) in delta.items()])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('files', ?)", (json.dumps(files, sort_keys=True),))

    def clear(self) -> None:
        with self.db as db:
            for table in ("base", "delta"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key='files'")
