"""Relative links between directory URLs, and the links shared between the pages of one folder."""

import itertools
import random

from builder.render import urls
from builder.render.urls import RelativeTo, relative


def test_relative_links():
    assert relative("a/b/", "a/c/") == "../c/"
    assert relative("a/b/", "a/b/") == "./"
    assert relative("", "a/") == "a/"
    assert relative("a/b/", "") == "../../"
    assert relative("a/b/", "static/x.css") == "../../static/x.css"
    assert relative("a/", "a/页/") == "%E9%A1%B5/"


def test_links_shared_between_pages_of_a_folder_are_those_each_page_would_make(monkeypatch):
    monkeypatch.setattr(urls, "_SHARED", {})
    segments = ["a", "b", "ab", "页", "x y"]
    paths = [""]
    for n in range(1, 4):
        for combo in itertools.product(segments, repeat=n):
            joined = "/".join(combo)
            paths += [joined + "/", joined, joined + "/index.html"]
    pages = [p for p in paths if p == "" or p.endswith("/")]
    targets = [*paths, "static/css/x.css", "/abs/", "a//b/", "a/b/#top", "?q=1"]
    rng = random.Random(7)
    for _ in range(3):  # pages in a different order each time, so another page made each shared link
        rng.shuffle(pages)
        for page in pages:
            link = RelativeTo(page)
            for to in rng.sample(targets, 40):
                assert link(to) == relative(page, to), (page, to)
    assert urls._SHARED  # links were shared (and each was checked above against its own page's)
    # a page and its sibling folder: the sibling's own sub-page is outside this page's folder
    assert RelativeTo("t/c/p1/")("t/c/p2/x/") == "../p2/x/"
    assert RelativeTo("t/c/p2/")("t/c/p2/x/") == "x/"
