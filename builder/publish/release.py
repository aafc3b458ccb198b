"""A release (发布版本): what one publish put on a target, recorded beside it so that ``releases``,
``rollback`` and ``verify`` work from the target alone.

A record is two files under the target's hidden ``.zhuanti/releases/``: ``<id>.json`` (the summary
that ``releases`` lists: time, files, bytes, git commit, who, check verdict, --force) and
``<id>.files.json.gz`` (every file with its sha256 and size; a year of daily releases of a
10,000-page site stays small to list). No credential or environment dump is ever written.
"""

from __future__ import annotations

import datetime as dt
import getpass
import gzip
import json
import os
import socket
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

RECORD_SCHEMA = 1
RECORDS = ".zhuanti/releases"


@dataclass(frozen=True)
class FileEntry:
    path: str
    sha256: str
    size: int
    md5: str = ""   # S3 only: what the ETag of a single-part upload is, so verify can compare listings

    @property
    def is_html(self) -> bool:
        return self.path.endswith((".html", ".htm"))


@dataclass
class Release:
    id: str
    time: str                      # ISO 8601 in the site's time zone
    files: int = 0
    bytes: int = 0
    git_commit: str = ""
    who: str = ""
    check: str = ""                # "pass", "fail" or "unchecked" at publish time
    forced: bool = False
    build_manifest_sha: str = ""
    built_at: str = ""
    tool_version: str = ""
    previous: str = ""
    foreign: list[str] = field(default_factory=list)   # files on the target zhuanti did not put there, kept
    hard_links: bool = True        # False when unchanged files had to be copied (no hard links there)
    schema: int = RECORD_SCHEMA

    @property
    def when(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.time)

    @property
    def order(self) -> tuple:
        """Oldest first; ``…-2`` after ``…``, ``…-10`` after ``…-9`` (publishes within one second)."""
        return (self.when, len(self.id), self.id)

    def summary_json(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> Release:
        raw = json.loads(data)
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def summary_name(release_id: str) -> str:
    return f"{RECORDS}/{release_id}.json"


def files_name(release_id: str) -> str:
    return f"{RECORDS}/{release_id}.files.json.gz"


def dump_files(files: list[FileEntry]) -> bytes:
    rows = [[f.path, f.sha256, f.size] + ([f.md5] if f.md5 else []) for f in files]
    return gzip.compress(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode(), mtime=0)


def load_files(data: bytes) -> dict[str, FileEntry]:
    rows = json.loads(gzip.decompress(data))
    return {r[0]: FileEntry(r[0], r[1], int(r[2]), r[3] if len(r) > 3 else "") for r in rows}


def new_release_id(now: dt.datetime, existing: set[str]) -> str:
    """Sortable and readable: ``20261130-081502``; a suffix when two publishes share a second."""
    base = now.strftime("%Y%m%d-%H%M%S")
    rid, n = base, 1
    while rid in existing:
        n += 1
        rid = f"{base}-{n}"
    return rid


def who() -> str:
    """The person or CI job publishing: CI's user variables first, then the login name, @host."""
    for var in ("GITLAB_USER_LOGIN", "GITHUB_ACTOR", "BUILD_USER_ID", "USER", "LOGNAME"):
        if os.environ.get(var):
            user = os.environ[var]
            break
    else:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "?"
    return f"{user}@{socket.gethostname()}"


def git_commit(root: Path) -> str:
    """The commit the build came from: CI's variables, else ``git rev-parse HEAD`` (+ "-dirty")."""
    for var in ("CI_COMMIT_SHA", "GITHUB_SHA"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0:
            return ""
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30)
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def expired(releases: list[Release], current: str | None, keep: int, keep_days: int,
            now: dt.datetime) -> list[Release]:
    """Releases retention may remove: not the live one, not among the newest ``keep``, and older
    than ``keep_days`` — both rules must allow it, so a year of backups survives any ``keep``."""
    newest_first = sorted(releases, key=lambda r: r.order, reverse=True)
    horizon = now - dt.timedelta(days=keep_days)
    return [r for i, r in enumerate(newest_first)
            if r.id != current and i >= keep and r.when < horizon]
