"""Findings on pages zhuanti built point back at what the editor wrote (Nikola's check does the same):
``source`` from the manifest's page list (``#row=N`` for a data record), ``source_line`` found by
looking for the finding's target or text in that file. Reads only the manifest and the source files.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

from builder.checks.base import Finding

RULE_BROWSER_ALT = "a11y.image-alt"  # axe's rule in the --browser pass; the static one then stands aside
RULE_STATIC_ALT = "a11y.img-alt"
_TAG = re.compile(r"^<[^>]*>$")


def attach_sources(findings: list[Finding], manifest: dict | None, site_root: Path | None) -> list[Finding]:
    """The findings with ``source``/``source_line`` filled in where the page came from a source file."""
    pages = manifest.get("pages") if isinstance(manifest, dict) else None
    sources = {p["path"]: p["source"] for p in pages or () if isinstance(p, dict)
               and isinstance(p.get("path"), str) and isinstance(p.get("source"), str) and p["source"]}
    browser_alt = {f.page for f in findings if f.rule == RULE_BROWSER_ALT}
    texts: dict[str, list[str] | None] = {}
    out = []
    for f in findings:
        if f.rule == RULE_STATIC_ALT and f.page in browser_alt:
            continue  # the browser pass reported the same images
        source = f.source or sources.get(f.page)
        if not source:
            out.append(f)
            continue
        line = f.source_line
        if line is None and site_root is not None and "#row=" not in source:
            if source not in texts:
                texts[source] = _read(site_root / source)
            line = find_line(texts[source], f)
        out.append(dataclasses.replace(f, source=source, source_line=line))
    return out


def _read(path: Path) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError:
        return None


def needles(f: Finding) -> list[str]:
    """What of the finding an editor wrote in the source, most specific first."""
    out: list[str] = []
    target = (f.target or "").strip()
    if target and not _TAG.match(target) and target != 'src=""':
        out.append(target)
        path = unquote(target.split("#", 1)[0].split("?", 1)[0]).rstrip("/")
        if path:
            name = posixpath.basename(path)
            stem = posixpath.splitext(name)[0]
            if name == "index.html":
                stem = posixpath.basename(posixpath.dirname(path))
            out += [n for n in (unquote(target), name, stem) if n and n not in out and len(n) > 1]
    if target == 'src=""':
        out.append("![")
    context = (f.context or "").strip()
    if context and not _TAG.match(context):
        out += [c for c in re.split(r"[…\s]+", context) if len(c) >= 4][:3]
    return out


def find_line(lines: list[str] | None, f: Finding) -> int | None:
    """1-based line of the first needle found in the source (the body after front matter first)."""
    if not lines:
        return None
    body_start = 0
    if lines and lines[0].strip() == "---":
        body_start = next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
    for needle in needles(f):
        for start in (body_start, 0):
            for i in range(start, len(lines)):
                if needle in lines[i]:
                    return i + 1
    return None
