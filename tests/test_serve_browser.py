"""zhuanti serve in a real browser (Debian's Chromium through Playwright): an edit shows without a
manual reload, a broken file shows the overlay naming file and line and fixing it clears it, a typo
from the word list is marked, and the reload channel falls back from WebSocket to SSE to polling.

Every wait is Playwright's own (``expect`` / ``wait_for`` with a generous timeout), never a sleep."""

from __future__ import annotations

from pathlib import Path

import pytest
from sitefactory import md
from test_serve import previews, typo

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT = 60_000  # ms: a deadline, not a measurement

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="needs Chromium: apt-get install -y chromium fonts-noto-cjk")]


@pytest.fixture
def preview(tmp_path):
    with previews(tmp_path) as start:
        yield start


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def tab(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    yield page
    context.close()


def connected(tab, channel: str | None = None) -> None:
    """Wait until the page's reload client has heard from the server (on ``channel``, if given)."""
    selector = f'html[data-zhuanti-channel="{channel}"]' if channel else "html[data-zhuanti-channel]"
    tab.wait_for_selector(selector, state="attached")


def test_an_edit_shows_in_the_open_page_without_a_manual_reload(preview, tab):
    from playwright.sync_api import expect

    p = preview()
    tab.goto(p.url + "demo/news/a/")
    connected(tab, "ws")
    expect(tab.locator("h1")).to_have_text("甲新闻")
    p.write("topics/demo/news/a.md", md("甲新闻（已修改）", "新的正文。", date="2026-01-03"))
    expect(tab.locator("h1")).to_have_text("甲新闻（已修改）", timeout=TIMEOUT)
    expect(tab.locator("main")).to_contain_text("新的正文。")


def test_a_page_that_did_not_change_is_not_reloaded(preview, tab):
    from playwright.sync_api import expect

    p = preview()
    tab.goto(p.url + "demo/news/c/")
    connected(tab, "ws")
    tab.evaluate("window.__stillHere = true")
    p.write("topics/demo/policy/doc/index.md", md("捆绑页面（改）", "附件：[下载](file.pdf)", date="2025-12-01"))
    p.wait_rebuilds(1)
    other = tab.context.new_page()  # a second page that did change: it reloads, this one need not
    other.goto(p.url + "demo/policy/doc/")
    expect(other.locator("h1")).to_have_text("捆绑页面（改）")
    assert tab.evaluate("window.__stillHere === true")


def test_broken_front_matter_shows_the_overlay_and_fixing_it_clears_it(preview, tab):
    from playwright.sync_api import expect

    p = preview()
    tab.goto(p.url + "demo/news/a/")
    connected(tab)
    p.write("topics/demo/news/a.md", "---\ntitle: 甲新闻\ndate: 2026-01-03: 上午\n---\n正文\n")
    overlay = tab.locator("#zhuanti-overlay")
    expect(overlay).to_be_visible(timeout=TIMEOUT)
    expect(overlay).to_contain_text("构建失败")
    expect(overlay).to_contain_text("topics/demo/news/a.md 第 3 行")
    expect(overlay.locator("code")).to_have_attribute("data-line", "3")
    expect(tab.locator("h1")).to_have_text("甲新闻")  # the last good page under the overlay
    p.write("topics/demo/news/a.md", md("甲新闻（修好了）", date="2026-01-03"))
    expect(overlay).to_have_count(0, timeout=TIMEOUT)
    expect(tab.locator("h1")).to_have_text("甲新闻（修好了）")


def test_a_typo_from_the_word_list_is_marked_in_the_page(preview, tab):
    from playwright.sync_api import expect

    wrong, right = typo()
    p = preview()
    tab.goto(p.url + "demo/news/c/")
    connected(tab)
    p.write("topics/demo/news/c.md", md("丙新闻", f"我们要{wrong}，做好工作。", date="2026-01-01"))
    mark = tab.locator('mark[data-zhuanti-finding="word.typo"]')
    expect(mark).to_have_text(wrong, timeout=TIMEOUT)
    expect(mark).to_be_visible()
    assert right in mark.get_attribute("title")
    panel = tab.locator("#zhuanti-findings")
    expect(panel).to_contain_text("word.typo")
    expect(panel).to_contain_text("topics/demo/news/c.md")


@pytest.mark.parametrize("channels, expected", [(("sse", "poll"), "sse"), (("poll",), "poll")])
def test_the_reload_channel_falls_back_when_websocket_cannot_connect(preview, tab, channels, expected):
    from playwright.sync_api import expect

    p = preview(channels=channels)  # the WebSocket endpoint (and SSE) disabled, as a proxy would
    tab.goto(p.url + "demo/news/a/")
    connected(tab, expected)
    p.write("topics/demo/news/a.md", md(f"甲新闻（经 {expected}）", date="2026-01-03"))
    expect(tab.locator("h1")).to_have_text(f"甲新闻（经 {expected}）", timeout=TIMEOUT)


def test_a_page_under_a_proxy_prefix_reloads(preview, tab):
    from playwright.sync_api import expect

    p = preview(base_path="/preview/")
    p.session.reload_url = p.url + "_zhuanti/"  # --reload-url: the channel named absolutely
    tab.goto(p.url + "demo/news/a/")
    assert tab.locator("script[data-reload]").get_attribute("data-reload") == p.url + "_zhuanti/"
    connected(tab, "ws")
    p.write("topics/demo/news/a.md", md("甲新闻（代理）", date="2026-01-03"))
    expect(tab.locator("h1")).to_have_text("甲新闻（代理）", timeout=TIMEOUT)


def test_a_new_page_appears_where_the_404_was(preview, tab):
    from playwright.sync_api import expect

    p = preview()
    tab.goto(p.url + "demo/news/fresh/")
    connected(tab)
    expect(tab.locator("h1")).to_contain_text("404")
    p.write("topics/demo/news/fresh.md", md("新写的页面", date="2026-01-06"))
    expect(tab.locator("h1")).to_have_text("新写的页面", timeout=TIMEOUT)


def test_a_draft_shows_its_badge(preview, tab):
    from playwright.sync_api import expect

    p = preview()
    tab.goto(p.url + "demo/news/a/")
    connected(tab)
    p.write("topics/demo/news/a.md", md("甲新闻", draft="true", date="2026-01-03"))
    badge = tab.locator("[data-preview-badge]")
    expect(badge).to_be_visible(timeout=TIMEOUT)
    expect(badge).to_contain_text("草稿")
