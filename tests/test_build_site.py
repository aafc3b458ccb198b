"""A built topic has the classic 专题 shape, and every page carries the required elements."""

import json

from builder.build import BuildOptions, build_site
from builder.cli import main
from tests.sitefactory import BASIC, md, page, write_site


def build(tmp_path, files=None, **opts):
    write_site(tmp_path, files if files is not None else BASIC)
    return build_site(tmp_path, BuildOptions(**opts))


def test_navigation_column_and_detail_pages_are_written(tmp_path):
    report = build(tmp_path)
    pub = tmp_path / "public"
    for rel in ["index.html", "demo/index.html", "demo/news/index.html", "demo/news/page/2/index.html",
                "demo/news/a/index.html", "demo/policy/doc/index.html", "demo/policy/doc/file.pdf", "sitemap.xml",
                "static/css/zhuanti.css"]:
        assert (pub / rel).is_file(), rel
    assert report.pages_written == 9


def test_every_page_has_lang_viewport_title_footer_identity_and_site_meta(tmp_path):
    build(tmp_path)
    for f in (tmp_path / "public").rglob("index.html"):
        doc = page(f)
        assert doc.css_first("html").attributes["lang"] == "zh-CN"
        assert "width=device-width" in doc.css_first("meta[name=viewport]").attributes["content"]
        assert doc.css_first("title").text().strip()
        footer = doc.css_first("footer").text()
        for text in ("1100000088", "京ICP备12345678号", "京公网安备 11000000000000号", "测试市规划和自然资源委员会"):
            assert text in footer, (f, text)
        metas = {m.attributes.get("name"): m.attributes.get("content") for m in doc.css("meta[name]")}
        assert metas["SiteName"] == "测试委员会专题网站"
        assert metas["SiteDomain"] == "www.example.gov.cn"
        assert metas["SiteIDCode"] == "1100000088"
        assert doc.css_first("nav.breadcrumb")


def test_column_and_detail_pages_carry_page_specification_meta(tmp_path):
    build(tmp_path)
    col = {m.attributes["name"]: m.attributes["content"] for m in page(tmp_path / "public/demo/news/index.html").css("meta[name]")}
    assert col["ColumnName"] == "工作动态" and col["ColumnType"] == "工作动态"
    det = {m.attributes["name"]: m.attributes["content"] for m in page(tmp_path / "public/demo/news/a/index.html").css("meta[name]")}
    assert det["ArticleTitle"] == "甲新闻"
    assert det["PubDate"] == "2026-01-03 00:00"
    assert det["ContentSource"] == "测试市规划和自然资源委员会"


def test_column_lists_newest_first_and_paginates(tmp_path):
    build(tmp_path)
    first = [a.text() for a in page(tmp_path / "public/demo/news/index.html").css(".item-list a")]
    second = [a.text() for a in page(tmp_path / "public/demo/news/page/2/index.html").css(".item-list a")]
    assert first == ["甲新闻", "乙新闻"] and second == ["丙新闻"]
    nav = page(tmp_path / "public/demo/news/index.html").css_first("nav.pagination")
    assert nav.css_first("a[rel=next]").attributes["href"] == "page/2/"


def test_ordering_is_weight_then_date_then_title(tmp_path):
    files = dict(BASIC)
    files["topics/demo/news/c.md"] = md("丙新闻", date="2026-01-01", weight=1)
    build(tmp_path, files)
    first = [a.text() for a in page(tmp_path / "public/demo/news/index.html").css(".item-list a")]
    assert first == ["丙新闻", "甲新闻"]


def test_links_to_source_files_become_page_urls(tmp_path):
    build(tmp_path)
    a = page(tmp_path / "public/demo/news/a/index.html").css_first(".prose a")
    assert a.attributes["href"] == "../b/#小节"
    nav_link = page(tmp_path / "public/demo/index.html").css_first(".prose a")
    assert nav_link.attributes["href"] == "news/"
    bundle = page(tmp_path / "public/demo/policy/doc/index.html").css_first(".prose a")
    assert bundle.attributes["href"] == "file.pdf"


def test_detail_pages_have_prev_and_next(tmp_path):
    build(tmp_path)
    doc = page(tmp_path / "public/demo/news/b/index.html")
    assert doc.css_first(".prev-next a[rel=prev]").text() == "甲新闻"
    assert doc.css_first(".prev-next a[rel=next]").text() == "丙新闻"


def test_drafts_and_future_pages_are_left_out_unless_asked(tmp_path):
    files = dict(BASIC)
    files["topics/demo/news/draft.md"] = md("草稿", draft="true", date="2026-01-01")
    files["topics/demo/news/later.md"] = md("将来", publish_at="2099-01-01")
    build(tmp_path, files)
    assert not (tmp_path / "public/demo/news/draft").exists()
    assert not (tmp_path / "public/demo/news/later").exists()
    build_site(tmp_path, BuildOptions(drafts=True, future=True))
    assert (tmp_path / "public/demo/news/draft/index.html").is_file()
    assert (tmp_path / "public/demo/news/later/index.html").is_file()


def test_expired_topic_is_built_and_marked_archived_and_listed_last(tmp_path):
    files = dict(BASIC)
    files["topics/old/topic.toml"] = 'title = "往期专题"\narchived = true\n'
    files["topics/old/index.md"] = md("往期专题")
    files["topics/older/index.md"] = md("过期专题", expire_at="2020-01-01")
    build(tmp_path, files)
    old = page(tmp_path / "public/old/index.html")
    assert "已归档" in old.css_first(".archived-banner").text()
    assert "已归档" in page(tmp_path / "public/older/index.html").css_first(".archived-banner").text()
    home = page(tmp_path / "public/index.html")
    active = [a.text() for a in home.css(".topic-grid:not(.archived) a")]
    archived = [a.text() for a in home.css(".topic-grid.archived a")]
    assert active == ["示范专题"] and sorted(archived) == ["往期专题", "过期专题"]


def test_script_in_a_title_is_escaped(tmp_path):
    files = dict(BASIC)
    files["topics/demo/news/x.md"] = md('"</title><script>alert(1)</script>"', date="2026-01-05")
    build(tmp_path, files)
    doc = page(tmp_path / "public/demo/news/x/index.html")
    # The minifier leaves "<script>" literally inside <title> (RCDATA, where it is text); what matters
    # is that the parsed page has no inline script element (the theme's own are files) and shows the
    # title as text.
    assert [s for s in doc.css("script") if not s.attributes.get("src")] == []
    assert doc.css_first("h1").text() == "</title><script>alert(1)</script>"
    assert doc.css_first("title").text().startswith("</title><script>")


def test_manifest_lists_every_file_with_sha256_and_size(tmp_path):
    build(tmp_path)
    pub = tmp_path / "public"
    manifest = json.loads((pub / ".zhuanti/manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(pub).as_posix() for p in pub.rglob("*") if p.is_file() and ".zhuanti" not in p.parts}
    assert set(listed) == on_disk
    import hashlib
    for rel, entry in listed.items():
        data = (pub / rel).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)
    assert manifest["version"] and manifest["tool"] == "zhuanti"
    kinds = {p["path"]: p["kind"] for p in manifest["pages"]}
    assert kinds["demo/news/a/index.html"] == "detail" and kinds["demo/news/index.html"] == "column"
    assert {c["name"]: c["pages"] for c in manifest["columns"]} == {"news": 3, "policy": 1}


def test_two_builds_of_the_same_sources_are_byte_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        write_site(root, BASIC)
        build_site(root, BuildOptions())
    files_a = sorted(p.relative_to(a / "public") for p in (a / "public").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b / "public") for p in (b / "public").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / "public" / rel).read_bytes() == (b / "public" / rel).read_bytes(), rel


def test_parallel_build_writes_the_same_bytes_as_a_serial_one(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = dict(BASIC)
    for i in range(30):
        files[f"topics/demo/news/n{i:02d}.md"] = md(f"新闻{i}", date=f"2025-03-{i % 28 + 1:02d}")
    a, b = tmp_path / "a", tmp_path / "b"
    write_site(a, files)
    write_site(b, files)
    build_site(a, BuildOptions(jobs=1))
    build_site(b, BuildOptions(jobs=2))
    for p in (a / "public").rglob("*"):
        if p.is_file():
            assert p.read_bytes() == (b / "public" / p.relative_to(a / "public")).read_bytes()


def test_sitemap_lists_pages_with_absolute_urls(tmp_path):
    build(tmp_path)
    xml = (tmp_path / "public/sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://www.example.gov.cn/zhuanti/demo/news/a/</loc><lastmod>2026-01-03</lastmod>" in xml


def test_no_minify_keeps_readable_html(tmp_path):
    build(tmp_path, minify=False)
    html = (tmp_path / "public/demo/news/a/index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and "\n" in html


def test_footer_links_the_police_record_by_its_digits(tmp_path):
    build(tmp_path)
    html = (tmp_path / "public/demo/news/a/index.html").read_text(encoding="utf-8")
    assert "registerSystemInfo?recordcode=11000000000000\" rel=noopener>" in html and ">京公网安备 11000000000000号</a>" in html


def test_inline_css_of_a_theme_is_minified(tmp_path):
    # a topic template with a <style> element and a style attribute gets both minified
    styled = ('{% extends "base.html" %}{% block head %}<style> .lead { color : red ; } </style>{% endblock %}'
              '{% block content %}<p STYLE = "margin : 0px ;">{{ page.title }}</p>{% endblock %}')
    build(tmp_path, {**BASIC, "topics/demo/templates/detail.html": styled})
    html = (tmp_path / "public/demo/news/a/index.html").read_text(encoding="utf-8")
    assert "<style>.lead{color:red}</style>" in html and "style=margin:0" in html
    plain = (tmp_path / "public/index.html").read_text(encoding="utf-8")
    assert "<style" not in plain and "<html lang=zh-CN>" in plain


def test_build_command_summary_and_exit_code(tmp_path, capsys):
    write_site(tmp_path, BASIC)
    assert main(["build", "--root", str(tmp_path)]) == 0
    assert "构建完成" in capsys.readouterr().err
    assert main(["--lang", "en", "build", "--root", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "built: 0 pages written, 9 reused" in err


def test_past_50000_urls_the_sitemap_is_an_index_of_parts_and_shrinks_back(tmp_path, monkeypatch):
    import builder.build

    files = {**BASIC, **{f"topics/demo/news/n{i}.md": md(f"新闻{i}", date="2025-03-01") for i in range(3)}}
    write_site(tmp_path, files)
    monkeypatch.setattr(builder.build, "SITEMAP_URLS", 2)  # the protocol says 50,000
    build_site(tmp_path, BuildOptions(jobs=1))
    public = tmp_path / "public"
    index = (public / "sitemap.xml").read_text(encoding="utf-8")
    parts = sorted(p.name for p in public.glob("sitemap-*.xml"))
    assert "<sitemapindex" in index and len(parts) >= 3
    assert [f"<loc>https://www.example.gov.cn/zhuanti/{p}</loc>" in index for p in parts] == [True] * len(parts)
    locs = [loc for p in parts for loc in (public / p).read_text(encoding="utf-8").split("<loc>")[1:]]
    assert all((public / p).read_text(encoding="utf-8").count("<url>") <= 2 for p in parts)
    assert any(loc.startswith("https://www.example.gov.cn/zhuanti/demo/news/n2/") for loc in locs)
    monkeypatch.setattr(builder.build, "SITEMAP_URLS", 50_000)
    (tmp_path / "topics/demo/news/n9.md").write_text(md("新闻9", date="2025-03-02"), encoding="utf-8")
    build_site(tmp_path, BuildOptions(jobs=1))  # a page added: the sitemap is made again, in one file
    assert not list(public.glob("sitemap-*.xml")) and "<urlset" in (public / "sitemap.xml").read_text(encoding="utf-8")
    manifest = json.loads((public / ".zhuanti/manifest.json").read_text(encoding="utf-8"))
    assert not [f for f in manifest.get("files", []) if f["path"].startswith("sitemap-")]


def test_a_file_named_like_a_sitemap_part_is_a_collision(tmp_path, capsys):
    write_site(tmp_path, {**BASIC, "site_src/sitemap-1.xml.md": md("冲突")})
    assert main(["build", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "site_src/sitemap-1.xml.md" in err and "/sitemap-1.xml 冲突" in err
    assert not (tmp_path / "public").exists()
