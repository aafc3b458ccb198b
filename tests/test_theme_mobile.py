"""The default theme in a real browser: no horizontal scroll at 360 px, visible focus, no external requests."""

from pathlib import Path

import pytest

from builder.build import BuildOptions, build_site
from builder.checks.browser import open_browser
from tests.sitefactory import BASIC, md, write_site

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                 reason="needs Debian's /usr/bin/chromium (make test installs it: APT_PKGS)")]

LONG = {
    **BASIC,
    "topics/demo/news/long.md": md(
        "一个很长很长的标题用来检验在手机屏幕上是否会撑破页面宽度而产生横向滚动条的情况" * 2,
        "| 字段一 | 字段二 | 字段三 | 字段四 | 字段五 | 字段六 |\n|---|---|---|---|---|---|\n"
        "| 很长的单元格内容很长的单元格内容 | 很长的单元格内容 | 内容 | 内容 | 内容 | 内容 |\n\n"
        "https://www.example.gov.cn/a/very/long/url/without/any/break/points/that/could/overflow/the/page/width\n",
        date="2026-01-04", tags="[甲, 乙]"),
}


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    write_site(root, LONG)
    build_site(root, BuildOptions())
    return root / "public"


def test_no_horizontal_scroll_at_360px_on_every_kind_of_page(public, tmp_path):
    pages = ["index.html", "demo/index.html", "demo/news/index.html", "demo/news/long/index.html",
             "demo/policy/doc/index.html"]
    with open_browser(public) as browser:
        for rel in pages:
            page = browser.open(rel)
            try:
                assert browser.horizontal_overflow(page) is None, rel
                requests = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
                assert all(r.startswith("http://127.0.0.1") for r in requests), requests
            finally:
                page.context.close()
        browser.screenshot("demo/news/long/index.html", tmp_path / "detail-360.png")
    assert (tmp_path / "detail-360.png").stat().st_size > 1000


def test_keyboard_focus_is_visible(public):
    with open_browser(public) as browser:
        page = browser.open("demo/news/a/index.html", 1280, 800, mobile=False)
        try:
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.className")
            assert focused == "skip-link"
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            top = page.evaluate("document.activeElement.getBoundingClientRect().top")
            assert outline == "solid" and top >= 0
        finally:
            page.context.close()
