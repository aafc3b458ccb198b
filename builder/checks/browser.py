"""The real-browser pass of ``zhuanti check --browser``: mobile layout (``mobile.*``) and axe-core
accessibility (``a11y.*``), measured in Debian Chromium on a 360 px phone screen.

The checked folder is served on 127.0.0.1; every request that leaves it is refused, so pages
with external scripts neither hang nor leak traffic. ``open_browser()`` is the same machinery
for tests that want to look at a built page (screenshots, the 360 px no-scroll test).
"""

from __future__ import annotations

import functools
import html as html_lib
import http.server
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin

from builder.checks.base import Finding, HtmlDoc, decode_html
from builder.errors import ConfigError, ZhuantiError
from builder.i18n import tr

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)
# Backstop for traffic page.route never sees (DNS prefetch, preconnect, WebSocket): every
# non-loopback connection goes to a proxy on a closed port and fails at once.
DEAD_PROXY = {"server": "http://127.0.0.1:1", "bypass": "127.0.0.1"}
MOBILE_WIDTH, MOBILE_HEIGHT = 360, 640
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")  # GOVWEB C7: WCAG 2.x AA as the GB/T 37668 proxy

DEFAULT_MAX_PAGES = 200      # a real browser costs ~100 ms a page
DEFAULT_TIMEOUT_MS = 15_000
MIN_FONT_PX = 12.0           # below this body text is unreadable on a phone (GOVWEB C8)
MIN_TAP_PX = 24.0            # WCAG 2.2 SC 2.5.8 (AA) target size minimum
ADVISORY_TAP_PX = 44.0       # GOVWEB C8: borrowed from the APP 适老化 spec, advisory for the web
MAX_PER_RULE = 10            # findings per rule per page; the rest are counted in one more finding
SNIPPET_CHARS = 300

# Chinese titles for the axe rules content staff meet most; axe's own texts are English.
AXE_TITLES_ZH = {
    "image-alt": "图片缺少替代文本",
    "input-image-alt": "图片按钮缺少替代文本",
    "area-alt": "图片热区缺少替代文本",
    "role-img-alt": "图片角色元素缺少替代文本",
    "svg-img-alt": "SVG 图片缺少替代文本",
    "object-alt": "嵌入对象缺少替代文本",
    "color-contrast": "文字对比度不足",
    "link-in-text-block": "正文中的链接仅靠颜色区分",
    "html-has-lang": "页面未声明语言（html lang）",
    "html-lang-valid": "页面语言代码无效",
    "html-xml-lang-mismatch": "lang 与 xml:lang 不一致",
    "valid-lang": "lang 属性的语言代码无效",
    "document-title": "页面缺少标题（title）",
    "link-name": "链接缺少可读名称",
    "button-name": "按钮缺少可读名称",
    "input-button-name": "输入按钮缺少可读名称",
    "label": "表单控件缺少标签",
    "select-name": "下拉框缺少标签",
    "frame-title": "内嵌框架（iframe）缺少标题",
    "frame-focusable-content": "内嵌框架中的可聚焦内容无法用键盘到达",
    "video-caption": "视频缺少字幕",
    "audio-caption": "音频缺少文字稿",
    "meta-viewport": "页面禁止了缩放",
    "meta-refresh": "页面自动刷新或跳转",
    "blink": "使用了闪烁文字",
    "marquee": "使用了滚动字幕（marquee）",
    "bypass": "缺少跳过重复内容的方式",
    "list": "列表结构不正确",
    "listitem": "列表项不在列表中",
    "definition-list": "定义列表结构不正确",
    "dlitem": "定义列表项不在定义列表中",
    "duplicate-id-aria": "ARIA 引用的 id 重复",
    "nested-interactive": "交互元素相互嵌套",
    "scrollable-region-focusable": "可滚动区域无法用键盘访问",
    "aria-hidden-focus": "隐藏的元素仍可获得焦点",
    "aria-required-attr": "ARIA 角色缺少必需属性",
    "aria-required-children": "ARIA 角色缺少必需的子元素",
    "aria-required-parent": "ARIA 角色缺少必需的父元素",
    "aria-valid-attr": "ARIA 属性名无效",
    "aria-valid-attr-value": "ARIA 属性值无效",
    "aria-allowed-attr": "元素使用了不允许的 ARIA 属性",
    "aria-roles": "ARIA 角色无效",
    "td-headers-attr": "表格单元格的 headers 引用无效",
    "th-has-data-cells": "表头没有对应的数据单元格",
    "autocomplete-valid": "autocomplete 属性值无效",
    "avoid-inline-spacing": "行内样式阻止了调整文字间距",
    "server-side-image-map": "使用了服务器端图片热区",
}

# One page.evaluate() measures everything the mobile rules need, so a page costs one round trip.
_PROBE_JS = r"""
({minFont, minTap, advisoryTap, maxItems}) => {
  const de = document.documentElement, body = document.body || de;
  const cw = de.clientWidth;
  const snip = (el) => (el.outerHTML || '').slice(0, 300);
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
      let s = e.localName;
      if (e.id) { parts.unshift(s + '#' + CSS.escape(e.id)); break; }
      const cls = [...e.classList].slice(0, 2).map(c => '.' + CSS.escape(c)).join('');
      s += cls;
      const p = e.parentElement;
      if (p && !cls) {
        const same = [...p.children].filter(c => c.localName === e.localName);
        if (same.length > 1) s += ':nth-of-type(' + (same.indexOf(e) + 1) + ')';
      }
      parts.unshift(s);
      if (e === body || e === de) break;
    }
    return parts.join(' > ');
  };
  const shown = (el, r) => {
    if (r.width <= 1 || r.height <= 1) return false;
    const st = getComputedStyle(el);
    return st.visibility === 'visible' && st.opacity !== '0';
  };

  // Horizontal overflow: the outermost elements sticking out past the screen, not inside a
  // scrolling/clipping box (a table in an overflow-x:auto wrapper is fine).
  let overflow = null;
  if (de.scrollWidth > cw + 1) {
    const clipped = (el) => {
      for (let a = el.parentElement; a && a !== body && a !== de; a = a.parentElement)
        if (getComputedStyle(a).overflowX !== 'visible') return true;
      return false;
    };
    let widest = null, count = 0;
    for (const el of body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right <= cw + 1 || r.width === 0) continue;
      const p = el.parentElement;
      if (p && p !== body && p.getBoundingClientRect().right > cw + 1) continue;
      if (getComputedStyle(el).position === 'fixed' || clipped(el)) continue;
      count++;
      if (!widest || r.right > widest.right)
        widest = {path: path(el), right: Math.round(r.right), width: Math.round(r.width), html: snip(el)};
    }
    const hides = (el) => ['hidden', 'clip'].includes(getComputedStyle(el).overflowX);
    overflow = {scrollWidth: de.scrollWidth, clientWidth: cw, count, widest, clipped: hides(de) || hides(body)};
  }

  const viewport = [...document.querySelectorAll('meta')]
    .filter(m => (m.getAttribute('name') || '').trim().toLowerCase() === 'viewport')
    .map(m => m.getAttribute('content') || '');

  // Text smaller than minFont, one entry per element that holds the text.
  const SKIP = new Set(['script', 'style', 'noscript', 'template', 'option', 'title']);
  const small = new Map();
  let smallTotal = 0;
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || SKIP.has(el.localName) || !n.nodeValue.trim()) continue;
    seen.add(el);
    const fs = parseFloat(getComputedStyle(el).fontSize);
    if (!(fs > 0 && fs < minFont) || !shown(el, el.getBoundingClientRect())) continue;
    smallTotal++;
    if (small.size < maxItems)
      small.set(el, {path: path(el), size: fs, text: el.textContent.trim().slice(0, 40), html: snip(el)});
  }

  // Tap targets. Links inside running text are exempt (WCAG 2.5.8 "inline"), so are targets
  // with enough space around them (the 24 px circle test) and checkboxes with a visible label.
  const SEL = 'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
    '[role=button], [role=link], [role=tab], [role=menuitem], [role=checkbox], [role=radio]';
  const NOT_TEXT = /[\s|｜·•\/\\,，、.。:：;；\-–—()（）\[\]【】<>《》"'“”‘’!！?？>»«]/gu;
  const textBlocks = new Map();
  const blockOf = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const d = getComputedStyle(a).display;
      if (!d.startsWith('inline') && d !== 'contents') return a;
    }
    return body;
  };
  const inText = (el) => {
    if (getComputedStyle(el).display !== 'inline') return false;
    const blk = blockOf(el);
    if (!textBlocks.has(blk)) {
      let has = false;
      const w = document.createTreeWalker(blk, NodeFilter.SHOW_TEXT);
      for (let n = w.nextNode(); n && !has; n = w.nextNode()) {
        const p = n.parentElement;
        if (p && !SKIP.has(p.localName) && !p.closest(SEL) && n.nodeValue.replace(NOT_TEXT, '').length)
          has = true;
      }
      textBlocks.set(blk, has);
    }
    return textBlocks.get(blk);
  };
  const labelled = (el) => el.labels && [...el.labels].some(l => {
    const r = l.getBoundingClientRect();
    return r.width >= minTap && r.height >= minTap;
  });
  const targets = [];
  for (const el of body.querySelectorAll(SEL)) {
    const r = el.getBoundingClientRect();
    if (!shown(el, r) || r.right <= 0 || r.bottom <= 0) continue;
    targets.push({el, r, small: r.width < minTap - 0.01 || r.height < minTap - 0.01});
  }
  const tooSmall = [], advisory = [];
  let tooSmallTotal = 0, advisoryTotal = 0;
  for (const t of targets) {
    const under = t.r.width < advisoryTap - 0.01 || t.r.height < advisoryTap - 0.01;
    if (!under || inText(t.el) || labelled(t.el)) continue;
    const item = () => ({path: path(t.el), width: Math.round(t.r.width), height: Math.round(t.r.height),
                         text: (t.el.innerText || t.el.value || '').trim().slice(0, 30), html: snip(t.el)});
    let crowded = false;
    if (t.small) {
      const cx = t.r.left + t.r.width / 2, cy = t.r.top + t.r.height / 2;
      for (const o of targets) {
        if (o === t || o.el.contains(t.el) || t.el.contains(o.el)) continue;
        if (o.small) {
          const ox = o.r.left + o.r.width / 2, oy = o.r.top + o.r.height / 2;
          if (Math.hypot(ox - cx, oy - cy) < minTap) { crowded = true; break; }
        } else {
          const dx = Math.max(o.r.left - cx, 0, cx - o.r.right), dy = Math.max(o.r.top - cy, 0, cy - o.r.bottom);
          if (Math.hypot(dx, dy) < minTap / 2) { crowded = true; break; }
        }
      }
    }
    if (crowded) { tooSmallTotal++; if (tooSmall.length < maxItems) tooSmall.push(item()); }
    else { advisoryTotal++; if (advisory.length < maxItems) advisory.push(item()); }
  }
  return {overflow, viewport, small: [...small.values()], smallTotal,
          tooSmall, tooSmallTotal, advisory, advisoryTotal};
}
"""

# axe arrives by init script; null means a page script replaced the global, so it is injected again.
_AXE_RUN_JS = "(options) => (window.axe && typeof axe.run === 'function') ? axe.run(document, options) : null"
_AXE_OPTIONS = {"runOnly": {"type": "tag", "values": list(AXE_TAGS)}, "resultTypes": ["violations"]}


# ---------------------------------------------------------------- serving and the browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    prefix = "/"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def translate_path(self, path: str) -> str:
        # Pages exported from a site that lives under /zt/xxx/ may use root-absolute URLs.
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / ".zhuanti-outside-prefix")  # never exists: 404
        return super().translate_path("/" + path[len(self.prefix):])


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the browser dropping a connection mid-response is not worth a traceback


def _url_prefix(prefix: str) -> str:
    return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"


@contextmanager
def serve_folder(root: Path, prefix: str = "/") -> Iterator[str]:
    """Serve ``root`` at ``prefix`` on 127.0.0.1 (a free port) in a thread; yields the base URL
    (ending in ``/``) under which ``root``'s files are found."""
    prefix = quote(_url_prefix(prefix))  # compared with the request path, which is percent-encoded
    handler_class = type("_PrefixHandler", (_QuietHandler,), {"prefix": prefix})
    handler = functools.partial(handler_class, directory=str(root))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="zhuanti-browser-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def page_url(base_url: str, rel: str) -> str:
    """The served URL of ``rel`` (a posix path under the served folder)."""
    return base_url + quote(rel)


class BrowserSession:
    """One Chromium for a run: mobile (or desktop) contexts that can only reach ``base_url``."""

    def __init__(self, browser: Any, base_url: str | None, timeout_ms: int) -> None:
        self.browser = browser
        self.base_url = base_url
        self.timeout_ms = timeout_ms

    def new_context(self, width: int = MOBILE_WIDTH, height: int = MOBILE_HEIGHT, *, mobile: bool = True):
        """A fresh context; phone-like (touch, 3× pixels) when ``mobile``. External requests abort."""
        options: dict[str, Any] = {
            "viewport": {"width": width, "height": height}, "locale": "zh-CN",
            "service_workers": "block", "accept_downloads": False,
        }
        if mobile:
            options.update(device_scale_factor=3, is_mobile=True, has_touch=True)
        context = self.browser.new_context(**options)
        context.set_default_timeout(self.timeout_ms)
        origin = re.match(r"^https?://[^/]+/", self.base_url) if self.base_url else None
        local = re.escape(origin.group(0)) if origin else r"(?:data|blob|about):"
        outside = re.compile(rf"^(?!{local})")
        context.route(outside, lambda route: route.abort("blockedbyclient"))
        context.route_web_socket(outside, lambda ws: ws.close())
        return context

    def open(self, rel: str, width: int = MOBILE_WIDTH, height: int = MOBILE_HEIGHT, *,
             mobile: bool = True):
        """Load ``rel`` (a path under the served folder) in its own new context; returns the Page.

        The page's context closes with the session; close ``page.context`` earlier to free it."""
        if self.base_url is None:
            raise ValueError("open_browser() was called without a folder to serve")
        page = self.new_context(width, height, mobile=mobile).new_page()
        page.goto(page_url(self.base_url, rel), wait_until="load")
        return page

    def screenshot(self, rel: str, out: Path, width: int = MOBILE_WIDTH, height: int = MOBILE_HEIGHT, *,
                   mobile: bool = True, full_page: bool = True) -> Path:
        """Save a PNG of ``rel`` as a phone (or desktop, ``mobile=False``) shows it."""
        page = self.open(rel, width, height, mobile=mobile)
        try:
            page.screenshot(path=str(out), full_page=full_page)
        finally:
            page.context.close()
        return out

    def probe(self, page) -> dict:
        """The mobile measurements of a loaded page (overflow, viewport metas, fonts, tap targets)."""
        return page.evaluate(_PROBE_JS, {"minFont": MIN_FONT_PX, "minTap": MIN_TAP_PX,
                                         "advisoryTap": ADVISORY_TAP_PX, "maxItems": MAX_PER_RULE})

    def horizontal_overflow(self, page) -> dict | None:
        """None when the page fits its screen, else scrollWidth, clientWidth and the widest culprit."""
        return self.probe(page)["overflow"]


def _require_chromium(chromium: str) -> None:
    if not Path(chromium).exists():
        raise ConfigError(
            tr("找不到 Chromium 浏览器：{p}，无法进行浏览器检查（--browser）",
               "Chromium not found at {p}; the browser check (--browser) needs it", p=chromium),
            hint=tr("请安装：apt-get install -y chromium fonts-noto-cjk",
                    "install it: apt-get install -y chromium fonts-noto-cjk"))


def _launch(playwright: Any, chromium: str):
    try:
        return playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS),
                                          proxy=DEAD_PROXY)
    except Exception as exc:  # playwright raises its own Error type; anything here is a setup problem
        raise ConfigError(
            tr("无法启动 Chromium（{p}）：{e}", "cannot start Chromium ({p}): {e}",
               p=chromium, e=_first_line(exc)),
            hint=tr("请确认已安装：apt-get install -y chromium", "check it is installed: apt-get install -y chromium"),
        ) from exc


def _missing_packages(exc: ImportError) -> ConfigError:
    return ConfigError(
        tr("浏览器检查需要 Python 包 playwright 和 axe-playwright-python（缺少 {m}）",
           "the browser check needs the Python packages playwright and axe-playwright-python ({m} is missing)",
           m=exc.name or exc),
        hint=tr("请安装：pip install playwright axe-playwright-python（浏览器使用系统的 /usr/bin/chromium，无需另行下载）",
                "install them: pip install playwright axe-playwright-python (the browser is the system's "
                "/usr/bin/chromium; nothing else to download)"))


def _sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise _missing_packages(exc) from exc
    return sync_playwright


@contextmanager
def open_browser(root: Path | None = None, *, chromium: str = CHROMIUM, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 url_prefix: str = "/") -> Iterator[BrowserSession]:
    """Chromium plus (when ``root`` is given) a local server for ``root`` at ``url_prefix``;
    closes both on exit.

    ``with open_browser(public) as b: b.screenshot("index.html", tmp_path / "home.png")``
    """
    _require_chromium(chromium)
    sync_playwright = _sync_playwright()
    with _serve_optional(root, url_prefix) as base_url, sync_playwright() as playwright:
        browser = _launch(playwright, chromium)
        try:
            yield BrowserSession(browser, base_url, timeout_ms)
        finally:
            browser.close()


@contextmanager
def _serve_optional(root: Path | None, prefix: str) -> Iterator[str | None]:
    if root is None:
        yield None
    else:
        with serve_folder(root, prefix) as base_url:
            yield base_url


# ---------------------------------------------------------------- the check


class BrowserCheck:
    """``mobile.*`` and ``a11y.*``: each page loaded at 360 px in Chromium, measured, then axe-core.

    ``page()`` only records which pages to open; ``finish()`` does the work in one browser.
    When no page was recorded (``page()`` ran in worker processes) the HTML files under
    ``root`` are found again. ``max_pages`` <= 0 means no cap. ``url_prefix`` serves ``root``
    where the site lives (``/zt/xxx/``) so an export's root-absolute URLs still resolve.
    """

    def __init__(self, root: Path, pages: list[str] | None = None, max_pages: int | None = None, *,
                 chromium: str = CHROMIUM, timeout_ms: int = DEFAULT_TIMEOUT_MS, url_prefix: str = "/") -> None:
        self.root = Path(root)
        self.explicit_pages = list(pages) if pages is not None else None
        self.seen: list[str] = []
        self.max_pages = DEFAULT_MAX_PAGES if max_pages is None else max_pages
        self.chromium = chromium
        self.timeout_ms = timeout_ms
        self.url_prefix = url_prefix
        self._refused_navigations: list[str] = []
        self.stats: dict[str, float] = {}

    def page(self, doc: HtmlDoc) -> Iterable[Finding]:
        self.seen.append(doc.rel)
        return ()

    def finish(self) -> Iterable[Finding]:
        rels = self.pages_to_check()
        axe_script = _axe_script()  # fail on a missing package before starting a browser
        findings: list[Finding] = []
        if 0 < self.max_pages < len(rels):
            skipped = rels[self.max_pages:]
            rels = rels[:self.max_pages]
            findings.append(Finding(
                "mobile.pages-capped", "info", skipped[0],
                tr("浏览器检查只检查了前 {n} 个页面，另有 {m} 个页面未检查（如本页）",
                   "the browser check stopped after {n} pages; {m} more were not checked (this one included)",
                   n=self.max_pages, m=len(skipped)),
                suggestion=tr("需要全部检查时调大 max_pages", "raise max_pages to check them all")))
        if not rels:
            return findings
        started = time.perf_counter()
        with open_browser(self.root, chromium=self.chromium, timeout_ms=self.timeout_ms,
                          url_prefix=self.url_prefix) as session:
            context, tab = self._fresh_tab(session, axe_script)
            ready = time.perf_counter()
            for rel in rels:
                try:
                    findings.extend(self._check_page(session, tab, rel))
                except Exception as exc:  # a broken page must not end the run
                    findings.append(_load_failed(rel, exc))
                    context, tab = self._recover(session, context, axe_script)
            context.close()
        done = time.perf_counter()
        self.stats = {"pages": len(rels), "startup_seconds": round(ready - started, 3),
                      "seconds": round(done - started, 3),
                      "ms_per_page": round((done - ready) * 1000 / len(rels), 1)}
        return findings

    def note(self) -> str:
        """One line for the report: pages checked and the cost per page."""
        if not self.stats:
            return ""
        return tr("浏览器检查：{n} 个页面，共 {s} 秒（启动 {st} 秒，每页 {ms} 毫秒）",
                  "browser check: {n} pages in {s} s (startup {st} s, {ms} ms/page)",
                  n=int(self.stats["pages"]), s=self.stats["seconds"], st=self.stats["startup_seconds"],
                  ms=self.stats["ms_per_page"])

    def pages_to_check(self) -> list[str]:
        """Pages in checking order (before the cap): home first, then shallow pages."""
        if self.explicit_pages is not None:
            rels = self.explicit_pages
        elif self.seen:
            rels = self.seen
        else:
            rels = [p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                    if p.suffix.lower() in (".html", ".htm") and p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(self.root).parts)]
        # Home first, then shallow pages, so a capped run still covers the navigation pages.
        unique = dict.fromkeys(rels)
        return sorted(unique, key=lambda r: (r != "index.html", r.count("/"), r))

    def _check_page(self, session: BrowserSession, tab, rel: str) -> list[Finding]:
        url = page_url(session.base_url, rel)
        declared = _meta_refresh_target(_read_source(self.root / rel))
        if declared:
            # A declared <meta refresh> redirect is known from the source; waiting for it in the
            # browser races its timer (it may fire before or after the measurements).
            return [_redirected(rel, urljoin(url, declared), session.base_url)]
        try:
            response = tab.goto(url, wait_until="load")
        except Exception as exc:
            # The previous page's <meta refresh> may fire just as this one is requested.
            if "interrupted by another navigation" not in str(exc):
                raise
            response = tab.goto(url, wait_until="load")
        if response is not None and response.status >= 400:
            return [Finding("mobile.load-failed", "error", rel,
                            tr("页面无法打开：HTTP {s}", "page could not be opened: HTTP {s}", s=response.status))]
        try:
            if unquote(tab.url.split("#", 1)[0]) != unquote(url):  # a script setting #tab2 stays
                raise _Navigated
            probe = session.probe(tab)
            axe = tab.evaluate(_AXE_RUN_JS, _AXE_OPTIONS)
            if axe is None:
                tab.evaluate(_axe_script())
                axe = tab.evaluate(_AXE_RUN_JS, _AXE_OPTIONS)
        except Exception as exc:
            # A script or <meta http-equiv=refresh> sent the tab elsewhere: what is on screen
            # now is another page, so measuring it would blame this one.
            if not isinstance(exc, _Navigated) and "context was destroyed" not in str(exc):
                raise
            try:
                tab.wait_for_url(lambda now: unquote(now.split("#", 1)[0]) != unquote(url), wait_until="load")
            except Exception:
                pass  # still reported as a redirect; the next goto replaces whatever is loading
            where = tab.url
            if where.startswith("chrome-error:") and self._refused_navigations:
                where = self._refused_navigations[-1]  # sent off-site, where requests are refused
            return [_redirected(rel, where, session.base_url)]
        source = _read_source(self.root / rel)
        return mobile_findings(rel, probe, source) + axe_findings(rel, axe["violations"], source)

    def _fresh_tab(self, session: BrowserSession, axe_script: str):
        context = session.new_context()
        # Present before any page script runs, in every frame, and sent to the browser only once
        # (injecting it per page with Axe().run costs ~30 ms more a page).
        context.add_init_script(axe_script)
        tab = context.new_page()
        tab.on("requestfailed", lambda request: request.is_navigation_request()
               and request.frame == tab.main_frame and self._refused_navigations.append(request.url))
        return context, tab

    def _recover(self, session: BrowserSession, context, axe_script: str):
        """After a failure the tab may be hung or crashed: start over with a fresh context."""
        try:
            context.close()
        except Exception:
            pass  # a crashed context may refuse to close; the new one replaces it anyway
        try:
            return self._fresh_tab(session, axe_script)
        except Exception as exc:
            raise ZhuantiError(
                tr("浏览器在检查中崩溃：{e}", "the browser crashed during the check: {e}", e=_first_line(exc)),
                hint=tr("请单独检查出错的页面（见上一条 mobile.load-failed），或减少检查的页面数",
                        "check the failing page (the last mobile.load-failed) on its own, or fewer pages")) from exc


def _axe_script() -> str:
    """axe-core as bundled by axe-playwright-python (axe 4.12)."""
    try:
        from axe_playwright_python.base import AXE_SCRIPT
    except ImportError as exc:
        raise _missing_packages(exc) from exc
    return AXE_SCRIPT


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Navigated(Exception):
    """The page replaced itself with another one while it was being checked."""


_META_TAG = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_REFRESH = re.compile(r"""http-equiv\s*=\s*["']?refresh\b""", re.IGNORECASE)
_REFRESH_URL = re.compile(r"""content\s*=\s*["']?\s*\d*\s*[;,]\s*url\s*=\s*['"]?([^"'>\s]+)""", re.IGNORECASE)


def _meta_refresh_target(source: str) -> str | None:
    """Where a page's <meta http-equiv=refresh> sends the reader (attributes in any order)."""
    for tag in _META_TAG.findall(source[:20000]):
        if _REFRESH.search(tag):
            m = _REFRESH_URL.search(tag)
            if m:
                return html_lib.unescape(m.group(1))
    return None


def _redirected(rel: str, url: str, base_url: str | None) -> Finding:
    where = unquote(url[len(base_url):]) if base_url and url.startswith(base_url) else url
    return Finding("mobile.redirect", "info", rel,
                   tr("页面打开后跳转到 {u}，本页未做浏览器检查", "the page redirects to {u}; it was not checked "
                      "in the browser", u=where), target=where)


def _load_failed(rel: str, exc: Exception) -> Finding:
    text = _first_line(exc)
    timed_out = type(exc).__name__ == "TimeoutError" or "Timeout" in text
    if timed_out:
        message = tr("页面在规定时间内未加载完成：{e}", "page did not finish loading in time: {e}", e=text)
    else:
        message = tr("页面在浏览器中加载或检查失败：{e}", "page failed to load or be checked in the browser: {e}",
                     e=text)
    return Finding("mobile.load-failed", "error", rel, message,
                   suggestion=tr("检查页面脚本是否死循环、是否跳转到其他页面",
                                 "look for scripts that never finish or redirect the page"))


def _read_source(path: Path) -> str:
    try:
        return decode_html(path.read_bytes())
    except OSError:
        return ""


# ---------------------------------------------------------------- measurements → findings

_DEVICE_WIDTH = re.compile(r"(?:^|[\s,;])width\s*=\s*device-width", re.I)
_OPEN_TAG = re.compile(r"<([a-zA-Z][\w-]*)([^>]*)>")
_ATTR = re.compile(r'\b(id|src|href|name|for|action|data-src)\s*=\s*"([^"]+)"')


def source_line(source: str, snippet: str | None) -> int | None:
    """Best-effort line of the element an HTML snippet (outerHTML from the browser) came from."""
    if not source or not snippet:
        return None
    tag = _OPEN_TAG.match(snippet)
    if not tag:
        return None
    opening = tag.group(0)
    candidates = [opening] + [f'{name}="{value}"' for name, value in _ATTR.findall(tag.group(2))]
    candidates += [f"{name}={value}" for name, value in _ATTR.findall(tag.group(2)) if " " not in value]
    for needle in candidates:
        i = source.find(needle)
        if i >= 0:
            return source.count("\n", 0, i) + 1
    return None


def _snip(html: str | None) -> str | None:
    if not html:
        return None
    html = " ".join(html.split())
    return html if len(html) <= SNIPPET_CHARS else html[:SNIPPET_CHARS] + "…"


def mobile_findings(rel: str, probe: dict, source: str = "") -> list[Finding]:
    """Turn one page's probe (see _PROBE_JS) into mobile.* findings."""
    out: list[Finding] = []
    viewports = probe.get("viewport") or []
    if not viewports:
        out.append(Finding(
            "mobile.viewport", "error", rel,
            tr("页面缺少 <meta name=\"viewport\">，手机上会按电脑宽度缩小显示",
               "no <meta name=\"viewport\">: phones show the page shrunk to desktop width"),
            line=source_line(source, "<head>"),
            suggestion='<meta name="viewport" content="width=device-width, initial-scale=1">'))
    elif not _DEVICE_WIDTH.search(viewports[-1]):
        out.append(Finding(
            "mobile.viewport", "error", rel,
            tr("viewport 未设置 width=device-width：{c}", "viewport lacks width=device-width: {c}",
               c=viewports[-1]),
            line=source_line(source, '<meta name="viewport">'), context=viewports[-1],
            suggestion='<meta name="viewport" content="width=device-width, initial-scale=1">'))

    overflow = probe.get("overflow")
    if overflow:
        widest = overflow.get("widest") or {}
        culprit = widest.get("path") or "html"
        values = {"cw": overflow["clientWidth"], "sw": overflow["scrollWidth"], "el": culprit,
                  "w": widest.get("width", overflow["scrollWidth"]), "n": overflow.get("count", 0)}
        if overflow.get("clipped"):
            message = tr("在 {cw}px 宽的手机屏幕上内容超出屏幕并被裁掉（overflow-x:hidden）：页面宽 {sw}px；"
                         "最宽的元素 {el} 宽 {w}px（共 {n} 处超出）",
                         "content is cut off on a {cw}px phone screen (overflow-x:hidden): the page is {sw}px "
                         "wide; the widest element {el} is {w}px wide ({n} element(s) stick out)", **values)
        else:
            message = tr("在 {cw}px 宽的手机屏幕上出现横向滚动：页面宽 {sw}px；最宽的元素 {el} 宽 {w}px"
                         "（共 {n} 处超出）",
                         "horizontal scrolling on a {cw}px phone screen: the page is {sw}px wide; the widest "
                         "element {el} is {w}px wide ({n} element(s) stick out)", **values)
        out.append(Finding(
            "mobile.overflow", "error", rel, message,
            line=source_line(source, widest.get("html")), target=culprit, context=_snip(widest.get("html")),
            suggestion=tr("不要写死宽度：图片用 max-width:100%，宽表格外包一层 overflow-x:auto 的容器",
                          "avoid fixed widths: max-width:100% on images, wrap wide tables in an "
                          "overflow-x:auto box")))

    for item in probe.get("small", []):
        out.append(Finding(
            "mobile.font-size", "warning", rel,
            tr("手机上文字过小：{s}px（至少 {m}px）：“{t}”", "text too small on a phone: {s}px (at least {m}px): '{t}'",
               s=round(item["size"], 1), m=int(MIN_FONT_PX), t=item["text"]),
            line=source_line(source, item.get("html")), target=item["path"], context=_snip(item.get("html")),
            suggestion=tr("正文字号不小于 12px；适老化页面建议至少 18px",
                          "body text at least 12px; 18px for elderly-friendly (适老化) pages")))
    out += _more(rel, "mobile.font-size", "warning", probe.get("smallTotal", 0), len(probe.get("small", [])))

    for item in probe.get("tooSmall", []):
        out.append(Finding(
            "mobile.tap-target", "warning", rel,
            tr("可点击区域过小且过密：{w}×{h}px（至少 {m}×{m}px，WCAG 2.5.8）：“{t}”",
               "tap target too small and too close to others: {w}×{h}px (at least {m}×{m}px, "
               "WCAG 2.5.8): '{t}'", w=item["width"], h=item["height"], m=int(MIN_TAP_PX), t=item["text"]),
            line=source_line(source, item.get("html")), target=item["path"], context=_snip(item.get("html")),
            suggestion=tr("加大内边距（padding）或间距，使点击区域不小于 44×44px",
                          "add padding or spacing so the target is at least 44×44px")))
    out += _more(rel, "mobile.tap-target", "warning", probe.get("tooSmallTotal", 0), len(probe.get("tooSmall", [])))

    advisory = probe.get("advisory", [])
    if advisory:
        examples = "；".join(f"{a['path']} {a['width']}×{a['height']}" for a in advisory[:3])
        out.append(Finding(
            "mobile.tap-target", "info", rel,
            tr("{n} 个可点击元素小于建议的 {m}×{m}px（适老化建议值），如：{e}",
               "{n} tap target(s) are smaller than the advised {m}×{m}px (elderly-friendly advice), e.g. {e}",
               n=probe.get("advisoryTotal", len(advisory)), m=int(ADVISORY_TAP_PX), e=examples),
            line=source_line(source, advisory[0].get("html")), target=advisory[0]["path"],
            context=_snip(advisory[0].get("html"))))
    return out


def _more(rel: str, rule: str, severity: str, total: int, shown: int) -> list[Finding]:
    if total <= shown:
        return []
    return [Finding(rule, severity, rel, tr("另有 {n} 处同类问题未逐一列出", "{n} more of the same not listed",
                                            n=total - shown))]


def _selector(target: list) -> str:
    """axe targets are lists (one item per iframe); shadow-DOM items are lists themselves."""
    parts = [" >>> ".join(t) if isinstance(t, list) else str(t) for t in target]
    return " | ".join(parts)


def _axe_message(violation: dict, node: dict) -> str:
    help_text = violation.get("help", violation["id"])
    title = AXE_TITLES_ZH.get(violation["id"])
    detail = ""
    if violation["id"] == "color-contrast":
        data = next((c.get("data") for c in node.get("any", []) if isinstance(c.get("data"), dict)), None)
        if data and data.get("contrastRatio") is not None:
            detail = tr("：对比度 {r}:1，应至少 {e}（{fg} / {bg}）", ": contrast {r}:1, needs {e} ({fg} on {bg})",
                        r=data["contrastRatio"], e=data.get("expectedContrastRatio", "4.5:1"),
                        fg=data.get("fgColor", "?"), bg=data.get("bgColor", "?"))
    if title:
        return tr("{t}{d}（{h}）", "{h}{d}", t=title, d=detail, h=help_text)
    return tr("无障碍问题{d}：{h}", "{h}{d}", d=detail, h=help_text)


def axe_findings(rel: str, violations: list[dict], source: str = "") -> list[Finding]:
    """One finding per violating node (capped per rule); serious/critical are errors."""
    out: list[Finding] = []
    for violation in violations:
        rule = f"a11y.{violation['id']}"
        severity = "error" if violation.get("impact") in ("critical", "serious") else "warning"
        nodes = violation.get("nodes", [])
        for node in nodes[:MAX_PER_RULE]:
            summary = " ".join((node.get("failureSummary") or "").split())
            hint = " ".join(filter(None, [summary, violation.get("helpUrl")]))
            out.append(Finding(
                rule, severity, rel, _axe_message(violation, node),
                line=source_line(source, node.get("html")), target=_selector(node.get("target", [])),
                context=_snip(node.get("html")), suggestion=hint or None))
        out += _more(rel, rule, severity, len(nodes), min(len(nodes), MAX_PER_RULE))
    return out
