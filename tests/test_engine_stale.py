"""Each stale output hostile testing found: the incremental build now equals a clean build."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil

import pytest

from builder import engine_sources
from builder.build import BuildOptions, Engine, build_site
from builder.clock import get_zone
from builder.state import BuildState
from tests.engine_support import clean_reference, diff, tree
from tests.sitefactory import BASIC, md, page, write_site

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=get_zone("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def pinned_manifest_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")


def build(root, now=NOW, **opts):
    return build_site(root, BuildOptions(now=now, **opts))


def same_as_clean(root, tmp_path, now=NOW):
    status, result, ref = clean_reference(root, tmp_path / "ref", now=now)
    assert status == "ok", result
    got = tree(root / "public")
    assert got == ref, diff(got, ref)


def text(root, rel):
    return (root / "public" / rel).read_text(encoding="utf-8")


def test_topic_template_listing_column_pages_updates_every_page_when_a_sibling_is_renamed(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/templates/detail.html": (
        "{% extends 'base.html' %}{% block content %}<h1>{{ page.title }}</h1>"
        "<aside>{% for p in column.pages %}<a href='{{ url(p.url) }}'>{{ p.title }}</a>{% endfor %}</aside>"
        "{% endblock %}")})
    build(tmp_path)
    path = tmp_path / "topics/demo/news/c.md"
    path.write_text(path.read_text(encoding="utf-8").replace("丙新闻", "丙新闻（改名）"), encoding="utf-8")
    report = build(tmp_path)
    assert "丙新闻（改名）" in text(tmp_path, "demo/news/a/index.html")  # a does not neighbour c
    assert "demo/news/a/index.html" in report.written
    same_as_clean(tmp_path, tmp_path)


def test_expire_at_passing_between_builds_marks_the_page_archived(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/news/b.md": md("乙新闻", date="2026-01-02",
                                                               expire_at="2026-03-02 08:00")})
    build(tmp_path)
    assert "已归档" not in text(tmp_path, "demo/news/b/index.html")
    later = NOW + dt.timedelta(days=1)
    report = build(tmp_path, now=later)
    assert "已归档" in text(tmp_path, "demo/news/b/index.html")
    assert "已归档" in text(tmp_path, "demo/news/page/2/index.html") or "已归档" in text(tmp_path,
                                                                                   "demo/news/index.html")
    assert report.pages_written >= 2
    same_as_clean(tmp_path, tmp_path, now=later)


def test_a_link_to_a_draft_comes_back_when_the_draft_goes_live(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/news/b.md": md("乙新闻", "## 小节", date="2026-01-02", draft="true")})
    build(tmp_path)
    assert "href" not in page(tmp_path / "public/demo/news/a/index.html").css_first(".prose a").attributes
    path = tmp_path / "topics/demo/news/b.md"
    path.write_text(path.read_text(encoding="utf-8").replace("draft: true\n", ""), encoding="utf-8")
    build(tmp_path)
    assert page(tmp_path / "public/demo/news/a/index.html").css_first(".prose a").attributes["href"] == "../b/#小节"
    same_as_clean(tmp_path, tmp_path)


def test_a_link_to_a_scheduled_page_comes_back_when_its_time_comes(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/news/b.md": md("乙新闻", "## 小节", date="2026-01-02",
                                                               publish_at="2026-03-01 18:00")})
    build(tmp_path)
    assert "href" not in page(tmp_path / "public/demo/news/a/index.html").css_first(".prose a").attributes
    later = NOW + dt.timedelta(hours=8)
    build(tmp_path, now=later)
    assert page(tmp_path / "public/demo/news/a/index.html").css_first(".prose a").attributes["href"] == "../b/#小节"
    assert (tmp_path / "public/demo/news/b/index.html").is_file()
    same_as_clean(tmp_path, tmp_path, now=later)


def test_a_link_to_a_file_written_before_the_file_exists_is_rewritten_when_it_appears(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/news/c.md": md("丙新闻", "见[文件](../files/a.pdf)。", date="2026-01-01")})
    build(tmp_path)
    before = page(tmp_path / "public/demo/news/c/index.html").css_first(".prose a").attributes["href"]
    (tmp_path / "topics/demo/files").mkdir()
    (tmp_path / "topics/demo/files/a.pdf").write_bytes(b"%PDF-1.4 a")
    build(tmp_path)
    after = page(tmp_path / "public/demo/news/c/index.html").css_first(".prose a").attributes["href"]
    assert before != after and after == "../../files/a.pdf"
    same_as_clean(tmp_path, tmp_path)


@pytest.mark.parametrize("new_rows", ["id,name\n0,零\n1,甲\n2,乙\n3,丙\n", "id,name\n2,乙\n1,甲\n3,丙\n"],
                         ids=["inserted", "swapped"])
def test_inserted_or_swapped_data_rows_update_the_manifest_row_numbers(tmp_path, new_rows):
    write_site(tmp_path, {
        "topics/sgs/index.md": md("双公示"),
        "topics/sgs/x/_index.md": "---\ntitle: 许可\ndata: r.csv\nslug_field: id\ntitle_field: name\n---\n",
        "topics/sgs/x/r.csv": "id,name\n1,甲\n2,乙\n3,丙\n",
    })
    build(tmp_path)
    (tmp_path / "topics/sgs/x/r.csv").write_text(new_rows, encoding="utf-8")
    build(tmp_path)

    manifest = json.loads(text(tmp_path, ".zhuanti/manifest.json"))
    rows = {p["path"]: p["source"] for p in manifest["pages"] if p["path"].startswith("sgs/x/") and "#" in p["source"]}
    assert rows["sgs/x/1/index.html"].endswith("#row=3")
    assert rows["sgs/x/2/index.html"].endswith("#row=4" if "0,零" in new_rows else "#row=2")
    same_as_clean(tmp_path, tmp_path)


def test_an_asset_replaced_with_the_same_size_and_mtime_is_published_again(tmp_path):
    write_site(tmp_path, BASIC)
    build(tmp_path)
    pdf = tmp_path / "topics/demo/policy/doc/file.pdf"
    st = pdf.stat()
    pdf.write_bytes(b"%PDF-1.4 TEST")  # same size
    os.utime(pdf, ns=(st.st_atime_ns, st.st_mtime_ns))  # cp -p keeps the mtime
    assert pdf.stat().st_size == st.st_size and pdf.stat().st_mtime_ns == st.st_mtime_ns
    report = build(tmp_path)
    assert (tmp_path / "public/demo/policy/doc/file.pdf").read_bytes() == b"%PDF-1.4 TEST"
    assert report.files_written == 1
    same_as_clean(tmp_path, tmp_path)


def test_topic_build_does_not_leave_edited_site_wide_pages_stale(tmp_path):
    files = {**BASIC, "site_src/about.md": md("关于本站", "旧的说明。"), "topics/other/index.md": md("另一个专题")}
    write_site(tmp_path, files)
    build(tmp_path)
    (tmp_path / "site_src/about.md").write_text(md("关于本站", "新的说明。"), encoding="utf-8")
    build(tmp_path, topics=["demo"])
    assert "新的说明" in text(tmp_path, "about/index.html")


def test_pages_kept_by_a_topic_build_are_made_by_the_next_full_build(tmp_path):
    files = {**BASIC, "topics/other/index.md": md("另一个专题"), "topics/other/col/_index.md": md("栏目"),
             "topics/other/col/x.md": md("其他页", date="2026-01-01")}
    write_site(tmp_path, files)
    build(tmp_path)
    (tmp_path / "site_src/site.toml").write_text(
        (tmp_path / "site_src/site.toml").read_text(encoding="utf-8").replace("测试委员会专题网站", "改名的网站"),
        encoding="utf-8")
    build(tmp_path, topics=["demo"])
    assert "改名的网站" not in text(tmp_path, "other/col/x/index.html")  # other topics stay as they were …
    build(tmp_path)
    assert "改名的网站" in text(tmp_path, "other/col/x/index.html")  # … until the next full build
    same_as_clean(tmp_path, tmp_path)


def test_an_unknown_dependency_key_is_never_trusted(tmp_path):
    write_site(tmp_path, BASIC)
    build(tmp_path)
    state = BuildState(tmp_path / ".zhuanti-cache/build-state.sqlite")
    with state.db:
        state.db.execute("INSERT INTO deps VALUES ('zz|from a newer version', 'demo/news/a/index.html')")
        state.db.execute("INSERT INTO keyvals VALUES ('zz|from a newer version', 'x')")
    state.close()
    (tmp_path / "topics/demo/news/c.md").write_text(md("丙新闻", "改过。", date="2026-01-01"), encoding="utf-8")
    build(tmp_path)
    state = BuildState(tmp_path / ".zhuanti-cache/build-state.sqlite")
    # a was made again (its unknown key never compares equal), so it no longer reads that key
    assert "zz|from a newer version" not in state.keys_of("demo/news/a/index.html")
    assert "s|cfg" in state.keys_of("demo/news/a/index.html")
    state.close()


def test_engine_reloads_only_changed_sources_and_says_which_outputs_read_a_source(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_sources, "RACY_NS", 0)  # files just written are not "racy" here
    write_site(tmp_path, BASIC)
    with Engine(tmp_path, BuildOptions(now=NOW)) as engine:
        engine.build()
        assert engine.sources.parsed == 7
        path = tmp_path / "topics/demo/news/c.md"
        path.write_text(path.read_text(encoding="utf-8").replace("丙新闻", "丙"), encoding="utf-8")
        report = engine.build([path])
        assert report.patched == ["topics/demo/news/c.md"]  # the loaded site, with this page read again
        assert set(report.written) >= {"demo/news/c/index.html", "demo/news/b/index.html"}
        (tmp_path / "topics/demo/news/d.md").write_text("---\ntitle: 丁\n---\n正文\n", encoding="utf-8")
        report = engine.build()
        assert report.patched is None  # a new file: the site is loaded whole, parsing only d.md and c.md
        assert engine.sources.parsed == 2  # (c.md was read again by the patch, not through the parse cache)
        assert "demo/news/d/index.html" in report.written
        readers = engine.outputs_for(["source:topics/demo/news/c.md"])
        assert "demo/news/c/index.html" in readers
        assert engine.outputs_for(["p|demo/news/c/|title"]) >= {"demo/news/b/index.html", "demo/index.html"}


def test_a_failed_build_leaves_the_output_and_the_engine_usable(tmp_path):
    write_site(tmp_path, BASIC)
    with Engine(tmp_path, BuildOptions(now=NOW)) as engine:
        engine.build()
        before = tree(tmp_path / "public")
        bad = tmp_path / "topics/demo/news/c.md"
        bad.write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
        with pytest.raises(Exception, match="YAML"):
            engine.build([bad])
        assert tree(tmp_path / "public") == before
        assert not list(tmp_path.glob(".public.staging-*"))
        bad.write_text(md("丙新闻", "修好了。", date="2026-01-01"), encoding="utf-8")
        engine.build([bad])
        assert "修好了" in text(tmp_path, "demo/news/c/index.html")
    same_as_clean(tmp_path, tmp_path)


def test_preview_output_is_written_in_place_and_unminified(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/news/d.md": md("草稿", date="2026-01-05", draft="true")})
    out = tmp_path / ".zhuanti-cache/preview"
    with Engine(tmp_path, BuildOptions(now=NOW, output=out, preview=True)) as engine:
        engine.build()
        html = (out / "demo/news/d/index.html").read_text(encoding="utf-8")
        assert html.count("\n") > 20  # real lines
        inode = out.stat().st_ino
        path = tmp_path / "topics/demo/news/d.md"
        path.write_text(md("草稿二", date="2026-01-05", draft="true"), encoding="utf-8")
        report = engine.build([path])
        assert "demo/news/d/index.html" in report.written
        assert out.stat().st_ino == inode  # files replaced in place, the folder is not swapped
    assert not (tmp_path / "public").exists()
    shutil.rmtree(out)


def test_a_topic_whose_end_date_passes_between_builds_is_archived(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/topic.toml": 'title = "示范专题"\nend = 2026-03-01\n'})
    build(tmp_path)
    assert "已归档" not in text(tmp_path, "demo/news/a/index.html")
    later = NOW + dt.timedelta(hours=13)  # 01:00 the next day
    build(tmp_path, now=later)
    assert "已归档" in text(tmp_path, "demo/news/a/index.html")
    same_as_clean(tmp_path, tmp_path, now=later)


def test_the_fast_manifest_writer_writes_what_dump_manifest_writes(tmp_path):
    from builder.build import fast_dump_manifest
    from builder.manifest import dump_manifest

    write_site(tmp_path, BASIC)
    build(tmp_path)
    data = json.loads(text(tmp_path, ".zhuanti/manifest.json"))
    assert fast_dump_manifest(data) == dump_manifest(data) == text(tmp_path, ".zhuanti/manifest.json")
    odd = {"a": [], "b": {}, "c": [{}], "d": None, "e": [{"x": [1]}], "f": {"g": "引号\"", "i": 1.5}}
    assert fast_dump_manifest(odd) == dump_manifest(odd)
