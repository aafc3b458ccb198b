"""The recorder's coarse keys (builder/deps.py): fewer keys per page, never a stale page.

A page's own ``*`` covers its attributes; a listing field of another object records its one ``~``
key; a list read whole records one ``…~`` key covering its items' listing fields, while their other
attributes are still recorded one by one. The resolver's values of coarse keys change whenever a
field they cover changes. (The property test, tests/test_engine_property.py, checks the whole.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from builder.content.model import Column, Page, Topic
from builder.deps import Recorder, Resolver, covering_keys


def page(url: str, title: str, weight: int = 0) -> Page:
    return Page("detail", Path("/s") / (url + "x.md"), url + "x.md", url, title, weight=weight, topic="demo",
                column="news", date=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))


def site_of(pages: list[Page]):
    index = Page("column", Path("/s/_index.md"), "topics/demo/news/_index.md", "demo/news/", "新闻")
    col = Column("demo", "news", index, pages=pages)
    nav = Page("nav", Path("/s/index.md"), "topics/demo/index.md", "demo/", "专题")
    topic = Topic("demo", None, Path("/s"), nav, columns=[col])

    class Site:
        home = Page("home", Path("/s/i.md"), "site_src/index.md", "", "首页")
        excluded: set = set()
        topics = [topic]

        def all_pages(self):
            return [self.home, nav, index, *pages]

    class Renderer:
        by_url = {p.url: p for p in Site().all_pages()}
        columns = {col.url: col}
        topics = {"demo": topic}
        neighbours = {p.url: (pages[i - 1] if i else None, pages[i + 1] if i + 1 < len(pages) else None)
                      for i, p in enumerate(pages)}

    return Site(), Renderer(), col, topic


def test_a_pages_own_star_covers_its_attributes():
    a = page("demo/news/a/", "甲")
    rec = Recorder()
    rec.read(a, "*", None)
    rec.read(a, "title", a.title)
    rec.read(a, "meta", a.meta)
    rec.read(a, "sort_key", a.sort_key)
    assert rec.keys == {"p|demo/news/a/|*"}


def test_listing_fields_share_one_key_and_other_attributes_keep_theirs():
    a = page("demo/news/a/", "甲")
    rec = Recorder()
    for attr in ("title", "url", "date", "archived"):
        rec.read(a, attr, getattr(a, attr))
    rec.read(a, "weight", a.weight)
    assert rec.keys == {"p|demo/news/a/|~", "p|demo/news/a/|weight"}


def test_a_list_read_whole_covers_the_listing_fields_of_its_items_only():
    pages = [page("demo/news/a/", "甲"), page("demo/news/b/", "乙")]
    _, _, col, topic = site_of(pages)
    rec = Recorder()
    rec.read(col, "pages", col.pages)
    for p in col.pages:
        rec.read(p, "title", p.title)
        rec.read(p, "url", p.url)
        rec.read(p, "weight", p.weight)
    rec.read(topic, "columns", topic.columns)
    rec.read(col, "title", col.title)
    assert rec.keys == {"c|demo/news/|pages~", "p|demo/news/a/|weight", "p|demo/news/b/|weight",
                        "t|demo|columns~"}


def test_coarse_keys_change_with_every_field_they_cover():
    pages = [page("demo/news/a/", "甲"), page("demo/news/b/", "乙")]
    site, renderer, col, topic = site_of(pages)
    keys = ["c|demo/news/|pages~", "c|demo/news/|pages[0:20]~", "p|demo/news/a/|~", "t|demo|columns~",
            "nb|demo/news/b/", "c|demo/news/|~", "p|demo/news/b/|weight"]

    def values():
        return [Resolver(site, renderer, "", lambda _: "", "1").value(k) for k in keys]

    before = values()
    assert values() == before
    pages[0].title = "甲改"
    changed = values()
    assert [b != c for b, c in zip(before, changed, strict=True)] == [True, True, True, False, True, False, False]
    col.index.title = "新闻改"
    again = values()
    assert again[3] != changed[3] and again[5] != changed[5]
    pages[1].weight = 3
    assert values()[6] != again[6]


def test_the_reverse_index_finds_readers_of_a_title_through_the_lists_that_hold_the_page():
    pages = [page(f"demo/news/{n}/", n) for n in "abc"]
    site, *_ = site_of(pages)
    keys = covering_keys(site, ["p|demo/news/b/|title", "p|demo/news/b/|weight"])
    assert {"p|demo/news/b/|title", "p|demo/news/b/|~", "p|demo/news/b/|*", "p|demo/news/b/|weight",
            "c|demo/news/|pages~", "c|demo/news/|pages[0:20]~", "nb|demo/news/a/", "nb|demo/news/c/"} <= keys
    assert covering_keys(site, ["p|demo/news/b/|*"]) == {"p|demo/news/b/|*"}
