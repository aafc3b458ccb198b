"""Build notes about a file ("topics/x/data.csv: 按 GB18030 编码读取") are said once per version of
that file, not on every build: the signature (size, mtime) each was last said for is kept in the
cache folder. Notes that name no file of the site are always said."""

from __future__ import annotations

import json
import os
from pathlib import Path

NOTES_FILE = "notes-said.json"


def fresh_notes(root: Path, cache_dir: Path, notes: list[str]) -> list[str]:
    """The notes to show now; remembers them (a failure to remember only means saying them again)."""
    path = cache_dir / NOTES_FILE
    try:
        said: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        said = {}
    out: list[str] = []
    changed = False
    for note in notes:
        rel = note.split(": ", 1)[0] if ": " in note else ""
        try:
            st = os.stat(root / rel) if rel else None
        except (OSError, ValueError):
            st = None
        if st is None or not os.path.isfile(root / rel):
            out.append(note)
            continue
        signature = f"{st.st_size}:{st.st_mtime_ns}"
        if said.get(note) != signature:
            out.append(note)
            said[note] = signature
            changed = True
    if changed:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(said, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass
    return out
