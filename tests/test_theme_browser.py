"""The default theme in Debian's Chromium: 长者模式 (remembered, ≥ 18 px, nothing floating), the
lightbox by keyboard and swipe, 字号, footer at the bottom, finger-sized targets, print and reduced
motion."""

from __future__ import annotations

import functools
import http.server
import io
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from builder.build import BuildOptions, build_site
from tests.sitefactory import BASIC, md, write_site

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="needs Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def served(folder: Path):
    """``folder`` over HTTP on 127.0.0.1 and a headless Chromium: yields (browser, base URL)."""
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                yield browser, f"http://127.0.0.1:{server.server_address[1]}/"
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def opened(browser, options: dict, **more):
    """A page in a fresh browser context (own storage), closed afterwards."""
    ctx = browser.new_context(**options, **more)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def jpeg(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (800, 533), colour).save(buf, "JPEG")
    return buf.getvalue()


SITE = {
    **BASIC,
    "topics/demo/news/a.md": md("甲新闻", "第一段正文，介绍展览的基本情况。\n\n## 展出作品\n\n"
                                "![晨曦](photos/p1.jpg)\n\n**晨曦**　清晨的高架线。\n\n"
                                "![夜归](photos/p2.jpg)\n\n**夜归**　末班列车进站。\n\n"
                                "![站厅](photos/p3.jpg)\n\n**站厅**　换乘站厅。\n", date="2026-01-03"),
    "topics/demo/news/photos/p1.jpg": jpeg((180, 60, 40)),
    "topics/demo/news/photos/p2.jpg": jpeg((40, 60, 160)),
    "topics/demo/news/photos/p3.jpg": jpeg((40, 140, 60)),
}


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    root = tmp_path_factory.mktemp("theme")
    write_site(root, SITE)
    build_site(root, BuildOptions())
    return root / "public"


@pytest.fixture(scope="module")
def chromium(public):
    with served(public) as (browser, base):
        yield browser, base


SMALLEST_TEXT = """() => {
  let min = 1e9, where = "";
  for (const el of document.querySelectorAll("body *")) {
    const s = getComputedStyle(el);
    if (s.display === "none" || s.visibility === "hidden") continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const r = el.getBoundingClientRect();
    if (!own || r.width === 0 || r.height === 0 || el.closest(".visually-hidden")) continue;
    const size = parseFloat(s.fontSize);
    if (size < min) { min = size; where = el.tagName + "." + el.className + ": " + el.textContent.trim().slice(0, 20); }
  }
  return [min, where];
}"""
FLOATING = """() => [...document.querySelectorAll("body *")].filter(el => {
  const p = getComputedStyle(el).position; return (p === "fixed" || p === "sticky") && el.getBoundingClientRect().height > 0;
}).map(el => el.tagName + "." + el.className)"""


def test_elder_mode_by_url_parameter_is_remembered_large_and_has_nothing_floating(chromium):
    browser, base = chromium
    with opened(browser, PHONE) as page:
        page.goto(base + "demo/news/a/index.html?elder=1")
        assert page.evaluate("document.documentElement.classList.contains('elder')")
        smallest, where = page.evaluate(SMALLEST_TEXT)
        assert smallest >= 18, where
        assert page.evaluate(FLOATING) == []
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        switch = page.locator("[data-elder-switch]")
        assert switch.is_visible() and switch.get_attribute("aria-pressed") == "true"
        # remembered on the next page, without the parameter
        page.goto(base + "demo/index.html")
        assert page.evaluate("document.documentElement.classList.contains('elder')")
        assert page.evaluate(SMALLEST_TEXT)[0] >= 18
        # the photo opens as a plain link in this mode: no pop-up
        page.goto(base + "demo/news/a/index.html")
        page.locator("a[data-lightbox]").first.click()
        page.wait_for_load_state()
        assert page.url.endswith(".jpg") or page.url.endswith(".webp")
        page.goto(base + "demo/news/a/index.html")
        page.locator("[data-elder-switch]").click()
        assert not page.evaluate("document.documentElement.classList.contains('elder')")
        assert page.evaluate("localStorage.getItem('zhuanti-elder')") == "0"
        assert page.evaluate(SMALLEST_TEXT)[0] < 18, page.evaluate(SMALLEST_TEXT)  # the normal style again


def test_normal_mode_body_text_is_at_least_16px_on_a_phone_and_nothing_overflows(chromium):
    browser, base = chromium
    with opened(browser, PHONE) as page:
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        for rel in ("index.html", "demo/index.html", "demo/news/index.html", "demo/news/a/index.html",
                    "demo/media/index.html", "search/index.html?q=正文"):
            page.goto(base + rel)
            assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), rel
            sizes = page.evaluate("[...document.querySelectorAll('.prose p, .item-list a')].map(e => "
                                  "parseFloat(getComputedStyle(e).fontSize))")
            assert all(s >= 16 for s in sizes), (rel, sizes)
            requests = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
            assert all(r.startswith(base) for r in requests), requests
        assert errors == []


TARGETS = """() => [...document.querySelectorAll("a, button, input, select")].filter(el => {
  const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  if (r.width === 0 || r.height === 0 || s.visibility === "hidden" || r.bottom < 0) return false;
  if (el.closest(".prose p, .prose td, .prose blockquote, .visually-hidden")) return false;  // links in running text
  return r.width < 44 || r.height < 44;
}).map(el => el.outerHTML.slice(0, 80) + " " + Math.round(el.getBoundingClientRect().width) + "x" +
  Math.round(el.getBoundingClientRect().height))"""


def test_tap_targets_are_at_least_44px_on_a_phone(chromium):
    browser, base = chromium
    with opened(browser, PHONE) as page:
        for rel in ("index.html", "demo/index.html", "demo/news/index.html", "demo/news/a/index.html"):
            page.goto(base + rel)
            assert page.evaluate(TARGETS) == [], rel


def test_lightbox_by_keyboard_and_by_swipe(chromium):
    browser, base = chromium
    with opened(browser, DESKTOP) as page:
        page.goto(base + "demo/news/a/index.html")
        assert page.locator(".gallery-grid .gallery-item").count() == 3
        first = page.locator("a[data-lightbox]").first
        first.focus()
        page.keyboard.press("Enter")
        dialog = page.locator("dialog.lightbox")
        dialog.wait_for(state="visible")
        assert page.locator(".lightbox-count").text_content() == "1 / 3"
        assert "晨曦" in page.locator(".lightbox-caption").text_content()
        page.keyboard.press("ArrowRight")
        assert page.locator(".lightbox-count").text_content() == "2 / 3"
        assert "p2" in page.locator(".lightbox-stage img").get_attribute("src")
        page.keyboard.press("End")
        assert page.locator(".lightbox-count").text_content() == "3 / 3"
        page.keyboard.press("ArrowRight")  # wraps around
        assert page.locator(".lightbox-count").text_content() == "1 / 3"
        # focus stays inside the modal dialog
        for _ in range(5):
            page.keyboard.press("Tab")
            assert page.evaluate("!!document.activeElement.closest('dialog.lightbox')")
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
        assert page.evaluate("document.activeElement === document.querySelector('a[data-lightbox]')")
    with opened(browser, PHONE) as page:
        page.goto(base + "demo/news/a/index.html")
        page.locator("a[data-lightbox]").nth(1).tap()
        page.locator("dialog.lightbox").wait_for(state="visible")
        assert page.locator(".lightbox-count").text_content() == "2 / 3"
        stage = page.locator(".lightbox-stage").bounding_box()
        y = stage["y"] + stage["height"] / 2
        for kind, x in (("pointerdown", 300), ("pointerup", 80)):  # a swipe to the left
            page.dispatch_event(".lightbox-stage", kind, {"clientX": x, "clientY": y, "pointerType": "touch",
                                                         "bubbles": True})
        assert page.locator(".lightbox-count").text_content() == "3 / 3"


def test_font_size_buttons_change_the_text_and_are_remembered(chromium):
    browser, base = chromium
    with opened(browser, DESKTOP) as page:
        page.goto(base + "demo/news/a/index.html")
        size = "parseFloat(getComputedStyle(document.querySelector('.prose')).fontSize)"
        medium = page.evaluate(size)
        page.get_by_role("button", name="大", exact=True).click()
        large = page.evaluate(size)
        page.get_by_role("button", name="小", exact=True).click()
        small = page.evaluate(size)
        assert small < medium < large
        page.get_by_role("button", name="大", exact=True).click()
        page.goto(base + "demo/news/b/index.html")
        assert page.evaluate(size) == large
        assert page.get_by_role("button", name="大", exact=True).get_attribute("aria-pressed") == "true"


def test_the_footer_sits_at_the_bottom_of_a_short_page_with_space_above_it(chromium):
    browser, base = chromium
    with opened(browser, DESKTOP) as page:
        page.goto(base + "demo/policy/index.html")
        footer = page.evaluate("document.querySelector('.site-footer').getBoundingClientRect().bottom")
        assert abs(footer - 768) < 1  # no white band under it
        gap = page.evaluate("document.querySelector('.site-footer').getBoundingClientRect().top - "
                            "document.querySelector('main > :last-child').getBoundingClientRect().bottom")
        assert gap >= 24  # content never flush against the footer


def test_print_shows_the_article_only_and_reduced_motion_stops_transitions(chromium):
    browser, base = chromium
    with opened(browser, DESKTOP, reduced_motion="reduce") as page:
        page.goto(base + "demo/news/a/index.html")
        duration = page.evaluate("getComputedStyle(document.querySelector('.gallery-link img')).transitionDuration")
        assert float(duration.rstrip("ms").rstrip("s") or 0) < 0.05
        page.emulate_media(media="print")
        shown = page.evaluate("['.site-header', '.topic-nav', '.site-footer', '.article-tools', '.breadcrumb', "
                              "'.prev-next'].map(s => document.querySelector(s)).filter(Boolean)"
                              ".map(e => getComputedStyle(e).display)")
        assert set(shown) == {"none"}
        assert page.evaluate("getComputedStyle(document.querySelector('.article .prose')).display") != "none"


def test_skip_link_and_focus_ring_are_visible(chromium):
    browser, base = chromium
    with opened(browser, DESKTOP) as page:
        page.goto(base + "demo/news/a/index.html")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        assert page.evaluate("document.activeElement.getBoundingClientRect().top") >= 0
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
