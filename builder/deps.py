"""Recorded dependencies (the Lektor model): what an output read while it rendered.

Every read of a page, column or topic that a template (or the renderer) makes is recorded as a
*key* with the *value* it had, e.g. ``p|demo/news/a/|title`` → ``"甲新闻"``. The build state keeps
key → value and key → outputs; the next build computes every stored key again from the freshly
loaded site (``Resolver``) and renders again exactly the outputs whose keys changed.

Key kinds (``kind|argument|attribute``)::

    p|<page url>|<attr>   a page's attribute (``*``: every field, what a page reads of itself;
                          ``~``: its listing fields, ``LISTING``: url, title, date …)
    c|<column url>|<attr> a column's attribute; ``pages[a:b]`` a slice of its pages, ``count``
    t|<slug>|<attr>       a topic's attribute
    …|<attr>~             a list of pages, columns or topics with the listing fields of each
                          (``t|demo|columns~``: the column navigation, read once per page)
    s|cfg  s|pages  s|topics   site.toml with the build options, the site pages (with their
                          listing fields), the topic list
    nb|<page url>         a detail page's neighbours (上一篇 / 下一篇) with their listing fields
    l|md|<src>  l|file|<src>   what a Markdown link to a source / a file resolved to
    l|links|<src>  l|excl|<src>  l|asset|<src>  l|msrc|<src>   (the same, split: older build states)
    m|<src>  mc|<slug>    a photo's or video's snippet (renditions, published name, the sidecar's
                          title and photographer), a topic's media catalog
    tpl|<topic dir>|<name>  a template with everything it extends or includes
    f|<file>              a copied file's content
    jobs|<column url>     the list pages a column has (for its list pages)
    badge|<page url>      the preview's 草稿 / 定时发布 badge (it depends on "now")

A key the resolver does not know never compares equal (so it is always rebuilt, never trusted).

Recording is cheap and coarse where that costs nothing in exactness: once a page's ``*`` is
recorded, its other attributes are not (``*`` covers them all); reading any listing field of a
page, column or topic records its one ``~`` key; a list read whole records one ``…~`` key that
covers the listing fields of its items. A coarser key can only make more outputs render again,
never fewer (docs/performance.md, "Cold build").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import Any

from builder.content.model import Column, Page, Site, Topic

TRACKED = (Page, Column, Topic)
ABSENT = "absent"
SHORT = 80  # values up to this many characters are stored as they are, longer ones as a digest


def canon(value: Any) -> Any:
    """A JSON-able form of a value; pages, columns and topics by identity (their URL or slug)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Page):
        return "P:" + value.url
    if isinstance(value, Column):
        return "C:" + value.url
    if isinstance(value, Topic):
        return "T:" + value.slug
    if isinstance(value, list | tuple):
        return [canon(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canon(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(str(canon(v)) for v in value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canon(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if callable(value):
        return "callable"  # a method: the reader also records the object's fields (see Recorder.read)
    return repr(value)


def digest(value: Any) -> str:
    # The common cases without JSON (a typed prefix keeps "1" and 1 apart).
    if isinstance(value, str):
        return "s" + value if len(value) <= SHORT else "#" + hashlib.blake2b(value.encode(), digest_size=16).hexdigest()
    if value is None or isinstance(value, bool | int):
        return "v" + repr(value)
    if isinstance(value, Page):
        return "P:" + value.url
    text = json.dumps(canon(value), ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= SHORT else "#" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def fields_of(obj: Any) -> dict:
    """Every field of a page, column or topic (what ``*`` and method calls stand for)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def key_for(obj: Any, attr: str) -> str:
    if isinstance(obj, Page):
        return f"p|{obj.url}|{attr}"
    if isinstance(obj, Column):
        return f"c|{obj.url}|{attr}"
    return f"t|{obj.slug}|{attr}"


# The listing fields: what a list of pages, the column navigation or a breadcrumb shows of each
# item. One key stands for all of them (``p|<url>|~``); their values are cheap to compute.
PAGE_LISTING = ("url", "title", "date", "archived", "kind", "summary", "tags", "output")
COLUMN_LISTING = ("url", "title", "name", "topic", "column_type", "paginate")
TOPIC_LISTING = ("slug", "url", "title", "archived")
LISTED = "~"


def listing_fields(obj: Any) -> tuple[str, ...]:
    if isinstance(obj, Page):
        return PAGE_LISTING
    if isinstance(obj, Column):
        return COLUMN_LISTING
    return TOPIC_LISTING


def listing(obj: Any) -> Any:
    """What ``…|~`` stands for: an object's identity and listing fields (other values as they are)."""
    if not isinstance(obj, TRACKED):
        return canon(obj)
    return [canon(obj)] + [canon(getattr(obj, a, ABSENT)) for a in listing_fields(obj)]


def listing_of_list(value: Any) -> Any:
    return [listing(v) for v in value] if isinstance(value, list | tuple) else canon(value)


def _tracked_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, TRACKED) for v in value)


class Recorder:
    """Collects the keys one output reads (their values are computed once per build by ``Resolver``).

    ``whole``: ids of the pages whose ``*`` is recorded (any attribute of theirs is covered);
    ``listed``: ids of the objects whose listing fields are covered by a recorded key. Both hold
    for one render only (the objects live at least as long)."""

    __slots__ = ("keys", "whole", "listed")

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.whole: set[int] = set()
        self.listed: dict[int, tuple[str, ...]] = {}

    def read(self, obj: Any, attr: str, value: Any) -> None:
        oid = id(obj)
        if oid in self.whole:
            return
        covered = self.listed.get(oid)
        if covered is not None and attr in covered:
            return
        fields = listing_fields(obj)
        if attr in fields:
            self.keys.add(key_for(obj, LISTED))
            self.listed[oid] = fields
        elif attr == "*" or (callable(value) and not isinstance(value, TRACKED)):
            # page.sort_key() and the like read fields we cannot see: depend on all of them
            self.keys.add(key_for(obj, "*"))
            if isinstance(obj, Page):  # a page's attributes are all made from its fields
                self.whole.add(oid)
        elif _tracked_list(value):
            self.keys.add(key_for(obj, attr + LISTED))
            self.cover(value)
        else:
            self.keys.add(key_for(obj, attr))

    def cover(self, items) -> None:
        """The listing fields of these objects are covered by a key just recorded."""
        for item in items:
            if item is not None:
                self.listed.setdefault(id(item), listing_fields(item))

    def get(self, obj: Any, attr: str) -> Any:
        """``getattr`` that records (for the renderer's own reads)."""
        value = getattr(obj, attr)
        self.read(obj, attr, value)
        return value

    def add(self, key: str) -> None:
        self.keys.add(key)


# The kinds of recorded link lookups (``l|<kind>|<src>``): a source page, a file.
LINK_KINDS = ("md", "file")


class TrackedMap:
    """A read-only view of a link map (source → URL or output) that records each lookup."""

    def __init__(self, data, kind: str, recorder: Recorder) -> None:
        self.data = data
        self.kind = kind
        self.recorder = recorder

    def get(self, key, default=None):
        self.recorder.keys.add(f"l|{self.kind}|{key}")
        return self.data.get(key, default) if isinstance(self.data, dict) else default

    def __contains__(self, key) -> bool:
        self.recorder.keys.add(f"l|{self.kind}|{key}")
        return key in self.data

    def __iter__(self) -> Iterator:
        return iter(self.data)


def link_value(data, key: str) -> Any:
    if isinstance(data, dict):
        return data.get(key, ABSENT)
    return key in data


def column_pseudo(col: Column, attr: str) -> Any:
    """Values of a column that are not plain attributes."""
    if attr == "count":
        return [len(col.pages), col.paginate]
    if attr.startswith("pages["):
        a, _, b = attr[len("pages["):-1].partition(":")
        return col.pages[int(a):int(b)]
    return getattr(col, attr, ABSENT)


class Resolver:
    """Current values of keys, computed from a loaded site (compared with the build state)."""

    def __init__(self, site: Site, renderer, options_key: str, file_digest, version: str) -> None:
        self.site = site
        self.r = renderer
        self.options_key = options_key
        self.file_digest = file_digest  # rel or absolute path → content digest (or "absent")
        self.version = version
        self._memo: dict[str, str] = {}

    def value(self, key: str) -> str:
        v = self._memo.get(key)
        if v is None:
            try:
                v = self._compute(key)
            except Exception:  # noqa: BLE001 - a key that cannot be computed again is simply stale
                v = "unresolved:" + uuid.uuid4().hex
            self._memo[key] = v
        return v

    def _compute(self, key: str) -> str:
        kind, _, rest = key.partition("|")
        r = self.r
        if kind in ("p", "c", "t"):
            name, _, attr = rest.rpartition("|")
            obj = (r.by_url if kind == "p" else r.columns if kind == "c" else r.topics).get(name)
            if obj is None:
                return ABSENT
            if attr == "*":
                return digest(fields_of(obj))
            if attr == LISTED:
                return digest(listing(obj))
            if kind == "p" and attr == "url":
                return "s" + name
            whole = attr.endswith(LISTED)
            if whole:
                attr = attr[:-1]
            value = column_pseudo(obj, attr) if kind == "c" else getattr(obj, attr, ABSENT)
            return digest(listing_of_list(value) if whole else value)
        if kind == "s":
            if rest == "cfg":
                return digest(self.site_key())
            if rest == "pages":
                return digest(listing_of_list(self.site.pages))
            if rest == "topics":
                return digest(topic_list(self.site))
        if kind == "nb":
            return digest([listing(p) if p is not None else None for p in r.neighbours.get(rest, (None, None))])
        if kind == "l":
            which, _, src = rest.partition("|")
            if which == "md":  # a link to a source: the page it became, or a draft
                return digest([link_value(r.link_map, src), src in self.site.excluded])
            if which == "file":  # a link to a file: its output, and whether it is a photo or video
                return digest([link_value(r.assets, src), src in r.media_sources])
            data = {"links": r.link_map, "excl": self.site.excluded, "asset": r.assets,
                    "msrc": r.media_sources}.get(which)
            if data is not None:
                return digest(link_value(data, src))
        if kind == "m":
            return digest(r.media_html.key(rest) if r.media_html else ABSENT)
        if kind == "mc":
            return digest(r.media_html.catalogs.get(rest) if r.media_html else ABSENT)
        if kind == "tpl":
            topic_dir, _, name = rest.partition("|")
            return digest(r.templates.digest(name, Path(topic_dir) if topic_dir else None))
        if kind == "f":
            return digest(self.file_digest(rest))
        if kind == "badge":
            from builder.render.pages import preview_badge

            page = r.by_url.get(rest)
            return digest(preview_badge(page, r.now) if page is not None else ABSENT)
        if kind == "jobs":
            col = r.columns.get(rest)
            return digest(col_page_count(col) if col else ABSENT)
        return "unknown:" + uuid.uuid4().hex  # never equal to what was stored: always rebuilt

    def site_key(self) -> list:
        return [self.options_key, self.version, self.file_digest("site_src/site.toml"), canon(self.site.config)]


def covering_keys(site: Site | None, keys) -> set[str]:
    """The keys under which a read of any of ``keys`` is recorded: ``p|<url>|title`` is also read
    through ``p|<url>|~`` and through every list that holds the page (its column's pages and list
    page, the topic's pages, the site pages, its neighbours' ``nb``). For the reverse index."""
    out = set(keys)
    if site is None:
        return out
    pages = {p.url: p for p in site.all_pages()}
    columns = {c.url: c for t in site.topics for c in t.columns}
    topics = {t.slug: t for t in site.topics}
    for key in keys:
        kind, _, rest = key.partition("|")
        name, _, attr = rest.rpartition("|")
        if attr == "*" or attr.endswith(LISTED):
            continue
        if kind == "p" and name in pages:
            out.add(f"p|{name}|*")  # the page itself
            if attr not in PAGE_LISTING:
                continue
            page = pages[name]
            out.update((f"p|{name}|~", "s|pages"))
            for c in columns.values():
                if page in c.pages:
                    i = c.pages.index(page)
                    start = i - i % c.paginate
                    out.update((f"c|{c.url}|pages~", f"c|{c.url}|pages[{start}:{start + c.paginate}]~"))
                    out.update(f"nb|{p.url}" for p in c.pages[max(0, i - 1): i + 2])
            out.update(f"t|{t.slug}|pages~" for t in topics.values() if page in t.pages)
        elif kind == "c" and name in columns and attr in COLUMN_LISTING:
            out.update((f"c|{name}|~", f"t|{columns[name].topic}|columns~"))
        elif kind == "t" and name in topics and attr in TOPIC_LISTING:
            out.update((f"t|{name}|~", "s|topics"))
    return out


def topic_list(site: Site) -> list:
    return [[t.slug, t.archived] for t in site.topics]


def col_page_count(col: Column) -> int:
    return max(1, -(-len(col.pages) // col.paginate))
