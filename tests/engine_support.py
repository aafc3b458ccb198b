"""Helpers for the engine tests: an output tree as bytes, and a clean reference build of a site."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from builder.build import BuildOptions, build_site
from builder.errors import BuildFailed, ZhuantiError
from builder.search import decode
from builder.search.index import FOLDER as INDEX

SOURCES = ("site_src", "topics", "themes")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative posix path → bytes); the search index as what it means.

    An incremental build keeps the base index and writes a delta where a clean build writes one new
    base, so the files of ``search-index/`` (and their lines in the manifest) are replaced by the
    documents a browser would search (``builder.search.decode``: base + delta), which must match.
    """
    if not folder.is_dir():
        return {}
    out = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    index = [r for r in out if r.startswith(INDEX + "/")]
    if index:
        files = {r[len(INDEX) + 1:]: out.pop(r) for r in index}
        out[INDEX + "/decoded"] = json.dumps(decode(files.__getitem__), ensure_ascii=False, sort_keys=True).encode()
    if ".zhuanti/manifest.json" in out:
        manifest = json.loads(out[".zhuanti/manifest.json"])
        manifest["files"] = [f for f in manifest["files"] if not f["path"].startswith(INDEX + "/")]
        out[".zhuanti/manifest.json"] = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
    return out


def outcome(fn, root: Path) -> tuple[str, object]:
    """("ok", report) or ("failed", the error messages with the site root taken out)."""
    try:
        return "ok", fn()
    except BuildFailed as exc:
        return "failed", sorted(str(e).replace(str(root), "<root>") for e in exc.errors)
    except ZhuantiError as exc:
        return "failed", [str(exc).replace(str(root), "<root>")]


def clean_reference(root: Path, ref: Path, **options) -> tuple[str, object, dict[str, bytes]]:
    """Build a copy of the site's sources from scratch; returns (status, report or errors, tree)."""
    shutil.rmtree(ref, ignore_errors=True)
    ref.mkdir(parents=True)
    for name in SOURCES:
        if (root / name).is_dir():
            shutil.copytree(root / name, ref / name, symlinks=True, copy_function=shutil.copy2)
    # The media and template caches are content-addressed and kept by --clean too; the build
    # state and the parsed sources are not copied.
    for cache in ("media", "templates"):
        if (root / ".zhuanti-cache" / cache).is_dir():
            shutil.copytree(root / ".zhuanti-cache" / cache, ref / ".zhuanti-cache" / cache)
    status, result = outcome(lambda: build_site(ref, BuildOptions(clean=True, **options)), ref)
    return status, result, tree(ref / "public")


def diff(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    """Paths that differ between two trees (for assertion messages)."""
    return sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))
