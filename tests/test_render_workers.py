"""Render worker processes (builder/render/payload.py, Builder.render_parallel): fresh processes get
the site without its page bodies and read each body from one file when needed; what they write is
what a one-process build writes, even when a template shows other pages' bodies."""

from __future__ import annotations

import pickle

import pytest

from builder.build import BuildOptions, build_site
from builder.content.model import Page
from builder.render import payload
from tests.sitefactory import BASIC, md, write_site

RELATED_BODIES = """{% extends "base.html" %}
{% block content %}
<h1>{{ page.title }}</h1>
<div class="prose">{{ content }}</div>
<ul>{% for p in column.pages %}<li>{{ p.title }}：{{ p.body | truncate(12) }}{{ p['body'] | length }}</li>{% endfor %}</ul>
{% endblock %}
"""


def test_a_parallel_build_equals_a_one_process_build_when_templates_read_other_pages_bodies(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = dict(BASIC)
    files["topics/demo/templates/detail.html"] = RELATED_BODIES
    for i in range(60):
        files[f"topics/demo/news/n{i:02d}.md"] = md(f"新闻{i}", f"第{i}条新闻的正文，链接到[甲](a.md)。" * (i % 3 + 1),
                                                   date=f"2025-03-{i % 28 + 1:02d}")
    one, many = tmp_path / "one", tmp_path / "many"
    write_site(one, files)
    write_site(many, files)
    (many / ".zhuanti-cache").mkdir()
    (many / ".zhuanti-cache/render-bodies-999999.bin").write_bytes(b"left by a killed build")
    build_site(one, BuildOptions(jobs=1))
    build_site(many, BuildOptions(jobs=3))
    names = sorted(p.relative_to(one / "public") for p in (one / "public").rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(many / "public") for p in (many / "public").rglob("*") if p.is_file())
    for rel in names:
        assert (one / "public" / rel).read_bytes() == (many / "public" / rel).read_bytes(), rel
    shown = (many / "public/demo/news/n05/index.html").read_text(encoding="utf-8")
    assert "第59条新闻的正" in shown  # another page's body, read by a worker from the body file
    assert not list((many / ".zhuanti-cache").glob("render-bodies-*"))  # the body file is gone


def test_workers_get_pages_without_bodies_and_the_pages_here_keep_theirs(tmp_path):
    pages = [Page("detail", tmp_path / f"{n}.md", f"{n}.md", f"{n}/", n, body=f"正文{n}" * 500) for n in "ab"]
    pages.append(Page("detail", tmp_path / "c.md", "c.md", "c/", "c"))
    stored = payload.write_bodies(pages, tmp_path / "bodies.bin")
    data = payload.dumps({"pages": pages, "again": pages[0]}, stored)
    assert len(data) < 2000 < sum(len(p.body.encode()) for p in pages)
    assert pages[0].body == "正文a" * 500  # untouched here
    copy = pickle.loads(data)
    assert copy["again"] is copy["pages"][0]  # shared references stay shared
    assert isinstance(copy["pages"][0].body, payload.StoredBody)
    assert [payload.body_of(p) for p in copy["pages"]] == [p.body for p in pages]
    assert copy["pages"][2].body == ""
    with pytest.raises(AttributeError):  # code that forgets to load a body fails instead of rendering nothing
        copy["pages"][1].body.strip()
    payload.close_files()


def test_chunks_cover_every_page_once_in_order_and_shrink_where_the_two_sides_meet():
    from builder.build import meeting_chunks

    for pages, jobs in ((400, 2), (10513, 2), (10000, 4), (17, 2)):
        chunks = meeting_chunks(list(range(pages)), jobs)
        assert [p for c in chunks for p in c] == list(range(pages))
        sizes = [len(c) for c in chunks]
        assert max(sizes) <= 200 and all(sizes)
    sizes = [len(c) for c in meeting_chunks(list(range(10000)), 2)]
    assert sizes[0] == sizes[-1] == 200  # the ends: few, large chunks
    middle = len(sizes) // 2
    assert max(sizes[middle - 2:middle + 2]) <= 16  # where the workers and the build process meet
