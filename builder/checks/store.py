"""The record of check runs (sqlite in the cache folder): the publish gate asks it for the last
verdict on a build, the HTML report draws the trend across runs from it.

Where it lives: ``<site root>/.zhuanti-cache/checks.sqlite`` when the checked folder belongs to a
zhuanti site; for any other folder of HTML, ``$XDG_CACHE_HOME/zhuanti/checks.sqlite`` (default
``~/.cache/zhuanti``), so checking an export never writes into or beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from builder.checks.base import CheckResult
from builder.manifest import manifest_path, sha256_file

DB_NAME = "checks.sqlite"
_SCHEMA = 1
_CREATE = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,            -- UTC, ISO 8601
    folder TEXT NOT NULL,          -- resolved path of the checked folder
    pages INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    infos INTEGER NOT NULL,
    by_rule TEXT NOT NULL,         -- JSON object rule → count
    verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
    fail_on TEXT NOT NULL,
    manifest_sha TEXT,             -- sha256 of <folder>/.zhuanti/manifest.json, NULL for foreign HTML
    seconds REAL NOT NULL,
    options TEXT NOT NULL DEFAULT '{}'  -- JSON: external, browser
);
CREATE INDEX IF NOT EXISTS runs_manifest ON runs (manifest_sha, id);
CREATE INDEX IF NOT EXISTS runs_folder ON runs (folder, id);
"""


def user_cache_dir() -> Path:
    """The cache for folders that are not part of a zhuanti site."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zhuanti"


def manifest_sha(folder: Path) -> str | None:
    """sha256 of the build manifest in ``folder`` (what identifies a build), None when absent."""
    path = manifest_path(folder)
    try:
        return sha256_file(path) if path.is_file() else None
    except OSError:
        return None


def _connect(cache_dir: Path, *, create: bool) -> sqlite3.Connection | None:
    path = cache_dir / DB_NAME
    if not create and not path.is_file():
        return None
    if create:
        cache_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30)
    db.row_factory = sqlite3.Row
    if create and db.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA:
        db.executescript(_CREATE)
        db.execute(f"PRAGMA user_version = {_SCHEMA}")
        db.commit()
    return db


def record_run(cache_dir: Path, result: CheckResult, *, folder: Path, verdict: str, fail_on: str,
               manifest_sha: str | None, seconds: float, options: dict | None = None,
               when: dt.datetime | None = None) -> int:
    """Store one run; returns its id. Raises sqlite3.Error / OSError when the cache is not writable."""
    if verdict not in ("pass", "fail"):
        raise ValueError(f"verdict must be 'pass' or 'fail', not {verdict!r}")
    summary = result.summary()
    when = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    with closing(_connect(cache_dir, create=True)) as db, db:
        cur = db.execute(
            "INSERT INTO runs (time, folder, pages, errors, warnings, infos, by_rule, verdict, fail_on,"
            " manifest_sha, seconds, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (when.isoformat(timespec="seconds"), str(Path(folder).resolve()), result.pages,
             summary["errors"], summary["warnings"], result.count("info"),
             json.dumps(summary["by_rule"], ensure_ascii=False), verdict, fail_on, manifest_sha,
             round(seconds, 3), json.dumps(options or {}, sort_keys=True)))
        return int(cur.lastrowid)


def last_verdict(cache_dir: Path, manifest_sha: str) -> str | None:
    """"pass" or "fail" of the latest check of the build with this manifest, None if never checked."""
    try:
        db = _connect(cache_dir, create=False)
        if db is None:
            return None
        with closing(db):
            row = db.execute("SELECT verdict FROM runs WHERE manifest_sha = ? ORDER BY id DESC LIMIT 1",
                             (manifest_sha,)).fetchone()
    except sqlite3.Error:
        return None  # an unreadable record proves nothing: the gate treats the build as unchecked
    return row["verdict"] if row else None


def trend(cache_dir: Path, folder: Path, limit: int = 30) -> list[dict]:
    """The last ``limit`` runs on ``folder``, oldest first, as dicts (time, pages, errors, …, by_rule)."""
    try:
        db = _connect(cache_dir, create=False)
        if db is None:
            return []
        with closing(db):
            rows = db.execute("SELECT * FROM runs WHERE folder = ? ORDER BY id DESC LIMIT ?",
                              (str(Path(folder).resolve()), limit)).fetchall()
    except sqlite3.Error:
        return []
    out = []
    for row in reversed(rows):
        item = dict(row)
        item["by_rule"] = json.loads(item["by_rule"])
        item["options"] = json.loads(item["options"])
        out.append(item)
    return out
