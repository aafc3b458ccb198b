"""The loaded site is patched, not loaded again, when only detail pages changed (``Loader.patch``):
in a long-lived engine (serve) and, through ``.zhuanti-cache/build-state.site``, in a new process
(``zhuanti build``). Every patched build must equal a clean build, byte for byte, with the same
warnings in the same order."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from builder import engine_sources
from builder.build import BuildOptions, Engine, build_site
from builder.clock import get_zone
from tests.engine_support import clean_reference, diff, outcome, tree
from tests.sitefactory import md, write_site

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=get_zone("Asia/Shanghai"))


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


SITE = {
    "site_src/about.md": md("关于本站", "关于。"),
    "site_src/contact.md": md("联系我们", "电话。"),
    "topics/demo/topic.toml": 'title = "示范专题"\ncolumns = ["news", "policy"]\n',
    "topics/demo/index.md": md("示范专题", "导航页。"),
    "topics/demo/top.md": md("专题页面", "专题下的页面。", date="2026-01-09"),
    "topics/demo/news/_index.md": md("工作动态", column_type="工作动态", paginate=2),
    "topics/demo/news/a.md": md("甲新闻", "链接到[乙](b.md)。", date="2026-01-03"),
    "topics/demo/news/b.md": md("乙新闻", "## 小节\n\n内容。", date="2026-01-02"),
    "topics/demo/news/c.md": md("丙新闻", "正文。", date="2026-01-01"),
    "topics/demo/news/list.xlsx": b"PK not really a workbook",
    "topics/demo/policy/_index.md": md("政策文件", column_type="政策文件"),
    "topics/demo/policy/doc/index.md": md("捆绑页面", "附件：[下载](file.pdf)\n\n![图](p.png)", date="2025-12-01"),
    "topics/demo/policy/doc/file.pdf": b"%PDF-1.4 test",
    "topics/demo/policy/doc/p.png": png(),
}

# (file, new front matter and body): each a page-only edit the loader can patch in.
EDITS = [
    ("topics/demo/news/c.md", md("丙新闻改名", "正文。", date="2026-01-01")),                   # title: lists show it
    ("topics/demo/news/c.md", md("丙新闻改名", "正文。", date="2026-01-05")),                   # date: order changes
    ("topics/demo/news/b.md", md("乙新闻", "## 小节\n\n内容。", date="2026-01-02", draft="true")),  # draft: gone
    ("topics/demo/news/a.md", md("甲新闻", "链接到[乙](b.md)。", date="2026-01-03", weight=1)),   # weight
    ("topics/demo/news/b.md", md("乙新闻", "内容。", date="2026-01-02")),                          # back again
    ("topics/demo/news/a.md", md("甲新闻", "表格：[下载](list.xlsx)", date="2026-01-03", slug="jia")),  # slug, attachment
    ("topics/demo/news/c.md", md("丙新闻", "正文。", date="2026-01-05", colour="red")),         # a warning
    ("topics/demo/policy/doc/index.md", md("捆绑页面", "附件。", date="2025-12-01", draft="true")),  # bundle goes
    ("topics/demo/top.md", md("专题页面", "改过。", date="2026-01-09", publish_at="2026-03-05")),  # scheduled
    ("topics/demo/policy/doc/index.md", md("捆绑页面", "![图](p.png)", date="2025-12-01", slug="bao")),  # comes back
    ("site_src/about.md", md("关于", "改过。", draft="true")),                                      # a site page goes
    ("site_src/about.md", md("关于", "又改过。", colour="blue")),                                  # comes back, a warning
    ("topics/demo/news/a.md", "---\ntitle: [broken\n---\n"),                                     # broken: fails
    ("topics/demo/news/a.md", md("甲新闻", "好了。", date="2026-01-03")),                        # fixed
]


@pytest.fixture(autouse=True)
def pinned(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.setattr(engine_sources, "RACY_NS", 0)  # builds seconds apart: signatures are trusted


def same_as_clean(root, tmp_path, status, result):
    ref_status, ref_result, ref_tree = clean_reference(root, tmp_path / "ref", now=NOW)
    assert status == ref_status, (result, ref_result)
    if status == "ok":
        assert tree(root / "public") == ref_tree, diff(tree(root / "public"), ref_tree)
        assert [w.replace(str(root), "") for w in result.warnings] == \
            [w.replace(str(tmp_path / "ref"), "") for w in ref_result.warnings]
    else:
        assert result == [r.replace("<root>", "<root>") for r in ref_result]


@pytest.mark.parametrize("long_lived", [True, False], ids=["serve-engine", "new-process"])
def test_page_edits_patch_the_loaded_site_and_equal_a_clean_build(tmp_path, long_lived):
    root = tmp_path / "site"
    write_site(root, SITE)
    engine = Engine(root, BuildOptions(now=NOW)) if long_lived else None

    def run():
        return engine.build() if engine else build_site(root, BuildOptions(now=NOW))

    try:
        status, first = outcome(run, root)
        assert status == "ok" and first.patched is None
        for i, (rel, text) in enumerate(EDITS):
            (root / rel).write_text(text, encoding="utf-8")
            status, result = outcome(run, root)
            if status == "ok":
                assert result.patched is not None and rel in result.patched, (i, rel, result.patched)
            same_as_clean(root, tmp_path, status, result)
    finally:
        if engine is not None:
            engine.close()


def test_a_new_process_reads_the_site_from_the_cache_and_only_the_changed_page(tmp_path):
    root = tmp_path / "site"
    write_site(root, SITE)
    build_site(root, BuildOptions(now=NOW))
    assert (root / ".zhuanti-cache/build-state.site").is_file()
    (root / "topics/demo/news/c.md").write_text(md("丙", "新的。", date="2026-01-01"), encoding="utf-8")
    report = build_site(root, BuildOptions(now=NOW))
    assert report.patched == ["topics/demo/news/c.md"]
    # the next run patches it in again (the copy on disk is rewritten only after many pages)
    (root / "topics/demo/news/b.md").write_text(md("乙", "新的。", date="2026-01-02"), encoding="utf-8")
    report = build_site(root, BuildOptions(now=NOW))
    assert report.patched == ["topics/demo/news/b.md", "topics/demo/news/c.md"]
    assert "乙" in (root / "public/demo/news/index.html").read_text(encoding="utf-8")
    same_as_clean(root, tmp_path, "ok", report)


@pytest.mark.parametrize("change", ["template", "new page", "damaged cache", "column index", "time passes"])
def test_what_the_patch_cannot_take_loads_the_site_whole(tmp_path, change):
    root = tmp_path / "site"
    write_site(root, {**SITE, "topics/demo/templates/detail.html": "{% extends 'base.html' %}"})
    build_site(root, BuildOptions(now=NOW))
    now = NOW
    if change == "template":  # not read by the loader: nothing to patch, nothing to load
        (root / "topics/demo/templates/detail.html").write_text("{# changed #}{% extends 'base.html' %}",
                                                                encoding="utf-8")
    elif change == "new page":
        (root / "topics/demo/news/d.md").write_text(md("丁新闻", date="2026-01-04"), encoding="utf-8")
    elif change == "damaged cache":
        (root / "topics/demo/news/c.md").write_text(md("丙", date="2026-01-01"), encoding="utf-8")
        path = root / ".zhuanti-cache/build-state.site"
        path.write_bytes(path.read_bytes()[:100])
    elif change == "column index":
        (root / "topics/demo/news/_index.md").write_text(md("动态", paginate=1), encoding="utf-8")
    else:
        (root / "topics/demo/news/c.md").write_text(md("丙", date="2026-01-01", publish_at="2026-03-02"),
                                                    encoding="utf-8")
        build_site(root, BuildOptions(now=now))
        now = NOW + dt.timedelta(days=2)  # c's publish_at passed: every page's visibility is in question
    report = build_site(root, BuildOptions(now=now))
    assert report.patched == ([] if change == "template" else None)
    status, result, ref_tree = clean_reference(root, tmp_path / "ref", now=now)
    assert tree(root / "public") == ref_tree


def test_a_killed_run_leaves_no_half_written_site_file_behind(tmp_path):
    root = tmp_path / "site"
    write_site(root, SITE)
    cache = root / ".zhuanti-cache"
    cache.mkdir(parents=True)
    leftover = cache / ".build-state.site.99999.tmp"  # as a run killed while writing it leaves it
    leftover.write_bytes(b"half")
    build_site(root, BuildOptions(now=NOW))
    assert not leftover.exists()
    assert [p.name for p in cache.glob("*.site")] == ["build-state.site"]
