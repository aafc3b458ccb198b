"""Render one output: pick the template, build its context, convert Markdown, post-process.

A ``Job`` names one output file; ``PageRenderer.render(job)`` returns its HTML and what it read
beyond its structural inputs (links to other pages, media) for the build state.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import partial
from html import unescape as html_unescape
from pathlib import Path

import minify_html
from markupsafe import Markup

from builder import clock
from builder.content.model import Column, Page, Site, Topic
from builder.render.engines import make_renderer
from builder.render.markdown import MEDIA_ATTR, LinkContext
from builder.render.templates import Templates
from builder.render.theme import cover_html
from builder.render.urls import absolute, relative

MEDIA_IMG = re.compile(r"<img\b[^>]*\b" + MEDIA_ATTR + r'="([^"]*)"[^>]*>')
# A photo or video alone in its paragraph replaces the paragraph (a <video> inside <p> is fine, but
# a <figure>-like block is what authors mean by a line holding just the media).
MEDIA_PARAGRAPH = re.compile(r"<p>(<img\b[^>]*\b" + MEDIA_ATTR + r'="([^"]*)"[^>]*>)</p>')
ATTR = re.compile(r'\b(alt|src)="([^"]*)"')


@dataclass(frozen=True)
class Job:
    """One output file: a page (by URL) or page ``number`` of a column's list."""

    kind: str  # "page" | "list"
    url: str  # page URL, or the column's URL for "list"
    number: int = 1

    @property
    def output(self) -> str:
        if self.kind == "list" and self.number > 1:
            return f"{self.url}page/{self.number}/index.html"
        return self.url + "index.html"

    @property
    def page_url(self) -> str:
        return self.output[: -len("index.html")]


def pubdate(value: dt.datetime | None) -> str:
    return clock.local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def day(value: dt.datetime | None) -> str:
    return clock.local(value).strftime("%Y-%m-%d") if value else ""


def preview_badge(page: Page, now: dt.datetime) -> str | None:
    """What zhuanti serve marks a page with: "draft" (草稿) or "scheduled" (定时发布, not yet published)."""
    if page.meta.get("draft"):
        return "draft"
    at = page.meta.get("publish_at") or (page.date if page.kind == "detail" else None)
    return "scheduled" if at and at > now else None


def page_count(column: Column) -> int:
    return max(1, -(-len(column.pages) // column.paginate))


class PageRenderer:
    def __init__(self, site: Site, media_html=None, minify: bool = True, preview: bool = False) -> None:
        """``media_html(source_rel, alt, page_url) -> str | None`` renders a photo or video; it also
        has ``key(source_rel)`` (the rendition set's digest) and ``catalogs`` (media index data)."""
        self.site = site
        self.cfg = site.config
        clock.configure(self.cfg.timezone)  # render workers started by spawn/forkserver begin with the default zone
        self.minify = minify
        self.preview = preview  # zhuanti serve: templates show draft / scheduled badges
        self.media_html = media_html
        self.markdown = make_renderer(self.cfg.build.markdown_engine, self.cfg)  # sanitized unless unsafe_html
        self.templates = Templates(self.cfg, filters={"pubdate": pubdate, "day": day})
        self.by_url: dict[str, Page] = {p.url: p for p in site.all_pages()}
        self.topics = {t.slug: t for t in site.topics}
        self.columns = {c.url: c for t in site.topics for c in t.columns}
        self.neighbours: dict[str, tuple[Page | None, Page | None]] = {}
        for t in site.topics:
            for c in t.columns:
                for i, p in enumerate(c.pages):
                    self.neighbours[p.url] = (c.pages[i - 1] if i > 0 else None,
                                              c.pages[i + 1] if i + 1 < len(c.pages) else None)
        self.assets = {a.source.relative_to(self.cfg.root).as_posix(): a.output for a in site.assets
                       if a.source.is_relative_to(self.cfg.root)}
        self.media_sources = {a.source.relative_to(self.cfg.root).as_posix() for a in site.assets
                              if a.media and a.source.is_relative_to(self.cfg.root)}

    # ---- jobs ----------------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        out = [Job("page", p.url) for p in self.site.all_pages() if p.kind != "column"]
        for c in self.columns.values():
            out.extend(Job("list", c.url, n) for n in range(1, page_count(c) + 1))
        return out

    def template_for(self, job: Job) -> tuple[str, Path | None]:
        if job.kind == "list":
            col = self.columns[job.url]
            return col.index.meta.get("template") or "column.html", self.topics[col.topic].dir
        page = self.by_url[job.url]
        default = {"home": "home.html", "nav": "nav.html", "detail": "detail.html", "record": "record.html",
                   "site": "page.html", "media": "media_index.html"}[page.kind]
        topic_dir = self.topics[page.topic].dir if page.topic else None
        if page.kind == "media":
            return default, topic_dir
        name = page.meta.get("template") or (self.topics[page.topic].config.template if page.kind == "nav" and
                                             page.topic else "") or default
        return name, topic_dir

    # ---- rendering -----------------------------------------------------------------------
    def render(self, job: Job) -> tuple[str, dict[str, str], list[str]]:
        """(html, recorded deps {key: value}, warnings)."""
        if job.kind == "list":
            col = self.columns[job.url]
            page = col.index
        else:
            page = self.by_url[job.url]
            col = self.columns.get(f"{page.topic}/{page.column}/") if page.column else None
        topic = self.topics.get(page.topic) if page.topic else None
        url_to = partial(relative, job.page_url)
        recorded: dict[str, str] = {}
        warnings: list[str] = []
        # A column's intro shows on its first list page only: rendering it again on every one of
        # hundreds of list pages would make large columns quadratic.
        skip_body = page.kind == "media" or (job.kind == "list" and job.number > 1)
        content, toc = ("", "") if skip_body else self.markdown_for(page, job.page_url, recorded, warnings, url_to)
        ctx = {
            "site": self.cfg, "identity": self.cfg.identity, "page": page, "topic": topic, "column": col,
            "content": Markup(content), "toc": Markup(toc), "url": url_to,
            "static": lambda p: url_to("static/" + p.lstrip("/")),
            "canonical": absolute(self.cfg.base_url, job.page_url),
            "home_url": url_to(""), "breadcrumbs": self.breadcrumbs(page, topic, col, job, url_to),
            "meta": self.meta_tags(page, topic, col), "archived": page.archived or bool(topic and topic.archived),
            "site_pages": self.site.pages, "preview": self.preview,
            "preview_badge": preview_badge(page, clock.now(self.cfg.timezone)) if self.preview else None,
        }
        ctx["cover"] = cover_html(self, topic, page, job.page_url, recorded, url_to)
        if page.kind == "home":
            ctx["topics"] = [t for t in self.site.topics if not t.archived]
            ctx["archived_topics"] = [t for t in self.site.topics if t.archived]
        elif page.kind == "nav" and topic:
            ctx["columns"] = topic.columns
            ctx["pages"] = topic.pages
        elif page.kind == "media" and topic:
            ctx["media"] = self.media_html.catalogs[topic.slug]
        if topic:
            ctx["topic_columns"] = topic.columns
        if job.kind == "list":
            total = page_count(col)
            start = (job.number - 1) * col.paginate
            ctx["items"] = col.pages[start: start + col.paginate]
            ctx["pagination"] = {
                "number": job.number, "total": total, "count": len(col.pages),
                "prev": (url_to(Job("list", col.url, job.number - 1).page_url) if job.number > 1 else None),
                "next": (url_to(Job("list", col.url, job.number + 1).page_url) if job.number < total else None),
                "pages": [(n, url_to(Job("list", col.url, n).page_url)) for n in range(1, total + 1)],
            }
        if page.kind in ("detail", "record"):
            prev, nxt = self.neighbours.get(page.url, (None, None))
            ctx["prev"], ctx["next"] = prev, nxt
        if page.kind == "record" and col and col.data:
            ctx["fields"] = [(f, page.record.values.get(f, "")) for f in col.data.fields]
        name, topic_dir = self.template_for(job)
        template = self.templates.get(name, topic_dir, page.rel_source)
        html = self.templates.render(template, ctx, page.rel_source)
        if self.minify:
            html = minify_html.minify(html, keep_closing_tags=True, keep_html_and_head_opening_tags=True,
                                      minify_css=True)
        return html, recorded, warnings

    def markdown_for(self, page: Page, page_url: str, recorded: dict, warnings: list, url_to) -> tuple[str, str]:
        if not page.body.strip():
            return "", ""
        lc = LinkContext(self.cfg.root, page.source, page.body, page.body_line, page_url, self.site.links,
                         self.site.excluded, self.assets, self.media_sources,
                         # the preview marks a missing target as a broken link in the page instead of failing
                         strict=self.cfg.build.source_link_errors == "error" and not self.preview)
        html, toc = self.markdown.render(page.body, lc)
        if lc.errors:
            if len(lc.errors) == 1:
                raise lc.errors[0]
            from builder.errors import BuildFailed
            raise BuildFailed(list(lc.errors))
        warnings.extend(lc.warnings)
        for target, url in lc.used_links.items():
            recorded["url:" + target] = url
        if lc.used_media:
            def media_block(m: re.Match) -> str:
                inner = MEDIA_IMG.match(m.group(1))
                return f'<div class="media">{self.replace_media(inner, page, page_url, recorded, url_to)}</div>'

            html = MEDIA_PARAGRAPH.sub(media_block, html)
            html = MEDIA_IMG.sub(lambda m: self.replace_media(m, page, page_url, recorded, url_to), html)
        return html, toc

    def replace_media(self, m: re.Match, page: Page, page_url: str, recorded: dict, url_to) -> str:
        source = m.group(1)
        attrs = dict(ATTR.findall(m.group(0)))
        # the attribute is HTML-escaped already; the media snippet escapes it once more when written
        alt = html_unescape(attrs.get("alt", ""))
        html = self.media_html(source, alt, page_url) if self.media_html else None
        recorded["media:" + source] = self.media_html.key(source) if self.media_html else "absent"
        if html is None:  # the media step failed for it and has said so; keep the plain image
            return m.group(0)
        return html

    def breadcrumbs(self, page: Page, topic: Topic | None, col: Column | None, job: Job, url_to) -> list:
        crumbs = [("首页", url_to(""))]
        if page.kind == "home":
            return [("首页", None)]
        if topic:
            crumbs.append((topic.title, url_to(topic.url) if page.kind != "nav" else None))
        if col and page.kind != "column":
            crumbs.append((col.title, url_to(col.url)))
        if page.kind != "nav":
            crumbs.append((page.title, None))
        return crumbs

    def meta_tags(self, page: Page, topic: Topic | None, col: Column | None) -> list[tuple[str, str]]:
        """The government page-specification meta tags (网页设计规范)."""
        cfg = self.cfg
        tags = [("SiteName", cfg.title), ("SiteDomain", cfg.site_domain), ("SiteIDCode", cfg.identity.site_code)]
        if page.kind == "column" and col:
            tags += [("ColumnName", col.title),
                     ("ColumnDescription", str(page.meta.get("description") or page.summary or col.title)),
                     ("ColumnKeywords", ",".join(page.tags or [col.title])), ("ColumnType", col.column_type)]
        elif page.kind == "nav" and topic:
            tags += [("ColumnName", topic.title), ("ColumnDescription", topic.config.summary or topic.title),
                     ("ColumnKeywords", ",".join(topic.config.tags or [topic.title])), ("ColumnType", "专题专栏")]
        elif page.kind == "home":
            tags += [("ColumnName", "首页"), ("ColumnType", "首页")]
            if cfg.keywords:  # site.toml keywords
                tags.append(("Keywords", ",".join(cfg.keywords)))
        elif page.kind in ("detail", "record"):
            tags += [("ArticleTitle", page.title), ("PubDate", pubdate(page.date)),
                     ("ContentSource", str(page.meta.get("source") or cfg.identity.organizer))]
            keywords = list(page.meta.get("keywords") or []) + [t for t in page.tags if t not in
                                                                 (page.meta.get("keywords") or [])]
            if keywords:
                tags.append(("Keywords", ",".join(keywords)))
            if page.summary:
                tags.append(("Description", page.summary))
            if col:
                tags += [("ColumnName", col.title), ("ColumnType", col.column_type)]
        return tags
