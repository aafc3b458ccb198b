"""Render one output: pick the template, build its context, convert Markdown, post-process.

A ``Job`` names one output file; ``PageRenderer.render(job)`` returns its HTML and the dependency
keys it read (``builder.deps``): everything the template reached through the context, the page's
own fields, its template chain, the links its Markdown resolved, its media.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from html import unescape as html_unescape
from pathlib import Path

import minify_html
from markupsafe import Markup

from builder import clock
from builder.content.model import Column, Page, Site, Topic
from builder.deps import Recorder, TrackedMap, col_page_count
from builder.errors import ConfigError
from builder.i18n import tr
from builder.render.engines import make_renderer
from builder.render.markdown import MEDIA_ATTR, LinkContext
from builder.render.payload import body_of
from builder.render.templates import Templates
from builder.render.theme import cover_html
from builder.render.urls import RelativeTo, absolute

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
    variant: str = ""  # "": the page itself; else the folder of its separate mobile page ([mobile] prefix)

    @property
    def output(self) -> str:
        base = f"{self.url}page/{self.number}/index.html" if self.kind == "list" and self.number > 1 else \
            self.url + "index.html"
        return f"{self.variant}/{base}" if self.variant else base

    @property
    def page_url(self) -> str:
        return self.output[: -len("index.html")]


def mobile_name(template: str) -> str:
    """``detail.html`` → ``detail.mobile.html``."""
    stem, dot, ext = template.rpartition(".")
    return f"{stem}.mobile.{ext}" if dot else template + ".mobile"


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
    return col_page_count(column)


def page_window(number: int, total: int, around: int = 3, all_up_to: int = 10) -> list[int | None]:
    """The page numbers a list page links to: all of them up to ``all_up_to`` pages, else the first,
    the last and ``around`` either side of the current one, ``None`` marking a gap (…). Linking
    every page from every page made a column of 50,000 list pages (a million records) write 2.5
    billion links (scale, issue 11)."""
    if total <= all_up_to:
        return list(range(1, total + 1))
    shown = sorted({1, total, *range(max(1, number - around), min(total, number + around) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - out[-1] > 1:
            out.append(None)
        out.append(n)
    return out


def make_templates(cfg) -> Templates:
    return Templates(cfg, filters={"pubdate": pubdate, "day": day})


class PageRenderer:
    def __init__(self, site: Site, media_html=None, minify: bool = True, preview: bool = False,
                 templates: Templates | None = None, markdown=None, now: dt.datetime | None = None) -> None:
        """``media_html(source_rel, alt, page_url) -> str | None`` renders a photo or video; it also
        has ``key(source_rel)`` (the rendition set's digest) and ``catalogs`` (media index data).
        ``templates`` and ``markdown`` may be kept warm by a long-lived engine; ``now`` is the build's
        "now" (the preview's 定时发布 badge)."""
        self.site = site
        self.cfg = site.config
        clock.configure(self.cfg.timezone)  # render workers started by spawn/forkserver begin with the default zone
        self.minify = minify
        self.preview = preview  # zhuanti serve: templates show draft / scheduled badges
        self.media_html = media_html
        self.markdown = markdown or make_renderer(self.cfg.build.markdown_engine, self.cfg)  # sanitized unless unsafe_html
        self.now = now or clock.now()
        self.templates = templates or make_templates(self.cfg)
        self.link_map = site.links
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
    def check_mobile_prefix(self) -> None:
        """The mobile folder must not be a topic's or a site page's URL."""
        prefix = self.cfg.mobile.prefix
        if self.cfg.mobile.separate and any(p.url.split("/", 1)[0] == prefix for p in self.site.all_pages()):
            raise ConfigError(tr("mobile.prefix “{p}” 与已有专题或页面的网址相同", "mobile.prefix '{p}' is the URL of "
                                 "an existing topic or page", p=prefix), self.cfg.root / "site_src/site.toml",
                              field="mobile.prefix", hint=tr("请换一个目录名，如 \"mobile\"。",
                                                             "choose another folder name, e.g. \"mobile\"."))

    def jobs(self) -> list[Job]:
        out = [Job("page", p.url) for p in self.site.all_pages() if p.kind != "column"]
        for c in self.columns.values():
            out.extend(Job("list", c.url, n) for n in range(1, page_count(c) + 1))
        if self.cfg.mobile.separate:  # every page again under /m/, for portals that keep a 手机版
            out += [dataclasses.replace(j, variant=self.cfg.mobile.prefix) for j in out]
        return out

    def template_for(self, job: Job) -> tuple[str, Path | None]:
        name, topic_dir = self._template_for(job)
        if job.variant:  # a theme's X.mobile.html serves the mobile page, else the page's own template
            mobile = mobile_name(name)
            if self.templates.exists(mobile, topic_dir):
                return mobile, topic_dir
        return name, topic_dir

    def _template_for(self, job: Job) -> tuple[str, Path | None]:
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
    def render(self, job: Job) -> tuple[str, set[str], list[str]]:
        """(html, dependency keys read, warnings)."""
        rec = Recorder()
        self.templates.recorder = rec
        try:
            return self._render(job, rec)
        finally:
            self.templates.recorder = None

    def _render(self, job: Job, rec: Recorder) -> tuple[str, set[str], list[str]]:
        if job.kind == "list":
            col = self.columns[job.url]
            page = col.index
        else:
            page = self.by_url[job.url]
            col = self.columns.get(f"{page.topic}/{page.column}/") if page.column else None
        topic = self.topics.get(page.topic) if page.topic else None
        # What every output reads: its own page (all fields), site.toml and the build options, its template.
        rec.read(page, "*", None)
        rec.add("s|cfg")
        name, topic_dir = self.template_for(job)
        rec.add(f"tpl|{topic_dir or ''}|{name}")
        if job.variant:  # a mobile template added later must make the page again
            rec.add(f"tpl|{topic_dir or ''}|{mobile_name(self._template_for(job)[0])}")
        url_to = RelativeTo(job.page_url)
        warnings: list[str] = []
        # A column's intro shows on its first list page only: rendering it again on every one of
        # hundreds of list pages would make large columns quadratic.
        skip_body = page.kind == "media" or (job.kind == "list" and job.number > 1)
        content, toc = ("", "") if skip_body else self.markdown_for(page, job.page_url, rec, warnings)
        rec.add("s|pages")  # the site pages, with their listing fields (the footer)
        rec.cover(self.site.pages)
        made_by_build = page.rel_source == "site_src/site.toml"  # the search page: no mobile copy of it
        ctx = {
            "site": self.cfg, "identity": self.cfg.identity, "page": page, "topic": topic, "column": col,
            "content": Markup(content), "toc": Markup(toc), "url": url_to,
            "static": lambda p: url_to("static/" + p.lstrip("/")),
            # a mobile page's canonical URL is its desktop page (Google's separate-URLs convention)
            "canonical": absolute(self.cfg.base_url, job.page_url[len(job.variant) + 1:] if job.variant
                                  else job.page_url),
            "mobile_alternate": (absolute(self.cfg.base_url, f"{self.cfg.mobile.prefix}/{job.page_url}")
                                 if self.cfg.mobile.separate and not job.variant and not made_by_build
                                 else None),
            "mobile_media": f"only screen and (max-width: {self.cfg.mobile.max_width}px)",
            "variant": job.variant,
            "home_url": url_to(""), "breadcrumbs": self.breadcrumbs(page, topic, col, job, url_to, rec),
            "meta": self.meta_tags(page, topic, col, rec),
            "archived": page.archived or bool(topic and rec.get(topic, "archived")),
            "site_pages": self.site.pages, "preview": self.preview,
            "preview_badge": self.badge(page, rec) if self.preview else None,
        }
        ctx["cover"] = self.cover(topic, page, job.page_url, rec, url_to)
        if page.kind == "home":
            rec.add("s|topics")
            ctx["topics"] = [t for t in self.site.topics if not t.archived]
            ctx["archived_topics"] = [t for t in self.site.topics if t.archived]
        elif page.kind == "nav" and topic:
            ctx["columns"] = rec.get(topic, "columns")
            ctx["pages"] = rec.get(topic, "pages")
        elif page.kind == "media" and topic:
            rec.add(f"mc|{topic.slug}")
            ctx["media"] = self.media_html.catalogs[topic.slug]
        if topic:
            ctx["topic_columns"] = rec.get(topic, "columns")
        if job.kind == "list":
            total = page_count(col)
            start = (job.number - 1) * col.paginate
            rec.read(col, "count", None)
            ctx["items"] = col.pages[start: start + col.paginate]
            rec.read(col, f"pages[{start}:{start + col.paginate}]", ctx["items"])  # with their listing fields
            ctx["pagination"] = {
                "number": job.number, "total": total, "count": len(col.pages),
                "prev": (url_to(Job("list", col.url, job.number - 1, job.variant).page_url) if job.number > 1 else None),
                "next": (url_to(Job("list", col.url, job.number + 1, job.variant).page_url) if job.number < total else None),
                "pages": [(n, url_to(Job("list", col.url, n, job.variant).page_url) if n else None)
                          for n in page_window(job.number, total)],
            }
        if page.kind in ("detail", "record"):
            rec.add(f"nb|{page.url}")  # with their listing fields
            prev, nxt = self.neighbours.get(page.url, (None, None))
            rec.cover((prev, nxt))
            ctx["prev"], ctx["next"] = prev, nxt
        if page.kind == "record" and col and col.data:
            ctx["fields"] = [(f, page.record.values.get(f, "")) for f in rec.get(col, "data").fields]
        template = self.templates.get(name, topic_dir, page.rel_source)
        html = self.templates.render(template, ctx, page.rel_source)
        if self.minify:
            html = minify_html.minify(html, keep_closing_tags=True, keep_html_and_head_opening_tags=True,
                                      minify_css=True)
        return html, rec.keys, warnings

    def markdown_for(self, page: Page, page_url: str, rec: Recorder | dict, warnings: list, _url_to=None
                     ) -> tuple[str, str]:
        if not isinstance(rec, Recorder):
            rec = Recorder()  # a caller that does not keep what the page read
        body = body_of(page)
        if not body.strip():
            return "", ""
        # The link maps record every lookup: a link to a draft that goes live, or to a file that
        # appears later, re-renders the page.
        lc = LinkContext(self.cfg.root, page.source, body, page.body_line, page_url,
                         # one key per link target: the page a source became (or a draft) / a file's output
                         TrackedMap(self.site.links, "md", rec), TrackedMap(self.site.excluded, "md", rec),
                         TrackedMap(self.assets, "file", rec), TrackedMap(self.media_sources, "file", rec),
                         # the preview marks a missing target as a broken link in the page instead of failing
                         strict=self.cfg.build.source_link_errors == "error" and not self.preview)
        html, toc = self.markdown.render(body, lc)
        if lc.errors:
            if len(lc.errors) == 1:
                raise lc.errors[0]
            from builder.errors import BuildFailed
            raise BuildFailed(list(lc.errors))
        warnings.extend(lc.warnings)
        if lc.used_media:
            def media_block(m: re.Match) -> str:
                inner = MEDIA_IMG.match(m.group(1))
                return f'<div class="media">{self.replace_media(inner, page_url, rec)}</div>'

            html = MEDIA_PARAGRAPH.sub(media_block, html)
            html = MEDIA_IMG.sub(lambda m: self.replace_media(m, page_url, rec), html)
        return html, toc

    def replace_media(self, m: re.Match, page_url: str, rec: Recorder) -> str:
        source = m.group(1)
        attrs = dict(ATTR.findall(m.group(0)))
        # the attribute is HTML-escaped already; the media snippet escapes it once more when written
        alt = html_unescape(attrs.get("alt", ""))
        html = self.media_html(source, alt, page_url) if self.media_html else None
        rec.add("m|" + source)
        if html is None:  # the media step failed for it and has said so; keep the plain image
            return m.group(0)
        return html

    def cover(self, topic: Topic | None, page: Page, page_url: str, rec: Recorder, url_to) -> Markup:
        """The topic's 头图 (builder/render/theme.py); what it reads is recorded."""
        if topic is None:
            return cover_html(self, topic, page, page_url, {}, url_to)
        config = rec.get(topic, "config")
        if config.cover:
            path = topic.dir / config.cover
            rel = path.relative_to(self.cfg.root).as_posix() if path.is_relative_to(self.cfg.root) else config.cover
            rec.add(f"l|file|{rel}")  # whether and how it is published decides what the page shows
            rec.add(f"m|{rel}")
        return cover_html(self, topic, page, page_url, {}, url_to)

    def badge(self, page: Page, rec: Recorder) -> str | None:
        rec.add(f"badge|{page.url}")  # changes when "now" passes the page's publish_at
        return preview_badge(page, self.now)

    def breadcrumbs(self, page: Page, topic: Topic | None, col: Column | None, job: Job, url_to,
                    rec: Recorder) -> list:
        crumbs = [("首页", url_to(""))]
        if page.kind == "home":
            return [("首页", None)]
        if topic:
            crumbs.append((rec.get(topic, "title"), url_to(rec.get(topic, "url")) if page.kind != "nav" else None))
        if col and page.kind != "column":
            crumbs.append((rec.get(col, "title"), url_to(rec.get(col, "url"))))
        if page.kind != "nav":
            crumbs.append((page.title, None))
        return crumbs

    def meta_tags(self, page: Page, topic: Topic | None, col: Column | None, rec: Recorder) -> list[tuple[str, str]]:
        """The government page-specification meta tags (网页设计规范)."""
        cfg = self.cfg
        if col:
            rec.read(col, "title", col.title)
            rec.read(col, "column_type", col.column_type)
        if topic and page.kind == "nav":
            rec.read(topic, "title", topic.title)
            rec.read(topic, "config", topic.config)
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
