"""What the next build needs to update the search index without rewriting it, kept in the build
state's database (``.zhuanti-cache/build-state*.sqlite``, tables ``search_*``): the base's
documents (url → id, record digest), the delta's documents (record or tombstone) and the index
files as written (path → sha256). The files are checked against the build state's outputs on every
build; any disagreement (a killed build, an output edited by hand, a damaged cache) means a full
rebuild of the index, never a wrong one."""

from __future__ import annotations

import json
import sqlite3

from builder.state import BuildState

SCHEMA = "1"
SCHEMA_KEY = "search_schema"
FILES_KEY = "search_files"


class SearchStore:
    def __init__(self, state: BuildState) -> None:
        self.state = state
        self._ready = False

    @property
    def db(self) -> sqlite3.Connection:
        db = self.state.db
        if not self._ready:
            with db:
                row = db.execute("SELECT value FROM meta WHERE key=?", (SCHEMA_KEY,)).fetchone()
                if row is None or row[0] != SCHEMA:  # a new build state, or an older layout of ours
                    db.execute("DROP TABLE IF EXISTS search_base")
                    db.execute("DROP TABLE IF EXISTS search_delta")
                    db.execute("DELETE FROM meta WHERE key=?", (FILES_KEY,))
                    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (SCHEMA_KEY, SCHEMA))
                db.execute("CREATE TABLE IF NOT EXISTS search_base (url TEXT PRIMARY KEY, id INTEGER, digest TEXT)"
                           " WITHOUT ROWID")
                # digest NULL: a tombstone (the page is gone or no longer indexed)
                db.execute("CREATE TABLE IF NOT EXISTS search_delta (url TEXT PRIMARY KEY, digest TEXT, doc TEXT)"
                           " WITHOUT ROWID")
            self._ready = True
        return db

    # ---- reading ---------------------------------------------------------------------------
    def files(self) -> dict[str, str]:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (FILES_KEY,)).fetchone()
        return json.loads(row[0]) if row else {}

    def base(self) -> dict[str, tuple[int, str]]:
        return {u: (i, d) for u, i, d in self.db.execute("SELECT url, id, digest FROM search_base")}

    def delta(self) -> dict[str, tuple[str | None, str | None]]:
        return {u: (d, doc) for u, d, doc in self.db.execute("SELECT url, digest, doc FROM search_delta")}

    # ---- writing ---------------------------------------------------------------------------
    def save(self, files: dict[str, str], base: dict[str, tuple[int, str]] | None,
             delta: dict[str, tuple[str | None, str | None]]) -> None:
        """Record the index as written: its files, the base (None: unchanged), the whole delta."""
        with self.db as db:
            if base is not None:
                db.execute("DELETE FROM search_base")
                db.executemany("INSERT INTO search_base VALUES (?, ?, ?)", [(u, i, d) for u, (i, d) in base.items()])
            db.execute("DELETE FROM search_delta")
            db.executemany("INSERT INTO search_delta VALUES (?, ?, ?)", [(u, d, doc) for u, (d, doc) in delta.items()])
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (FILES_KEY, json.dumps(files, sort_keys=True)))

    def clear(self) -> None:
        with self.db as db:
            db.execute("DELETE FROM search_base")
            db.execute("DELETE FROM search_delta")
            db.execute("DELETE FROM meta WHERE key=?", (FILES_KEY,))
