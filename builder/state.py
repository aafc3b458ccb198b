"""The build state (the Lektor model): for every output, the inputs it read and their digests.

Stored in ``.zhuanti-cache/build-state.sqlite``. An output is reused only when every recorded input
still has the recorded digest and the file in the previous ``public/`` is the one we wrote.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

SCHEMA = 2


@dataclass
class OutputRecord:
    path: str
    deps: dict[str, str]
    sha256: str
    size: int
    mtime_ns: int


class BuildState:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path)
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS outputs (path TEXT PRIMARY KEY, deps TEXT, sha256 TEXT, size INTEGER,"
                   " mtime_ns INTEGER)")
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None or row[0] != str(SCHEMA):
            db.execute("DELETE FROM outputs")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            db.commit()
        return db

    def load(self) -> dict[str, OutputRecord]:
        if not self.path.exists():
            return {}
        try:
            with closing(self._connect()) as db:
                return {r[0]: OutputRecord(r[0], json.loads(r[1]), r[2], r[3], r[4])
                        for r in db.execute("SELECT path, deps, sha256, size, mtime_ns FROM outputs")}
        except (sqlite3.DatabaseError, ValueError):
            return {}  # a damaged state only costs a full rebuild

    def save(self, records: dict[str, OutputRecord]) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM outputs")
            db.executemany("INSERT INTO outputs VALUES (?, ?, ?, ?, ?)",
                           [(r.path, json.dumps(r.deps, sort_keys=True, ensure_ascii=False), r.sha256, r.size,
                             r.mtime_ns) for r in records.values()])

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
