"""The default theme's pages as built: topic banner (cover or generated), navigation with the media
page, detail-page tools, internal tags hidden, elderly-friendly stylesheet, favicon."""

import io

import pytest
from PIL import Image

from builder.build import BuildOptions, build_site
from builder.errors import BuildFailed
from tests.sitefactory import BASIC, md, page, write_site


def jpeg(w=640, h=360, colour=(160, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, "JPEG")
    return buf.getvalue()


def test_a_missing_cover_fails_the_build_naming_topic_toml_and_the_file(tmp_path):
    files = dict(BASIC)
    files["topics/demo/topic.toml"] = 'title = "示范专题"\ncover = "images/banner.jpg"\n'
    write_site(tmp_path, files)
    with pytest.raises(BuildFailed) as info:
        build_site(tmp_path, BuildOptions())
    text = str(info.value)
    assert "topics/demo/topic.toml" in text and "images/banner.jpg" in text
    assert len([e for e in info.value.errors if "banner.jpg" in str(e)]) == 1  # once, not once per page
    assert not (tmp_path / "public").exists()


def test_the_cover_is_the_banner_on_every_page_of_the_topic(tmp_path):
    files = dict(BASIC)
    files["topics/demo/topic.toml"] = 'title = "示范专题"\ncover = "images/banner.jpg"\ncolumns = ["news", "policy"]\n'
    files["topics/demo/images/banner.jpg"] = jpeg(1600, 400)
    write_site(tmp_path, files)
    build_site(tmp_path, BuildOptions())
    pub = tmp_path / "public"
    for rel in ("demo/index.html", "demo/news/index.html", "demo/news/a/index.html"):
        doc = page(pub / rel)
        banner = doc.css_first(".topic-banner.has-cover")
        assert banner is not None and banner.css_first("picture img") is not None, rel
        img = banner.css_first("picture img")
        assert "alt" in img.attributes and not img.attributes["alt"] and img.attributes.get("sizes") == "100vw", rel
    nav = page(pub / "demo/index.html")
    assert nav.css_first(".topic-banner h1").text() == "示范专题"
    assert not (pub / "demo/images/banner.jpg").exists()  # published as renditions only


def test_without_a_cover_the_banner_is_generated_in_the_theme_colour(tmp_path):
    write_site(tmp_path, BASIC)
    build_site(tmp_path, BuildOptions())
    pub = tmp_path / "public"
    doc = page(pub / "demo/news/a/index.html")
    banner = doc.css_first(".topic-banner")
    assert "has-cover" not in banner.attributes["class"] and "banner-v" in banner.attributes["class"]
    assert banner.css_first(".topic-banner-title a").attributes["href"] == "../../"
    # the banner patterns, favicon and the elderly-friendly stylesheet are local files
    assert all((pub / f"static/img/banner-{n}.svg").is_file() for n in range(4))
    icon = doc.css_first('link[rel="icon"]').attributes["href"]
    assert (pub / "demo/news/a" / icon).resolve().is_file()
    elder = doc.css_first("link[data-elder-css]")
    assert elder.attributes["rel"] == "alternate stylesheet" and elder.attributes["title"] == "长者模式"
    assert doc.css_first('link[media="(prefers-contrast: more)"]') is not None  # no-JavaScript path
    assert doc.css_first("button[data-elder-switch]") is not None
    # detail pages: 字号 and 打印 (revealed by article.js), a skip link, the search box
    assert [b.text() for b in doc.css("[data-article-tools] button")] == ["大", "中", "小", "打印"]
    assert doc.css_first("a.skip-link").attributes["href"] == "#main"
    form = doc.css_first("form.search-box")
    assert form.attributes["action"] == "../../../search/"
    assert form.css_first('input[name="topic"]').attributes["value"] == "demo"


def test_column_navigation_has_the_topic_home_and_marks_the_current_column(tmp_path):
    write_site(tmp_path, BASIC)
    build_site(tmp_path, BuildOptions())
    doc = page(tmp_path / "public/demo/news/page/2/index.html")
    links = [(a.text(), a.attributes.get("aria-current")) for a in doc.css(".topic-nav a")]
    assert links == [("专题首页", None), ("工作动态", "page"), ("政策文件", None)]


def test_the_media_page_is_in_the_navigation_and_internal_tags_are_never_shown(tmp_path):
    files = dict(BASIC)
    files["topics/demo/topic.toml"] = ('title = "示范专题"\ncolumns = ["news", "policy"]\n'
                                       'internal_tags = ["竖屏", "待审"]\n')
    files["topics/demo/news/a.md"] = md("甲新闻", "![现场一](photos/p1.jpg)\n\n![现场二](photos/p2.jpg)\n",
                                        date="2026-01-03", tags="[会议, 待审]")
    files["topics/demo/news/photos/p1.jpg"] = jpeg()
    files["topics/demo/news/photos/p1.jpg.yaml"] = ("title: 现场一\ntags: [会议, 竖屏, {name: 内部, internal: true}]\n"
                                                    "photographer: 张三\n")
    files["topics/demo/news/photos/p2.jpg"] = jpeg(colour=(40, 40, 160))
    files["topics/demo/news/photos/p2.jpg.yaml"] = "title: 现场二\ntags: [会议]\n"
    write_site(tmp_path, files)
    build_site(tmp_path, BuildOptions())
    pub = tmp_path / "public"
    detail = page(pub / "demo/news/a/index.html")
    assert [a.text() for a in detail.css(".topic-nav a")][-1] == "图片与视频"
    assert [t.text() for t in detail.css(".tags .tag")] == ["会议"]
    grid = detail.css(".gallery-grid .gallery-item a[data-lightbox]")
    assert len(grid) == 2 and grid[0].attributes["href"].endswith(".jpg")
    assert [c.text() for c in detail.css(".gallery-item .media-credit")] == ["摄影：张三"]  # from the sidecar
    media = page(pub / "demo/media/index.html")
    assert [b.attributes.get("data-tag") or "" for b in media.css(".media-filter-tags button")] == ["", "会议"]
    assert all("竖屏" not in li.attributes["data-tags"] for li in media.css(".media-item"))
    assert all("竖屏" not in s.text() and "内部" not in s.text() for s in media.css(".media-tags"))
    assert "内部" not in media.css_first(".media-filter").html  # marked internal in the sidecar
    assert [c.text() for c in media.css(".media-credit")] == ["摄影：张三"]
    assert len(media.css("a.gallery-link[data-lightbox]")) == 2


def test_every_page_kind_has_one_h1_and_a_footer(tmp_path):
    write_site(tmp_path, BASIC)
    build_site(tmp_path, BuildOptions())
    pub = tmp_path / "public"
    for rel in ("index.html", "demo/index.html", "demo/news/index.html", "demo/news/a/index.html", "search/index.html"):
        doc = page(pub / rel)
        assert len(doc.css("h1")) == 1, rel
        assert doc.css_first("footer.site-footer") is not None, rel
