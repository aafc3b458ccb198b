"""Link family (C1/C2): every reference a built page makes, checked against the output folder.

``LinkCheck(root, manifest, site)`` reports ``link.broken`` (internal target or asset missing, or
an unusable URL), ``link.anchor`` (``#fragment`` absent from the target page), ``link.blank-title``
(空白标题链接), ``link.insecure`` (``http://`` subresource on a page served over https) and
``link.external-domain`` (外链审核). The domain policy (``urls.DomainPolicy``) runs here, page-local,
because the links are already extracted; there is no separate DomainCheck class. Fragments that
point at pages not yet seen are collected and settled in ``finish()``.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urljoin

from builder.checks.base import Finding, HtmlDoc, Memo
from builder.checks.urls import Classified, DomainPolicy, SiteOrigin, classify, decode_fragment, decode_path
from builder.config import SiteConfig
from builder.i18n import tr

INDEX_NAMES = ("index.html", "index.htm", "index.shtml", "default.html", "default.htm")
HTML_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")
ATTACHMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".wps", ".et", ".ofd",
                       ".zip", ".rar", ".7z", ".txt", ".csv")
# Queried on its own: an element matching two groups of one selector is yielded twice by lexbor.
_STYLED = "[style],[background]"
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""",
                      re.IGNORECASE)
_REFRESH_URL = re.compile(r"""url\s*=\s*['"]?([^'"]*)""", re.IGNORECASE)
_BLANK = re.compile(r"[\s\u00a0\u3000\u200b-\u200d\u2060\ufeff]+")
# The same characters as _BLANK (\s is str.isspace), for str.strip; a test holds the two together.
_BLANK_CHARS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" \
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u200b\u200c\u200d\u2060\ufeff"
_LINK_REL_SKIP = frozenset({"preconnect", "dns-prefetch"})
_LINK_REL_SUBRESOURCE = frozenset({"stylesheet", "icon", "shortcut", "preload", "modulepreload", "manifest",
                                   "apple-touch-icon", "prefetch"})
# Tags whose http:// URL the browser fetches into the page itself (mixed content).
_SUBRESOURCE_TAGS = frozenset({"img", "source", "video", "audio", "track", "script", "iframe", "frame",
                               "object", "embed", "input", "style", "form"})
# The attribute each remaining tag (of base.QUERIED_TAGS) names its target in, and the target's type.
_SRC_ATTR = {"track": ("src", "media"), "script": ("src", "script"), "iframe": ("src", "frame"),
             "frame": ("src", "frame"), "object": ("data", "resource"), "embed": ("src", "resource"),
             "form": ("action", "form"), "input": ("src", "image")}
MAX_TARGET_SHOWN = 300
# Stands in for the site host when a <base> must be resolved on a folder whose base_url is unknown.
PLACEHOLDER_HOST = "zhuanti.invalid"
MEMO_SIZE = 100_000
_UNSET = object()
_CHECKED = object()  # in LinkCheck._ids: the page was checked, its anchors are read when a link asks


@dataclass(slots=True)
class Link:
    """One reference in a page: the element, the attribute it came from, the raw value, its type."""

    tag: str
    attr: str
    raw: str
    kind: str  # page, attachment, image, media, script, style, frame, form, refresh
    node: object  # the selectolax element


def kind_name(kind: str, url: str = "") -> str:
    """The reader's word for a link's target type; a page link to a .pdf/.docx … is an attachment (附件)."""
    if kind == "page" and url:
        kind = _page_kind(url)
    return {
        "page": tr("页面", "page"), "attachment": tr("附件", "attachment"), "image": tr("图片", "image"),
        "media": tr("音视频", "media"), "script": tr("脚本", "script"), "style": tr("样式", "stylesheet"),
        "frame": tr("框架页", "frame"), "form": tr("表单", "form"), "refresh": tr("跳转", "refresh"),
        "resource": tr("资源", "resource"),
    }.get(kind, kind)


def _page_kind(url: str) -> str:
    path = url.split("#", 1)[0].split("?", 1)[0].lower()
    return "attachment" if path.endswith(ATTACHMENT_SUFFIXES) else "page"


def srcset_urls(value: str) -> list[str]:
    """URLs of a srcset (URL, then optional descriptors, comma separated; URLs may contain commas)."""
    urls: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        start = i
        while i < n and not value[i].isspace():
            i += 1
        url = value[start:i]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            while i < n and value[i] != ",":
                i += 1  # descriptors
        if url:
            urls.append(url)
    return urls


def css_urls(text: str) -> Iterator[str]:
    for m in _CSS_URL.finditer(text):
        url = next((g for g in m.groups() if g is not None), "")
        if url:
            yield url


def extract_links(doc: HtmlDoc) -> list[Link]:
    """Every reference of the page (href, src, srcset, poster, CSS url(), refresh …); element links in
    document order, then those in style and background attributes."""
    out: list[Link] = []
    add = out.append
    for tag, node in doc.elements():  # every element a reference can be written in
        if tag == "a" or tag == "area":
            href = node.attrs.get("href")
            if href is not None:
                add(Link(tag, "href", href, "page", node))
            continue
        attrs = node.attributes
        if tag == "img":
            lazy = attrs.get("data-src") or attrs.get("data-original")
            src = attrs.get("src")
            if src is not None and src.strip():  # an empty or missing src: see LinkCheck._images
                add(Link(tag, "src", src, "image", node))
            if lazy:
                add(Link(tag, "data-src", lazy, "image", node))
            for url in srcset_urls(attrs.get("srcset") or ""):
                add(Link(tag, "srcset", url, "image", node))
        elif tag == "source":
            parent = node.parent
            kind = "media" if parent is not None and parent.tag in ("video", "audio") else "image"
            if attrs.get("src"):
                add(Link(tag, "src", attrs["src"], kind, node))
            for url in srcset_urls(attrs.get("srcset") or ""):
                add(Link(tag, "srcset", url, kind, node))
        elif tag in ("video", "audio"):
            if attrs.get("src"):
                add(Link(tag, "src", attrs["src"], "media", node))
            if attrs.get("poster"):
                add(Link(tag, "poster", attrs["poster"], "image", node))
        elif tag == "link":
            rel = set((attrs.get("rel") or "").lower().split())
            if attrs.get("href") and not rel & _LINK_REL_SKIP:
                add(Link(tag, "href", attrs["href"], "style" if "stylesheet" in rel else "resource", node))
        elif tag == "style":
            for url in css_urls(node.text() or ""):
                add(Link(tag, "url()", url, "style" if url.lower().endswith(".css") else "image", node))
        elif tag == "meta":
            if (attrs.get("http-equiv") or "").lower() == "refresh":
                m = _REFRESH_URL.search(attrs.get("content") or "")
                if m and m.group(1).strip():
                    add(Link(tag, "content", m.group(1).strip(), "refresh", node))
        else:
            attr, kind = _SRC_ATTR[tag]
            if attrs.get(attr):
                add(Link(tag, attr, attrs[attr], kind, node))
    html = doc.html
    if "url(" in html or "URL(" in html or "background=" in html or "BACKGROUND=" in html:
        for node in doc.tree.css(_STYLED):
            attrs = node.attributes
            if attrs.get("background"):
                add(Link(node.tag, "background", attrs["background"], "image", node))
            style = attrs.get("style")
            if style and "url(" in style.lower():
                for url in css_urls(style):
                    add(Link(node.tag, "style", url, "image", node))
    return out


class Locator:
    """Best-effort line of each link: search the raw value from where the previous link was found."""

    def __init__(self, doc: HtmlDoc) -> None:
        self.doc = doc
        self.pos = 0

    def find(self, raw: str) -> int | None:
        html = self.doc.html
        for needle in (raw, raw.replace("&", "&amp;")):
            if not needle:
                return None
            i = html.find(needle, self.pos)
            if i < 0:
                i = html.find(needle)
            if i >= 0:
                self.pos = i
                return i
        return None

    def line(self, offset: int | None) -> int | None:
        return self.doc.line_of(offset) if offset is not None else None


@dataclass(slots=True)
class _Lookup:
    """Where an internal path landed: the file found (posix, under root) or why none was."""

    target: str | None
    problem: str | None = None
    suggestion: str | None = None


@dataclass
class _PageRun:
    """One page being checked: where its links are, what was already reviewed, what was found."""

    doc: HtmlDoc
    locator: Locator
    source: str | None  # the page's source file, from the manifest
    base: str | None  # the page URL as its <base href> changes it
    folder: str = ""
    reviewed: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)

    ancestors: list[str] = field(default_factory=list)  # the folder, its parent … up to "" (the root)

    def __post_init__(self) -> None:
        self.folder = posixpath.dirname(self.doc.rel)
        self.ancestors = ancestors(self.folder)

    def line(self, link: Link) -> int | None:
        """Located only when reported: reports come in document order, so the search moves forward."""
        return self.locator.line(self.locator.find(link.raw))

    def report(self, rule: str, severity: str, link: Link, message: str, target: str,
               suggestion: str | None = None) -> None:
        if self.source:
            message += tr("（源文件：{s}）", " (source: {s})", s=self.source)
        self.findings.append(Finding(rule, severity, self.doc.rel, message, line=self.line(link),
                                     target=shown(target), context=f"<{link.tag} {link.attr}>",
                                     suggestion=suggestion))


@dataclass(slots=True)
class _PendingAnchor:
    page: str
    line: int | None
    raw: str
    target: str
    fragment: str


RULE_IMG_ALT = "a11y.img-alt"  # static counterpart of the browser pass's axe "image-alt"
# Screen widths an image must show on: the browser pass's phone and a common desktop.
SCREEN_WIDTHS = (360, 1280)
_MEDIA_FEATURE = re.compile(r"\(\s*(min|max)-width\s*:\s*([\d.]+)\s*(px|em|rem)?\s*\)", re.IGNORECASE)


def media_matches(media: str, width: int) -> bool:
    """Whether a <source media> query applies at a viewport ``width`` (only width features are
    judged; anything else is assumed to match, so an image is never called broken on a guess)."""
    for query in media.split(","):
        ok = True
        for m in _MEDIA_FEATURE.finditer(query):
            value = float(m.group(2)) * (16 if (m.group(3) or "px").lower() in ("em", "rem") else 1)
            if (m.group(1).lower() == "min" and width < value) or (m.group(1).lower() == "max" and width > value):
                ok = False
        if ok or "not " in query.lower():  # a negated query is not judged
            return True
    return False


def _uncovered_widths(picture) -> list[int]:
    """Screen widths at which no <source> of ``picture`` has something to show."""
    sources = [s.attributes for s in picture.css("source")
               if (s.attributes.get("srcset") or s.attributes.get("src") or "").strip()]
    return [w for w in SCREEN_WIDTHS if not any(media_matches(a.get("media") or "all", w) for a in sources)]


def is_subresource(link: Link) -> bool:
    """Whether the browser loads the URL into the page (mixed content when http://), not navigates to it."""
    if link.attr in ("style", "background", "url()") or link.tag in _SUBRESOURCE_TAGS:
        return True
    if link.tag == "link":
        return bool(set((link.node.attributes.get("rel") or "").lower().split()) & _LINK_REL_SUBRESOURCE)
    return link.tag in ("video", "audio") and link.attr == "poster"


def _join(base: str, raw: str) -> str:
    try:
        return urljoin(base, raw)
    except ValueError:
        return raw


def shown(url: str) -> str:
    return url if len(url) <= MAX_TARGET_SHOWN else url[:MAX_TARGET_SHOWN] + "…"


def is_blank_link(node) -> bool:
    """An <a> a reader (and a screen reader) sees no name for: no text, title, aria-label or img alt."""
    if (node.text(deep=True) or "").strip(_BLANK_CHARS):  # what _BLANK removes, in one C call
        return False
    attrs = node.attributes
    if (attrs.get("title") or "").strip() or (attrs.get("aria-label") or "").strip() or attrs.get("aria-labelledby"):
        return False
    for inner in node.css("img[alt],[aria-label],[title],input[value]"):
        a = inner.attributes
        if any(_BLANK.sub("", a.get(k) or "") for k in ("alt", "aria-label", "title", "value")):
            return False
    return True


class LinkCheck:
    """Internal targets, fragments, blank-title links, mixed content and the external-domain policy."""

    def __init__(self, root: Path, manifest: dict | None, site: SiteConfig | None,
                 files: Iterable[str] | None = None, anchors_from_disk: bool = False) -> None:
        """``files``: the folder's files (posix, NFC, relative to ``root``) when the caller already
        knows them (zhuanti serve keeps the list up to date between rebuilds); else ``root`` is scanned.

        ``anchors_from_disk``: the pages checked are the files under ``root`` as they are (the
        runner's case), so the anchors of a checked page are read again from its file if a link
        on a later page asks for them, instead of being collected from every page (most pages are
        never the target of a ``#fragment``)."""
        self.root = Path(root)
        self.origin = SiteOrigin.of(site, manifest)
        self.base_origin = SiteOrigin(self.origin.host or PLACEHOLDER_HOST, self.origin.prefix, self.origin.https)
        self.policy = DomainPolicy.of(site)
        # Pages "meant for https": the site's base_url says so; a foreign export with no known base_url
        # may well be served over https, so it is held to that.
        known_base = site is not None or bool(isinstance(manifest, dict) and manifest.get("base_url"))
        self.https_pages = self.origin.https if known_base else True
        pages = manifest.get("pages") if isinstance(manifest, dict) else None
        self.sources = {p["path"]: p["source"] for p in pages or () if isinstance(p, dict)
                        and isinstance(p.get("path"), str) and isinstance(p.get("source"), str)}
        self._files: set[str] | None = None
        self._dirs: set[str] = set()
        self._folded: dict[str, str] | None = None
        self._children: dict[str, list[str]] | None = None
        self._memo: dict[tuple[str, bool], _Lookup] = {}
        self._plans = Memo(self._plan, MEMO_SIZE)  # written link → its plan (links repeat from page to page)
        self._verdicts: dict[str, object] = {}  # external URL → DomainPolicy verdict (None: fine)
        self._resolved: dict[tuple[str, str, bool], _Lookup | None] = {}
        self._ids: dict[str, frozenset[str] | object] = {}  # page → its anchors, or _CHECKED (read when asked)
        self.anchors_from_disk = anchors_from_disk
        self._pending: list[_PendingAnchor] = []
        if files is not None:
            self._files = set(files)
            for f in self._files:
                parent = f.rpartition("/")[0]
                while parent and parent not in self._dirs:
                    self._dirs.add(parent)
                    parent = parent.rpartition("/")[0]

    # -- the folder -------------------------------------------------------------------------------

    def use_listing(self, files: set[str], dirs: set[str]) -> None:
        """The folder's files and folders (posix, NFC, relative to ``root``), as ``_scan`` would find
        them, from a walk the caller made anyway (the runner's)."""
        if self._files is None:
            self._files, self._dirs = set(files), set(dirs)

    def _scan(self) -> set[str]:
        if self._files is None:
            files: set[str] = set()
            root = str(self.root)
            for folder, _subdirs, names in os.walk(root):
                rel = os.path.relpath(folder, root).replace(os.sep, "/")
                rel = "" if rel == "." else unicodedata.normalize("NFC", rel)
                if rel:
                    self._dirs.add(rel)
                prefix = rel + "/" if rel else ""
                files.update(prefix + unicodedata.normalize("NFC", n) for n in names)
            self._files = files
        return self._files

    def _lookup(self, path: str, want_dir: bool) -> _Lookup:
        key = (path, want_dir)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._lookup_uncached(path, want_dir)
        return hit

    def _lookup_uncached(self, path: str, want_dir: bool) -> _Lookup:
        files = self._scan()
        if path and not want_dir and path in files:
            return _Lookup(path)
        prefix = path + "/" if path else ""
        for name in INDEX_NAMES:
            if prefix + name in files:
                return _Lookup(prefix + name)
        if path in self._dirs or not path:
            return _Lookup(None, tr("目录中没有 index.html", "the folder has no index.html"))
        if self._folded is None:
            self._folded = {f.casefold(): f for f in files} | {d.casefold(): d for d in self._dirs}
        actual = self._folded.get(path.casefold())
        if actual is not None:
            return _Lookup(None, tr("大小写不一致：实际文件是 {a}（在 Linux 服务器上无法打开）",
                                    "the case differs: the file is {a} (it will not open on a Linux server)",
                                    a=actual), actual)
        return _Lookup(None, None, self._closest(path))

    def _closest(self, path: str) -> str | None:
        if self._children is None:
            children: dict[str, list[str]] = {}
            for f in self._scan():
                parent, _, name = f.rpartition("/")
                children.setdefault(parent, []).append(name)
            for d in self._dirs:
                parent, _, name = d.rpartition("/")
                children.setdefault(parent, []).append(name)
            self._children = children
        parent, _, name = path.rpartition("/")
        siblings = self._children.get(parent, [])
        if not name or len(siblings) > 5000:
            return None
        match = difflib.get_close_matches(name, siblings, n=1, cutoff=0.8)
        return (parent + "/" + match[0] if parent else match[0]) if match else None

    # -- per page ---------------------------------------------------------------------------------

    def page(self, doc: HtmlDoc) -> Iterable[Finding]:
        run = _PageRun(doc, Locator(doc), self.sources.get(doc.rel), self._base_url(doc))
        plans, https, resolved = self._plans, self.https_pages, self._resolved
        for link in extract_links(doc):
            written = link.raw.strip()
            if link.tag == "a" and is_blank_link(link.node):
                run.report("link.blank-title", "warning", link, tr(
                    "空白标题链接：链接没有文字、title、aria-label 或图片 alt",
                    "blank-title link (空白标题): the link has no text, title, aria-label or image alt"),
                    written, tr("给链接加上文字或 title 属性", "give the link text or a title attribute"))
            if run.base is not None and not written.startswith("#"):
                plan = _Plan(classify(_join(run.base, written), self.base_origin))
            else:
                plan = plans[written]
            kind = plan.kind
            if kind == "internal" and not plan.http and not plan.checkable:
                # The usual link: once its target was found from this folder, nothing more to do.
                if plan.absolute or plan.rooted:
                    key = ("", plan.path, plan.absolute)
                elif 0 < plan.up < len(run.ancestors):
                    key = (run.ancestors[plan.up], plan.rest, False)
                else:
                    key = (run.folder, plan.path, False)
                target = resolved.get(key) if key[1] or key[2] else None
                if target is not None and target.target is not None:
                    continue
            if kind == "skip":
                continue
            c = plan.c
            if kind == "invalid" or kind == "local-file":
                run.report("link.broken", "error", link, tr("{k}链接不可用：{p}", "unusable {k} link: {p}",
                                                                k=kind_name(link.kind, link.raw), p=c.problem), written)
                continue
            if plan.http and https and is_subresource(link):
                run.report("link.insecure", "warning", link, tr(
                    "https 页面引用了 http:// {k}，浏览器会拦截或提示“不安全”",
                    "an https page loads the http:// {k}; browsers block it or mark the page 'not secure'",
                    k=kind_name(link.kind, link.raw)), written,
                    tr("改用 https:// 地址，或把文件放到本站", "use the https:// address, or host the file here"))
            if kind == "external":
                self._review_domain(run, link, c)
            else:
                self._check_internal(run, link, plan)
        self._images(run)
        if doc.rel not in self._ids:
            self._ids[doc.rel] = _CHECKED if self.anchors_from_disk else page_anchor_ids(doc)
        return run.findings

    def _images(self, run: _PageRun) -> None:
        """An <img> that shows nothing (``src=""``, or no src/srcset and no <picture> source for a
        narrow or a wide screen) is ``link.broken``; one without ``alt`` is ``a11y.img-alt``."""
        for node in run.doc.elements("img"):
            attrs = node.attributes
            link = Link("img", "src", 'src=""' if attrs.get("src") == "" else attrs.get("src") or "<img", "image", node)
            if "alt" not in attrs:
                run.report(RULE_IMG_ALT, "warning", link, tr(
                    "图片缺少 alt 属性：读屏软件无法读出它（装饰性图片请写 alt=\"\"）",
                    "the image has no alt attribute: screen readers cannot name it (write alt=\"\" for decoration)"),
                    attrs.get("src") or attrs.get("srcset") or "<img>",
                    tr("在 Markdown 中写 ![说明](图片)，或在模板中加 alt", "write ![description](image) in Markdown, "
                       "or add alt in the template"))
            if (attrs.get("srcset") or "").strip() or attrs.get("data-src") or attrs.get("data-original"):
                continue
            src = attrs.get("src")
            if src is not None and src.strip():
                continue
            parent = node.parent
            blank = _uncovered_widths(parent) if parent is not None and parent.tag == "picture" else list(SCREEN_WIDTHS)
            if not blank:
                continue
            if src is not None:
                message = tr("图片地址为空（src=\"\"）：什么也不显示", "the image address is empty (src=\"\"): "
                             "nothing is shown")
            else:
                message = tr("图片没有 src：在宽 {w} 像素的屏幕上没有 <source> 可用，什么也不显示",
                             "the image has no src: on a {w} px wide screen no <source> applies and nothing is shown",
                             w="、".join(str(w) for w in blank))
            run.report("link.broken", "error", link, message, src if src is not None else "<img>",
                       tr("给 <img> 写上图片地址（作为所有屏幕的后备）", "give the <img> a src (the fallback for every "
                          "screen)"))

    def _plan(self, written: str) -> _Plan:
        return _Plan(classify(written, self.origin))

    def _review_domain(self, run: _PageRun, link: Link, c) -> None:
        """link.external-domain, once per URL and page."""
        key = c.url.split("#", 1)[0]
        if key in run.reviewed:
            return
        run.reviewed.add(key)
        verdict = self._verdicts.get(c.url, _UNSET)
        if verdict is _UNSET:  # pages repeat their footer's links: each URL is judged once
            if len(self._verdicts) >= MEMO_SIZE:
                self._verdicts.clear()
            verdict = self._verdicts[c.url] = self.policy.judge(c.url, c.parts.hostname or "")
        if verdict is None:
            return
        if verdict.severity == "warning":
            suggestion = tr("确认后把域名加入 check.allowed_domains，或删除此链接",
                            "once reviewed, add the domain to check.allowed_domains, or remove the link")
        else:
            suggestion = tr("删除此链接并检查页面是否被篡改", "remove the link and check whether the page "
                            "was tampered with")
        run.report("link.external-domain", verdict.severity, link, verdict.reason, link.raw.strip(), suggestion)

    def _check_internal(self, run: _PageRun, link: Link, plan: _Plan) -> None:
        """link.broken for a missing target, link.anchor for a missing fragment (or queue it for finish)."""
        rel = run.doc.rel
        absolute, path = plan.absolute, plan.path
        if absolute or plan.rooted:
            base_dir = ""
        elif plan.up and plan.up < len(run.ancestors):
            base_dir, path = run.ancestors[plan.up], plan.rest  # links from pages of one folder share the memo
        else:
            base_dir = run.folder
        key = (base_dir, path, absolute)
        target = self._resolved.get(key, _UNSET) if path or absolute else _UNSET  # "" is the page itself
        if target is _UNSET:
            if len(self._resolved) >= MEMO_SIZE:
                self._resolved.clear()
            target = self._resolved[key] = self._resolve(path, rel, base_dir, absolute)
        if target is None:
            return  # a root-relative link outside the published tree: not ours to check
        if target.target is None:
            written = link.raw.strip()
            run.report("link.broken", "error", link, tr(
                "{k}链接的目标不存在：{t}（{p}）", "{k} target does not exist: {t} ({p})", k=kind_name(link.kind, link.raw),
                t=shown(written), p=target.problem or tr("文件不存在", "no such file")), written,
                tr("是否应为 {s}？", "did you mean {s}?", s=target.suggestion) if target.suggestion else None)
            return
        if not plan.checkable or not target.target.lower().endswith(HTML_SUFFIXES):
            return
        fragment = plan.fragment
        if target.target == rel and (rel not in self._ids or self._ids[rel] is _CHECKED):
            if has_anchor(run.doc, fragment):
                return  # "#main" on its own page: found without listing every anchor of the page
            self._ids[rel] = page_anchor_ids(run.doc)
        ids = self._anchors(target.target)
        if ids is None:
            self._pending.append(_PendingAnchor(rel, run.line(link), link.raw.strip(), target.target, fragment))
        elif fragment not in ids and plan.c.parts.fragment not in ids:
            run.report("link.anchor", "error", link, _anchor_message(fragment, target.target), link.raw.strip())

    def finish(self) -> Iterable[Finding]:
        findings: list[Finding] = []
        for ref in self._pending:
            ids = self._anchors(ref.target)
            if ids is None:
                try:
                    ids = page_anchor_ids(HtmlDoc.load(self.root, self.root / ref.target))
                except (OSError, ValueError):
                    continue  # unreadable targets are reported by the runner
                self._ids[ref.target] = ids
            if ref.fragment not in ids:
                message = _anchor_message(ref.fragment, ref.target)
                source = self.sources.get(ref.page)
                if source:
                    message += tr("（源文件：{s}）", " (source: {s})", s=source)
                findings.append(Finding("link.anchor", "error", ref.page, message, line=ref.line,
                                        target=shown(ref.raw), context="<a href>"))
        self._pending.clear()
        return findings

    # -- helpers ----------------------------------------------------------------------------------

    def _anchors(self, page: str) -> frozenset[str] | None:
        """The anchors of a page already checked (None: not checked yet, or no longer readable)."""
        ids = self._ids.get(page)
        if ids is _CHECKED:
            try:
                ids = self._ids[page] = page_anchor_ids(HtmlDoc.load(self.root, self.root / page))
            except (OSError, ValueError):
                del self._ids[page]
                return None
        return ids  # type: ignore[return-value]

    def _base_url(self, doc: HtmlDoc) -> str | None:
        """The page's absolute URL as its <base href> changes it (None without a <base>)."""
        if "<base" not in doc.html and "<BASE" not in doc.html:
            return None
        node = doc.tree.css_first("base[href]")
        href = (node.attributes.get("href") or "").strip() if node is not None else ""
        if not href:
            return None
        host = self.origin.host or PLACEHOLDER_HOST
        return _join(f"https://{host}{self.origin.prefix}{quote(doc.rel)}", href)

    def _resolve(self, path: str, rel: str, base_dir: str, absolute: bool) -> _Lookup | None:
        path = decode_path(path)
        if absolute and not path:
            path = "/"
        if not path:
            return _Lookup(rel)  # "?q=1" or "#x": this page
        want_dir = path.endswith("/")
        if path.startswith("/"):
            prefix = self.origin.prefix
            if prefix != "/":
                if path.startswith(prefix):
                    path = path[len(prefix):]
                elif path + "/" == prefix:
                    path = ""
                else:
                    return None
            joined = path.lstrip("/")
        else:
            joined = posixpath.join(base_dir, path)
        norm = posixpath.normpath(joined) if joined else ""
        if norm == ".":
            norm = ""
        if norm == ".." or norm.startswith("../"):
            return _Lookup(None, tr("链接指向检查目录之外", "the link leads outside the checked folder"))
        return self._lookup(unicodedata.normalize("NFC", norm), want_dir)


class _Plan:
    """What a written link means on any page (classification, path, fragment), worked out once."""

    __slots__ = ("c", "kind", "http", "absolute", "rooted", "path", "up", "rest", "fragment", "checkable")

    def __init__(self, c: Classified) -> None:
        self.c, self.kind = c, c.kind
        parts = c.parts
        self.http = parts is not None and parts.scheme.lower() == "http"
        self.absolute = parts is not None and (bool(parts.scheme) or c.url.startswith("//"))
        self.path = parts.path if parts is not None else ""
        self.rooted = self.path.startswith("/")
        self.up, self.rest = _climbing(self.path)
        self.fragment = decode_fragment(parts.fragment) if parts is not None else ""
        self.checkable = _checkable_fragment(self.fragment)


def _climbing(path: str) -> tuple[int, str]:
    """``(n, rest)`` for a ``path`` of n leading ``../`` whose rest joins to any folder the same way
    after those n steps up (no ``.``/``..``/empty segment in it, no ``%`` that decoding could turn
    into one); ``(0, path)`` otherwise. ``rest`` is never "" (that would mean "this page")."""
    up = 0
    while path.startswith("../", 3 * up):
        up += 1
    rest = path[3 * up:]
    if not up:
        return 0, path
    if not rest:
        return up, "./"
    if rest[0] in "./" or "%" in rest or "//" in rest or "/." in rest:
        return 0, path
    return up, rest


def ancestors(folder: str) -> list[str]:
    """``folder``, its parent, … up to "" (the root); [] for the root itself."""
    if not folder:
        return []
    parts = folder.split("/")
    return ["/".join(parts[:len(parts) - k]) for k in range(len(parts) + 1)]


def _checkable_fragment(fragment: str) -> bool:
    """#top and # always work; #!/… and #/… are script routes; #:~:text= is a text fragment."""
    return bool(fragment) and fragment.lower() != "top" and not fragment.startswith(("!", "/", ":~:"))


def _anchor_message(fragment: str, target: str) -> str:
    return tr("锚点 #{f} 在目标页面 {t} 中不存在", "the anchor #{f} does not exist on the target page {t}",
              f=fragment, t=target)


_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")


def has_anchor(doc: HtmlDoc, fragment: str) -> bool:
    """True when an element of the page has the id ``fragment`` (one ``page_anchor_ids`` would list);
    False when not found this way (the caller then lists the page's anchors)."""
    if not _PLAIN_ID.fullmatch(fragment):
        return False
    node = doc.tree.css_first(f'[id="{fragment}"]')
    return node is not None and node.attributes.get("id") == fragment  # the engine's answer, confirmed


def page_anchor_ids(doc: HtmlDoc) -> frozenset[str]:
    """Every fragment target of a page: element ids and <a name>."""
    out = set()
    for node in doc.tree.css("[id],a[name]"):
        attrs = node.attributes
        if attrs.get("id"):
            out.add(attrs["id"])
        if node.tag == "a" and attrs.get("name"):
            out.add(attrs["name"])
    return frozenset(out)
