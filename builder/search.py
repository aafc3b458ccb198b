"""Site search (站内搜索): the /search/ page and a Pagefind index of every published page.

Pagefind's *extended* binary (the ``pagefind-bin-extended`` wheel) segments Chinese into words, so a
word in the middle of a sentence is found; the index is static files under ``pagefind/`` that the
browser queries itself (no server, works offline and under any URL prefix). Which pages are
indexed is decided by the theme: ``<main data-pagefind-body>`` on every published page except
drafts and the second and later pages of a column list; ``<meta data-pagefind-filter="topic[content]">``
lets a search stay inside one topic.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from builder.content.model import Page
from builder.errors import BuildFailed, ConfigError
from builder.i18n import tr

SEARCH_URL = "search/"
SEARCH_TEMPLATE = "search.html"
INDEX_FOLDER = "pagefind"
# Pagefind's ready-made UIs: the theme has its own search page (search.js), so they are not published.
UNUSED = re.compile(r"pagefind-(component-ui|modular-ui|ui|highlight)\.(js|css)$")


def _pagefind_binary() -> str:
    """Pagefind's *extended* binary (only it segments Chinese), from the ``pagefind-bin-extended`` wheel."""
    try:
        from pagefind_bin_extended import get_executable
    except ImportError:
        raise ConfigError(tr("缺少站内搜索组件 pagefind（extended 版本，可对中文分词）",
                             "the site-search package pagefind (extended, with Chinese word segmentation) is missing"),
                          "pagefind", hint=tr("请安装：pip install pagefind-bin-extended",
                                              "install it: pip install pagefind-bin-extended")) from None
    return str(get_executable())


def search_page(renderer) -> bytes | None:
    """The /search/ page rendered through the theme (``search.html``), or None when the site has
    its own page at that address (it is then used as it is)."""
    if SEARCH_URL in renderer.by_url:
        return None
    cfg = renderer.cfg
    page = Page("site", cfg.root / "site_src" / "site.toml", "site_src/site.toml", SEARCH_URL, "站内搜索",
                meta={"template": SEARCH_TEMPLATE, "topics": [(t.slug, t.title) for t in renderer.site.topics]})
    from builder.render.pages import Job

    renderer.by_url[page.url] = page
    try:
        html, _, _ = renderer.render(Job("page", page.url))
    finally:
        del renderer.by_url[page.url]
    return html.encode("utf-8")


def _index(staging: Path, out: Path) -> int:
    """Run Pagefind's command line over the finished pages (it writes the bundle and exits when done;
    the Python API's service wrote files asynchronously and could leave them empty). Returns the
    number of pages indexed."""
    done = subprocess.run([_pagefind_binary(), "--site", str(staging), "--output-path", str(out), "--silent"],
                          capture_output=True, text=True)
    entry = out / "pagefind-entry.json"
    if done.returncode != 0 or not entry.is_file():
        raise BuildFailed([ConfigError(tr("站内搜索索引生成失败：{e}", "building the search index failed: {e}",
                                          e=(done.stderr or done.stdout).strip()[-500:] or done.returncode), staging)])
    languages = json.loads(entry.read_text(encoding="utf-8")).get("languages", {})
    return sum(int(v.get("page_count", 0)) for v in languages.values())


def build_search(renderer, staging: Path, write: Callable[[str, bytes], None]) -> int:
    """Write the search page and the index of ``staging`` (the finished pages) through ``write``
    (which also lists each file in the manifest). Returns the number of pages indexed."""
    if not renderer.cfg.build.search:
        return 0
    page = search_page(renderer)
    if page is not None:
        write(SEARCH_URL + "index.html", page)
    with tempfile.TemporaryDirectory(prefix=".pagefind-", dir=staging.parent) as tmp:
        out = Path(tmp) / INDEX_FOLDER
        count = _index(staging, out)
        for path in sorted(p for p in out.rglob("*") if p.is_file() and not UNUSED.match(p.name)):
            rel = f"{INDEX_FOLDER}/{path.relative_to(out).as_posix()}"
            write(rel, path.read_bytes())
    return count
