"""The text a reader sees (builder/checks/text.py): which tags and attributes count, and offsets."""

from __future__ import annotations

import re

from builder.checks.text import BLOCK_SEP, extract_visible_text


def blocks(html: str) -> list[str]:
    return [b for b in extract_visible_text(html).text.split(BLOCK_SEP) if b]


def assert_offsets_point_at_the_characters(html: str) -> None:
    vt = extract_visible_text(html)
    assert len(vt.offsets) == len(vt.text)
    for i, ch in enumerate(vt.text):
        if ch not in (BLOCK_SEP, " "):
            assert html[vt.offsets[i]] == ch, (i, ch)


PAGE = """<!doctype html><html lang=zh-CN><head><meta charset=utf-8>
<meta content="width=device-width" name=viewport><title>专题 - 示例网站</title>
<meta name=description content=本专题介绍重点工作><meta content=示例网站 name=SiteName></head>
<body class=kind-detail><nav aria-label=栏目><ul><li><a href=../a/>第一栏目</a></li>
<li><a aria-current=page href=../b/ title=第二栏目全称>第二栏目</a></li></ul></nav>
<main id=main><h1 class=page-title>中华人民<b>共和</b><a href=#>国</a></h1>
<p>正文<span class=x>第一段</span>，<em>继续</em>。</p><p>第二段
文字 with two
words</p><table><tr><td>单元格一</td><td>单元格二</td></tr></table>
<p><img src=a.png alt=图片说明 width=1><br>换行后</p><script>var s = "<p>脚本</p>";</script>
<input type=submit value=提交><input type=text value=输入值 placeholder=请输入>
</main></body></html>"""

PAGE_BLOCKS = ["专题 - 示例网站", "本专题介绍重点工作", "第一栏目", "第二栏目全称", "第二栏目", "中华人民共和国",
               "正文第一段，继续。", "第二段文字 with two words", "单元格一", "单元格二", "图片说明", "换行后", "提交",
               "请输入"]


def test_a_page_reads_as_blocks_of_text_with_titles_alt_text_and_labels():
    assert blocks(PAGE) == PAGE_BLOCKS
    assert_offsets_point_at_the_characters(PAGE)


def test_tag_names_in_capitals_read_like_lower_case():
    upper = re.sub(r"<(/?)([a-z][a-z0-9]*)", lambda m: "<" + m.group(1) + m.group(2).upper(), PAGE)
    assert upper != PAGE
    assert blocks(upper) == PAGE_BLOCKS
    assert_offsets_point_at_the_characters(upper)
    mixed = PAGE.replace("<ul>", "<UL>").replace("<td>", "<Td>")  # capitals only from the middle on
    assert blocks(mixed) == PAGE_BLOCKS
    assert_offsets_point_at_the_characters(mixed)


def test_only_text_attributes_are_read_and_in_any_case():
    html = ('<p class="alt title" data-title=数据 alttext=替代>正文</p><span ALT=替代文字>一</span>'
            "<a Title = '链接提示'>二</a><input type=TEXT value=输入值><input TYPE=Reset VALUE=重置>"
            "<input placeholder=  ><img alt='  '>")
    assert blocks(html) == ["正文", "替代文字", "一", "链接提示", "二", "重置"]


def test_meta_description_is_read_in_any_attribute_order_quoting_or_case():
    for meta in ("<meta name=description content=页面描述>", "<meta content='页面描述' name=\"description\">",
                 "<META NAME=Description CONTENT=页面描述>", "<meta name = description content = 页面描述 />"):
        assert blocks(f"<head>{meta}<title>标题</title></head>") == ["页面描述", "标题"], meta
    for meta in ("<meta name=keywords content=关键词>", "<meta name=descriptions content=关键词>",
                 "<meta content=description name=x>", "<meta name=description>", "<meta content=关键词>"):
        assert blocks(f"<head>{meta}<title>标题</title></head>") == ["标题"], meta


def test_quoted_angle_brackets_stay_inside_their_tag():
    html = '<p title="a>b">文字</p><a href="x>y">链接</a>后面<p data-x=\'<p>\'>段落</p>'
    assert blocks(html) == ["a>b", "文字", "链接后面", "段落"]
    assert_offsets_point_at_the_characters(html)


def test_a_name_runs_to_the_first_space_or_slash_but_quotes_can_end_it():
    # <p"a b"c> only closes as <p> with the attribute "a b"c, as an HTML tokenizer reads it.
    assert blocks('前<p"a b"c>后') == ["前", "后"]
    assert blocks("<b>粗</b><bx>不是粗体</bx><o:p>段</o:p>") == ["粗", "不是粗体", "段"]


def test_text_cut_by_the_limit_stops_at_the_limit():
    html = "<p>第一段</p><p>第二段</p><!-- 注释 -->"
    for limit in range(len(html) + 1):
        vt = extract_visible_text(html, limit)
        assert vt.truncated == (limit < len(html))
        assert len(vt.offsets) == len(vt.text)
        assert all(offset < limit for offset in vt.offsets)
    assert extract_visible_text(html, 15).text == "第一段\n第二"
    assert "注" not in extract_visible_text(html, len(html) - 3).text


def test_many_unclosed_quotes_and_stray_brackets_still_read():
    html = '<p title="' * 2000 + "<p>正文</p>" + "<a '" * 2000 + "<" * 2000 + "&" * 2000
    vt = extract_visible_text(html)
    assert len(vt.offsets) == len(vt.text)
    assert vt.text.endswith("<" * 2000 + "&" * 2000)
