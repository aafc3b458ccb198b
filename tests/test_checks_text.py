"""The text a reader sees (builder/checks/text.py): which tags and attributes count, and offsets."""

from __future__ import annotations

import re

from builder.checks.text import BLOCK_SEP, TextMemo, extract_visible_text


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


# ---------------------------------------------------------------- the memo of the page before

CHROME_HEAD = ('<!doctype html><html><head><title>{t}</title><meta name=description content={t}></head><body>'
               '<header><a href=/>首页</a><div class=site-tools><input placeholder=搜索本站></div></header>'
               '<nav><ul><li><a href=../a/>交通运输</a></li><li><a{cur} href=../b/>生态环境</a></li>'
               '<li><a href=../c/>城乡建设</a></li><li><a href=../d/>产业发展</a></li></ul></nav>')
CHROME_FOOT = ('<footer><p>主办单位：示例市</p><p><span>网站标识码：1100000088</span> <a href=#>京ICP备</a></p>'
               '</footer><script>var x = "<p>不是文字</p>";</script></body></html>')


def read_all(pages: list[str]) -> tuple[list, TextMemo]:
    memo = TextMemo()
    return [extract_visible_text(h, memo=memo) for h in pages], memo


def assert_same_as_without_memo(pages: list[str]) -> TextMemo:
    got, memo = read_all(pages)
    for html, vt in zip(pages, got, strict=True):
        plain = extract_visible_text(html)
        assert vt.text == plain.text, html
        assert list(vt.offsets) == list(plain.offsets), html
    return memo


def test_pages_of_one_template_read_with_the_memo_give_the_same_text_and_offsets():
    pages = [CHROME_HEAD.format(t=f"第{i}篇", cur=" aria-current=page" if i % 3 else "")
             + f"<main><h1>第{i}篇</h1><p>正文{'甲乙' * i}</p></main>" + CHROME_FOOT for i in range(12)]
    memo = assert_same_as_without_memo(pages)
    assert memo.taken >= 10  # the header, menu and footer were taken over, not read again


def test_the_memo_never_takes_over_what_the_following_text_changes():
    # The same chunk of HTML followed by different text: an unclosed quote, a lone "<", a character
    # reference cut in two, a comment, tags in capitals, raw text: every page must read as it would alone.
    tails = ['<p title="中>文</p>', "<p>中<文</p>", "<p>中&#2", "0013;文</p>", "<!-- 中 --><p>文</p>", "<P>中文</P>",
             "<script>中</script>文", "<textarea>中<b>文</b></textarea>", "<p>中</p", "<img alt=中文>", "<",
             "<p>中文", "&amp;中", "</nav>中文", '<a title="中', '">文</a>']
    base = CHROME_HEAD.format(t="题", cur="")
    pages = [base + "".join(tails[(i + j) % len(tails)] for j in range(i % 5 + 1)) + CHROME_FOOT
             for i in range(40)]
    pages += [base + "<p>中文</p>" + CHROME_FOOT[:n] for n in range(0, len(CHROME_FOOT), 7)]
    assert_same_as_without_memo(pages)


def test_the_memo_does_not_take_over_a_chunk_with_a_lone_angle_bracket():
    # On the first page "<b title='x" opens a quote that never closes: its "<" is text. On the second
    # the quote closes after the chunk, and the same characters are a tag: the chunk must be read again.
    first = "<p>中</p><p>甲<b title='x</p><p>文</p>"
    second = first + "'>尾</b>"
    assert "尾" in extract_visible_text(second).text and "title" not in extract_visible_text(second).text
    assert_same_as_without_memo([first, second])


def test_the_memo_takes_over_the_rest_of_a_page_only_when_all_of_it_is_the_same():
    assert_same_as_without_memo(["<p>中</p>", "<p>中</p><p>中</p>", "<p>中</p>", "<div>中</div><p>中</p>"])
    assert_same_as_without_memo(["<p>甲</p><p>中</p>", "<p>中</p>", "<p>乙</p><p>中</p><p>中</p>"])
    # the second page starts and ends like the first, with more in between
    long = "中" * 13
    assert_same_as_without_memo([f"<p>{long}</p><p>文</p>", f"<p>{long}</p><p>乙</p><p>{long}</p><p>文</p>"])


def test_the_memo_gives_the_same_on_random_pages_that_share_parts():
    import random

    rng = random.Random(20261130)
    parts = ["<p>", "</p>", "<div class=a>", "</div>", "<li><a href=x>", "</a></li>", "<b>", "</b>", "<br>",
             "中文", "一二三", "专题", " ", "\n", "&amp;", "&#20013;", "&nbsp;", "<", ">", '"', "'", "<!--", "-->",
             "<script>", "</script>", "<STYLE>", "</STYLE>", "<img alt=图 src=x>", "<input value=按钮 type=submit>",
             "<title>", "</title>", "<meta name=description content=说明>", "<P>", "</P>", "abc", "<a title='提'>",
             "</nav>", "<header>", "<td>", "&lt;", "<!doctype html>", "<?x?>", "</", "<p title=\"", "\">"]
    shared = ["".join(rng.choice(parts) for _ in range(30)) for _ in range(6)]
    pages = []
    for _ in range(300):
        pieces = [rng.choice(shared) if rng.random() < 0.6 else "".join(rng.choice(parts) for _ in range(8))
                  for _ in range(rng.randint(1, 6))]
        pages.append("".join(pieces))
    memo = assert_same_as_without_memo(pages)
    assert memo.taken > 0
