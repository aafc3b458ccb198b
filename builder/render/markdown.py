"""Markdown → HTML with Python-Markdown, rewriting links to source files into page URLs.

Links may name another source file (``../zhengce/item-3.md``, ``../index.md``); they become the
target page's relative URL, and a link to a file that does not exist fails naming both files.
Photos and videos are marked (``data-zhuanti-media``) for the media pipeline to replace.

Python-Markdown is quadratic in unmatched ``[`` (a 20 KB line of them took 68–84 s) and recursive
in emphasis and list nesting (RecursionError after 13 s for a 1,000-level list). ``guard`` bounds the
work per page before parsing: inputs past these limits fail naming the file and line. Measured
(bench/markdown_limits.py): 1,000 ``[`` in one paragraph 0.16 s, 2,000 1.2 s, 4,000 5.3 s.
"""

from __future__ import annotations

import functools
import posixpath
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor

from builder.errors import ContentError
from builder.i18n import tr
from builder.render.sanitize import Sanitizer
from builder.render.urls import relative
from media_pipeline import MEDIA_EXTS

MEDIA_ATTR = "data-zhuanti-media"
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")

# Limits of one page's Markdown (see the module docstring for the measurements behind them).
MAX_BRACKETS_PER_PARAGRAPH = 1000  # "[" in one paragraph (table rows count one by one)
MAX_MARKER_RUN = 500  # consecutive * or _ (not a line of them only: that is a rule)
MAX_LIST_INDENT = 200  # columns of indentation before a list item: 50 nesting levels
MAX_NESTED_QUOTES = 100  # ">" starting one line
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_MARKER_RUN = re.compile(rf"\*{{{MAX_MARKER_RUN + 1},}}|_{{{MAX_MARKER_RUN + 1},}}")
_ONLY_MARKERS = re.compile(r"^[ \t*_-]*$")
_QUOTES = re.compile(rf"^(?:[ \t]*>){{{MAX_NESTED_QUOTES + 1},}}")
# Whole-text forms of the per-line checks: a line that could be refused at all (indentation of 50
# or more white-space characters may expand past MAX_LIST_INDENT columns; fewer cannot).
_DEEP_INDENT = re.compile(rf"^[ \t]{{{MAX_LIST_INDENT // 4},}}", re.M)
_QUOTES_ANYWHERE = re.compile(rf"^(?:[ \t]*>){{{MAX_NESTED_QUOTES + 1},}}", re.M)


def guard(text: str, source: Path | None, first_line: int = 1) -> None:
    """Refuse Markdown whose parsing would take minutes or overflow the stack, naming the line."""
    def fail(line: int, zh: str, en: str, **values) -> ContentError:
        return ContentError(tr(zh, en, **values), source, line=first_line + line,
                            hint=tr("这一行看起来不是正常的正文（可能是粘贴或转换出错）；请检查并删改它。",
                                    "this line does not look like ordinary text (a paste or conversion gone wrong?); "
                                    "check and fix it."))

    if text.count("[") <= MAX_BRACKETS_PER_PARAGRAPH and _MARKER_RUN.search(text) is None \
            and _DEEP_INDENT.search(text) is None and _QUOTES_ANYWHERE.search(text) is None:
        return  # no line anywhere comes near a limit (fences only ever exempt lines): nothing to refuse
    fence = None
    brackets = 0
    block_start = 0
    for i, line in enumerate(text.split("\n")):
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        if not line.strip():
            brackets, block_start = 0, i + 1
            continue
        n = line.count("[")
        # a table row and a list item are parsed apart (a column index listing 5,000 documents in
        # one list is ordinary: Python-Markdown's cost is per item, 0.17 s per 1,000 "[" in one item)
        brackets = n if line.lstrip().startswith("|") or _LIST_ITEM.match(line) else brackets + n
        if brackets > MAX_BRACKETS_PER_PARAGRAPH:
            raise fail(block_start if brackets > n else i,
                       "这一段有超过 {n} 个 “[”，解析会非常慢，已拒绝", "this paragraph has more than {n} '[', which would take "
                       "very long to parse; refused", n=MAX_BRACKETS_PER_PARAGRAPH)
        if _MARKER_RUN.search(line) and not _ONLY_MARKERS.match(line):
            raise fail(i, "连续 {n} 个以上的 * 或 _，无法解析", "more than {n} * or _ in a row cannot be parsed", n=MAX_MARKER_RUN)
        item = _LIST_ITEM.match(line)
        if item and len(item.group(1).expandtabs(4)) > MAX_LIST_INDENT:
            raise fail(i, "列表嵌套过深（超过 {n} 层）", "a list nested more than {n} levels deep", n=MAX_LIST_INDENT // 4)
        if _QUOTES.match(line):
            raise fail(i, "引用（>）嵌套超过 {n} 层", "quotes (>) nested more than {n} levels deep", n=MAX_NESTED_QUOTES)


@dataclass
class LinkContext:
    """What one page's links are resolved against; ``used`` records what the page read."""

    root: Path
    source: Path
    body: str
    body_line: int
    page_url: str
    links: dict[str, str]  # rel source → page url
    excluded: set[str]
    assets: dict[str, str]  # rel source → output path
    media_sources: set[str]  # rel sources handled by the media pipeline
    strict: bool = True
    used_links: dict[str, str] = field(default_factory=dict)
    used_media: list[str] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def line_of(self, needle: str) -> int | None:
        i = self.body.find(needle)
        return self.body_line + self.body.count("\n", 0, i) if i >= 0 else None

    @functools.cached_property
    def base(self) -> str:
        """The page's folder, site-relative (computed once: pages have many links)."""
        return self.source.parent.relative_to(self.root).as_posix()

    def resolve(self, href: str) -> str | None:
        """Site-relative source path a link names, or None when it leaves the site."""
        joined = posixpath.normpath(posixpath.join(self.base, unquote(href)))
        return None if joined.startswith("../") or joined == ".." else joined


class LinkRewriter(Treeprocessor):
    def __init__(self, md: markdown.Markdown, ext: ZhuantiMarkdown) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        ctx = self.ext.ctx
        if ctx is None:
            return
        for el in root.iter():
            if el.tag == "a" and el.get("href"):
                self.rewrite(el, "href", ctx)
            elif el.tag == "img" and el.get("src"):
                self.rewrite(el, "src", ctx)

    @staticmethod  # builder.render.engines calls it on the CommonMark engines' HTML too
    def rewrite(el: etree.Element, attr: str, ctx: LinkContext) -> None:
        href = el.get(attr, "")
        if SCHEME.match(href) or href.startswith(("#", "/")):
            return
        parts = urlsplit(href)
        if not parts.path:
            return
        fragment = "#" + parts.fragment if parts.fragment else ""
        target = ctx.resolve(parts.path)
        if parts.path.endswith(".md"):
            url = ctx.links.get(target) if target else None
            if target in ctx.excluded:
                ctx.warnings.append(f"{ctx.source}:{ctx.line_of(href) or ctx.body_line}: " + tr(
                    "链接到草稿或未发布页面 {t}，链接已去掉", "links to a draft or unpublished page {t}; link removed", t=target))
                el.attrib.pop(attr)
                return
            if url is None:
                message = tr("链接的文件不存在：{t}", "linked file does not exist: {t}", t=parts.path)
                if ctx.strict:
                    ctx.errors.append(ContentError(
                        message, ctx.source, line=ctx.line_of(href),
                        hint=tr("请检查链接路径（相对于本文件 {s}）。", "check the path (relative to this file, {s}).",
                                s=ctx.source.name)))
                else:
                    ctx.warnings.append(f"{ctx.source}:{ctx.line_of(href) or ctx.body_line}: {message}")
                return
            ctx.used_links[target] = url
            el.set(attr, relative(ctx.page_url, url) + fragment)
            return
        if target in ctx.media_sources and el.tag == "img":
            el.set(MEDIA_ATTR, target)
            ctx.used_media.append(target)
            return
        if el.tag == "img" and target and target not in ctx.assets \
                and posixpath.splitext(target)[1].lower() in MEDIA_EXTS:
            message = tr("图片或视频文件不存在：{t}", "photo or video file does not exist: {t}", t=parts.path)
            if ctx.strict:
                ctx.errors.append(ContentError(message, ctx.source, line=ctx.line_of(href), hint=tr(
                    "请把文件放到专题目录中，并检查路径（相对于本文件 {s}）。",
                    "put the file in the topic folder and check the path (relative to this file, {s}).",
                    s=ctx.source.name)))
            else:
                ctx.warnings.append(f"{ctx.source}:{ctx.line_of(href) or ctx.body_line}: {message}")
            return
        output = ctx.assets.get(target) if target else None
        if output is not None:
            el.set(attr, relative(ctx.page_url, output) + fragment)


class ZhuantiMarkdown(Extension):
    def __init__(self, **kwargs) -> None:
        self.ctx: LinkContext | None = None
        super().__init__(**kwargs)

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Python-Markdown's API
        # after "inline" (links exist) and before "prettify"
        md.treeprocessors.register(LinkRewriter(md, self), "zhuanti_links", 5)


def make_sanitizer(site_cfg=None) -> Sanitizer | None:
    """The page sanitizer every Markdown engine applies; None when the site sets ``unsafe_html``."""
    if site_cfg is not None and site_cfg.build.unsafe_html:
        return None
    return Sanitizer(site_cfg.check.allowed_domains if site_cfg else [], site_cfg.site_domain if site_cfg else "")


class MarkdownRenderer:
    """One Python-Markdown instance, reset between pages (building it costs more than a page).

    The HTML is sanitized (``builder.render.sanitize``) unless the site sets ``[build] unsafe_html``;
    without a site configuration it is sanitized with no iframe domains allowed."""

    def __init__(self, site_cfg=None) -> None:
        self.sanitizer = make_sanitizer(site_cfg)
        self.ext = ZhuantiMarkdown()
        self.md = markdown.Markdown(
            extensions=["tables", "toc", "attr_list", "fenced_code", "footnotes", "sane_lists", self.ext],
            extension_configs={"toc": {"slugify": slugify_unicode, "permalink": False, "toc_depth": "2-4"}},
            output_format="html",
        )

    def render(self, text: str, ctx: LinkContext | None) -> tuple[str, str]:
        """(html, toc_html)."""
        source, first_line = (ctx.source, ctx.body_line) if ctx else (None, 1)
        guard(text, source, first_line)
        self.ext.ctx = ctx
        try:
            self.md.reset()
            html = self.md.convert(text)
        except RecursionError:  # a shape the guard does not know: still a message, not a traceback
            raise ContentError(tr("Markdown 嵌套过深，无法解析", "the Markdown is nested too deeply to parse"), source,
                               line=first_line, hint=tr("请减少列表、引用或强调的嵌套层数。",
                                                        "reduce the nesting of lists, quotes or emphasis.")) from None
        finally:
            self.ext.ctx = None
        if self.sanitizer is not None:
            html = self.sanitizer.clean(html)
        return html, getattr(self.md, "toc", "")
