"""The build manifest, ``public/.zhuanti/manifest.json``: what the build wrote and what it means.

Written by the build; read by checks (page → source file, columns, topics), publishing and verify.
Schema (version 1)::

    {"schema": 1, "tool": "zhuanti", "version": "0.1.0", "built_at": "2026-11-24T10:00:00Z",
     "base_url": "https://…/", "identity": {"site_code": …, "icp": …, "police_record": …, "organizer": …},
     "files":   [{"path": "a/b/index.html", "sha256": "…", "size": 123}],          # every file but the manifest
     "pages":   [{"path": "a/b/index.html", "source": "topics/a/b.md", "kind": "home|nav|column|detail|site|media",
                  "title": "…", "date": "YYYY-MM-DD HH:MM" | null, "topic": "slug" | null, "column": "name" | null}],
     "columns": [{"path": "a/col/index.html", "topic": "a", "name": "col", "title": "…", "column_type": "…",
                  "stale_after_days": 14 | null, "pages": 12, "latest": "YYYY-MM-DD" | null}],
     "topics":  [{"slug": "a", "title": "…", "start": "YYYY-MM-DD" | null, "end": "YYYY-MM-DD" | null,
                  "archived": false}]}
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MANIFEST_REL = ".zhuanti/manifest.json"
SCHEMA = 1


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_path(public: Path) -> Path:
    return public / MANIFEST_REL


def load_manifest(public: Path) -> dict | None:
    """The manifest of a built folder, or None for a folder zhuanti did not build."""
    p = manifest_path(public)
    if not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("tool") == "zhuanti" else None


def dump_manifest(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
