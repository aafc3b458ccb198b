"""Markdown → HTML with Python-Markdown, rewriting links to source files into page URLs.

Links may name another source file (``../zhengce/item-3.md``, ``../index.md``); they become the
target page's relative URL, and a link to a file that does not exist fails naming both files.
Photos and videos are marked (``data-zhuanti-media``) for the media pipeline to replace.
"""

from __future__ import annotations

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
from builder.render.urls import relative
from media_pipeline import MEDIA_EXTS

MEDIA_ATTR = "data-zhuanti-media"
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


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

    def resolve(self, href: str) -> str | None:
        """Site-relative source path a link names, or None when it leaves the site."""
        base = self.source.parent.relative_to(self.root).as_posix()
        joined = posixpath.normpath(posixpath.join(base, unquote(href)))
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


class MarkdownRenderer:
    """One Python-Markdown instance, reset between pages (building it costs more than a page)."""

    def __init__(self) -> None:
        self.ext = ZhuantiMarkdown()
        self.md = markdown.Markdown(
            extensions=["tables", "toc", "attr_list", "fenced_code", "footnotes", "sane_lists", self.ext],
            extension_configs={"toc": {"slugify": slugify_unicode, "permalink": False, "toc_depth": "2-4"}},
            output_format="html",
        )

    def render(self, text: str, ctx: LinkContext | None) -> tuple[str, str]:
        """(html, toc_html)."""
        self.ext.ctx = ctx
        try:
            self.md.reset()
            html = self.md.convert(text)
            return html, getattr(self.md, "toc", "")
        finally:
            self.ext.ctx = None
