"""The build state (the Lektor model), in ``.zhuanti-cache/build-state*.sqlite``.

* ``outputs``: every file the last build left in the output folder, with its hash, size and mtime
  (an output edited or removed by hand is made again) and ``dirty`` (its inputs changed while a
  ``--topic`` build kept it as it was: the next full build renders it again);
* ``deps``: key → outputs that read it while they rendered (``builder.deps``), the reverse index
  ``serve`` asks with ``Engine.outputs_for``;
* ``keyvals``: the value every key had when its outputs were made;
* ``files``: the input snapshot (stat signature and content digest of every source file);
* ``meta``: build options, the time of the build and the publish/expire times of the sources.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from builder.deps import LINK_KINDS

SCHEMA = 4
BULK = 1000  # a save of this many outputs or more is a bulk save (a larger page cache)
BULK_CACHE_KIB = 65536


@dataclass
class OutputRecord:
    path: str
    kind: str  # "page" | "file" | "extra" (sitemap, manifest)
    sha256: str
    size: int
    mtime_ns: int
    dirty: bool = False
    warnings: list[str] = field(default_factory=list)
    source: str | None = None  # a copied file: the digest of what it was copied from


@dataclass
class FileSig:
    """An input file as last seen: stat signature and (when needed) its content digest."""

    sig: tuple  # (size, mtime_ns, ino, ctime_ns); ("dir",) for a folder
    digest: str | None = None
    racy: bool = False  # modified too close to when it was seen: the signature alone proves nothing


class BuildState:
    """The build state of one output folder. What every build reads whole (the outputs, the input
    signatures) is also kept in memory once read, for a long-lived engine (serve): the engine holds
    the site lock, so nothing else writes the file meanwhile."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._outputs: dict[str, OutputRecord] | None = None
        self._files: dict[str, FileSig] | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError:
                self.path.unlink(missing_ok=True)  # a damaged state only costs a full rebuild
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None or row[0] != str(SCHEMA):
            for table in ("outputs", "deps", "keyvals", "files", "meta"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
        db.execute("CREATE TABLE IF NOT EXISTS outputs (path TEXT PRIMARY KEY, kind TEXT, sha256 TEXT, size INTEGER,"
                   " mtime_ns INTEGER, dirty INTEGER, warnings TEXT, source TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS deps (key TEXT, path TEXT, PRIMARY KEY (key, path)) WITHOUT ROWID")
        db.execute("CREATE INDEX IF NOT EXISTS deps_path ON deps (path)")
        db.execute("CREATE TABLE IF NOT EXISTS keyvals (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID")
        db.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
                   " ino INTEGER, ctime_ns INTEGER, digest TEXT, racy INTEGER) WITHOUT ROWID")
        db.commit()
        return db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self._outputs = self._files = None

    # ---- reading -------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta"))

    def outputs(self) -> dict[str, OutputRecord]:
        if self._outputs is None:
            self._outputs = {
                r[0]: OutputRecord(r[0], r[1], r[2], r[3], r[4], bool(r[5]), json.loads(r[6]) if r[6] else [], r[7])
                for r in self.db.execute("SELECT path, kind, sha256, size, mtime_ns, dirty, warnings, source"
                                         " FROM outputs")}
        return dict(self._outputs)

    def keyvals(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM keyvals"))

    def keyvals_near(self, pages: Iterable[str], columns: Iterable[str], sources: Iterable[str],
                     folders: Iterable[str]) -> dict[str, str]:
        """The stored keys whose value can change when only the pages ``pages`` (URLs) changed,
        in the columns ``columns`` (URLs), made from the files ``sources`` (bundles: the files in
        ``folders``): the site-wide keys (``s|``, ``t|``, templates, files, media, unknown kinds),
        and of the per-page, per-column, neighbour, link and badge keys only those about them."""
        narrow = ("p|", "c|", "nb|", "l|", "badge|", "jobs|")
        where = " AND ".join("NOT (key >= ? AND key < ?)" for _ in narrow)
        out = dict(self.db.execute(f"SELECT key, value FROM keyvals WHERE {where}",
                                   [b for k in narrow for b in (k, k[:-1] + "}")]))
        top = "\U0010ffff"  # after every character: [x, x + top) are the keys that start with x
        ranges = []
        for url in pages:
            ranges += [(f"p|{url}|", f"p|{url}}}"), (f"badge|{url}", f"badge|{url}")]
        for url in columns:
            ranges += [(f"c|{url}|", f"c|{url}}}"), (f"nb|{url}", f"nb|{url}{top}"), (f"jobs|{url}", f"jobs|{url}")]
        for which in LINK_KINDS:
            ranges += [(f"l|{which}|{src}", f"l|{which}|{src}") for src in sources]
            ranges += [(f"l|{which}|{d}/", f"l|{which}|{d}/{top}") for d in folders]
        for lo, hi in ranges:
            out.update(self.db.execute("SELECT key, value FROM keyvals WHERE key >= ? AND key <= ?", (lo, hi)))
        return out

    def files(self) -> dict[str, FileSig]:
        if self._files is None:
            self._files = {
                r[0]: FileSig(("dir",) if r[1] < 0 else (r[1], r[2], r[3], r[4]), r[5], bool(r[6]))
                for r in self.db.execute("SELECT path, size, mtime_ns, ino, ctime_ns, digest, racy FROM files")}
        return dict(self._files)

    def output_stats(self) -> list[tuple[str, str, int, int, int]]:
        """(path, kind, size, mtime_ns, dirty) of every output: what a build that may have nothing
        to do needs to know (cheaper than ``outputs``)."""
        return self.db.execute("SELECT path, kind, size, mtime_ns, dirty FROM outputs").fetchall()

    def output_warnings(self) -> list[str]:
        return [w for (text,) in self.db.execute("SELECT warnings FROM outputs WHERE warnings IS NOT NULL")
                for w in json.loads(text)]

    def outputs_for(self, keys: Iterable[str]) -> set[str]:
        """The outputs that read any of these keys (the reverse index)."""
        keys = list(keys)
        out: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            out.update(r[0] for r in self.db.execute(
                f"SELECT DISTINCT path FROM deps WHERE key IN ({','.join('?' * len(chunk))})", chunk))
        return out

    def keys_of(self, path: str) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT key FROM deps WHERE path = ?", (path,))}

    # ---- writing -------------------------------------------------------------------------
    def save(self, *, meta: dict[str, str], outputs: dict[str, OutputRecord], written: dict[str, set[str]],
             removed: Iterable[str], keyvals: dict[str, str], files: tuple[dict[str, FileSig], list[str]],
             full: bool, collect: bool) -> None:
        """Record one build. ``outputs``: records new or changed; ``written``: output → the keys it
        read (replacing what it read before); ``files``: (input signatures new or changed, inputs
        gone); ``full``: replace everything (a clean build); ``collect``: drop keys no output reads."""
        db = self.db
        kept_outputs, kept_files = ({}, {}) if full else (self._outputs, self._files)
        self._outputs = self._files = None  # (read again if the transaction fails)
        bulk = full or len(written) > BULK
        if bulk:  # the B-trees of a whole site's dependencies do not fit the default 2 MB page cache
            db.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            with db:
                if full:
                    for table in ("outputs", "deps", "keyvals", "files"):
                        db.execute(f"DELETE FROM {table}")
                    db.execute("DROP INDEX IF EXISTS deps_path")  # made again once every row is in: one sort
                removed = list(removed)
                db.executemany("DELETE FROM outputs WHERE path = ?", [(p,) for p in removed])
                db.executemany("DELETE FROM deps WHERE path = ?", [(p,) for p in removed])
                if not full:
                    db.executemany("DELETE FROM deps WHERE path = ?", [(p,) for p in written])
                db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               [(r.path, r.kind, r.sha256, r.size, r.mtime_ns, int(r.dirty),
                                 json.dumps(r.warnings, ensure_ascii=False) if r.warnings else None, r.source)
                                for r in outputs.values()])
                db.executemany("INSERT INTO deps VALUES (?, ?)", ((k, p) for p, keys in written.items() for k in keys))
                if full:
                    db.execute("CREATE INDEX IF NOT EXISTS deps_path ON deps (path)")
                db.executemany("INSERT OR REPLACE INTO keyvals VALUES (?, ?)", keyvals.items())
                if collect:
                    db.execute("DELETE FROM keyvals WHERE key NOT IN (SELECT key FROM deps)")
                self._save_files(files)
                db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
        finally:
            if bulk:
                db.execute("PRAGMA cache_size = -2000")  # SQLite's default: the memory goes back
        if kept_outputs is not None:
            for p in removed:
                kept_outputs.pop(p, None)
            kept_outputs.update(outputs)
            self._outputs = kept_outputs
        self._files = self._files_after(kept_files, files)

    def save_meta(self, meta: dict[str, str], files: tuple[dict[str, FileSig], list[str]]) -> None:
        kept, self._files = self._files, None
        with self.db:
            self._save_files(files)
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
        self._files = self._files_after(kept, files)

    @staticmethod
    def _files_after(kept: dict[str, FileSig] | None, files: tuple[dict[str, FileSig], list[str]]):
        if kept is None:
            return None
        upserts, gone = files
        for p in gone:
            kept.pop(p, None)
        kept.update(upserts)
        return kept

    def set_meta(self, key: str, value: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _save_files(self, files: tuple[dict[str, FileSig], list[str]]) -> None:
        upserts, gone = files
        self.db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in gone])
        self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [(p, *(f.sig if len(f.sig) == 4 else (-1, 0, 0, 0)), f.digest, int(f.racy))
                             for p, f in upserts.items()])

    def clear(self) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
