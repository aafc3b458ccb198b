"""Site search (站内搜索): the /search/ page and a Pagefind index of every published page.

Pagefind's *extended* binary (the ``pagefind[extended]`` wheel) segments Chinese into words, so a
word in the middle of a sentence is found; the index is static files under ``pagefind/`` that the
browser queries itself (no server, works offline and under any URL prefix). Which pages are
indexed is decided by the theme: ``<main data-pagefind-body>`` on every published page except
drafts and the second and later pages of a column list; ``<meta data-pagefind-filter="topic[content]">``
lets a search stay inside one topic.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from builder.content.model import Page
from builder.errors import BuildFailed, ConfigError
from builder.i18n import tr

SEARCH_URL = "search/"
SEARCH_TEMPLATE = "search.html"
INDEX_FOLDER = "pagefind"


def _pagefind():
    try:
        from pagefind.index import PagefindIndex
    except ImportError:
        raise ConfigError(tr("缺少站内搜索组件 pagefind", "the site-search package pagefind is missing"), "pagefind",
                          hint=tr("请安装：pip install 'pagefind[extended]'",
                                  "install it: pip install 'pagefind[extended]'")) from None
    try:
        import pagefind_bin_extended  # noqa: F401  (only the extended binary segments Chinese)
    except ImportError:
        raise ConfigError(tr("pagefind 缺少 extended 版本，无法对中文分词", "pagefind's extended binary (Chinese "
                             "word segmentation) is missing"), "pagefind",
                          hint=tr("请安装：pip install 'pagefind[extended]'",
                                  "install it: pip install 'pagefind[extended]'")) from None
    return PagefindIndex


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


async def _index(staging: Path, out: Path) -> int:
    PagefindIndex = _pagefind()
    # Pagefind reads the language from <html lang>; zh-CN pages go to one Chinese index.
    async with PagefindIndex(config={"output_path": str(out)}) as index:
        result = await index.add_directory(str(staging), glob="**/*.html")
        await index.write_files(output_path=str(out))
    return int(result.get("page_count", 0)) if isinstance(result, dict) else 0


def _reuse_identical(public: Path, staging: Path, rel: str) -> None:
    """An unchanged file stays the previous build's file (hard link), as the build does for pages,
    so an incremental build touches only what changed."""
    old, new = public / rel, staging / rel
    try:
        if old.is_file() and not old.is_symlink() and old.stat().st_size == new.stat().st_size \
                and old.read_bytes() == new.read_bytes():
            tmp = new.with_name(new.name + ".link")
            os.link(old, tmp)
            os.replace(tmp, new)
    except OSError:
        pass  # a copy is as good, only less economical


def build_search(renderer, staging: Path, write: Callable[[str, bytes], None]) -> int:
    """Write the search page and the index of ``staging`` (the finished pages) through ``write``
    (which also lists each file in the manifest). Returns the number of pages indexed."""
    public = renderer.cfg.output_dir
    page = search_page(renderer)
    if page is not None:
        write(SEARCH_URL + "index.html", page)
        _reuse_identical(public, staging, SEARCH_URL + "index.html")
    with tempfile.TemporaryDirectory(prefix=".pagefind-", dir=staging.parent) as tmp:
        out = Path(tmp) / INDEX_FOLDER
        try:
            count = asyncio.run(_index(staging, out))
        except (OSError, RuntimeError, AssertionError) as exc:
            raise BuildFailed([ConfigError(tr("站内搜索索引生成失败：{e}", "building the search index failed: {e}", e=exc),
                                           staging)]) from None
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            rel = f"{INDEX_FOLDER}/{path.relative_to(out).as_posix()}"
            write(rel, path.read_bytes())
            _reuse_identical(public, staging, rel)
    return count
