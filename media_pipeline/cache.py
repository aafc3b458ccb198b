"""The media cache: renditions keyed by the source's sha256 and the processing parameters.

Shared by build, serve and media under ``<site>/.zhuanti-cache/media/<key>/``. A job writes into a
fresh folder under ``.tmp/`` (same filesystem), writes ``result.json`` last, then renames the
folder into place, so an entry either is complete or does not exist; a folder without
``result.json`` is never trusted. ``SourceHashes`` remembers (path, size, mtime, inode) → sha256
in sqlite so an unchanged file is not read again on every rebuild.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from media_pipeline.errors import MediaError
from media_pipeline.i18n import tr

# Bump when the layout of an entry or of result.json changes: every older entry is then ignored.
CACHE_LAYOUT_VERSION = 1
RESULT_FILE = "result.json"
TMP_DIR = ".tmp"
INDEX_FILE = "hashes.sqlite"
# A staging folder whose process is gone, or that is older than this, is left-over work.
STALE_SECONDS = 24 * 3600


def cache_key(kind: str, source_sha256: str, params_key: str, extra: str = "") -> str:
    """The entry name: one hash over everything that decides the output bytes."""
    text = "\0".join((f"layout-v{CACHE_LAYOUT_VERSION}", kind, source_sha256, params_key, extra))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class MediaCache:
    """Complete entries under ``root/<key>/``; staging folders under ``root/.tmp/``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def entry_dir(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str) -> dict | None:
        """The entry's result (with ``dir`` added), or None when it is missing or incomplete."""
        folder = self.entry_dir(key)
        try:
            result = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(result, dict) or result.get("layout") != CACHE_LAYOUT_VERSION or result.get("key") != key:
            return None
        # The top-level files (renditions, posters, playlists) must still be there; HLS segments
        # are trusted with their playlist (checking thousands of them would cost every rebuild).
        for name in result.get("files", []):
            if "/" not in name and not (folder / name).is_file():
                return None
        result["dir"] = str(folder)
        return result

    def staging(self, key: str) -> Path:
        """A fresh, empty folder on the cache's filesystem for one job's outputs."""
        tmp = self.root / TMP_DIR / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        return tmp

    def commit(self, key: str, staging: Path, result: dict) -> dict:
        """Write ``result.json`` last, then move the staging folder into place atomically."""
        result = {**result, "layout": CACHE_LAYOUT_VERSION, "key": key, "created": time.time(),
                  "files": list_files(staging)}
        part = staging / (RESULT_FILE + ".part")
        part.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(part, staging / RESULT_FILE)
        final = self.entry_dir(key)
        if final.exists():
            if self.get(key) is not None:  # another process made the same entry meanwhile
                self.discard(staging)
                return {**result, "dir": str(final)}
            self._remove_entry(final)  # a broken leftover: never trusted, replaced
        try:
            os.rename(staging, final)
        except OSError:
            if self.get(key) is None:
                raise
            self.discard(staging)
        return {**result, "dir": str(final)}

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def _remove_entry(self, folder: Path) -> None:
        trash = self.root / TMP_DIR / f"trash.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.rename(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def clean(self) -> int:
        """Remove staging folders left by jobs that were killed, and entries without result.json."""
        removed = 0
        tmp = self.root / TMP_DIR
        if tmp.is_dir():
            now = time.time()
            for d in tmp.iterdir():
                parts = d.name.split(".")
                pid = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None
                try:
                    old = now - d.stat().st_mtime > STALE_SECONDS
                except OSError:
                    continue
                if old or pid is None or not pid_alive(pid):
                    shutil.rmtree(d, ignore_errors=True) if d.is_dir() else d.unlink(missing_ok=True)
                    removed += 1
        if self.root.is_dir():
            for d in self.root.iterdir():
                if d.is_dir() and d.name != TMP_DIR and not (d / RESULT_FILE).is_file():
                    self._remove_entry(d)
                    removed += 1
        return removed


def list_files(folder: Path) -> list[str]:
    """Every file below ``folder`` as a sorted POSIX relative path (result.json excluded)."""
    out = []
    for dirpath, _, names in os.walk(folder):
        base = Path(dirpath)
        for name in names:
            rel = (base / name).relative_to(folder).as_posix()
            if rel not in (RESULT_FILE, RESULT_FILE + ".part"):
                out.append(rel)
    return sorted(out)


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine still runs (the liveness test of every lock file)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SourceHashes:
    """sha256 of source files, remembered by (path, size, mtime_ns, inode) in a sqlite file."""

    def __init__(self, db_path: Path, threads: int = 4) -> None:
        self.db_path = Path(db_path)
        self.threads = threads

    def _connect(self) -> sqlite3.Connection:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.db_path, timeout=30)
            db.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, "
                       "mtime_ns INTEGER, inode INTEGER, sha256 TEXT)")
            return db
        except sqlite3.DatabaseError:
            # A damaged index is only a cache: start a new one.
            with contextlib.suppress(Exception):
                db.close()
            self.db_path.unlink(missing_ok=True)
            db = sqlite3.connect(self.db_path, timeout=30)
            db.execute("CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
                       "inode INTEGER, sha256 TEXT)")
            return db

    def hash_many(self, paths: Iterable[Path]) -> tuple[dict[Path, str], list[MediaError]]:
        """sha256 per path; unreadable files are returned as errors instead."""
        paths = list(dict.fromkeys(Path(p) for p in paths))
        hashes: dict[Path, str] = {}
        errors: list[MediaError] = []
        stats: dict[Path, os.stat_result] = {}
        for p in paths:
            try:
                stats[p] = p.stat()
            except OSError as exc:
                errors.append(MediaError(tr("无法读取文件：{e}", "cannot read the file: {e}", e=exc.strerror or exc), p))
        if not stats:
            return hashes, errors
        db = self._connect()
        try:
            known = {}
            names = [str(p) for p in stats]
            for i in range(0, len(names), 500):
                chunk = names[i:i + 500]
                rows = db.execute(f"SELECT path, size, mtime_ns, inode, sha256 FROM files WHERE path IN "
                                  f"({','.join('?' * len(chunk))})", chunk)
                known.update({r[0]: r[1:] for r in rows})
            todo = []
            for p, st in stats.items():
                row = known.get(str(p))
                if row and row[:3] == (st.st_size, st.st_mtime_ns, st.st_ino):
                    hashes[p] = row[3]
                else:
                    todo.append(p)
            if todo:
                # hashlib releases the GIL on large reads: threads overlap disk and CPU.
                with ThreadPoolExecutor(max(1, min(self.threads, len(todo)))) as pool:
                    done = list(pool.map(_try_hash, todo))
                rows = []
                for p, (sha, err) in zip(todo, done, strict=True):
                    if err is not None:
                        errors.append(MediaError(tr("无法读取文件：{e}", "cannot read the file: {e}", e=err), p))
                        continue
                    hashes[p] = sha
                    st = stats[p]
                    rows.append((str(p), st.st_size, st.st_mtime_ns, st.st_ino, sha))
                with db:
                    db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", rows)
        finally:
            db.close()
        return hashes, errors


def _try_hash(path: Path) -> tuple[str | None, str | None]:
    try:
        return file_sha256(path), None
    except OSError as exc:
        return None, str(exc.strerror or exc)
