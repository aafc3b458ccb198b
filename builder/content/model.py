"""Site → Topic → Column → Page: the content of a site as loaded from its folders.

Chinese terms: Topic 专题; NavPage 导航页 (a topic's index.md); Column 栏目 / 专题页 (a folder with
_index.md, listing its pages); DetailPage 详情页 (one article or one data record).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.config import SiteConfig, TopicConfig
from builder.content.data import Record


@dataclass
class Page:
    """Anything that becomes one HTML page (a column page may become several, one per list page)."""

    kind: str  # home | nav | column | detail | record | site
    source: Path  # the Markdown file (for a record page: the data file)
    rel_source: str  # posix, relative to the site root
    url: str  # "" for the home page, else "a/b/" (directory URL)
    title: str
    meta: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    topic: str | None = None
    column: str | None = None
    date: dt.datetime | None = None
    weight: int = 0
    archived: bool = False
    record: Record | None = None
    bundle_dir: Path | None = None

    @property
    def output(self) -> str:
        return self.url + "index.html"

    @property
    def summary(self) -> str:
        return str(self.meta.get("summary") or "")

    @property
    def tags(self) -> list[str]:
        return list(self.meta.get("tags") or [])

    def sort_key(self) -> tuple:
        # weight first (0 = unset, after weighted pages), then newest first, then title
        ts = -self.date.timestamp() if self.date else float("inf")
        return (self.weight == 0, self.weight, ts, self.title, self.url)


@dataclass
class DataSpec:
    """A data column's declaration (数据栏目: 行政许可结果, 行政处罚清单 …)."""

    file: Path
    slug_field: str
    title_field: str
    date_field: str | None
    required: list[str]
    fields: list[str]


@dataclass
class Column:
    """A column (栏目) of a topic: its list page and its detail pages."""

    topic: str
    name: str
    index: Page
    pages: list[Page] = field(default_factory=list)
    paginate: int = 20
    column_type: str = "其他"
    stale_after_days: int | None = None
    data: DataSpec | None = None

    @property
    def url(self) -> str:
        return self.index.url

    @property
    def title(self) -> str:
        return self.index.title

    @property
    def latest(self) -> dt.datetime | None:
        dates = [p.date for p in self.pages if p.date]
        return max(dates) if dates else None


@dataclass
class Asset:
    """A file copied into the output (theme static, site assets, asset folders, bundle files)."""

    source: Path
    output: str  # posix path under public/
    media: bool = False  # a photo or video: published through the media pipeline, never as-is


@dataclass
class Topic:
    """A special topic (专题)."""

    slug: str
    config: TopicConfig
    dir: Path
    nav: Page
    columns: list[Column] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)  # topic-level pages outside any column
    archived: bool = False
    media_page: Page | None = None  # 图片与视频: the topic's media index, when it has photos or videos

    @property
    def title(self) -> str:
        return self.nav.title

    @property
    def url(self) -> str:
        return self.nav.url


@dataclass
class Site:
    config: SiteConfig
    home: Page
    pages: list[Page] = field(default_factory=list)  # site-wide pages (关于本站 …)
    topics: list[Topic] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # rel source → page url (incl. excluded pages: None)
    excluded: set[str] = field(default_factory=set)  # rel sources left out (drafts, future)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def all_pages(self) -> list[Page]:
        out = [self.home, *self.pages]
        for t in self.topics:
            out.append(t.nav)
            out.extend(t.pages)
            if t.media_page:
                out.append(t.media_page)
            for c in t.columns:
                out.append(c.index)
                out.extend(c.pages)
        return out
