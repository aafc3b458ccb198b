"""The real-browser pass of ``zhuanti check --browser``: layout on five devices (``mobile.*``), axe-core
accessibility (``a11y.*``), script errors and the elderly-friendly (适老化) mode, measured in Debian
Chromium, several pages at once in parallel browser contexts; screenshots for the HTML report.

The checked folder is served on 127.0.0.1; every request that leaves it is refused, so pages
with external scripts neither hang nor leak traffic. ``open_browser()`` is the same machinery
for tests that want to look at a built page (screenshots, the 360 px no-scroll test).
"""

from __future__ import annotations

import asyncio
import functools
import html as html_lib
import http.server
import io
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin

from builder import ui
from builder.checks.axe_titles import AXE_TITLES_ZH
from builder.checks.base import Finding, HtmlDoc, decode_html
from builder.errors import ConfigError, ZhuantiError
from builder.i18n import tr
from builder.manifest import load_manifest

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

DEFAULT_TIMEOUT_MS = 15_000  # per page load; a page that takes longer is a finding, the run goes on
MIN_FONT_PX = 12.0           # below this body text is unreadable on a phone (GOVWEB C8)
ELDER_FONT_PX = 18.0         # 适老化 spec: at least 18 dp/pt text on the mobile web (GOVWEB C7)
MIN_ZOOM_SCALE = 2.0         # WCAG 1.4.4 via axe meta-viewport: maximum-scale below 2 locks zoom
MIN_TAP_PX = 24.0            # WCAG 2.2 SC 2.5.8 (AA) target size minimum
ADVISORY_TAP_PX = 44.0       # GOVWEB C8: borrowed from the APP 适老化 spec, advisory for the web
MAX_PER_RULE = 10            # findings per rule per page; the rest are counted in one more finding
SNIPPET_CHARS = 300

# Chinese titles for the axe rules content staff meet most (axe's own texts are English).

# What to do, in Chinese, for the rules content staff and theme designers meet most.
AXE_FIXES_ZH = {
    "image-alt": "为图片加上描述内容的 alt 属性；纯装饰图片写 alt=\"\"",
    "color-contrast": "加深文字颜色或换浅背景，正文对比度至少 4.5:1，大字至少 3:1",
    "link-name": "链接里要有文字；只有图标时给图标加 alt 或给链接加 aria-label",
    "button-name": "按钮里要有文字；只有图标时加 aria-label",
    "html-has-lang": "在 <html> 上加 lang=\"zh-CN\"",
    "document-title": "在 <head> 中写明页面标题 <title>",
    "label": "用 <label for=\"…\"> 或 aria-label 给输入框加上说明文字",
    "frame-title": "给 <iframe> 加上说明内容的 title 属性",
    "meta-viewport": "去掉 viewport 中的 user-scalable=no 和过小的 maximum-scale，允许用户放大",
    "video-caption": "为视频提供字幕（<track kind=\"captions\">）",
    "list": "<ul>/<ol> 中只放 <li>",
    "listitem": "<li> 要放在 <ul> 或 <ol> 中",
    "bypass": "在页面开头加“跳到主要内容”链接，或使用 <main> 等地标元素",
    "duplicate-id-aria": "让被 aria 属性引用的 id 在页面中唯一",
    "nested-interactive": "不要把链接或按钮放在另一个链接或按钮里",
    "scrollable-region-focusable": "给可滚动的区域加 tabindex=\"0\"，让键盘也能滚动",
    "select-name": "用 <label> 或 aria-label 给下拉框加上说明文字",
    "link-in-text-block": "正文中的链接加下划线，不要只靠颜色区分",
}

# One page.evaluate() measures everything the mobile rules need, so a page costs one round trip.
_PROBE_JS = r"""
({minFont, minTap, advisoryTap, maxItems, touch, elder}) => {
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

  // Images (and other replaced media) wider than the screen, unless a scrolling box holds them.
  const scrolls = (el) => {
    for (let a = el.parentElement; a && a !== body && a !== de; a = a.parentElement)
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return true;
    return false;
  };
  const images = [];
  let imagesTotal = 0;
  for (const el of body.querySelectorAll('img, svg, video, canvas, iframe, embed, object')) {
    if (el.localName === 'svg' && el.parentElement && el.parentElement.closest('svg')) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= cw + 1 || !shown(el, r) || scrolls(el)) continue;
    imagesTotal++;
    if (images.length < maxItems) images.push({path: path(el), width: Math.round(r.width), html: snip(el)});
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
  for (const el of touch ? body.querySelectorAll(SEL) : []) {
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
  // Elderly-friendly (适老化) mode: no floating or pop-up elements may cover the text.
  const floating = [];
  if (elder) {
    const vh = de.clientHeight;
    for (const el of body.querySelectorAll('*')) {
      const st = getComputedStyle(el);
      const popup = (el.localName === 'dialog' && el.open) || el.getAttribute('role') === 'dialog' ||
        el.getAttribute('role') === 'alertdialog' || el.getAttribute('aria-modal') === 'true';
      if (st.position !== 'fixed' && !popup) continue;
      const r = el.getBoundingClientRect();
      if (!shown(el, r) || r.right <= 0 || r.bottom <= 0 || r.left >= cw || r.top >= vh) continue;
      if (floating.some(f => f.el.contains(el))) continue;  // one finding per floating box
      floating.push({el, path: path(el), width: Math.round(r.width), height: Math.round(r.height),
                     popup, html: snip(el)});
      if (floating.length >= maxItems) break;
    }
  }
  return {overflow, viewport, small: [...small.values()], smallTotal, images, imagesTotal,
          tooSmall, tooSmallTotal, advisory, advisoryTotal,
          floating: floating.map(({el, ...rest}) => rest)};
}
"""



def probe_args(*, touch: bool, elder: bool = False) -> dict:
    return {"minFont": ELDER_FONT_PX if elder else MIN_FONT_PX, "minTap": MIN_TAP_PX,
            "advisoryTap": ADVISORY_TAP_PX, "maxItems": MAX_PER_RULE, "touch": touch, "elder": elder}


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


def context_options(width: int, height: int, scale: float, touch: bool) -> dict[str, Any]:
    """Playwright context options for a screen; ``touch`` makes it a phone or tablet."""
    return {"viewport": {"width": width, "height": height}, "device_scale_factor": scale,
            "is_mobile": touch, "has_touch": touch, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
            "service_workers": "block", "accept_downloads": False}


def _outside(base_url: str | None) -> re.Pattern:
    """URLs that are not under the local server's origin: every request to them is refused."""
    origin = re.match(r"^https?://[^/]+/", base_url) if base_url else None
    local = re.escape(origin.group(0)) if origin else r"(?:data|blob|about):"
    return re.compile(rf"^(?!{local})")


class BrowserSession:
    """One Chromium for a run: mobile (or desktop) contexts that can only reach ``base_url``."""

    def __init__(self, browser: Any, base_url: str | None, timeout_ms: int) -> None:
        self.browser = browser
        self.base_url = base_url
        self.timeout_ms = timeout_ms

    def new_context(self, width: int = MOBILE_WIDTH, height: int = MOBILE_HEIGHT, *, mobile: bool = True):
        """A fresh context; phone-like (touch, 3× pixels) when ``mobile``. External requests abort."""
        context = self.browser.new_context(**context_options(width, height, 3 if mobile else 1, mobile))
        context.set_default_timeout(self.timeout_ms)
        outside = _outside(self.base_url)
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
        return page.evaluate(_PROBE_JS, probe_args(touch=True))

    def horizontal_overflow(self, page) -> dict | None:
        """None when the page fits its screen, else scrollWidth, clientWidth and the widest culprit."""
        return self.probe(page)["overflow"]


def chromium_path(chromium: str | None = None) -> str:
    """The Chromium to drive: the one given, else ``$ZHUANTI_CHROMIUM``, else Debian's."""
    return chromium or os.environ.get("ZHUANTI_CHROMIUM") or CHROMIUM


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
        raise _launch_error(chromium, exc) from exc


def _launch_error(chromium: str, exc: Exception) -> ConfigError:
    return ConfigError(
        tr("无法启动 Chromium（{p}）：{e}", "cannot start Chromium ({p}): {e}", p=chromium, e=_first_line(exc)),
        hint=tr("请确认已安装：apt-get install chromium", "check it is installed: apt-get install chromium"))


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
def open_browser(root: Path | None = None, *, chromium: str | None = None, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 url_prefix: str = "/") -> Iterator[BrowserSession]:
    """Chromium (``chromium``, else ``$ZHUANTI_CHROMIUM``, else /usr/bin/chromium) plus (when
    ``root`` is given) a local server for ``root`` at ``url_prefix``; closes both on exit.

    ``with open_browser(public) as b: b.screenshot("index.html", tmp_path / "home.png")``
    """
    chromium = chromium_path(chromium)
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


# ---------------------------------------------------------------- devices, templates, sampling


@dataclass(frozen=True)
class Device:
    """A screen the pages are measured on. ``touch``: a phone or tablet (is_mobile, touch events,
    the tap-target and font rules); devices that share ``scale`` and ``touch`` share one page load."""

    key: str
    zh: str
    en: str
    width: int
    height: int
    scale: float
    touch: bool

    @property
    def label(self) -> str:
        return f"{self.width}×{self.height} {tr(self.zh, self.en)}"


DEVICES = (
    Device("android", "安卓手机", "Android phone", 360, 640, 3, True),
    Device("iphone", "iPhone", "iPhone", 375, 812, 3, True),
    Device("iphone-max", "大屏 iPhone", "large iPhone", 414, 896, 3, True),
    Device("tablet", "平板", "tablet", 768, 1024, 2, True),
    Device("desktop", "电脑", "desktop", 1366, 768, 1, False),
)


def parse_devices(text: str | None) -> tuple[Device, ...]:
    """``--devices``: device keys or widths, comma-separated (``360,1366``, ``android,desktop``)."""
    if not text or text.strip() == "all":
        return DEVICES
    chosen: list[Device] = []
    for item in filter(None, (t.strip().lower() for t in text.split(","))):
        device = next((d for d in DEVICES if item in (d.key, str(d.width))), None)
        if device is None:
            raise ConfigError(tr("未知的设备：{d}", "unknown device: {d}", d=item), field="--devices",
                              hint=tr("可用的设备（名称或宽度）：", "known devices (name or width): ")
                              + "、".join(f"{d.key}={d.width}" for d in DEVICES))
        if device not in chosen:
            chosen.append(device)
    if not chosen:
        raise ConfigError(tr("--devices 没有列出设备", "--devices lists no device"), field="--devices")
    return tuple(sorted(chosen, key=DEVICES.index))


def _load_groups(devices: Iterable[Device]) -> list[tuple[Device, ...]]:
    groups: dict[tuple[float, bool], list[Device]] = {}
    for d in devices:
        groups.setdefault((d.scale, d.touch), []).append(d)
    return [tuple(g) for g in groups.values()]


_BODY_KIND = re.compile(r"""<body\b[^>]*?\bclass\s*=\s*["']?[^"'>]*?\bkind-([\w-]+)""", re.IGNORECASE)


def page_template(rel: str, head: str, manifest_kind: str | None = None) -> str:
    """The template a page was made with: the theme's ``<body class="kind-…">`` (zhuanti themes),
    else the manifest's page kind, else the page's place in the folder (``index@2``, ``page@1``)."""
    m = _BODY_KIND.search(head)
    if m:
        return m.group(1)
    if manifest_kind:
        return manifest_kind
    parts = rel.split("/")
    return f"{'index' if parts[-1].lower() in ('index.html', 'index.htm') else 'page'}@{len(parts) - 1}"


def spread(items: list[str], n: int) -> list[str]:
    """``n`` items spread evenly over ``items`` (first and last included); deterministic."""
    if n >= len(items):
        return list(items)
    if n == 1:
        return items[:1]
    return list(dict.fromkeys(items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)))


@dataclass
class Screenshot:
    """One screenshot for the HTML report: a JPEG in CSS pixels (desktop ones scaled down)."""

    page: str
    template: str
    device: Device
    reason: str                 # "template": the template's first page; "findings": the page has findings
    jpeg: bytes
    width: int
    height: int
    outlined: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Job:
    rel: str
    template: str
    representative: bool  # the first checked page of its template: screenshots on every device


MAX_FINDING_SHOT_PAGES = 30   # pages with findings that get screenshots (the report stays a few MB)
SHOT_MAX_WIDTH = 480          # px; wider screenshots (desktop, overflow) are scaled down
SHOT_QUALITY = 50
ELDER_PARAM = "elder=1"
# The theme's documented hook (docs/browser-checks.md): the page in 适老化 mode has data-elder on <html>.
_ELDER_ACTIVE_JS = """() => { const de = document.documentElement, b = document.body;
  return de.hasAttribute('data-elder') || de.classList.contains('elder') ||
         !!(b && (b.hasAttribute('data-elder') || b.classList.contains('elder'))); }"""
_OUTLINE_JS = r"""
({targets, wide}) => {
  const de = document.documentElement, vh = de.clientHeight, cw = de.clientWidth;
  const style = document.createElement('style');
  style.id = 'zhuanti-outline';
  style.textContent = '[data-zhuanti-outline]{outline:3px solid #d50000 !important;outline-offset:-2px ' +
    '!important;box-shadow:0 0 0 5px rgba(255,214,0,.55) !important}';
  document.head.appendChild(style);
  let first = null;
  for (const sel of targets) {
    let els = [];
    try { els = document.querySelectorAll(sel); } catch (e) { continue; }
    for (const el of els) { el.setAttribute('data-zhuanti-outline', ''); if (!first) first = el; }
  }
  const sh = Math.max(de.scrollHeight, vh);
  let top = 0;
  if (first) top = Math.max(0, Math.min(first.getBoundingClientRect().top + scrollY - vh / 4, sh - vh));
  return {top: Math.round(top), height: Math.min(vh, sh - Math.round(top)),
          width: wide ? Math.min(de.scrollWidth, cw * 2) : cw};
}
"""
_UNOUTLINE_JS = """() => { document.querySelectorAll('[data-zhuanti-outline]').forEach(
  e => e.removeAttribute('data-zhuanti-outline'));
  const s = document.getElementById('zhuanti-outline'); if (s) s.remove(); }"""


# ---------------------------------------------------------------- the check


class BrowserCheck:
    """``mobile.*`` and ``a11y.*``: each page loaded in Chromium and measured on every device,
    axe-core once (on the first device), script errors; the 适老化 mode (a theme feature) at phone
    width on the first checked page of each template.

    ``finish()`` does the work in one browser with ``contexts`` pages in flight at once. The
    pages are ``pages``, else those ``page()`` recorded, else every HTML file under ``root``;
    ``sample`` N keeps N pages per template, ``max_pages`` (> 0) keeps the first pages; either is
    said in ``note()``. ``url_prefix`` serves ``root`` where the site lives (``/zt/xxx/``) so an
    export's root-absolute URLs still resolve. ``screenshots`` fills ``self.screenshots``.
    """

    def __init__(self, root: Path, pages: list[str] | None = None, max_pages: int | None = None, *,
                 sample: int | None = None, devices: Iterable[Device] | None = None, screenshots: bool = False,
                 contexts: int | None = None, elder: bool = True, chromium: str | None = None,
                 timeout_ms: int = DEFAULT_TIMEOUT_MS, url_prefix: str = "/") -> None:
        if sample is not None and sample < 1:
            raise ConfigError(tr("--sample 必须大于 0", "--sample must be at least 1"), field="--sample")
        self.root = Path(root)
        self.explicit_pages = list(pages) if pages is not None else None
        self.seen: list[str] = []
        self.max_pages = max_pages or 0
        self.sample = sample
        self.devices = tuple(devices) if devices is not None else DEVICES
        self.groups = _load_groups(self.devices)
        self.want_screenshots = screenshots
        self.contexts = contexts or DEFAULT_CONTEXTS
        self.elder = elder
        self.chromium = chromium_path(chromium)
        self.timeout_ms = timeout_ms
        self.url_prefix = url_prefix
        self.stats: dict[str, float] = {}
        self.selection = ""                      # how the pages were chosen (sampled, capped), for note()
        self.skipped = ""                        # why the pass did not run (no Chromium)
        self.templates: dict[str, str] = {}      # page → template of every checked page
        self.by_device: dict[str, dict[str, list[Finding]]] = {}  # page → device key → layout findings
        self.screenshots: list[Screenshot] = []
        self._elder_pages: dict[str, bool] = {}  # page → the 适老化 mode switched on
        self._shot_pages: set[str] = set()

    def page(self, doc: HtmlDoc) -> Iterable[Finding]:
        self.seen.append(doc.rel)
        return ()

    # ---------------------------------------------------------------- which pages

    def pages_to_check(self) -> list[str]:
        """Pages in checking order (before sampling): home first, then shallow pages."""
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

    def plan(self, rels: list[str]) -> tuple[list[_Job], list[Finding]]:
        """Group the pages by template, sample or cap them; returns the jobs and a capped-run finding."""
        manifest = load_manifest(self.root) or {}
        kinds = {p.get("path"): p.get("kind") for p in manifest.get("pages", []) if isinstance(p, dict)}
        by_template: dict[str, list[str]] = {}
        for rel in rels:
            template = page_template(rel, _read_source(self.root / rel, 65536), kinds.get(rel))
            by_template.setdefault(template, []).append(rel)
        chosen = rels
        findings: list[Finding] = []
        if self.sample:
            keep = {r for group in by_template.values() for r in spread(group, self.sample)}
            chosen = [r for r in rels if r in keep]
            if len(chosen) < len(rels):
                per = "、".join(f"{t} {min(len(g), self.sample)}/{len(g)}" for t, g in sorted(by_template.items()))
                self.selection = tr("抽样检查：每个模板最多 {n} 页，共 {c}/{t} 页（{p}）",
                                    "sampled: up to {n} pages per template, {c} of {t} pages ({p})",
                                    n=self.sample, c=len(chosen), t=len(rels), p=per)
        if 0 < self.max_pages < len(chosen):
            skipped = chosen[self.max_pages:]
            chosen = chosen[:self.max_pages]
            self.selection = "；".join(filter(None, [self.selection, tr(
                "只检查了前 {n} 页，另有 {m} 页未检查", "capped at the first {n} pages; {m} more were not checked",
                n=self.max_pages, m=len(skipped))]))
            findings.append(Finding(
                "mobile.pages-capped", "info", skipped[0],
                tr("浏览器检查只检查了前 {n} 个页面，另有 {m} 个页面未检查（如本页）",
                   "the browser check stopped after {n} pages; {m} more were not checked (this one included)",
                   n=self.max_pages, m=len(skipped)),
                suggestion=tr("用 --sample N 按模板抽样，或不设上限检查全部页面",
                              "use --sample N to sample per template, or check every page without a cap")))
        template_of = {r: t for t, group in by_template.items() for r in group}
        first_checked: dict[str, str] = {}
        for rel in chosen:
            first_checked.setdefault(template_of[rel], rel)
        jobs = [_Job(rel, template_of[rel], first_checked[template_of[rel]] == rel) for rel in chosen]
        self.templates = {j.rel: j.template for j in jobs}
        return jobs, findings

    # ---------------------------------------------------------------- the run

    def finish(self) -> Iterable[Finding]:
        jobs, findings = self.plan(self.pages_to_check())
        if not Path(self.chromium).exists():
            self.skipped = tr(
                "浏览器检查已跳过：找不到 Chromium（{p}）。请安装：apt-get install chromium fonts-noto-cjk",
                "browser check skipped: Chromium not found ({p}). Install it: apt-get install chromium "
                "fonts-noto-cjk", p=self.chromium)
            ui.warn(self.skipped)
            return []
        if not jobs:
            return findings
        axe_script = _axe_script()  # fail on a missing package before starting a browser
        async_playwright = _async_playwright()
        ui.say(tr("浏览器检查：{n} 个页面 × {d} 种设备（{s}）", "browser check: {n} pages × {d} devices ({s})",
                  n=len(jobs), d=len(self.devices), s=self.selection or tr("全部页面", "every page")))
        started = time.perf_counter()
        with serve_folder(self.root, self.url_prefix) as base_url, \
                ui.progress(tr("浏览器检查", "browser check"), total=len(jobs)) as advance:
            results, ready = asyncio.run(self._run(async_playwright, base_url, jobs, axe_script, advance))
        done = time.perf_counter()
        for job in jobs:
            findings.extend(results.get(job.rel, ()))
        findings += self._elder_summary(jobs)
        self.stats = {"pages": len(jobs), "devices": len(self.devices), "contexts": self.contexts,
                      "startup_seconds": round(ready - started, 3), "seconds": round(done - started, 3),
                      "ms_per_page": round((done - ready) * 1000 / len(jobs), 1)}
        return findings

    async def _run(self, async_playwright, base_url: str, jobs: list[_Job], axe_script: str,
                   advance) -> tuple[dict[str, list[Finding]], float]:
        results: dict[str, list[Finding]] = {}
        queue = list(reversed(jobs))
        async with async_playwright() as playwright:
            browser = await _launch_async(playwright, self.chromium)
            ready = time.perf_counter()
            try:
                async def work() -> None:
                    worker = _Worker(self, browser, base_url, axe_script)
                    await worker.start()
                    try:
                        while queue:
                            job = queue.pop()
                            results[job.rel] = await worker.check_guarded(job)
                            advance()
                    finally:
                        await worker.close()

                await asyncio.gather(*(work() for _ in range(max(1, min(self.contexts, len(jobs))))))
            finally:
                await browser.close()
        return results, ready

    def _elder_summary(self, jobs: list[_Job]) -> list[Finding]:
        """Pages whose 适老化 mode could not be switched on (the check of the mode was skipped)."""
        if not self.elder or not self._elder_pages:
            return []
        missing = [rel for rel, on in self._elder_pages.items() if not on]
        if not missing:
            return []
        if len(missing) == len(self._elder_pages):
            return [Finding(
                "mobile.elder-mode", "info", missing[0],
                tr("未检查适老化模式：页面打开 ?{q} 后没有进入适老化模式（<html> 上没有 data-elder），"
                   "共试了 {n} 个页面（每个模板一页）", "the elderly-friendly mode was not checked: with ?{q} the pages do not "
                   "switch it on (no data-elder on <html>); {n} pages tried", q=ELDER_PARAM, n=len(missing)),
                suggestion=tr("主题应支持 ?elder=1 并在 <html> 上加 data-elder（见 docs/browser-checks.md）",
                              "the theme should honour ?elder=1 and set data-elder on <html> "
                              "(see docs/browser-checks.md)"))]
        return [Finding("mobile.elder-mode", "info", rel,
                        tr("本页（模板 {t}）打开 ?{q} 后没有进入适老化模式，其他模板的页面可以",
                           "with ?{q} this page (template {t}) does not switch to the elderly-friendly mode; "
                           "pages of other templates do", q=ELDER_PARAM, t=self.templates.get(rel, "?")))
                for rel in missing]

    def note(self) -> str:
        """One line for the report: pages and devices checked, how they were chosen, the cost."""
        if self.skipped:
            return self.skipped
        if not self.stats:
            return self.selection
        line = tr("浏览器检查：{n} 个页面 × {d} 种设备，共 {s} 秒（启动 {st} 秒，每页 {ms} 毫秒，{c} 个并行页面）",
                  "browser check: {n} pages × {d} devices in {s} s (startup {st} s, {ms} ms/page, {c} in parallel)",
                  n=int(self.stats["pages"]), d=int(self.stats["devices"]), s=self.stats["seconds"],
                  st=self.stats["startup_seconds"], ms=self.stats["ms_per_page"], c=int(self.stats["contexts"]))
        return line + ("；" + self.selection if self.selection else tr("；全部页面", "; every page"))

    # ---------------------------------------------------------------- screenshots

    def wants_shot(self, job: _Job, device: Device, found: list[Finding], last: dict) -> str | None:
        """Why this device's view of the page is worth a screenshot, or None."""
        if not self.want_screenshots:
            return None
        if job.representative:
            return "template"
        keys = frozenset((f.rule, f.target) for f in found)
        if not keys or keys == last.get("keys"):
            return None
        if job.rel not in self._shot_pages and len(self._shot_pages) >= MAX_FINDING_SHOT_PAGES:
            return None
        self._shot_pages.add(job.rel)
        last["keys"] = keys
        return "findings"


DEFAULT_CONTEXTS = max(2, min(4, (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                  else os.cpu_count() or 1) + 1))


class _Worker:
    """One lane of the run: a tab per device group (and one for the 适老化 mode), reused page after
    page; thrown away and made again after a page hangs or crashes it."""

    def __init__(self, check: BrowserCheck, browser, base_url: str, axe_script: str) -> None:
        self.check = check
        self.browser = browser
        self.base_url = base_url
        self.axe_script = axe_script
        self.tabs: list[tuple[Any, Any]] = []
        self.elder_tab: tuple[Any, Any] | None = None
        self.events: list[tuple[str, str, str | None, int | None]] = []  # kind, text, url, line
        self.refused: list[str] = []

    async def start(self) -> None:
        self.tabs = [await self._tab(group[0], axe=i == 0) for i, group in enumerate(self.check.groups)]
        if self.check.elder:
            phone = next((d for d in self.check.devices if d.touch), self.check.devices[0])
            self.elder_tab = await self._tab(phone, axe=False)

    async def close(self) -> None:
        for context, _ in self.tabs + ([self.elder_tab] if self.elder_tab else []):
            try:
                await context.close()
            except Exception:
                pass  # a crashed context may refuse to close; the browser goes anyway
        self.tabs, self.elder_tab = [], None

    async def _tab(self, device: Device, *, axe: bool):
        context = await self.browser.new_context(**context_options(device.width, device.height, device.scale,
                                                                   device.touch))
        context.set_default_timeout(self.check.timeout_ms)
        outside = _outside(self.base_url)

        async def refuse(route) -> None:
            await route.abort("blockedbyclient")

        async def hang_up(ws) -> None:
            await ws.close()

        await context.route(outside, refuse)
        await context.route_web_socket(outside, hang_up)
        if axe:
            # Present before any page script runs, in every frame, and sent to the browser only once.
            await context.add_init_script(script=self.axe_script)
        tab = await context.new_page()
        tab.on("pageerror", lambda error: self.events.append(("pageerror", *_error_text(error))))
        tab.on("console", lambda message: message.type == "error" and self.events.append(
            ("console", message.text, (message.location or {}).get("url"),
             (message.location or {}).get("lineNumber"))))
        tab.on("requestfailed", lambda request: request.is_navigation_request()
               and request.frame == tab.main_frame and self.refused.append(request.url))
        return context, tab

    async def check_guarded(self, job: _Job) -> list[Finding]:
        """``check`` within a time budget; a page that hangs or crashes the tab is a finding and
        the worker starts over with fresh tabs."""
        loads = len(self.check.groups) + (1 if self.check.elder and job.representative else 0)
        budget = self.check.timeout_ms / 1000 * loads + 10
        try:
            return await asyncio.wait_for(self.check_page(job), budget)
        except ZhuantiError:
            raise
        except Exception as exc:  # a broken page must not end the run
            # asyncio's TimeoutError is the whole page's budget running out; Playwright's is one load's.
            limit_ms = budget * 1000 if isinstance(exc, TimeoutError) else self.check.timeout_ms
            finding = _load_failed(job.rel, exc, int(limit_ms))
            await self.close()
            try:
                await self.start()
            except Exception as again:
                raise ZhuantiError(
                    tr("浏览器在检查中崩溃：{e}", "the browser crashed during the check: {e}", e=_first_line(again)),
                    hint=tr("请单独检查出错的页面（{p}），或减少检查的页面数",
                            "check the failing page ({p}) on its own, or fewer pages", p=job.rel)) from again
            return [finding]

    async def check_page(self, job: _Job) -> list[Finding]:
        check, rel = self.check, job.rel
        url = page_url(self.base_url, rel)
        source = _read_source(check.root / rel)
        declared = _meta_refresh_target(source)
        if declared:
            # A declared <meta refresh> redirect is known from the source; waiting for it in the
            # browser races its timer (it may fire before or after the measurements).
            return [_redirected(rel, urljoin(url, declared), self.base_url)]
        self.events.clear()
        page_level: list[Finding] = []
        per_device: list[tuple[Device, list[Finding]]] = []
        shot_state: dict = {}
        for gi, group in enumerate(check.groups):
            _, tab = self.tabs[gi]
            if tab.viewport_size != {"width": group[0].width, "height": group[0].height}:
                await tab.set_viewport_size({"width": group[0].width, "height": group[0].height})
            failed = await self._load(tab, url, rel)
            if failed:
                return failed
            try:
                for di, device in enumerate(group):
                    if di:
                        await tab.set_viewport_size({"width": device.width, "height": device.height})
                    probe = await tab.evaluate(_PROBE_JS, probe_args(touch=device.touch))
                    found = layout_findings(rel, probe, source, device)
                    if gi == 0 and di == 0:
                        page_level += viewport_findings(rel, probe, source)
                        axe = await tab.evaluate(_AXE_RUN_JS, _AXE_OPTIONS)
                        if axe is None:
                            await tab.evaluate(self.axe_script)
                            axe = await tab.evaluate(_AXE_RUN_JS, _AXE_OPTIONS)
                        page_level += axe_findings(rel, axe["violations"], source,
                                                   zoom_locked=any(f.rule == "mobile.viewport" for f in page_level))
                    per_device.append((device, found))
                    # Notices (info) neither earn a page its pictures nor get outlined.
                    shown = [f for f in found + (page_level if gi == 0 and di == 0 else []) if f.severity != "info"]
                    reason = check.wants_shot(job, device, shown, shot_state)
                    if reason:
                        await self._screenshot(tab, job, device, shown, reason)
            except Exception as exc:
                # A script or <meta http-equiv=refresh> sent the tab elsewhere: what is on screen
                # now is another page, so measuring it would blame this one.
                if "context was destroyed" not in str(exc):
                    raise
                return [await self._redirect_finding(tab, url, rel)]
        check.by_device[rel] = {d.key: f for d, f in per_device}
        out = merge_devices(per_device) + page_level
        if check.elder and job.representative:
            out += await self._elder(rel, url, source)
        return out + console_findings(rel, self.events, url, source)

    async def _load(self, tab, url: str, rel: str) -> list[Finding] | None:
        """Open ``url``; a finding when it cannot be shown here (HTTP error, went elsewhere)."""
        try:
            response = await tab.goto(url, wait_until="load")
        except Exception as exc:
            # The previous page's <meta refresh> may fire just as this one is requested.
            if "interrupted by another navigation" not in str(exc):
                raise
            response = await tab.goto(url, wait_until="load")
        if response is not None and response.status >= 400:
            return [Finding("mobile.load-failed", "error", rel,
                            tr("页面无法打开：HTTP {s}", "page could not be opened: HTTP {s}", s=response.status))]
        if unquote(tab.url.split("#", 1)[0]) != unquote(url):  # a script setting #tab2 stays
            return [await self._redirect_finding(tab, url, rel)]
        return None

    async def _redirect_finding(self, tab, url: str, rel: str) -> Finding:
        try:
            await tab.wait_for_url(lambda now: unquote(now.split("#", 1)[0]) != unquote(url), wait_until="load",
                                   timeout=self.check.timeout_ms)
        except Exception:
            pass  # still reported as a redirect; the next goto replaces whatever is loading
        where = tab.url
        if where.startswith("chrome-error:") and self.refused:
            where = self.refused[-1]  # sent off-site, where requests are refused
        return _redirected(rel, where, self.base_url)

    async def _elder(self, rel: str, url: str, source: str) -> list[Finding]:
        """The page with ``?elder=1`` at phone width: text ≥ 18 px, nothing floating over it."""
        _, tab = self.elder_tab
        try:
            await tab.goto(url + ("&" if "?" in url else "?") + ELDER_PARAM, wait_until="load")
            on = bool(await tab.evaluate(_ELDER_ACTIVE_JS))
            self.check._elder_pages[rel] = on
            if not on:
                return []
            probe = await tab.evaluate(_PROBE_JS, probe_args(touch=True, elder=True))
        except Exception as exc:
            if "context was destroyed" in str(exc) or "interrupted by another navigation" in str(exc):
                return []  # the mode redirects; the normal pass has judged the page already
            raise
        return elder_findings(rel, probe, source)

    async def _screenshot(self, tab, job: _Job, device: Device, found: list[Finding], reason: str) -> None:
        targets = [f.target for f in found if f.target and _css_target(f.target)]
        wide = any(f.rule in ("mobile.overflow", "mobile.image-width") for f in found)
        box = await tab.evaluate(_OUTLINE_JS, {"targets": targets[:MAX_PER_RULE * 2], "wide": wide})
        try:
            data = await tab.screenshot(type="jpeg", quality=80, scale="css", full_page=True, animations="disabled",
                                        caret="hide", clip={"x": 0, "y": box["top"], "width": box["width"],
                                                            "height": max(1, box["height"])})
        finally:
            await tab.evaluate(_UNOUTLINE_JS)
        jpeg, width, height = shrink_jpeg(data)
        self.check.screenshots.append(Screenshot(job.rel, job.template, device, reason, jpeg, width, height,
                                                 tuple(dict.fromkeys(targets))))


def _css_target(target: str) -> bool:
    """A finding target that is one CSS selector (not an iframe path, a URL or a word)."""
    return " | " not in target and ">>>" not in target and not target.startswith(("http:", "https:", "/"))


def shrink_jpeg(data: bytes) -> tuple[bytes, int, int]:
    """A screenshot re-encoded at most ``SHOT_MAX_WIDTH`` wide; returns the JPEG and its size."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        if image.width > SHOT_MAX_WIDTH:
            image = image.resize((SHOT_MAX_WIDTH, max(1, round(image.height * SHOT_MAX_WIDTH / image.width))),
                                 Image.LANCZOS)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=SHOT_QUALITY, optimize=True, progressive=True)
        return out.getvalue(), image.width, image.height


def _error_text(error: Any) -> tuple[str, str | None, int | None]:
    """An uncaught page exception as (message, script URL, line) from its stack."""
    name = getattr(error, "name", "") or "Error"
    message = getattr(error, "message", "") or str(error)
    stack = getattr(error, "stack", "") or ""
    m = re.search(r"(https?://[^\s()]+?):(\d+):\d+", stack)
    return f"{name}: {message}", (m.group(1) if m else None), (int(m.group(2)) if m else None)


async def _launch_async(playwright: Any, chromium: str):
    try:
        return await playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS),
                                                proxy=DEAD_PROXY)
    except Exception as exc:  # playwright raises its own Error type; anything here is a setup problem
        raise _launch_error(chromium, exc) from exc


def _async_playwright():
    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:
        raise _missing_packages(exc) from exc
    return async_playwright


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


def _load_failed(rel: str, exc: Exception, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Finding:
    text = _first_line(exc)
    timed_out = isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutError" or "Timeout" in text
    if timed_out:
        message = tr("页面在规定时间（{s} 秒）内未加载完成或未完成检查：{e}",
                     "page did not finish loading or being checked in time ({s} s): {e}",
                     s=round(timeout_ms / 1000, 1), e=text)
    else:
        message = tr("页面在浏览器中加载或检查失败：{e}", "page failed to load or be checked in the browser: {e}",
                     e=text)
    return Finding("mobile.load-failed", "error", rel, message,
                   suggestion=tr("检查页面脚本是否死循环、是否跳转到其他页面",
                                 "look for scripts that never finish or redirect the page"))


def _read_source(path: Path, limit: int = -1) -> str:
    """A page's text (its first ``limit`` bytes when given); empty when it cannot be read."""
    try:
        with path.open("rb") as f:
            return decode_html(f.read(limit))
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


_VIEWPORT_FIX = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def _viewport_line(source: str) -> int | None:
    m = re.search(r"""<meta\b[^>]*name\s*=\s*["']?viewport""", source, re.IGNORECASE)
    return source.count("\n", 0, m.start()) + 1 if m else None


def zoom_lock(content: str) -> str | None:
    """The part of a viewport's content that stops users zooming (WCAG 1.4.4), or None."""
    pairs = {k.strip().lower(): v.strip().lower()
             for k, _, v in (item.partition("=") for item in re.split(r"[,;]", content)) if k.strip()}
    if pairs.get("user-scalable") in ("no", "0"):
        return f"user-scalable={pairs['user-scalable']}"
    try:
        if "maximum-scale" in pairs and float(pairs["maximum-scale"]) < MIN_ZOOM_SCALE:
            return f"maximum-scale={pairs['maximum-scale']}"
    except ValueError:
        pass
    return None


def viewport_findings(rel: str, probe: dict, source: str = "") -> list[Finding]:
    """``mobile.viewport``: the meta viewport is missing, not device-width, or locks zooming."""
    viewports = probe.get("viewport") or []
    if not viewports:
        return [Finding(
            "mobile.viewport", "error", rel,
            tr("页面缺少 <meta name=\"viewport\">，手机上会按电脑宽度缩小显示",
               "no <meta name=\"viewport\">: phones show the page shrunk to desktop width"),
            line=source_line(source, "<head>"), suggestion=_VIEWPORT_FIX)]
    content = viewports[-1]
    out: list[Finding] = []
    if not _DEVICE_WIDTH.search(content):
        out.append(Finding(
            "mobile.viewport", "error", rel,
            tr("viewport 未设置 width=device-width：{c}", "viewport lacks width=device-width: {c}", c=content),
            line=_viewport_line(source), context=content, suggestion=_VIEWPORT_FIX))
    lock = zoom_lock(content)
    if lock:
        out.append(Finding(
            "mobile.viewport", "error", rel,
            tr("viewport 禁止用户放大页面（{l}），视力不好的读者无法放大文字：{c}",
               "the viewport stops users zooming ({l}), so readers with poor sight cannot enlarge text: {c}",
               l=lock, c=content),
            line=_viewport_line(source), target=lock, context=content,
            suggestion=tr("去掉 user-scalable=no 和 maximum-scale：", "remove user-scalable=no and maximum-scale: ")
            + _VIEWPORT_FIX))
    return out


def layout_findings(rel: str, probe: dict, source: str, device: Device) -> list[Finding]:
    """One device's probe (see _PROBE_JS) as findings: overflow, wide images, small text, tap targets."""
    dev = device.label
    out: list[Finding] = []
    overflow = probe.get("overflow")
    if overflow:
        widest = overflow.get("widest") or {}
        culprit = widest.get("path") or "html"
        values = {"dev": dev, "sw": overflow["scrollWidth"], "el": culprit,
                  "w": widest.get("width", overflow["scrollWidth"]), "n": overflow.get("count", 0)}
        if overflow.get("clipped"):
            message = tr("在 {dev} 屏幕上内容超出屏幕并被裁掉（overflow-x:hidden）：页面宽 {sw}px；"
                         "最宽的元素 {el} 宽 {w}px（共 {n} 处超出）",
                         "content is cut off on the {dev} screen (overflow-x:hidden): the page is {sw}px "
                         "wide; the widest element {el} is {w}px wide ({n} element(s) stick out)", **values)
        else:
            message = tr("在 {dev} 屏幕上出现横向滚动：页面宽 {sw}px；最宽的元素 {el} 宽 {w}px（共 {n} 处超出）",
                         "horizontal scrolling on the {dev} screen: the page is {sw}px wide; the widest "
                         "element {el} is {w}px wide ({n} element(s) stick out)", **values)
        out.append(Finding(
            "mobile.overflow", "error", rel, message,
            line=source_line(source, widest.get("html")), target=culprit, context=_snip(widest.get("html")),
            suggestion=tr("不要写死宽度：图片用 max-width:100%，宽表格外包一层 overflow-x:auto 的容器",
                          "avoid fixed widths: max-width:100% on images, wrap wide tables in an "
                          "overflow-x:auto box")))

    for item in probe.get("images", []):
        out.append(Finding(
            "mobile.image-width", "error", rel,
            tr("在 {dev} 屏幕上图片比屏幕宽：{w}px", "image wider than the {dev} screen: {w}px", dev=dev, w=item["width"]),
            line=source_line(source, item.get("html")), target=item["path"], context=_snip(item.get("html")),
            suggestion=tr("图片加 max-width:100%; height:auto", "give the image max-width:100%; height:auto")))
    out += _more(rel, "mobile.image-width", "error", probe.get("imagesTotal", 0), len(probe.get("images", [])))

    for item in probe.get("small", []):
        out.append(Finding(
            "mobile.font-size", "warning", rel,
            tr("在 {dev} 屏幕上文字过小：{s}px（至少 {m}px）：“{t}”",
               "text too small on the {dev} screen: {s}px (at least {m}px): '{t}'",
               dev=dev, s=round(item["size"], 1), m=int(MIN_FONT_PX), t=item["text"]),
            line=source_line(source, item.get("html")), target=item["path"], context=_snip(item.get("html")),
            suggestion=tr("正文字号不小于 12px；适老化页面至少 18px",
                          "body text at least 12px; 18px in the elderly-friendly (适老化) mode")))
    out += _more(rel, "mobile.font-size", "warning", probe.get("smallTotal", 0), len(probe.get("small", [])))

    for item in probe.get("tooSmall", []):
        out.append(Finding(
            "mobile.tap-target", "warning", rel,
            tr("在 {dev} 屏幕上可点击区域过小且过密：{w}×{h}px（至少 {m}×{m}px，WCAG 2.5.8）：“{t}”",
               "tap target too small and too close to others on the {dev} screen: {w}×{h}px (at least "
               "{m}×{m}px, WCAG 2.5.8): '{t}'", dev=dev, w=item["width"], h=item["height"], m=int(MIN_TAP_PX),
               t=item["text"]),
            line=source_line(source, item.get("html")), target=item["path"], context=_snip(item.get("html")),
            suggestion=tr("加大内边距（padding）或间距，使点击区域不小于 44×44px",
                          "add padding or spacing so the target is at least 44×44px")))
    out += _more(rel, "mobile.tap-target", "warning", probe.get("tooSmallTotal", 0), len(probe.get("tooSmall", [])))

    advisory = probe.get("advisory", [])
    if advisory:
        examples = "；".join(f"{a['path']} {a['width']}×{a['height']}" for a in advisory[:3])
        out.append(Finding(
            "mobile.tap-target", "info", rel,
            tr("在 {dev} 屏幕上 {n} 个可点击元素小于建议的 {m}×{m}px（适老化建议值），如：{e}",
               "{n} tap target(s) on the {dev} screen are smaller than the advised {m}×{m}px "
               "(elderly-friendly advice), e.g. {e}",
               dev=dev, n=probe.get("advisoryTotal", len(advisory)), m=int(ADVISORY_TAP_PX), e=examples),
            line=source_line(source, advisory[0].get("html")), target=advisory[0]["path"],
            context=_snip(advisory[0].get("html"))))
    return out


def merge_devices(per_device: list[tuple[Device, list[Finding]]]) -> list[Finding]:
    """The same problem seen on several devices is one finding that names the others."""
    merged: dict[tuple, tuple[Finding, list[Device]]] = {}
    for device, found in per_device:
        for f in found:
            # The advisory tap-target notice is one per page, whichever element it names first.
            key = (f.rule, f.severity) if f.severity == "info" else (f.rule, f.severity, f.target, f.line)
            if key in merged:
                merged[key][1].append(device)
            else:
                merged[key] = (f, [device])
    out = []
    for f, devices in merged.values():
        if len(devices) > 1:
            f = replace(f, message=f.message + tr("（{d} 上同样存在）", " (also on {d})",
                                                  d="、".join(d.label for d in devices[1:])))
        out.append(f)
    return out


def elder_findings(rel: str, probe: dict, source: str = "") -> list[Finding]:
    """The 适老化 mode: text at least 18 px, no floating or pop-up boxes (GOVWEB C7)."""
    out: list[Finding] = []
    for item in probe.get("small", []):
        out.append(Finding(
            "mobile.elder-font-size", "warning", rel,
            tr("适老化模式下文字小于 {m}px：{s}px：“{t}”", "text below {m}px in the elderly-friendly mode: {s}px: '{t}'",
               m=int(ELDER_FONT_PX), s=round(item["size"], 1), t=item["text"]),
            line=source_line(source, item.get("html")), target=item["path"], context=_snip(item.get("html")),
            suggestion=tr("适老化样式中把这类文字设为至少 18px", "make this text at least 18px in the elderly-friendly "
                          "styles")))
    out += _more(rel, "mobile.elder-font-size", "warning", probe.get("smallTotal", 0), len(probe.get("small", [])))
    for item in probe.get("floating", []):
        kind = tr("弹出框", "pop-up") if item.get("popup") else tr("浮动元素（position:fixed）", "floating box "
                                                                 "(position:fixed)")
        out.append(Finding(
            "mobile.elder-floating", "warning", rel,
            tr("适老化模式下仍有{k}：{p}（{w}×{h}px）", "the elderly-friendly mode still shows a {k}: {p} ({w}×{h}px)",
               k=kind, p=item["path"], w=item["width"], h=item["height"]),
            line=source_line(source, item.get("html")), target=item["path"], context=_snip(item.get("html")),
            suggestion=tr("适老化模式下隐藏浮窗、弹窗和悬浮广告（工信部《互联网网站适老化通用设计规范》）",
                          "hide floating windows, pop-ups and floating ads in the elderly-friendly mode (MIIT "
                          "适老化 design rules)")))
    return out


def console_findings(rel: str, events: list[tuple[str, str, str | None, int | None]], url: str,
                     source: str = "") -> list[Finding]:
    """``mobile.console-error``: uncaught script errors (error) and console.error messages (warning).
    Failed resource loads are left to the link checks (and external ones are refused on purpose)."""
    out: list[Finding] = []
    seen: set[str] = set()
    page = unquote(url.split("#", 1)[0].split("?", 1)[0])
    for kind, text, where, line in events:
        if kind == "console" and ("Failed to load resource" in text or "ERR_BLOCKED_BY_CLIENT" in text):
            continue
        text = " ".join((text or "").split())[:SNIPPET_CHARS]
        if text in seen:
            continue
        seen.add(text)
        here = where is not None and unquote(where.split("#", 1)[0].split("?", 1)[0]) == page
        if kind == "pageerror":
            message = tr("页面脚本出错：{e}", "a page script threw: {e}", e=text)
            source_line_no = line if here else None
        else:
            message = tr("浏览器控制台报错：{e}", "console error: {e}", e=text)
            source_line_no = line + 1 if here and line is not None else None  # console lines are 0-based
        out.append(Finding(
            "mobile.console-error", "error" if kind == "pageerror" else "warning", rel, message,
            line=source_line_no, target=None if here or not where else unquote(where),
            suggestion=tr("在浏览器开发者工具的控制台中查看并修复；出错的脚本可能使菜单、搜索或视频无法使用",
                          "see the browser's developer console; a failing script may break menus, search or video")))
        if len(out) >= MAX_PER_RULE:
            break
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
        return tr("{t}{d}", "{h}{d}", t=title, d=detail, h=help_text)
    # A rule without a Chinese title: axe's English text, marked as such.
    return tr("无障碍问题{d}（axe 英文原文）：{h}", "{h}{d}", d=detail, h=help_text)


def _axe_suggestion(violation: dict, node: dict) -> str | None:
    summary = " ".join((node.get("failureSummary") or "").split())
    fix = AXE_FIXES_ZH.get(violation["id"])
    parts = [tr(fix, summary) if fix else summary, violation.get("helpUrl")]
    return " ".join(filter(None, parts)) or None


def axe_findings(rel: str, violations: list[dict], source: str = "", *, zoom_locked: bool = False) -> list[Finding]:
    """One finding per violating node (capped per rule); serious/critical are errors. ``zoom_locked``:
    the zoom lock is already a ``mobile.viewport`` finding, so axe's ``meta-viewport`` is not repeated."""
    out: list[Finding] = []
    for violation in violations:
        if zoom_locked and violation["id"] == "meta-viewport":
            continue
        rule = f"a11y.{violation['id']}"
        severity = "error" if violation.get("impact") in ("critical", "serious") else "warning"
        nodes = violation.get("nodes", [])
        for node in nodes[:MAX_PER_RULE]:
            out.append(Finding(
                rule, severity, rel, _axe_message(violation, node),
                line=source_line(source, node.get("html")), target=_selector(node.get("target", [])),
                context=_snip(node.get("html")), suggestion=_axe_suggestion(violation, node)))
        out += _more(rel, rule, severity, len(nodes), min(len(nodes), MAX_PER_RULE))
    return out
