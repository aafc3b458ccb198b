"""What the engine knows of the source files between builds.

``scan`` takes the stat signature of every input file — (size, mtime_ns, inode, ctime_ns); ctime
cannot be set by a program, so ``cp -p`` or ``touch -r`` still change it — and ``Inputs`` compares
it with the previous build's. A file modified within ``RACY_NS`` of being seen is *racy* (as in
git): its signature proves nothing and its content is compared instead.

``SourceCache`` keeps the parsed front matter of every Markdown file and the records of every
data file, so a rebuild reads and parses only the files whose signature changed. It lives in the
engine's memory and in ``.zhuanti-cache/sources.sqlite`` between runs.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import io
import json
import os
import pickle
import secrets
import sqlite3
import time
from pathlib import Path, PosixPath

from builder import clock
from builder.content import frontmatter
from builder.content.data import DataSource, load_records
from builder.state import FileSig

RACY_NS = 1_000_000_000
SOURCES_SCHEMA = "1"
SNAPSHOT_SCHEMA = 1
FREEZE_BYTES = 4 << 20  # a loaded site this large (a few thousand pages) is frozen out of the collector


def scan(roots: list[Path], site_root: Path) -> tuple[dict[str, tuple], int]:
    """Signature of every file and folder under ``roots`` (keys: posix paths relative to the site
    root, absolute for files outside it; folders end with "/")."""
    now_ns = time.time_ns()
    out: dict[str, tuple] = {}
    seen: set[str] = set()
    prefix = str(site_root) + os.sep

    def key_of(path: str) -> str:
        rel = path[len(prefix):] if path.startswith(prefix) else path
        return rel.replace(os.sep, "/")

    stack = [str(r) for r in roots if r.is_dir()]
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder)
        if real in seen:
            continue
        seen.add(real)
        out[key_of(folder) + "/"] = ("dir",)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir():
                    stack.append(entry.path)
                    continue
                st = entry.stat()
            except OSError:
                continue  # vanished or a dangling link: the loader will not see it either
            out[key_of(entry.path)] = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    return out, now_ns


def file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_racy(sig: tuple, now_ns: int) -> bool:
    return len(sig) == 4 and max(sig[1], sig[3]) >= now_ns - RACY_NS


class Inputs:
    """The input snapshot of one build compared with the previous one."""

    def __init__(self, site_root: Path, roots: list[Path], previous: dict[str, FileSig]) -> None:
        self.root = site_root
        self.prefix = str(site_root) + os.sep
        sigs, self.now_ns = scan(roots, site_root)
        self.files: dict[str, FileSig] = {}
        self.changed: set[str] = set()
        self.updated: dict[str, FileSig] = {}  # to store: new or changed signatures and digests
        for path, sig in sigs.items():
            old = previous.get(path)
            racy = is_racy(sig, self.now_ns)
            if old is not None and old.sig == sig and not old.racy:
                fs = old if not racy else FileSig(sig, old.digest, True)
            else:
                fs = FileSig(sig, None, racy)
                if old is not None and old.digest is not None and len(sig) == 4:
                    # Same content under a new signature (touched, or racy last time): not a change.
                    fs.digest = self._hash(path)
                    if fs.digest != old.digest:
                        self.changed.add(path)
                elif old is None or old.sig != sig or old.racy:
                    self.changed.add(path)
            if racy and fs.digest is None and len(sig) == 4:
                fs.digest = self._hash(path)  # so the next build can compare contents
            if fs is not old:
                self.updated[path] = fs
            self.files[path] = fs
        self.gone = [p for p in previous if p not in sigs]
        self.added = [p for p in sigs if p not in previous]
        self.outside: dict[str, str] = {}
        self.changed.update(self.gone)

    def _abs(self, key: str) -> Path:
        return Path(key) if key.startswith("/") else self.root / key

    def _hash(self, key: str) -> str | None:
        try:
            return file_digest(self._abs(key))
        except OSError:
            return None

    def key(self, path: Path) -> str:
        text = str(path)
        if text.startswith(self.prefix):
            return text[len(self.prefix):].replace(os.sep, "/")
        return path.as_posix()

    def sig(self, path: Path) -> FileSig | None:
        return self.files.get(self.key(path))

    def digest(self, key: str) -> str:
        """Content digest of an input (cached by signature); "absent" when it is not there."""
        fs = self.files.get(key)
        if fs is None:
            # Not under the scanned folders (e.g. a metadata-free copy of a theme image in the
            # cache): read it every time rather than trust anything.
            if key not in self.outside:
                self.outside[key] = self._hash(key) or "absent"
            return self.outside[key]
        if fs.digest is None:
            fs.digest = self._hash(key) or "absent"
            self.updated[key] = fs
        return fs.digest

    def store(self, everything: bool = False) -> tuple[dict[str, FileSig], list[str]]:
        """What to write into the build state: (new or changed signatures, inputs gone), or with
        ``everything`` (a build state written anew) every signature."""
        return (self.files, []) if everything else (self.updated, self.gone)


class SourceCache:
    """Parsed sources by (path, kind), reused while the file's signature is unchanged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[tuple[str, str], tuple[tuple, bool, object]] | None = None
        self.inputs: Inputs | None = None
        self.dirty: dict[tuple[str, str], tuple[tuple, bool, object] | None] = {}
        self.used: set[tuple[str, str]] = set()
        self.parsed = 0

    # ---- persistence ---------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path)
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or row[0] != SOURCES_SCHEMA:
            db.execute("DROP TABLE IF EXISTS sources")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SOURCES_SCHEMA,))
        db.execute("CREATE TABLE IF NOT EXISTS sources (path TEXT, kind TEXT, sig TEXT, racy INTEGER, data BLOB,"
                   " PRIMARY KEY (path, kind)) WITHOUT ROWID")
        db.commit()
        return db

    def begin(self, inputs: Inputs) -> None:
        """Start a build: signatures come from this build's input scan."""
        self.inputs = inputs
        self.used = set()
        self.parsed = 0
        if self.entries is None:
            self.entries = {}
            try:
                db = self._connect()
                try:
                    for path, kind, sig, racy, data in db.execute("SELECT path, kind, sig, racy, data FROM sources"):
                        self.entries[(path, kind)] = (tuple(json.loads(sig)), bool(racy), pickle.loads(data))
                finally:
                    db.close()
            except (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
                self.entries = {}
                self.path.unlink(missing_ok=True)

    def save(self) -> None:
        """Store what changed; forget sources this build did not read."""
        assert self.entries is not None
        for key in [k for k in self.entries if k not in self.used]:
            del self.entries[key]
            self.dirty[key] = None
        if not self.dirty:
            return
        try:
            db = self._connect()
            try:
                with db:
                    for (path, kind), entry in self.dirty.items():
                        if entry is None:
                            db.execute("DELETE FROM sources WHERE path = ? AND kind = ?", (path, kind))
                        else:
                            db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?)",
                                       (path, kind, json.dumps(entry[0]), int(entry[1]),
                                        pickle.dumps(entry[2], protocol=pickle.HIGHEST_PROTOCOL)))
            finally:
                db.close()
        except sqlite3.DatabaseError:
            self.path.unlink(missing_ok=True)
        self.dirty = {}

    def forget(self, paths) -> None:
        """Parse these files again whatever their signature says."""
        if self.entries is None:
            return
        paths = set(paths)
        for key in [k for k in self.entries if k[0] in paths]:
            del self.entries[key]

    # ---- lookups (called by the loader) --------------------------------------------------
    def _get(self, path: Path, kind: str, make):
        key = (self.inputs.key(path) if self.inputs else str(path), kind)
        self.used.add(key)
        fs = self.inputs.sig(path) if self.inputs else None
        entry = self.entries.get(key) if self.entries is not None else None
        if fs is not None and entry is not None and entry[0] == fs.sig and not entry[1] and not fs.racy:
            return entry[2]
        value = make()  # raises for a broken file: nothing is cached, it is read again next time
        self.parsed += 1
        if fs is not None and self.entries is not None:
            self.entries[key] = self.dirty[key] = (fs.sig, fs.racy, value)
        return value

    def front_matter(self, path: Path, keys: dict) -> frontmatter.FrontMatter:
        kind = "column" if keys is frontmatter.COLUMN_KEYS else "page" if keys is frontmatter.PAGE_KEYS else \
            "keys:" + ",".join(sorted(keys))
        kind += "@" + str(clock.zone())  # dates without a zone are read in the site's
        fm = self._get(path, kind, lambda: frontmatter.parse(frontmatter.read_text(path), path, keys))
        # The loader keeps fm.values as the page's meta: each build gets its own copy.
        return frontmatter.FrontMatter(dict(fm.values), fm.body, fm.body_line, list(fm.warnings))

    def records(self, path: Path, sheet: str | None = None, field_source: Path | None = None) -> DataSource:
        kind = f"records|{sheet}|{field_source}@{clock.zone()}"
        return copy.copy(self._get(path, kind, lambda: load_records(path, sheet=sheet, field_source=field_source)))

    def times(self) -> list[float]:
        """Every publish_at, expire_at and date of the sources read (incl. drafts and future pages):
        when "now" passes one of them, a build can no longer be skipped."""
        out = set()
        for key in self.used:
            entry = self.entries.get(key)
            if entry is None or not isinstance(entry[2], frontmatter.FrontMatter):
                continue
            values = entry[2].values
            for name in ("publish_at", "expire_at", "date"):
                v = values.get(name)
                if v is not None and hasattr(v, "timestamp"):
                    out.add(v.timestamp())
        return sorted(out)


# ---- the loaded site between zhuanti build runs -------------------------------------------

class _Pickler(pickle.Pickler):
    # A path pickles as its parts and is parsed again part by part; as one string it loads 3× faster.
    def reducer_override(self, obj):
        if type(obj) is PosixPath:
            return PosixPath, (str(obj),)
        return NotImplemented


def save_snapshot(path: Path, header: tuple, value: object) -> str | None:
    """Write ``value`` (the engine's loaded site) to ``path``, atomically; returns its id (None
    when it cannot be written: the next run loads the whole site)."""
    ident = secrets.token_hex(8)
    buf = io.BytesIO()
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # a killed run's (the caller holds the site lock)
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump((SNAPSHOT_SCHEMA, ident, header, value))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        tmp.unlink(missing_ok=True)
        return None
    return ident


def load_snapshot(path: Path, ident: str, header: tuple) -> object | None:
    """What ``save_snapshot`` wrote under ``ident`` with this ``header``, or None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    enabled = gc.isenabled()
    gc.disable()  # hundreds of thousands of new objects, none of them garbage: no collection passes
    try:
        schema, found, head, value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a damaged or outdated snapshot only costs a full load
        return None
    finally:
        # … and none later either: they live as long as the engine (a collection would walk them all
        # again; freed by reference counting, which is unaffected). Once per engine and output, and
        # only for a large site (a small one gains nothing: its cycles stay collectable).
        if len(data) > FREEZE_BYTES:
            gc.freeze()
        if enabled:
            gc.enable()
    return value if (schema, found, head) == (SNAPSHOT_SCHEMA, ident, header) else None


def settle(objects: int) -> None:
    """After loading a large site (``objects``: about how many pages): collect what is garbage now,
    then move every live object out of the collector's sight (``gc.freeze``). The loaded site lives
    until the next full load; without this every later collection of a long-lived engine walks its
    hundreds of thousands of objects again (a second per save on 10,000 pages). Frozen objects are
    still freed by reference counting; the site's objects form no cycles."""
    if objects * 1000 > FREEZE_BYTES:
        gc.unfreeze()  # what the last freeze kept and is garbage now (a replaced template environment)
        gc.collect()
        gc.freeze()
