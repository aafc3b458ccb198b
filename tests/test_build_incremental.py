"""Exact incremental builds: only outputs whose recorded inputs changed are rendered again."""

import time

from builder.build import BuildOptions, build_site
from tests.sitefactory import BASIC, md, page, write_site


def rebuild(root, **opts):
    return build_site(root, BuildOptions(**opts))


def mtimes(root):
    return {p.relative_to(root / "public").as_posix(): p.stat().st_mtime_ns
            for p in (root / "public").rglob("*.html")}


def changed(before, after):
    return {k for k in after if before.get(k) != after[k]}


def edit(path, old, new):
    time.sleep(0.01)
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_noop_rebuild_renders_nothing(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    before = mtimes(tmp_path)
    inode = (tmp_path / "public").stat().st_ino
    report = rebuild(tmp_path)
    assert report.pages_written == 0 and report.pages_reused == 9
    assert mtimes(tmp_path) == before
    assert (tmp_path / "public").stat().st_ino == inode  # nothing to write: public/ is not even swapped


def test_a_deleted_output_is_written_again(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    (tmp_path / "public/demo/news/b/index.html").unlink()
    (tmp_path / "public/demo/policy/doc/file.pdf").unlink()
    report = rebuild(tmp_path)
    assert report.pages_written == 1 and report.files_written == 1
    assert (tmp_path / "public/demo/news/b/index.html").is_file()
    assert (tmp_path / "public/demo/policy/doc/file.pdf").read_bytes() == b"%PDF-1.4 test"


def test_body_edit_rerenders_only_that_page(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    before = mtimes(tmp_path)
    edit(tmp_path / "topics/demo/news/c.md", "正文。", "改过的正文。")
    report = rebuild(tmp_path)
    assert report.pages_written == 1
    assert changed(before, mtimes(tmp_path)) == {"demo/news/c/index.html"}
    assert "改过的正文" in (tmp_path / "public/demo/news/c/index.html").read_text(encoding="utf-8")


def test_title_edit_rerenders_lists_and_neighbours_that_show_it(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    before = mtimes(tmp_path)
    edit(tmp_path / "topics/demo/news/c.md", "title: 丙新闻", "title: 丙新闻（修订）")
    rebuild(tmp_path)
    # c itself, its neighbour b (prev/next), the list page showing c (page 2 — page 1 shows a and b)
    # and the navigation page (it lists each column's latest five).
    assert changed(before, mtimes(tmp_path)) == {
        "demo/news/c/index.html", "demo/news/b/index.html", "demo/news/page/2/index.html", "demo/index.html"}
    assert "丙新闻（修订）" in page(tmp_path / "public/demo/news/page/2/index.html").css_first(".item-list").text()


def test_date_change_reorders_lists_without_stale_pages(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    edit(tmp_path / "topics/demo/news/c.md", "date: 2026-01-01", "date: 2026-02-01")
    rebuild(tmp_path)
    first = [a.text() for a in page(tmp_path / "public/demo/news/index.html").css(".item-list a")]
    assert first == ["丙新闻", "甲新闻"]
    assert page(tmp_path / "public/demo/news/a/index.html").css_first("a[rel=prev]").text() == "丙新闻"


def test_draft_flag_removes_the_page_and_updates_lists(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    edit(tmp_path / "topics/demo/news/b.md", "title: 乙新闻", "title: 乙新闻\ndraft: true")
    edit(tmp_path / "topics/demo/news/a.md", "链接到[乙](b.md#小节)。", "不再链接。")
    rebuild(tmp_path)
    assert not (tmp_path / "public/demo/news/b").exists()
    assert not (tmp_path / "public/demo/news/page/2").exists()
    assert [a.text() for a in page(tmp_path / "public/demo/news/index.html").css(".item-list a")] == ["甲新闻", "丙新闻"]
    assert page(tmp_path / "public/demo/news/a/index.html").css_first("a[rel=next]").text() == "丙新闻"


def test_renamed_link_target_rerenders_the_linking_page(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    edit(tmp_path / "topics/demo/news/b.md", "title: 乙新闻", "title: 乙新闻\nslug: yi")
    rebuild(tmp_path)
    assert page(tmp_path / "public/demo/news/a/index.html").css_first(".prose a").attributes["href"] == "../yi/#小节"


def test_template_edit_rerenders_the_pages_that_use_it(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    before = mtimes(tmp_path)
    write_site(tmp_path, {"topics/demo/templates/detail.html":
                          "{% extends 'base.html' %}{% block content %}<p class=over>{{ page.title }}</p>{% endblock %}"})
    rebuild(tmp_path)
    assert changed(before, mtimes(tmp_path)) == {"demo/news/a/index.html", "demo/news/b/index.html",
                                                 "demo/news/c/index.html", "demo/policy/doc/index.html"}


def test_site_config_change_rerenders_everything(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    text = (tmp_path / "site_src/site.toml").read_text(encoding="utf-8")
    (tmp_path / "site_src/site.toml").write_text(text.replace("1100000088", "1100000099"), encoding="utf-8")
    report = rebuild(tmp_path)
    assert report.pages_reused == 0
    assert "1100000099" in (tmp_path / "public/demo/news/a/index.html").read_text(encoding="utf-8")


def test_a_hand_edited_output_is_rebuilt(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    (tmp_path / "public/demo/news/a/index.html").write_text("tampered", encoding="utf-8")
    report = rebuild(tmp_path)
    assert report.pages_written == 1
    assert "甲新闻" in (tmp_path / "public/demo/news/a/index.html").read_text(encoding="utf-8")


def test_data_row_edit_rerenders_that_record_and_its_list_only(tmp_path):
    write_site(tmp_path, {
        "topics/sgs/index.md": md("双公示"),
        "topics/sgs/x/_index.md": "---\ntitle: 许可\ndata: r.csv\nslug_field: id\ntitle_field: name\n---\n",
        "topics/sgs/x/r.csv": "id,name,note\n1,甲,a\n2,乙,b\n3,丙,c\n",
    })
    rebuild(tmp_path)
    before = mtimes(tmp_path)
    (tmp_path / "topics/sgs/x/r.csv").write_text("id,name,note\n1,甲,a\n2,乙,changed\n3,丙,c\n", encoding="utf-8")
    rebuild(tmp_path)
    assert changed(before, mtimes(tmp_path)) == {"sgs/x/2/index.html"}


def test_deleted_source_removes_its_output(tmp_path):
    write_site(tmp_path, BASIC)
    rebuild(tmp_path)
    (tmp_path / "topics/demo/policy/doc/file.pdf").unlink()
    (tmp_path / "topics/demo/news/c.md").unlink()
    rebuild(tmp_path)
    assert not (tmp_path / "public/demo/news/c").exists()
    assert not (tmp_path / "public/demo/policy/doc/file.pdf").exists()


def test_build_one_topic_keeps_the_others_as_they_were(tmp_path):
    files = {**BASIC, "topics/other/index.md": md("另一个专题"), "topics/other/col/_index.md": md("栏目"),
             "topics/other/col/x.md": md("其他页", date="2026-01-01")}
    write_site(tmp_path, files)
    rebuild(tmp_path)
    before = mtimes(tmp_path)
    edit(tmp_path / "topics/demo/news/c.md", "正文。", "新正文。")
    edit(tmp_path / "topics/other/col/x.md", "正文。", "暂不发布的修改。")
    report = rebuild(tmp_path, topics=["demo"])
    assert report.pages_written == 1
    assert changed(before, mtimes(tmp_path)) == {"demo/news/c/index.html"}
    assert "暂不发布" not in (tmp_path / "public/other/col/x/index.html").read_text(encoding="utf-8")
    rebuild(tmp_path)
    assert "暂不发布" in (tmp_path / "public/other/col/x/index.html").read_text(encoding="utf-8")
