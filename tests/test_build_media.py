"""Photos and videos written in Markdown reach the page through the media pipeline, never as the original."""

import io
import time

import pytest
from PIL import Image

from builder.build import BuildOptions, build_site
from builder.checks.runner import run_checks
from builder.config import load_site_config
from builder.errors import BuildFailed
from builder.manifest import load_manifest
from tests.media_samples import make_clip
from tests.sitefactory import md, page, write_site

SITE = """
title = "测试委员会专题网站"
base_url = "https://www.example.gov.cn/zhuanti/"

[identity]
site_code = "1100000088"
icp = "京ICP备12345678号"
police_record = "京公网安备 11000000000000号"
organizer = "测试市规划和自然资源委员会"

[media]
video_heights = [240]
video_preset = "ultrafast"
image_widths = [320, 640]
"""


def gps_photo(width=900, height=600) -> bytes:
    img = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


@pytest.fixture
def media_site(tmp_path):
    write_site(tmp_path, {
        "topics/expo/index.md": md("轨道交通摄影展", "![开幕](images/open.jpg)"),
        "topics/expo/images/open.jpg": gps_photo(),
        "topics/expo/images/open.jpg.yaml": "title: 开幕式\ntags: [开幕]\ngroup: 第一部分\n",
        "topics/expo/news/_index.md": md("新闻"),
        "topics/expo/news/day1/index.md": md("第一天", "![现场视频](clip.mp4)\n\n![](photo.jpg)", date="2026-01-01"),
        "topics/expo/news/day1/photo.jpg": gps_photo(500, 400),
    }, site_toml=SITE)
    make_clip(tmp_path / "topics/expo/news/day1/clip.mp4", seconds=1, size="320x240")
    return tmp_path


def test_photos_and_videos_become_responsive_media_without_originals(media_site):
    build_site(media_site, BuildOptions())
    pub = media_site / "public"
    nav = page(pub / "expo/index.html")
    img = nav.css_first("picture img")
    assert img.attributes["alt"] == "开幕" and img.attributes["width"] and img.attributes["height"]
    assert "320w" in img.attributes["srcset"] and "640w" in img.attributes["srcset"]
    assert nav.css_first("picture source[type='image/webp']")
    assert not (pub / "expo/images/open.jpg").exists()  # the original (with GPS) is never published
    detail = page(pub / "expo/news/day1/index.html")
    video = detail.css_first("video")
    assert video.attributes["preload"] == "metadata" and video.attributes.get("poster")
    assert video.css_first("source[type='video/mp4']")
    # ![](photo.jpg) without a sidecar: alt present and empty (decorative; minified to a bare `alt`), never missing
    attrs = detail.css("picture img")[0].attributes
    assert "alt" in attrs and not attrs["alt"]
    for f in pub.rglob("*"):
        if f.suffix.lower() in (".jpg", ".jpeg", ".webp"):
            with Image.open(f) as im:
                assert not im.getexif(), f  # EXIF (and GPS with it) stripped from everything published
    assert not (pub / "expo/news/day1/clip.mp4").exists()


def test_media_index_page_lists_the_topic_media_by_group(media_site):
    build_site(media_site, BuildOptions())
    idx = page(media_site / "public/expo/media/index.html")
    assert "第一部分" in idx.css_first("main").text()
    assert idx.css("figure")


def test_built_media_site_passes_the_link_checks(media_site):
    build_site(media_site, BuildOptions())
    pub = media_site / "public"
    result = run_checks(pub, site=load_site_config(media_site), manifest=load_manifest(pub), external=False,
                        browser=False, cache_dir=media_site / ".zhuanti-cache", jobs=1)
    broken = [f for f in result.findings if f.rule.startswith("link.")]
    assert broken == []


def test_media_is_cached_and_a_noop_rebuild_reuses_it(media_site):
    build_site(media_site, BuildOptions())
    t = (media_site / "public/expo/news/day1/index.html").stat().st_mtime_ns
    report = build_site(media_site, BuildOptions())
    assert report.pages_written == 0
    assert any("复用缓存 3" in n for n in report.notes), report.notes
    assert (media_site / "public/expo/news/day1/index.html").stat().st_mtime_ns == t


def test_a_corrupt_photo_fails_the_build_naming_it_but_others_are_cached(media_site):
    (media_site / "topics/expo/images/bad.jpg").write_text("not a photo", encoding="utf-8")
    with pytest.raises(BuildFailed) as info:
        build_site(media_site, BuildOptions())
    (err,) = info.value.errors
    assert "bad.jpg" in str(err)
    assert not (media_site / "public").exists()
    (media_site / "topics/expo/images/bad.jpg").unlink()
    time.sleep(0.01)
    report = build_site(media_site, BuildOptions())
    assert any("复用缓存 3" in n for n in report.notes), report.notes


def test_manifest_lists_published_renditions(media_site):
    build_site(media_site, BuildOptions())
    pub = media_site / "public"
    listed = {f["path"] for f in load_manifest(pub)["files"]}
    on_disk = {p.relative_to(pub).as_posix() for p in pub.rglob("*") if p.is_file() and ".zhuanti" not in p.parts}
    assert listed == on_disk


def test_a_video_alone_in_its_paragraph_is_a_block_with_captions_and_no_nested_paragraph(media_site):
    (media_site / "topics/expo/news/day1/clip.srt").write_text(
        "1\n00:00:00,000 --> 00:00:00,900\n开幕式现场\n", encoding="utf-8")
    build_site(media_site, BuildOptions())
    html = (media_site / "public/expo/news/day1/index.html").read_text(encoding="utf-8")
    doc = page(media_site / "public/expo/news/day1/index.html")
    video = doc.css_first(".media > video")
    assert video is not None and video.css("p") == []
    assert video.css_first("track[kind=captions]").attributes["srclang"] == "zh"
    assert "<p><video" not in html
    assert not (media_site / "public/expo/news/day1/clip.srt").exists()  # published as WebVTT only


def test_a_missing_photo_fails_the_build_naming_the_page_and_line(media_site):
    (media_site / "topics/expo/news/gone.md").write_text(md("缺图", "第一段。\n\n![现场](missing.jpg)"), encoding="utf-8")
    with pytest.raises(BuildFailed) as info:
        build_site(media_site, BuildOptions())
    (err,) = info.value.errors
    assert err.path.endswith("news/gone.md") and err.line == 7 and "missing.jpg" in err.message
