"""A photo's sidecar (title, photographer) is part of the snippet pages embed: editing it renders
again exactly the pages that show the photo, as a clean build would."""

from __future__ import annotations

import datetime as dt

import pytest

from builder import engine_sources
from builder.build import BuildOptions, Engine, build_site
from builder.clock import get_zone
from tests.engine_support import clean_reference, diff, tree
from tests.sitefactory import md, page, write_site
from tests.test_build_media import SITE, gps_photo

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=get_zone("Asia/Shanghai"))
SIDECAR = "topics/expo/images/open.jpg.yaml"


@pytest.fixture(autouse=True)
def pinned(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.setattr(engine_sources, "RACY_NS", 0)  # builds seconds apart: signatures are trusted


@pytest.fixture
def photo_site(tmp_path):
    root = tmp_path / "site"
    write_site(root, {
        "topics/expo/index.md": md("轨道交通摄影展", "![](images/open.jpg)"),  # no alt: the sidecar's title
        "topics/expo/images/open.jpg": gps_photo(),
        SIDECAR: "title: 开幕式\nphotographer: 张三\ngroup: 第一部分\n",
        "topics/expo/news/_index.md": md("新闻"),
        "topics/expo/news/a.md": md("甲新闻", "没有图片。", date="2026-01-01"),
        "topics/expo/news/b.md": md("乙新闻", "![现场](../images/open.jpg)", date="2026-01-02"),
    }, site_toml=SITE)
    return root


@pytest.fixture(params=["serve-engine", "new-process"])
def run(request, photo_site):
    """One rebuild: through a long-lived engine told what changed (as ``zhuanti serve`` does), or
    as a new ``zhuanti build``."""
    if request.param == "new-process":
        yield lambda changed: build_site(photo_site, BuildOptions(now=NOW))
        return
    engine = Engine(photo_site, BuildOptions(now=NOW))
    yield lambda changed: engine.build(changed)
    engine.close()


def same_as_clean(root, tmp_path):
    status, result, ref = clean_reference(root, tmp_path / "ref", now=NOW)
    assert status == "ok", result
    got = tree(root / "public")
    assert got == ref, diff(got, ref)


def credits(root, rel):
    return [p.attributes.get("data-credit") for p in page(root / "public" / rel).css("main picture")]


def test_a_new_photographer_in_the_sidecar_renders_the_pages_showing_the_photo_again(photo_site, run, tmp_path):
    run(None)
    assert credits(photo_site, "expo/index.html") == ["张三"]
    (photo_site / SIDECAR).write_text("title: 开幕式\nphotographer: 李四\ngroup: 第一部分\n", encoding="utf-8")
    report = run([photo_site / SIDECAR])
    assert credits(photo_site, "expo/index.html") == ["李四"]
    assert credits(photo_site, "expo/news/b/index.html") == ["李四"]
    assert "李四" in (photo_site / "public/expo/media/index.html").read_text(encoding="utf-8")
    pages = {w for w in report.written if w.endswith(".html")}
    assert pages == {"expo/index.html", "expo/news/b/index.html", "expo/media/index.html"}, pages
    same_as_clean(photo_site, tmp_path)


def test_a_new_title_in_the_sidecar_becomes_the_alt_text_of_pages_that_give_none(photo_site, run, tmp_path):
    run(None)
    (photo_site / SIDECAR).write_text("title: 闭幕式\nphotographer: 张三\ngroup: 第一部分\n", encoding="utf-8")
    report = run([photo_site / SIDECAR])
    assert page(photo_site / "public/expo/index.html").css_first("main picture img").attributes["alt"] == "闭幕式"
    # b gives its own alt text: the snippet key changed, so it is rendered, but its bytes are the same
    assert page(photo_site / "public/expo/news/b/index.html").css_first("main picture img").attributes["alt"] == "现场"
    assert "expo/news/a/index.html" not in report.written
    same_as_clean(photo_site, tmp_path)


def test_removing_the_sidecar_drops_the_credit(photo_site, run, tmp_path):
    run(None)
    (photo_site / SIDECAR).unlink()
    run([photo_site / SIDECAR])
    assert credits(photo_site, "expo/index.html") == [None]
    same_as_clean(photo_site, tmp_path)


def test_a_sibling_photo_of_the_same_name_renames_the_renditions_pages_link_to(photo_site, run, tmp_path):
    run(None)
    (photo_site / "topics/expo/images/open.png").write_bytes(gps_photo())  # open.jpg → open-jpg-*.jpg
    run([photo_site / "topics/expo/images/open.png"])
    src = page(photo_site / "public/expo/index.html").css_first("main picture img").attributes["src"]
    assert "open-jpg-" in src and (photo_site / "public/expo" / src).is_file()
    same_as_clean(photo_site, tmp_path)
