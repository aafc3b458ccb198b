"""The preview helpers: fast findings of one rendered page, and the page with its findings marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from builder.checks.base import Finding
from builder.checks.preview import ATTR, PANEL_ID, fast_findings, mark_findings, source_line
from builder.checks.words import WordMatcher
from builder.config import IdentityConfig, SiteConfig

FOOTER = ("<footer><p>主办单位：测试市规划和自然资源委员会</p><p>网站标识码：1100000088</p>"
          "<p>京ICP备12345678号</p><p>京公网安备 11000000000000号</p></footer>")

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{title}</title><link rel="stylesheet" href="/zhuanti/assets/site.css"></head>
<body>
<h1 id="top-heading">{title}</h1>
{body}
""" + FOOTER + """
</body></html>
"""

FILES = {"assets/site.css", "news/index.html", "news/a/index.html", "images/ok.png", "images/ok@2x.png"}


@pytest.fixture
def out(tmp_path) -> Path:
    """The output folder the page is checked against (each file holds a small page)."""
    root = tmp_path / "out"
    for rel in FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text('<p id="here">x</p>', encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def matcher(tmp_path_factory) -> WordMatcher:
    words = tmp_path_factory.mktemp("words")
    (words / "typos.txt").write_text("# 错别字\n因该\t应该\n做为\t作为\n", encoding="utf-8")
    (words / "expressions.txt").write_text("中华人民共合国\t中华人民共和国\n", encoding="utf-8")
    (words / "sensitive.txt").write_text("赌博网站\n", encoding="utf-8")
    (words / "allow.txt").write_text("因该项目\n", encoding="utf-8")
    return WordMatcher.from_dir(words)


@pytest.fixture
def site(tmp_path) -> SiteConfig:
    return SiteConfig(base_url="https://www.example.gov.cn/zhuanti/", root=tmp_path,
                      identity=IdentityConfig(site_code="1100000088", icp="京ICP备12345678号",
                                              police_record="京公网安备 11000000000000号",
                                              organizer="测试市规划和自然资源委员会"))


def page(body: str, title: str = "专题页面") -> str:
    return PAGE.format(title=title, body=body)


# ---------------------------------------------------------------- fast_findings


def test_clean_page_has_no_findings(site, matcher, out):
    html = page('<p>我们应该认真学习，<a href="../a/">下一篇</a>，<img src="../../images/ok.png" alt="图"></p>'
                "<p>因该项目已经完成。</p>")
    assert fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out) == []


def test_broken_internal_links_and_anchors_are_found_in_the_output_folder(site, matcher, out):
    html = page('<p><a href="../missing/">不存在</a> <a href="/zhuanti/news/a/">在</a>'
                '<img src="../../images/ok.png" srcset="../../images/ok@2x.png 2x, ../../images/gone.png 3x" alt="图">'
                '<a href="#top-heading">顶部</a> <a href="#nowhere">无锚点</a></p>')
    found = fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out)
    broken = sorted(f.target for f in found if f.rule == "link.broken")
    assert broken == ["../../images/gone.png", "../missing/"]
    assert [f.target for f in found if f.rule == "link.anchor"] == ["#nowhere"]
    assert all(f.page == "news/b/index.html" and f.line for f in found)


def test_anchors_on_other_pages_are_read_from_the_folder(site, matcher, out):
    html = page('<p><a href="../a/#here">有</a> <a href="../a/#gone">无</a></p>')
    found = fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out)
    assert [f.target for f in found if f.rule == "link.anchor"] == ["../a/#gone"]


def test_link_messages_name_the_source_file_from_the_manifest(site, matcher, out):
    manifest = {"pages": [{"path": "news/b/index.html", "source": "topics/t/news/b.md"}]}
    html = page('<p><a href="../missing/">不存在</a></p>')
    [broken] = fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out, manifest=manifest)
    assert "topics/t/news/b.md" in broken.message


def test_words_are_found_across_inline_tags_with_suggestion(site, matcher, out):
    html = page("<p>我们因该认真学习。</p>\n<p>中华人民<b>共合国</b>成立。</p>", title="做为标题")
    found = fast_findings(html, "news/a/index.html", site=site, matcher=matcher, root=out)
    by_rule = {f.rule: f for f in found}
    assert {f.target: f.suggestion for f in found if f.rule == "word.typo"} == {"因该": "应该", "做为": "作为"}
    assert by_rule["word.expression"].severity == "error" and by_rule["word.expression"].suggestion == "中华人民共和国"
    assert by_rule["word.expression"].line == 6


def test_words_are_skipped_without_a_matcher(site, out):
    html = page("<p>我们因该认真学习。</p>")
    assert fast_findings(html, "x.html", site=site, matcher=None, root=out) == []


def test_missing_footer_identity_is_found(site, matcher, out):
    html = page("<p>正文</p>").replace(FOOTER, "<footer><p>主办单位：测试市规划和自然资源委员会</p></footer>")
    found = fast_findings(html, "x.html", site=site, matcher=matcher, root=out)
    [identity] = [f for f in found if f.rule == "site.identity"]
    assert "ICP" in identity.message


@pytest.mark.parametrize("count,found,limited", [(150, 150, False), (250, 200, True)])
def test_fast_findings_with_a_large_word_list_find_every_match_up_to_the_cap(site, tmp_path, out, count, found,
                                                                             limited):
    """20,000 listed words; every occurrence is found up to the per-page cap, which then says so.
    (Its speed is measured in bench/checks_preview.py: tests never assert on time.)"""
    words = tmp_path / "words"
    words.mkdir()
    (words / "sensitive.txt").write_text("\n".join(f"测试敏感词{i:05d}" for i in range(20_000)), encoding="utf-8")
    big_matcher = WordMatcher.from_dir(words)
    body = "".join(f'<p>第{i}段：各级政府要认真落实<a href="../a/">相关政策</a>，推进测试敏感词00042。</p>\n'
                   for i in range(count))
    result = fast_findings(page(body), "news/b/index.html", site=site, matcher=big_matcher, root=out)
    assert sum(1 for f in result if f.rule == "word.sensitive") == found
    assert any(f.rule == "word.limit" for f in result) is limited


# ---------------------------------------------------------------- mark_findings


def _tree(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(html)


def test_a_wrong_word_is_wrapped_where_it_was_typed(site, matcher, out):
    html = page("<p>我们因该认真学习。</p>")
    findings = fast_findings(html, "a.html", site=site, matcher=matcher, root=out)
    marked = mark_findings(html, findings)
    tree = _tree(marked)
    [mark] = tree.css(f'p mark[{ATTR}="word.typo"]')
    assert mark.text() == "因该"
    assert "应该" in mark.attributes["title"]
    # the rest of the page is unchanged
    assert marked.replace(mark.html, "因该").startswith(html[:html.index("</body>")])


def test_a_word_across_inline_tags_is_marked_in_each_piece(site, matcher, out):
    html = page("<p>中华人民<b>共合国</b>成立。</p>")
    findings = fast_findings(html, "a.html", site=site, matcher=matcher, root=out)
    tree = _tree(mark_findings(html, findings))
    marks = tree.css(f'p mark[{ATTR}="word.expression"]')
    assert "".join(m.text() for m in marks) == "中华人民共合国"
    assert tree.css_first("p b mark") is not None
    assert tree.css_first("p").text() == "中华人民共合国成立。"


def test_the_occurrence_on_the_findings_line_is_marked(site, matcher):
    html = page("<p>第一处因该</p>\n<p>第二处因该</p>")
    second = Finding("word.typo", "warning", "a.html", "疑似错别字", line=6, target="因该", suggestion="应该")
    tree = _tree(mark_findings(html, [second]))
    [mark] = tree.css("mark")
    assert mark.parent.text() == "第二处因该"


def test_two_findings_of_one_word_mark_two_occurrences(site, matcher, out):
    html = page("<p>因该学习，因该落实</p>")
    findings = fast_findings(html, "a.html", site=site, matcher=matcher, root=out)
    assert len(findings) == 2
    assert len(_tree(mark_findings(html, findings)).css("mark")) == 2


def test_a_word_in_the_title_or_alt_is_listed_but_not_wrapped(site, matcher, out):
    html = page('<p><img src="../../images/ok.png" alt="因该的图片"></p>', title="做为标题")
    html = html.replace('<h1 id="top-heading">做为标题</h1>', "<h1>标题</h1>")
    findings = fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out)
    assert {f.target for f in findings} == {"因该", "做为"}
    marked = mark_findings(html, findings)
    tree = _tree(marked)
    assert tree.css_first("title").text() == "做为标题"
    assert tree.css_first("img").attributes["alt"] == "因该的图片"
    assert not tree.css("mark")
    items = tree.css(f"#{PANEL_ID} li[{ATTR}]")
    assert len(items) == 2 and all("未能在页面中标出" in li.text() for li in items)


def test_broken_link_and_image_carry_the_rule(site, matcher, out):
    html = page('<p><a href="../missing/">不存在</a> <img src="../../images/gone.png" alt="图"/>'
                '<a href="../a/">正常</a></p>')
    findings = fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out)
    tree = _tree(mark_findings(html, findings))
    marked = tree.css(f'[{ATTR}="link.broken"]:not(li)')
    assert sorted(n.tag for n in marked) == ["a", "img"]
    assert tree.css_first('a[href="../a/"]').attributes.get(ATTR) is None


def test_second_rule_on_the_same_link_gets_a_badge(site, matcher, out):
    html = page('<p><a href="../missing/"></a></p>')
    findings = fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out)
    assert {f.rule for f in findings} == {"link.broken", "link.blank-title"}
    tree = _tree(mark_findings(html, findings))
    a = tree.css_first('a[href="../missing/"]')
    assert a.attributes[ATTR] == "link.broken"
    assert a.css_first(f'span[{ATTR}="link.blank-title"]') is not None


def test_panel_lists_every_finding_escaped_and_fixed(site):
    evil = Finding("word.sensitive", "error", "a.html", '<script>alert("x")</script>', line=3,
                   target="</p><b>", suggestion="<img src=x onerror=alert(1)>")
    site_wide = Finding("site.identity", "error", "a.html", "页脚标识不全：缺少 ICP 备案号")
    html = page("<p>正文</p>")
    marked = mark_findings(html, [evil, site_wide])
    tree = _tree(marked)
    panel = tree.css_first(f"#{PANEL_ID}")
    assert "position:fixed" in panel.attributes["style"]
    items = panel.css(f"li[{ATTR}]")
    assert [li.attributes[ATTR] for li in items] == ["word.sensitive", "site.identity"]
    assert '<script>alert("x")</script>' in items[0].text()
    assert not tree.css("img") and len(tree.css("script")) == 1  # only the panel's own script
    # inserted before </body>, so the page keeps its structure
    assert marked.index(PANEL_ID) < marked.rindex("</body>")
    assert tree.css_first("footer") is not None


def test_no_findings_leaves_the_page_untouched():
    html = page("<p>正文</p>")
    assert mark_findings(html, []) == html


def test_marking_a_page_without_body_tag_appends_the_panel():
    html = "<p>我们因该学习</p>"
    f = Finding("word.typo", "warning", "a.html", "错字", line=1, target="因该", suggestion="应该")
    out = mark_findings(html, [f])
    assert out.startswith(f'<p>我们<mark {ATTR}="word.typo"') and PANEL_ID in out


def test_marked_page_keeps_character_references_whole():
    html = "<p>A&amp;B因该</p>"
    f = Finding("word.typo", "warning", "a.html", "错字", line=1, target="&B因该")
    out = mark_findings(html, [f])
    assert "&amp;" in out and "&am<" not in out
    assert LexborHTMLParser(out).css_first("mark").text() == "&B因该"


def test_path_is_not_touched(out):
    """The helpers never write: the output folder is only read."""
    before = sorted((p, p.stat().st_mtime_ns) for p in out.rglob("*"))
    fast_findings(page('<p><a href="../a/#x">x</a></p>'), "news/b/index.html", site=None, matcher=None, root=out)
    assert sorted((p, p.stat().st_mtime_ns) for p in out.rglob("*")) == before


def test_the_panel_names_the_source_file_and_line():
    html = page("<p>我们因该学习</p>")
    f = Finding("word.typo", "warning", "a.html", "错字", line=6, target="因该", suggestion="应该")
    marked = mark_findings(html, [f], source="topics/t/a.md", source_text="---\ntitle: x\n---\n\n我们因该学习\n")
    [item] = LexborHTMLParser(marked).css(f"#{PANEL_ID} li")
    assert "源文件 topics/t/a.md 第 5 行" in item.text() and "页面第 6 行" in item.text()


def test_a_rewritten_link_is_found_in_the_source_by_its_last_segment():
    text = "---\ntitle: x\n---\n正文\n见[旧页](gone.md)\n"
    assert source_line(text, Finding("link.broken", "error", "a.html", "坏链", line=9, target="../gone/")) == 5
    assert source_line(text, Finding("link.broken", "error", "a.html", "坏链", line=9, target="gone.md#x")) == 5
    assert source_line(text, Finding("link.broken", "error", "a.html", "坏链", line=9, target="../other/")) is None


def test_the_same_broken_link_twice_marks_both_elements(site, matcher, out):
    html = page('<p><a href="../missing/">一</a></p>\n<p><a href="../missing/">二</a></p>')
    findings = fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out)
    assert [f.rule for f in findings] == ["link.broken", "link.broken"]
    tree = _tree(mark_findings(html, findings))
    assert [a.text() for a in tree.css(f'a[{ATTR}="link.broken"]')] == ["一", "二"]


def test_a_known_file_list_is_used_instead_of_scanning_the_folder(site, matcher, out):
    html = page('<p><a href="../x/">新页</a> <a href="../a/">旧页</a></p>')
    files = {"news/x/index.html", "assets/site.css"}  # what the caller knows the folder holds
    found = fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out, files=files)
    assert [f.target for f in found if f.rule == "link.broken"] == ["../a/"]
