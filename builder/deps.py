"""Recorded dependencies (the Lektor model): what an output read while it rendered.

Every read of a page, column or topic that a template (or the renderer) makes is recorded as a
*key* with the *value* it had, e.g. ``p|demo/news/a/|title`` → ``"甲新闻"``. The build state keeps
key → value and key → outputs; the next build computes every stored key again from the freshly
loaded site (``Resolver``) and renders again exactly the outputs whose keys changed.

Key kinds (``kind|argument|attribute``)::

    p|<page url>|<attr>   a page's attribute (``*``: every field, what a page reads of itself)
    c|<column url>|<attr> a column's attribute; ``pages[a:b]`` a slice of its pages, ``count``
    t|<slug>|<attr>       a topic's attribute
    s|cfg  s|pages  s|topics   site.toml with the build options, the site pages, the topic list
    nb|<page url>         a detail page's neighbours (上一篇 / 下一篇)
    l|links|<src>  l|excl|<src>  l|asset|<src>  l|msrc|<src>   what a Markdown link resolved to
    m|<src>  mc|<slug>    a photo's or video's renditions, a topic's media catalog
    tpl|<topic dir>|<name>  a template with everything it extends or includes
    f|<file>              a copied file's content
    jobs|<column url>     the list pages a column has (for its list pages)
    badge|<page url>      the preview's 草稿 / 定时发布 badge (it depends on "now")

A key the resolver does not know never compares equal (so it is always rebuilt, never trusted).
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


class Recorder:
    """Collects the keys one output reads (their values are computed once per build by ``Resolver``)."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def read(self, obj: Any, attr: str, value: Any) -> None:
        self.keys.add(key_for(obj, attr))
        if callable(value) and not isinstance(value, TRACKED):
            # page.sort_key() and the like read fields we cannot see: depend on all of them
            self.keys.add(key_for(obj, "*"))

    def get(self, obj: Any, attr: str) -> Any:
        """``getattr`` that records (for the renderer's own reads)."""
        value = getattr(obj, attr)
        self.read(obj, attr, value)
        return value

    def add(self, key: str) -> None:
        self.keys.add(key)


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
        if kind == "p":
            url, _, attr = rest.rpartition("|")
            page = r.by_url.get(url)
            if page is None:
                return ABSENT
            if attr == "url":
                return "s" + url
            return digest(fields_of(page) if attr == "*" else getattr(page, attr, ABSENT))
        if kind == "c":
            url, _, attr = rest.rpartition("|")
            col = r.columns.get(url)
            if col is None:
                return ABSENT
            return digest(fields_of(col) if attr == "*" else column_pseudo(col, attr))
        if kind == "t":
            slug, _, attr = rest.rpartition("|")
            topic = r.topics.get(slug)
            if topic is None:
                return ABSENT
            return digest(fields_of(topic) if attr == "*" else getattr(topic, attr, ABSENT))
        if kind == "s":
            if rest == "cfg":
                return digest(self.site_key())
            if rest == "pages":
                return digest(self.site.pages)
            if rest == "topics":
                return digest(topic_list(self.site))
        if kind == "nb":
            return digest(r.neighbours.get(rest, (None, None)))
        if kind == "l":
            which, _, src = rest.partition("|")
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


def topic_list(site: Site) -> list:
    return [[t.slug, t.archived] for t in site.topics]


def col_page_count(col: Column) -> int:
    return max(1, -(-len(col.pages) // col.paginate))
