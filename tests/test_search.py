"""Site search: `zhuanti build` writes /search/ and a Pagefind index (listed in the manifest); a Chinese
word in the middle of a sentence is found in headless Chromium; search can stay in one topic;
drafts are never indexed."""

import json

import pytest

from builder.build import BuildOptions, build_site
from tests.sitefactory import BASIC, md, page, write_site
from tests.test_theme_browser import CHROMIUM, DESKTOP, opened, served

SITE = {
    **BASIC,
    "topics/demo/news/a.md": md("甲新闻", "本市今年新增的口袋公园共有十二处，均已向市民开放。", date="2026-01-03"),
    "topics/demo/news/secret.md": md("草稿新闻", "这篇草稿提到尚未公布的绿道贯通计划。", date="2026-01-04", draft="true"),
    "topics/other/topic.toml": 'title = "另一专题"\n',
    "topics/other/index.md": md("另一专题", "另一专题也建设了口袋公园。"),
    "topics/other/news/_index.md": md("动态", column_type="其他"),
    "topics/other/news/x.md": md("另一条", "文字。", date="2026-01-02"),
}


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    write_site(root, SITE)
    build_site(root, BuildOptions(drafts=True))  # the draft is built (preview) but must not be indexed
    return root / "public"


def test_the_search_page_and_the_index_are_built_and_listed_in_the_manifest(public):
    doc = page(public / "search/index.html")
    form = doc.css_first("form[data-search]")
    assert form.attributes["data-pagefind"] == "../pagefind/pagefind.js"
    assert [o.attributes.get("value") or "" for o in doc.css("select[name=topic] option")] == ["", "demo", "other"]
    assert doc.css_first("main").attributes.get("data-pagefind-body", "absent") == "absent"  # not indexed itself
    manifest = json.loads((public / ".zhuanti/manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(public).as_posix() for p in (public / "pagefind").rglob("*") if p.is_file()}
    assert "search/index.html" in listed and "pagefind/pagefind.js" in on_disk
    assert on_disk <= listed
    assert any(p.startswith("pagefind/index/") for p in on_disk)
    assert all((public / p).stat().st_size > 0 for p in on_disk)  # never a half-written index
    entry = json.loads((public / "pagefind/pagefind-entry.json").read_text(encoding="utf-8"))
    assert sum(lang["page_count"] for lang in entry["languages"].values()) > 5


def test_drafts_and_later_list_pages_are_marked_not_to_be_indexed(public):
    assert "data-pagefind-body" not in page(public / "demo/news/secret/index.html").css_first("main").attributes
    assert "data-pagefind-body" in page(public / "demo/news/a/index.html").css_first("main").attributes
    assert "data-pagefind-body" not in page(public / "demo/news/page/2/index.html").css_first("main").attributes


def search(browser, base, query: str) -> tuple[str, list[str]]:
    with opened(browser, DESKTOP) as p:
        p.goto(base + "search/?" + query)
        p.wait_for_function("(s => s && s.textContent && !s.textContent.includes('正在'))"
                            "(document.querySelector('[data-search-status]'))", timeout=20000)
        return p.inner_text("[data-search-status]"), [a.inner_text() for a in p.query_selector_all(".search-results a")]


@pytest.mark.browser
@pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="needs Debian's Chromium")
def test_a_chinese_word_in_the_middle_of_a_sentence_is_found_in_chromium(public):
    with served(public) as (browser, base):
        status, titles = search(browser, base, "q=口袋公园")
        assert "甲新闻" in titles and "另一专题" in titles and "找到" in status
        # scoped to one topic: the header box of a topic page sends topic=<slug>
        status, titles = search(browser, base, "q=口袋公园&topic=demo")
        assert "甲新闻" in titles and "另一专题" not in titles and "示范专题" in status
        # the draft's words are nowhere in the index
        status, titles = search(browser, base, "q=绿道贯通")
        assert titles == [] and "没有找到" in status
        # the header box leads there
        with opened(browser, DESKTOP) as p:
            p.goto(base + "demo/news/index.html")
            p.fill("#site-search-q", "十二处")
            p.press("#site-search-q", "Enter")
            p.wait_for_selector(".search-results a", timeout=20000)
            assert "topic=demo" in p.url
            assert p.inner_text(".search-results a") == "甲新闻"
            assert p.inner_text(".search-results mark")  # the match is highlighted in the excerpt


def test_a_site_can_leave_search_to_its_portal(tmp_path):
    from tests.sitefactory import SITE_TOML

    write_site(tmp_path, BASIC, site_toml=SITE_TOML + "\n[build]\nsearch = false\n")
    build_site(tmp_path, BuildOptions())
    pub = tmp_path / "public"
    assert not (pub / "search").exists() and not (pub / "pagefind").exists()
    assert page(pub / "demo/news/a/index.html").css_first("form.search-box") is None
