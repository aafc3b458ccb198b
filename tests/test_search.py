"""Site search: `zhuanti build` writes /search/ and zhuanti's own index (listed in the manifest); an
incremental build writes only a small delta, compacted into a new base past its bound; a Chinese
word in the middle of a sentence is found in headless Chromium, also when its page lives only in
the delta and when the site is served under a URL prefix; search can stay in one topic; drafts,
deleted pages and later list pages are never found."""

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

import builder.search
from builder.build import BuildOptions, build_site
from builder.errors import BuildFailed
from builder.search import decode
from builder.search.index import FOLDER, SearchIndexError, compact, encode_base, encode_delta, fnv1a, pack
from builder.search.tokens import tokens, weights
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
    "topics/other/news/y.md": md("英文条目", "本条提到 ZhuanTi 平台与5G基站。", date="2026-01-01"),
}


def index_of(public: Path) -> dict:
    folder = public / FOLDER
    return decode(lambda rel: (folder / rel).read_bytes())


def found(docs: dict, words: str, topic: str | None = None) -> set[str]:
    """URLs of the documents holding every token of ``words`` (what search.js matches)."""
    return {u for u, (_t, slug, _d, terms) in docs.items()
            if all(t in terms for t in tokens(words)) and (topic is None or slug == topic)}


def index_files(public: Path) -> dict[str, bytes]:
    return {p.relative_to(public).as_posix(): p.read_bytes() for p in sorted((public / FOLDER).rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    write_site(root, SITE)
    build_site(root, BuildOptions(drafts=True))  # the draft is built (preview) but must not be indexed
    return root / "public"


def test_the_search_page_and_the_index_are_built_and_listed_in_the_manifest(public):
    doc = page(public / "search/index.html")
    form = doc.css_first("form[data-search]")
    assert form.attributes["data-index"] == "../search-index/"
    assert [o.attributes.get("value") or "" for o in doc.css("select[name=topic] option")] == ["", "demo", "other"]
    assert doc.css_first("main").attributes.get("data-search-body", "absent") == "absent"  # not indexed itself
    manifest = json.loads((public / ".zhuanti/manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    on_disk = set(index_files(public))
    assert "search/index.html" in listed and {f"{FOLDER}/index.json", f"{FOLDER}/delta.json"} <= on_disk
    assert on_disk <= listed
    assert any(p.startswith(f"{FOLDER}/t/") for p in on_disk) and any(p.startswith(f"{FOLDER}/d/") for p in on_disk)
    entry = json.loads((public / FOLDER / "index.json").read_text(encoding="utf-8"))
    assert entry["docs"] == len(index_of(public)) > 5


def test_drafts_and_later_list_pages_are_marked_not_to_be_indexed(public):
    assert "data-search-body" not in page(public / "demo/news/secret/index.html").css_first("main").attributes
    assert "data-search-body" in page(public / "demo/news/a/index.html").css_first("main").attributes
    assert "data-search-body" not in page(public / "demo/news/page/2/index.html").css_first("main").attributes


def test_the_index_holds_every_published_page_and_nothing_else(public):
    docs = index_of(public)
    assert "demo/news/a/" in docs and "demo/news/" in docs and "" in docs
    assert "demo/news/secret/" not in docs and "demo/news/page/2/" not in docs and "search/" not in docs
    assert docs["demo/news/a/"][:3] == ("甲新闻", "demo", "2026-01-03")
    assert found(docs, "口袋公园") == {"demo/news/a/", "other/"}  # a word from the middle of a sentence
    assert found(docs, "口袋公园", topic="demo") == {"demo/news/a/"}
    assert found(docs, "绿道贯通") == set()  # the draft's words are nowhere
    assert "上一篇" not in docs["demo/news/a/"][3]  # data-search-ignore parts are left out


def test_tokens_are_bigrams_lone_characters_and_lower_cased_words():
    assert tokens("口袋公园") == ["口袋", "袋公", "公园"]
    assert tokens("税，5G基站 ＡＢＣ１２３ Hello") == ["基站", "税", "5g", "abc123", "hello"]
    assert weights("公园", "公园，公园") == {"公园": 2 + 5}  # the title counts five times
    assert tokens("x" * 70) == ["x" * 32, "x" * 32, "x" * 6]
    # published FNV-1a test vectors (search.js computes the same)
    assert fnv1a("a") == 0xE40C292C and fnv1a("foobar") == 0xBF9CF968 and fnv1a("") == 0x811C9DC5


def test_two_clean_builds_write_the_same_index_bytes(tmp_path):
    for name in ("a", "b"):
        write_site(tmp_path / name, SITE)
        build_site(tmp_path / name, BuildOptions(clean=True))
    assert index_files(tmp_path / "a/public") == index_files(tmp_path / "b/public")


@pytest.fixture
def site(tmp_path):
    write_site(tmp_path, SITE)
    build_site(tmp_path, BuildOptions())
    return tmp_path


def clean_index(root: Path, tmp: Path) -> tuple[dict, dict[str, bytes]]:
    ref = tmp / "clean"
    shutil.rmtree(ref, ignore_errors=True)
    shutil.copytree(root / "site_src", ref / "site_src")
    shutil.copytree(root / "topics", ref / "topics")
    build_site(ref, BuildOptions(clean=True))
    return index_of(ref / "public"), index_files(ref / "public")


def test_a_body_edit_writes_only_the_page_and_the_delta(site, tmp_path_factory):
    before = index_files(site / "public")
    (site / "topics/demo/news/a.md").write_text(md("甲新闻", "本市今年新增的城市绿道共有十二条。", date="2026-01-03"),
                                                encoding="utf-8")
    report = build_site(site, BuildOptions())
    assert sorted(report.written) == [".zhuanti/manifest.json", "demo/news/a/index.html", f"{FOLDER}/delta.json"]
    assert report.removed == []
    after = index_files(site / "public")
    assert {p for p in after if after[p] != before.get(p)} == {f"{FOLDER}/delta.json"}
    docs = index_of(site / "public")
    assert found(docs, "城市绿道") == {"demo/news/a/"}  # the new word is found
    assert found(docs, "口袋公园") == {"other/"}  # the removed one no longer is
    assert docs == clean_index(site, tmp_path_factory.mktemp("ref"))[0]


def test_a_deleted_page_and_a_page_turned_into_a_draft_are_no_longer_found(site, tmp_path_factory):
    (site / "topics/demo/news/a.md").write_text(
        md("甲新闻", "本市今年新增的口袋公园共有十二处。", date="2026-01-03", draft="true"), encoding="utf-8")
    (site / "topics/other/news/x.md").unlink()
    build_site(site, BuildOptions())
    docs = index_of(site / "public")
    assert "demo/news/a/" not in docs and "other/news/x/" not in docs
    assert found(docs, "口袋公园") == {"other/"}
    delta = json.loads((site / "public" / FOLDER / "delta.json").read_text(encoding="utf-8"))
    assert len(delta["dead"]) >= 2  # tombstones of their base documents
    assert docs == clean_index(site, tmp_path_factory.mktemp("ref"))[0]
    # the draft published again: found again
    (site / "topics/demo/news/a.md").write_text(md("甲新闻", "口袋公园重新开放。", date="2026-01-03"), encoding="utf-8")
    build_site(site, BuildOptions())
    assert "demo/news/a/" in found(index_of(site / "public"), "重新开放")


def test_drafts_and_future_pages_built_for_a_preview_are_not_indexed(site):
    (site / "topics/demo/news/a.md").write_text(
        md("甲新闻", "口袋公园的草稿。", date="2026-01-03", draft="true"), encoding="utf-8")
    (site / "topics/demo/news/later.md").write_text(md("以后的新闻", "定时发布的智慧驿站。", date="2099-01-01"),
                                                    encoding="utf-8")
    build_site(site, BuildOptions(drafts=True, future=True))  # both built (rendered), neither indexed
    assert (site / "public/demo/news/a/index.html").is_file() and (site / "public/demo/news/later/index.html").is_file()
    docs = index_of(site / "public")
    assert "demo/news/a/" not in docs and "demo/news/later/" not in docs
    assert found(docs, "口袋公园") == {"other/"}


def test_past_the_bound_the_delta_is_compacted_into_the_clean_builds_base(site, monkeypatch, tmp_path_factory):
    monkeypatch.setattr(builder.search, "MAX_DELTA_PAGES", 2)
    for name, title, date in [("a", "甲新闻", "2026-01-03"), ("b", "乙新闻", "2026-01-02")]:
        (site / f"topics/demo/news/{name}.md").write_text(md(title, f"{title}修改后的正文。", date=date),
                                                          encoding="utf-8")
        build_site(site, BuildOptions())  # body edits: only the page's own record changes
    delta = json.loads((site / "public" / FOLDER / "delta.json").read_text(encoding="utf-8"))
    assert len(delta["docs"]) == 2
    (site / "topics/demo/news/c.md").write_text(md("丙新闻", "第三页也改了。", date="2026-01-01"), encoding="utf-8")
    build_site(site, BuildOptions())  # a third: compacted
    delta = json.loads((site / "public" / FOLDER / "delta.json").read_text(encoding="utf-8"))
    assert delta["docs"] == [] and delta["dead"] == []
    docs, files = clean_index(site, tmp_path_factory.mktemp("ref"))
    assert index_files(site / "public") == {p.replace("clean/", ""): b for p, b in files.items()}
    assert found(docs, "第三页") == {"demo/news/c/"}
    manifest = json.loads((site / "public/.zhuanti/manifest.json").read_text(encoding="utf-8"))
    assert {f["path"] for f in manifest["files"] if f["path"].startswith(FOLDER)} == set(index_files(site / "public"))


def test_a_site_wide_change_past_the_bound_is_compacted_from_the_pages_just_made(site, monkeypatch, tmp_path_factory):
    monkeypatch.setattr(builder.search, "MAX_DELTA_PAGES", 1)
    toml = site / "site_src/site.toml"  # the organizer is every detail page's 来源, inside <main>
    toml.write_text(toml.read_text(encoding="utf-8").replace("测试市规划和自然资源委员会", "测试市园林绿化局"),
                    encoding="utf-8")
    build_site(site, BuildOptions())
    docs, files = clean_index(site, tmp_path_factory.mktemp("ref"))
    assert index_files(site / "public") == files
    assert "demo/news/a/" in found(docs, "园林绿化局")


def test_a_failed_build_leaves_the_index_of_the_pages_served(site, tmp_path_factory):
    (site / "topics/demo/news/a.md").write_text(md("甲新闻", "新增的城市绿道。", date="2026-01-03"), encoding="utf-8")
    (site / "topics/demo/news/b.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    with pytest.raises(BuildFailed):
        build_site(site, BuildOptions())
    assert found(index_of(site / "public"), "城市绿道") == set()  # public/ and its index: the last build
    (site / "topics/demo/news/b.md").write_text(md("乙新闻", "乙的正文。", date="2026-01-02"), encoding="utf-8")
    build_site(site, BuildOptions())
    docs = index_of(site / "public")
    assert found(docs, "城市绿道") == {"demo/news/a/"}
    assert docs == clean_index(site, tmp_path_factory.mktemp("ref"))[0]


def test_a_build_killed_after_its_commit_leaves_no_wrong_index(site, monkeypatch, tmp_path_factory):
    def killed(self):
        raise KeyboardInterrupt  # after the output was committed, before anything was recorded

    with monkeypatch.context() as m:
        m.setattr(builder.search.SearchIndex, "save", killed)
        (site / "topics/demo/news/a.md").write_text(md("甲新闻", "新增的城市绿道。", date="2026-01-03"),
                                                    encoding="utf-8")
        with pytest.raises(KeyboardInterrupt):
            build_site(site, BuildOptions())
    assert found(index_of(site / "public"), "城市绿道") == {"demo/news/a/"}  # public/ is the new build
    (site / "topics/demo/news/b.md").write_text(md("乙新闻", "乙的新正文。", date="2026-01-02"), encoding="utf-8")
    build_site(site, BuildOptions())  # the record disagrees with public/: the index is made anew
    docs = index_of(site / "public")
    assert found(docs, "城市绿道") == {"demo/news/a/"} and found(docs, "新正文") == {"demo/news/b/"}
    assert docs == clean_index(site, tmp_path_factory.mktemp("ref"))[0]


def test_the_index_is_made_anew_when_its_record_is_lost_or_a_file_was_edited(site, tmp_path_factory):
    with sqlite3.connect(site / ".zhuanti-cache/build-state.sqlite") as db:  # what the index was made of
        db.execute("DELETE FROM search_base")
    (site / "topics/demo/news/a.md").write_text(md("甲新闻", "新增的城市绿道。", date="2026-01-03"), encoding="utf-8")
    build_site(site, BuildOptions())
    assert found(index_of(site / "public"), "城市绿道") == {"demo/news/a/"}
    delta = site / "public" / FOLDER / "delta.json"
    delta.write_text(delta.read_text(encoding="utf-8").replace('"dead":[]', '"dead":[0]'), encoding="utf-8")
    (site / "topics/other/news/x.md").write_text(md("另一条", "改过的文字。", date="2026-01-02"), encoding="utf-8")
    build_site(site, BuildOptions())
    assert index_of(site / "public") == clean_index(site, tmp_path_factory.mktemp("ref"))[0]


def test_the_decoder_refuses_what_a_browser_would_show_twice():
    base = encode_base({"a/": ("甲", "", "", {"口袋": 1})})
    files = {p[len(FOLDER) + 1:]: b for p, b in base.files.items()}
    files["delta.json"] = encode_delta(base.base_id, [], {"a/": ("甲", "", "", {"公园": 1})})
    with pytest.raises(SearchIndexError, match="not dead"):
        decode(files.__getitem__)
    files["delta.json"] = encode_delta(base.base_id, [0], {"a/": ("甲", "", "", {"公园": 1})})
    assert decode(files.__getitem__) == {"a/": ("甲", "", "", {"公园": 1})}
    files["delta.json"] = encode_delta("another", [0], {})
    with pytest.raises(SearchIndexError, match="belongs to base"):
        decode(files.__getitem__)


def test_compaction_on_postings_writes_what_encoding_the_pages_writes():
    rnd = random.Random(7)
    words = ["口袋", "公园", "绿道", "5g", "税", "x", "十二"]

    def doc(i: int) -> tuple:
        return (f"页{i}", rnd.choice(["", "demo", "other"]), "2026-01-0" + str(rnd.randint(1, 9)),
                {w: rnd.randint(1, 9) for w in rnd.sample(words, rnd.randint(1, len(words)))})

    for _ in range(30):
        docs = {f"p/{rnd.randint(0, 60)}/": doc(i) for i in range(rnd.randint(0, 40))}
        files = {p[len(FOLDER) + 1:]: b for p, b in encode_base(docs).files.items()}
        gone = set(rnd.sample(sorted(docs), min(len(docs), rnd.randint(0, 5))))
        changed = {f"p/{rnd.randint(0, 80)}/": doc(i) for i in range(rnd.randint(0, 6))}
        want = {u: d for u, d in docs.items() if u not in gone} | changed
        got = compact(files.__getitem__, gone - changed.keys(), {u: (*d[:3], pack(d[3])) for u, d in changed.items()})
        assert got.files == encode_base(want).files


def test_an_empty_index_still_decodes():
    base = encode_base({})
    files = {p[len(FOLDER) + 1:]: b for p, b in base.files.items()}
    assert decode(files.__getitem__) == {}


def test_a_site_can_leave_search_to_its_portal(tmp_path):
    from tests.sitefactory import SITE_TOML

    write_site(tmp_path, BASIC, site_toml=SITE_TOML + "\n[build]\nsearch = false\n")
    build_site(tmp_path, BuildOptions())
    pub = tmp_path / "public"
    assert not (pub / "search").exists() and not (pub / FOLDER).exists()
    assert page(pub / "demo/news/a/index.html").css_first("form.search-box") is None


def test_turning_search_off_removes_the_index(site):
    toml = site / "site_src/site.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[build]\nsearch = false\n", encoding="utf-8")
    build_site(site, BuildOptions())
    assert not (site / "public" / FOLDER).exists() and not (site / "public/search").exists()


def search(browser, base, query: str) -> tuple[str, list[str]]:
    with opened(browser, DESKTOP) as p:
        p.goto(base + "search/?" + query)
        p.wait_for_function("(s => s && s.textContent && !s.textContent.includes('正在'))"
                            "(document.querySelector('[data-search-status]'))", timeout=20000)
        return p.inner_text("[data-search-status]"), [a.inner_text() for a in p.query_selector_all(".search-results a")]


needs_chromium = [pytest.mark.browser,
                  pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's Chromium")]


@needs_chromium[0]
@needs_chromium[1]
def test_a_chinese_word_in_the_middle_of_a_sentence_is_found_in_chromium(public):
    with served(public) as (browser, base):
        status, titles = search(browser, base, "q=口袋公园")
        assert "甲新闻" in titles and "另一专题" in titles and "找到" in status
        # scoped to one topic: the header box of a topic page sends topic=<slug>
        status, titles = search(browser, base, "q=口袋公园&topic=demo")
        assert "甲新闻" in titles and "另一专题" not in titles and "示范专题" in status
        # Latin words and digits, whatever their case or width (the query is tokenized as pages are)
        status, titles = search(browser, base, "q=ｚｈｕａｎｔｉ 5g基站")
        assert titles == ["英文条目"]
        # the draft's words are nowhere in the index
        status, titles = search(browser, base, "q=绿道贯通")
        assert titles == [] and "没有找到" in status and "单个汉字" not in status
        status, titles = search(browser, base, "q=园")  # inside a word: says how to search for it
        assert titles == [] and "单个汉字" in status
        # the header box leads there
        with opened(browser, DESKTOP) as p:
            p.goto(base + "demo/news/index.html")
            p.fill("#site-search-q", "十二处")
            p.press("#site-search-q", "Enter")
            p.wait_for_selector(".search-results mark", timeout=20000)
            assert "topic=demo" in p.url
            assert p.inner_text(".search-results a") == "甲新闻"
            assert p.inner_text(".search-results mark") == "十二处"  # the match is highlighted in the excerpt


@needs_chromium[0]
@needs_chromium[1]
def test_a_page_only_in_the_delta_is_found_under_a_url_prefix(site, tmp_path):
    (site / "topics/demo/news/d.md").write_text(md("丁新闻", "全市共建成二十座智慧驿站，方便户外劳动者。",
                                                   date="2026-01-05"), encoding="utf-8")
    (site / "topics/demo/news/a.md").write_text(md("甲新闻", "改写后的正文。", date="2026-01-03"), encoding="utf-8")
    build_site(site, BuildOptions())
    delta = json.loads((site / "public" / FOLDER / "delta.json").read_text(encoding="utf-8"))
    assert "demo/news/d/" in [d[0] for d in delta["docs"]]  # not in the base
    (tmp_path / "www").mkdir()
    (tmp_path / "www/zt").symlink_to(site / "public")
    with served(tmp_path / "www") as (browser, base):
        status, titles = search(browser, base + "zt/", "q=智慧驿站")
        assert titles == ["丁新闻"] and "找到 1 条" in status
        assert search(browser, base + "zt/", "q=智慧驿站&topic=demo")[1] == ["丁新闻"]
        assert search(browser, base + "zt/", "q=智慧驿站&topic=other")[1] == []  # the topic filter holds in the delta
        status, titles = search(browser, base + "zt/", "q=口袋公园")
        assert titles == ["另一专题"]  # the edited page's base postings are ignored


@needs_chromium[0]
@needs_chromium[1]
def test_results_come_twenty_at_a_time_best_first(tmp_path):
    pages = {f"topics/demo/news/n{i:02d}.md": md(f"第{i}条", "湿地保护。" * (1 + i % 3), date="2026-01-01")
             for i in range(25)}
    pages["topics/demo/news/top.md"] = md("湿地保护专题", "湿地保护。", date="2026-01-01")
    write_site(tmp_path, {**BASIC, **pages})
    build_site(tmp_path, BuildOptions())
    with served(tmp_path / "public") as (browser, base), opened(browser, DESKTOP) as p:
        p.goto(base + "search/?q=湿地保护")
        p.wait_for_selector(".search-results li")
        assert "找到 27 条" in p.inner_text("[data-search-status]")  # and the column page listing them
        assert len(p.query_selector_all(".search-results > li")) == 20
        assert p.inner_text(".search-results a") == "湿地保护专题"  # the title counts five times
        p.click("[data-search-more]")
        p.wait_for_function("document.querySelectorAll('.search-results > li').length === 27")
        assert p.is_hidden("[data-search-more]")
