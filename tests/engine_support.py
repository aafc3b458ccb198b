"""Helpers for the engine tests: an output tree as bytes, and a clean reference build of a site."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from builder.build import BuildOptions, build_site
from builder.errors import BuildFailed, ZhuantiError

SOURCES = ("site_src", "topics", "themes")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative posix path → bytes), except the search index.

    Pagefind numbers pages in the order its threads finish them, so two clean builds of the same
    pages may differ there; its files (and their lines in the manifest) are replaced by the number
    of pages indexed, which must match.
    """
    if not folder.is_dir():
        return {}
    out = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    entry = out.get("pagefind/pagefind-entry.json")
    for rel in [r for r in out if r.startswith("pagefind/")]:
        del out[rel]
    if entry is not None:
        out["pagefind/pages-indexed"] = str({k: v.get("page_count") for k, v in
                                             json.loads(entry)["languages"].items()}).encode()
    if ".zhuanti/manifest.json" in out:
        manifest = json.loads(out[".zhuanti/manifest.json"])
        manifest["files"] = [f for f in manifest["files"] if not f["path"].startswith("pagefind/")]
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
