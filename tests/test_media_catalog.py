"""Sidecars, the media catalog, the media index page data and template, and the HTML snippets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2
import pytest
from PIL import Image
from selectolax.lexbor import LexborHTMLParser

from builder.config import load_site_config
from builder.media import library_for, site_media
from builder.render.theme import THEME_FILTERS
from media_pipeline.catalog import (
    Sidecar,
    build_catalog,
    catalog_for_topic,
    filter_catalog,
    load_sidecar,
    parse_sidecar,
)
from media_pipeline.errors import MediaError, MediaFailed
from media_pipeline.html import image_html, video_html
from media_pipeline.images import ImageOutputs, ImageRendition
from media_pipeline.library import ImageEntry, VideoEntry
from media_pipeline.video import Rendition, VideoOutputs
from tests.sitefactory import write_site

THEME = Path(__file__).resolve().parents[1] / "themes" / "default"
SITE = """
title = "测试委员会"
[media]
image_widths = [40, 80]
"""


def _photo(path: Path, size=(120, 90), colour="red") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


# ---------------------------------------------------------------- sidecars

def test_sidecar_fields_are_read(tmp_path):
    media = _photo(tmp_path / "clip.jpg")
    (tmp_path / "clip.jpg.yaml").write_text("title: 开幕式\ntags: [会议, 2025]\ngroup: 现场\ndescription: 大会现场\n",
                                             encoding="utf-8")
    assert load_sidecar(media) == Sidecar("开幕式", ("会议", "2025"), "现场", "大会现场")


def test_missing_or_empty_sidecar(tmp_path):
    media = _photo(tmp_path / "a.jpg")
    assert load_sidecar(media) is None
    (tmp_path / "a.jpg.yaml").write_text("", encoding="utf-8")
    assert load_sidecar(media) == Sidecar()


def test_tags_may_be_one_string_separated_by_commas(tmp_path):
    assert parse_sidecar("tags: 会议，调研、 2025,会议\n", tmp_path / "x.yaml").tags == ("会议", "调研", "2025")


def test_broken_yaml_names_the_sidecar_and_line(tmp_path):
    media = _photo(tmp_path / "clip.jpg")
    sidecar = tmp_path / "clip.jpg.yaml"
    sidecar.write_text("title: 开幕式\ntags: [会议, 2025\ngroup: 现场\n", encoding="utf-8")
    with pytest.raises(MediaError) as err:
        load_sidecar(media)
    assert err.value.path == str(sidecar)
    assert err.value.line == 3
    assert "YAML 语法错误" in str(err.value) and "第 2 行" in str(err.value)


@pytest.mark.parametrize(("text", "line", "words"), [
    ("title: 标题\ngroup: [a, b]\n", 2, "“group” 应为一段文字"),
    ("title: {a: 1}\n", 1, "“title” 应为一段文字"),
    ("title: 标题\n\ntags:\n  a: 1\n", 3, "“tags” 应为标签列表"),
    ("tags: [[a], b]\n", 1, "标签应为文字"),
    ("titel: 标题\n", 1, "是否想写 “title”"),
    ("title: a\ntitle: b\n", 2, "重复出现"),
    ("- a\n- b\n", 1, "键: 值"),
])
def test_wrong_types_name_the_sidecar_line_and_problem(tmp_path, text, line, words):
    sidecar = tmp_path / "p.png.yaml"
    with pytest.raises(MediaError) as err:
        parse_sidecar(text, sidecar)
    assert err.value.path == str(sidecar) and err.value.line == line
    assert words in str(err.value)


def test_sidecar_not_utf8(tmp_path):
    media = _photo(tmp_path / "a.jpg")
    (tmp_path / "a.jpg.yaml").write_bytes("title: 标题".encode("gbk"))
    with pytest.raises(MediaError, match="UTF-8"):
        load_sidecar(media)


# ---------------------------------------------------------------- the catalog

DEMO_TITLE = "示范专题 · 图片与视频"  # the title the build gives the topic's media page


def _site(tmp_path: Path):
    write_site(tmp_path, {
        "topics/demo/topic.toml": 'title = "示范专题"\ngroups = ["现场", "资料"]\n',
        "topics/demo/images/a.jpg.yaml": "title: 开幕式\ntags: [会议, 2025]\ngroup: 资料\n",
        "topics/demo/images/b.png.yaml": "title: 合影\ntags: [会议]\ngroup: 现场\n",
        "topics/other/x.jpg.yaml": "title: 别的\ntags: [调研]\n",
    }, SITE)
    _photo(tmp_path / "topics/demo/images/a.jpg")
    _photo(tmp_path / "topics/demo/images/b.png", (60, 60), "blue")
    _photo(tmp_path / "topics/demo/c.jpg", (50, 100), "green")
    _photo(tmp_path / "topics/demo/templates/ignored.jpg")
    _photo(tmp_path / "topics/other/x.jpg")
    _photo(tmp_path / "site_src/assets/logo.png", (30, 30))
    (tmp_path / "topics/demo/images/readme.txt").write_text("x")
    return load_site_config(tmp_path)


def test_the_build_view_lists_media_in_topics_and_site_assets(tmp_path):
    site = _site(tmp_path)
    items = site_media(site)
    rel = sorted(i.source.relative_to(tmp_path).as_posix() for i in items)
    assert rel == ["site_src/assets/logo.png", "topics/demo/c.jpg", "topics/demo/images/a.jpg",
                   "topics/demo/images/b.png", "topics/other/x.jpg"]
    assert {i.source.name: i.topic for i in items}["logo.png"] is None
    assert [i.output for i in site_media(site, ["other"])] == ["other/x.jpg"]


def test_catalog_lists_metadata_sizes_and_renditions(tmp_path):
    site = _site(tmp_path)
    before = {e.source: e for e in build_catalog(library_for(site), site_media(site))}
    assert before["topics/demo/c.jpg"].processed is False
    assert (before["topics/demo/c.jpg"].width, before["topics/demo/c.jpg"].height) == (50, 100)
    library_for(site).process([i.source for i in site_media(site)], jobs=1)
    entries = {e.source: e for e in build_catalog(library_for(site), site_media(site))}
    a = entries["topics/demo/images/a.jpg"]
    assert (a.title, a.tags, a.group, a.topic, a.kind) == ("开幕式", ["会议", "2025"], "资料", "demo", "image")
    assert (a.width, a.height, a.processed, a.poster, a.duration) == (120, 90, True, None, None)
    assert a.renditions == ["demo/images/a-80.jpg", "demo/images/a-40.jpg", "demo/images/a-80.webp",
                            "demo/images/a-40.webp"]
    assert entries["site_src/assets/logo.png"].topic is None
    assert entries["topics/demo/c.jpg"].title == "c"  # no sidecar: the file name
    assert [e.source for e in filter_catalog(list(entries.values()), tag="会议")] == [
        "topics/demo/images/a.jpg", "topics/demo/images/b.png"]
    assert [e.source for e in filter_catalog(list(entries.values()), tag="会议", group="现场")] == [
        "topics/demo/images/b.png"]


def test_catalog_with_a_broken_sidecar_or_file_reports_them_all(tmp_path):
    site = _site(tmp_path)
    (tmp_path / "topics/demo/c.jpg.yaml").write_text("title: [x\n", encoding="utf-8")
    (tmp_path / "topics/demo/bad.jpg").write_text("text")
    with pytest.raises(MediaFailed) as err:
        build_catalog(library_for(site), site_media(site))
    assert sorted(e.path for e in err.value.errors) == ["topics/demo/bad.jpg", "topics/demo/c.jpg.yaml"]
    errors: list = []
    listed = build_catalog(library_for(site), site_media(site), errors=errors)
    assert len(errors) == 2 and len(listed) == 6
    assert next(e for e in listed if e.source == "topics/demo/bad.jpg").error


def test_catalog_for_topic_groups_by_declared_order_and_counts_tags(tmp_path):
    site = _site(tmp_path)
    lib = library_for(site)
    lib.process([i.source for i in site_media(site, ["demo"])], jobs=1)
    data = catalog_for_topic(lib, site_media(site, ["demo"]), "demo/media/", DEMO_TITLE, ["现场", "资料"])
    assert data["title"] == "示范专题 · 图片与视频" and data["count"] == 3
    assert [g["name"] for g in data["groups"]] == ["现场", "资料", "未分组"]
    assert data["tags"] == [{"name": "会议", "count": 2}, {"name": "2025", "count": 1}]
    item = data["groups"][1]["items"][0]
    assert item["title"] == "开幕式" and item["href"] == "../images/a-80.jpg"
    assert 'srcset="../images/a-40.webp 40w, ../images/a-80.webp 80w"' in item["html"]
    assert len({g["id"] for g in data["groups"]}) == 3


def _render_index(tmp_path: Path, media: dict) -> str:
    base = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{% block title %}{% endblock %}'
            '</title>{% block head %}{% endblock %}</head><body><main>{% block content %}{% endblock %}</main>'
            '{% block scripts %}{% endblock %}</body></html>')
    env = jinja2.Environment(loader=jinja2.ChoiceLoader([
        jinja2.DictLoader({"base.html": base}), jinja2.FileSystemLoader(str(THEME / "templates"))]), autoescape=True)
    env.filters.update(THEME_FILTERS)  # the theme's own filters, as the build's environment has them
    return env.get_template("media_index.html").render(
        media=media, site={"title": "测试委员会"}, topic=None, static=lambda p: "../../static/" + p)


def test_media_index_template_renders_groups_tags_and_snippets(tmp_path):
    site = _site(tmp_path)
    lib = library_for(site)
    lib.process([i.source for i in site_media(site, ["demo"])], jobs=1)
    html = _render_index(tmp_path, catalog_for_topic(lib, site_media(site, ["demo"]), "demo/media/", DEMO_TITLE, ["现场", "资料"]))
    doc = LexborHTMLParser(html)
    assert doc.css_first("title").text() == "示范专题 · 图片与视频 - 测试委员会"
    assert [h.text() for h in doc.css("section.media-group h2")] == ["现场", "资料", "未分组"]
    assert [b.attributes["data-tag"] for b in doc.css("[data-media-filter] button")] == ["", "会议", "2025"]
    assert "hidden" in doc.css_first("[data-media-filter]").attributes  # shown by the script
    assert len(doc.css("picture")) == 3
    first = doc.css_first(".media-item")
    assert json.loads(first.attributes["data-tags"]) == ["会议"]
    assert doc.css_first("script").attributes["src"] == "../../static/js/media-filter.js"
    assert "onclick" not in html and "<script>" not in html


def test_media_index_template_without_media(tmp_path):
    html = _render_index(tmp_path, {"title": "空 · 图片与视频", "count": 0, "tags": [], "groups": []})
    assert "本专题暂无图片和视频" in html and "<script" not in html


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_tag_filter_works_in_a_real_browser_and_is_accessible(tmp_path):
    from playwright.sync_api import sync_playwright

    site = _site(tmp_path)
    lib = library_for(site)
    lib.process([i.source for i in site_media(site, ["demo"])], jobs=1)
    out = tmp_path / "public"
    for item in site_media(site, ["demo"]):
        lib.publish_into(out, item.source, item.output)
    page_dir = out / "demo" / "media"
    page_dir.mkdir(parents=True)
    (page_dir / "index.html").write_text(_render_index(tmp_path, catalog_for_topic(
        lib, site_media(site, ["demo"]), "demo/media/", DEMO_TITLE, ["现场", "资料"])), encoding="utf-8")
    shutil.copytree(THEME / "static", out / "static")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.goto((page_dir / "index.html").as_uri())
            page.wait_for_selector("[data-media-filter]:not([hidden])")
            assert page.locator(".media-item:visible").count() == 3
            page.get_by_role("button", name="2025").click()
            assert page.locator(".media-item:visible").count() == 1
            assert page.locator("section.media-group:visible h2").all_inner_texts() == ["资料"]
            assert page.get_by_role("button", name="2025").get_attribute("aria-pressed") == "true"
            assert "共 1 项" in page.locator("[data-media-status]").inner_text()
            page.get_by_role("button", name="全部").click()
            assert page.locator(".media-item:visible").count() == 3
            assert page.evaluate("document.querySelector('picture img').complete")
            from axe_playwright_python.sync_playwright import Axe

            result = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}})
            assert result.violations_count == 0, result.generate_report()
        finally:
            browser.close()


# ---------------------------------------------------------------- HTML snippets

def _image_entry(stem: str = "现场 照片") -> ImageEntry:
    rends = []
    for w, h in ((480, 360), (960, 720), (1600, 1200)):
        rends += [ImageRendition(f"image-{w}.jpg", w, h, "jpeg", 1), ImageRendition(f"image-{w}.webp", w, h, "webp", 1)]
    return ImageEntry(Path("/x.jpg"), "k", Path("/cache/k"), ImageOutputs(4000, 3000, "jpeg", False, False, tuple(rends)),
                      "t/images", stem)


def test_image_html_is_a_picture_with_webp_srcset_and_sized_lazy_img():
    html = image_html(_image_entry(), '会场"全景"<b>', "../images/")
    doc = LexborHTMLParser(html)
    source = doc.css_first("picture > source")
    assert source.attributes["type"] == "image/webp"
    enc = "%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87"
    assert source.attributes["srcset"] == (f"../images/{enc}-480.webp 480w, ../images/{enc}-960.webp 960w, "
                                           f"../images/{enc}-1600.webp 1600w")
    img = doc.css_first("picture > img")
    assert img.attributes["src"] == f"../images/{enc}-960.jpg"
    assert img.attributes["srcset"].endswith(f"{enc}-1600.jpg 1600w")
    assert (img.attributes["width"], img.attributes["height"]) == ("960", "720")
    assert img.attributes["alt"] == '会场"全景"<b>'
    assert (img.attributes["loading"], img.attributes["decoding"]) == ("lazy", "async")
    assert img.attributes["sizes"] == source.attributes["sizes"] == "(max-width: 960px) 100vw, 960px"
    assert "<b>" not in html and "&#34;" in html


def test_image_html_for_small_photo_uses_its_largest_rendition():
    rends = (ImageRendition("image-300.png", 300, 200, "png", 1), ImageRendition("image-300.webp", 300, 200, "webp", 1))
    entry = ImageEntry(Path("/x.png"), "k", Path("/c"), ImageOutputs(300, 200, "png", True, False, rends), "", "logo")
    img = LexborHTMLParser(image_html(entry, "标志", "")).css_first("img")
    assert img.attributes["src"] == "logo-300.png" and img.attributes["width"] == "300"


def _video_entry(hls: bool, captions: bool) -> VideoEntry:
    rends = (Rendition("720p", 1280, 720, Path("720p.mp4"), 1, 1), Rendition("480p", 854, 480, Path("480p.mp4"), 1, 1))
    outputs = VideoOutputs(12.0, 1280, 720, True, rends, Path("poster.jpg"), Path("poster.webp"),
                           Path("hls/index.m3u8") if hls else None, Path("captions.zh.vtt") if captions else None)
    return VideoEntry(Path("/c.mov"), "k", Path("/cache/k"), outputs, "t/v", "开幕 式")


def test_video_html_has_hls_first_then_mp4s_best_first_captions_and_download():
    html = video_html(_video_entry(hls=True, captions=True), "开幕式<录像>", "")
    doc = LexborHTMLParser(html)
    video = doc.css_first("video")
    enc = "%E5%BC%80%E5%B9%95%20%E5%BC%8F"
    assert "controls" in video.attributes and video.attributes["preload"] == "metadata"
    assert video.attributes["poster"] == f"{enc}/poster.jpg"
    assert (video.attributes["width"], video.attributes["height"]) == ("1280", "720")
    assert video.attributes["aria-label"] == "开幕式<录像>"
    sources = [(s.attributes["src"], s.attributes["type"]) for s in doc.css("video > source")]
    assert sources == [(f"{enc}/hls/index.m3u8", "application/x-mpegURL"), (f"{enc}/720p.mp4", "video/mp4"),
                       (f"{enc}/480p.mp4", "video/mp4")]
    track = doc.css_first("video > track")
    assert track.attributes["kind"] == "captions" and track.attributes["srclang"] == "zh"
    assert track.attributes["label"] == "中文" and "default" in track.attributes
    assert track.attributes["src"] == f"{enc}/captions.zh.vtt"
    link = doc.css_first("video a[download]")
    assert link.attributes["href"] == f"{enc}/720p.mp4"
    assert "<录像>" not in html


def test_video_html_without_hls_or_captions():
    doc = LexborHTMLParser(video_html(_video_entry(hls=False, captions=False), "", "../"))
    assert [s.attributes["type"] for s in doc.css("source")] == ["video/mp4", "video/mp4"]
    assert doc.css_first("track") is None and "aria-label" not in doc.css_first("video").attributes


def test_library_html_falls_back_to_the_sidecar_title(tmp_path):
    site = _site(tmp_path)
    lib = library_for(site)
    src = tmp_path / "topics/demo/images/a.jpg"
    lib.process([src], jobs=1)
    img = LexborHTMLParser(lib.html(src, "", "")).css_first("img")
    assert img.attributes["alt"] == "开幕式"
    img = LexborHTMLParser(lib.html(src, "自定义说明", "")).css_first("img")
    assert img.attributes["alt"] == "自定义说明"


def test_page_html_links_renditions_relative_to_the_page(tmp_path):
    site = _site(tmp_path)
    lib = library_for(site)
    src = tmp_path / "topics/demo/images/a.jpg"
    lib.process([src], jobs=1)
    img = LexborHTMLParser(lib.page_html(src, "图", "demo/news/item/", "demo/images/a.jpg")).css_first("img")
    assert img.attributes["src"] == "../../images/a-80.jpg"
    beside = LexborHTMLParser(lib.page_html(src, "图", "demo/images/", "demo/images/a.jpg")).css_first("img")
    assert beside.attributes["src"] == "a-80.jpg"
    bundle = lib.page_html(src, "图", "demo/col/page/", output="demo/col/page/a.jpg")
    assert 'src="a-80.jpg"' in bundle
