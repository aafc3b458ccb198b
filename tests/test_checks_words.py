"""Wrong and sensitive words (错敏词): visible text, normalisation, word lists, the page check."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from builder.checks import words as words_mod
from builder.checks.base import HtmlDoc
from builder.checks.text import BLOCK_SEP, extract_visible_text, visible_text
from builder.checks.words import WordCheck, WordEntry, WordMatcher, load_word_lists
from tests.sitefactory import write_files


def make_doc(tmp_path: Path, html: str, name: str = "index.html") -> HtmlDoc:
    path = tmp_path / "public" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return HtmlDoc.load(tmp_path / "public", path)


def make_words(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    return write_files(tmp_path / "words", files)


def page(body: str, head: str = "<title>测试页面</title>") -> str:
    return f"<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>{head}</head>\n<body>\n{body}\n</body>\n</html>\n"


def check(tmp_path: Path, html: str, files: dict[str, str | bytes] | None = None, **kw) -> list:
    words_dir = make_words(tmp_path, files) if files is not None else None
    return list(WordCheck(words_dir, **kw).page(make_doc(tmp_path, html)))


BASIC = {
    "typos.txt": "按装\t安装\n再接再励\t再接再厉\n",
    "expressions.txt": "共合国\t共和国\n",
    "sensitive.txt": "赌博网站\n",
}


# -- visible text ---------------------------------------------------------------------------


def test_visible_text_joins_inline_tags_and_separates_blocks():
    vt = extract_visible_text("<p>中华人民<b>共和</b><a href=#>国</a></p><p>第二段</p><div>三</div><br>四")
    assert vt.text.split(BLOCK_SEP)[:4] == ["中华人民共和国", "第二段", "三", "四"]


def test_visible_text_offsets_point_at_the_same_characters_in_the_html(tmp_path):
    html = page('<p class="x">中华<i>人民</i>共和国</p>\n<img src="a.png" alt="图片说明">\n<p title=\'提示\'>正文</p>')
    text, offsets = visible_text(make_doc(tmp_path, html))
    assert len(offsets) == len(text)
    for i, ch in enumerate(text):
        if ch not in (BLOCK_SEP, " "):
            assert html[offsets[i]] == ch
    assert "图片说明" in text and "提示" in text and "测试页面" in text


def test_visible_text_leaves_out_scripts_styles_noscript_templates_and_comments():
    html = page("<script>var s='脚本文字';</script><style>.a{content:'样式文字'}</style>"
                "<noscript>无脚本文字</noscript><template><p>模板文字</p></template><!-- 注释文字 --><p>正文</p>")
    text = extract_visible_text(html).text
    for hidden in ("脚本文字", "样式文字", "无脚本文字", "模板文字", "注释文字"):
        assert hidden not in text
    assert "正文" in text


def test_visible_text_decodes_entities_and_collapses_whitespace():
    vt = extract_visible_text("<p>A&amp;B   &lt;c&gt; &#20013;&#x6587;</p><p>中华\n   人民</p><p>two\nwords</p>")
    assert vt.text.split(BLOCK_SEP)[:3] == ["A&B <c> 中文", "中华人民", "two words"]


def test_visible_text_survives_malformed_html():
    for html in ("<p>未闭合<div>标签", "a < b 和 c > d", "<p title=\"没有结束引号>文字", "<!-- 没有结束的注释 正文",
                 "<script>没有结束的脚本", "<<<>>>", "", "</p></div>", "<a href='x'", "<p>&#99999999;&bogus;</p>"):
        vt = extract_visible_text(html)
        assert len(vt.offsets) == len(vt.text)


# -- matching -------------------------------------------------------------------------------


def test_typo_is_reported_with_suggestion_context_and_source_line(tmp_path):
    before = "为进一步做好全市政务服务平台的建设工作，现将有关事项通知如下，请各单位"
    html = page(f"<p>第一段。</p>\n<p>{before}按装新的设备后及时报告，确保系统稳定运行。</p>")
    (f,) = check(tmp_path, html, BASIC)
    assert (f.rule, f.severity, f.target, f.suggestion) == ("word.typo", "warning", "按装", "安装")
    assert f.line == html[:html.index("按装")].count("\n") + 1
    assert f.context.startswith("…") and "按装新的设备" in f.context
    assert len(f.context) <= 30 + 2 + 30 + 2
    assert "typos.txt" in f.message and "安装" in f.message


def test_expression_split_across_inline_tags_is_one_text(tmp_path):
    (f,) = check(tmp_path, page("<p>中华人民<b>共合</b><span>国</span>成立</p>"), BASIC)
    assert (f.rule, f.severity, f.target, f.suggestion) == ("word.expression", "error", "共合国", "共和国")


@pytest.mark.parametrize("body", [
    "<p>中华人民共</p><p>合国</p>",
    "<table><tr><td>共合</td><td>国</td></tr></table>",
    "<ul><li>共合</li><li>国</li></ul>",
    "共合<br>国",
    "<h2>共合</h2>国",
    '<img alt="共合">国',
])
def test_word_split_across_blocks_does_not_match(tmp_path, body):
    assert check(tmp_path, page(body), BASIC) == []


def test_words_in_title_alt_tooltips_and_meta_description_are_checked(tmp_path):
    html = page('<img src="a.png" alt="按装现场"><a href="#" title="再接再励">链接</a>',
                head='<title>赌博网站</title><meta name="description" content="中华人民共合国">'
                     '<meta name="keywords" content="按装">')
    found = {(f.rule, f.target) for f in check(tmp_path, html, BASIC)}
    assert found == {("word.typo", "按装"), ("word.typo", "再接再励"), ("word.sensitive", "赌博网站"),
                     ("word.expression", "共合国")}


def test_scripts_and_styles_are_not_checked(tmp_path):
    html = page("<script>var a = '按装';</script><style>/* 共合国 */</style><noscript>赌博网站</noscript>")
    assert check(tmp_path, html, BASIC) == []


def test_full_width_letters_and_case_are_folded(tmp_path):
    files = {"sensitive.txt": "badword\n", "typos.txt": "ａｐｐ下戴\tAPP下载\n"}
    findings = check(tmp_path, page("<p>请勿访问ＢＡＤＷＯＲＤ网站</p><p>扫码App下戴</p><p>okay</p>"), files)
    assert sorted((f.rule, f.target) for f in findings) == [("word.sensitive", "ＢＡＤＷＯＲＤ"), ("word.typo", "App下戴")]


def test_latin_entries_match_whole_words_only(tmp_path):
    findings = check(tmp_path, page("<p>Essex county 与 SEX 和 sex中文</p>"), {"sensitive.txt": "sex\n"})
    assert [f.target for f in findings] == ["SEX", "sex"]


def test_traditional_text_matches_only_when_enabled(tmp_path):
    html = page("<p>中華人民共合國成立</p><p>請勿按裝</p>")
    assert check(tmp_path, html, BASIC) == []
    found = check(tmp_path, html, BASIC, traditional_to_simplified=True)
    assert sorted((f.rule, f.target, f.suggestion) for f in found) == [
        ("word.expression", "共合國", "共和国"), ("word.typo", "按裝", "安装")]


def test_allowed_phrase_suppresses_a_sensitive_word_inside_it(tmp_path):
    files = {"sensitive.txt": "法轮\n", "allow.txt": "# 地名\n法轮寺\n"}
    findings = check(tmp_path, page("<p>参观法轮寺遗址</p><p>宣扬法轮的材料</p>"), files)
    assert [(f.rule, f.context) for f in findings] == [("word.sensitive", "宣扬法轮的材料")]
    assert findings[0].line is not None


def test_allowed_phrase_must_cover_the_whole_match(tmp_path):
    files = {"typos.txt": "甲乙丙\t甲乙丁\n", "allow.txt": "戊甲乙\n"}
    # "戊甲乙" overlaps "甲乙丙" but does not contain it: still reported
    assert [f.target for f in check(tmp_path, page("<p>戊甲乙丙</p>"), files)] == ["甲乙丙"]


def test_correct_forms_are_allowed_so_a_wrong_form_inside_them_is_not_reported(tmp_path):
    files = {"expressions.txt": "国务院办公\t国务院办公厅\n"}
    findings = check(tmp_path, page("<p>国务院办公厅印发</p><p>国务院办公会议</p>"), files)
    assert [f.context for f in findings] == ["国务院办公会议"]
    assert findings[0].target == "国务院办公"


def test_entities_and_line_breaks_inside_a_word_still_match(tmp_path):
    findings = check(tmp_path, page("<p>中华人民&#20849;合国</p>\n<p>中华人民\n   共合国</p>"), BASIC)
    assert [f.target for f in findings] == ["共合国", "共合国"]
    assert findings[1].line == findings[0].line + 2


def test_subfolder_lists_add_named_categories(tmp_path):
    files = {"sensitive/政治.txt": "甲乙丙\n", "广告/极限词.txt": "最最最\t请删除\n", "typos/机构.txt": "丁戊\t丁己\n"}
    findings = {f.target: f for f in check(tmp_path, page("<p>甲乙丙、最最最、丁戊</p>"), files)}
    assert findings["甲乙丙"].rule == "word.sensitive" and "政治" in findings["甲乙丙"].message
    assert findings["最最最"].rule == "word.sensitive" and "广告/极限词" in findings["最最最"].message
    assert "请删除" in findings["最最最"].message
    assert findings["丁戊"].rule == "word.typo" and findings["丁戊"].message.startswith("“丁戊”应改为“丁己”（类别：机构；")
    assert findings["丁戊"].suggestion == "丁己"


def test_english_messages(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    (f,) = check(tmp_path, page("<p>按装</p>"), BASIC)
    assert f.message == "probable typo '按装': write '安装' (list typos.txt, line 1)"


# -- word list files ------------------------------------------------------------------------


def test_word_lists_tolerate_bom_blank_lines_crlf_comments_and_trailing_spaces(tmp_path):
    files = {"typos.txt": "\ufeff# 注释\r\n\r\n按装\t安装   \r\n   \r\n再接再励 \t 再接再厉\r\n",
             "sensitive.txt": b"\xef\xbb\xbf\r\n\xe8\xb5\x8c\xe5\x8d\x9a  \r\n"}
    lists = load_word_lists(make_words(tmp_path, files))
    assert lists.problems == []
    assert [(e.word, e.suggestion, e.line) for e in lists.entries if e.rule == "word.typo"] == [
        ("按装", "安装", 3), ("再接再励", "再接再厉", 5)]
    assert [e.word for e in lists.entries if e.rule == "word.sensitive"] == ["赌博"]


def test_malformed_typo_line_is_a_warning_naming_file_and_line(tmp_path):
    words_dir = make_words(tmp_path, {"typos.txt": "按装\t安装\n再接再励 再接再厉\n同样\t同样\n\t安装\n"})
    wc = WordCheck(words_dir)
    problems = list(wc.finish())
    assert [(p.rule, p.severity, p.page, p.line) for p in problems] == [
        ("word.list", "warning", f"{words_dir.as_posix()}/typos.txt", 2),
        ("word.list", "warning", f"{words_dir.as_posix()}/typos.txt", 3),
        ("word.list", "warning", f"{words_dir.as_posix()}/typos.txt", 4)]
    assert "Tab" in problems[0].message and "错误写法<Tab>正确写法" in problems[0].message
    assert "相同" in problems[1].message
    assert "为空" in problems[2].message
    # the good line still works
    assert [f.target for f in wc.page(make_doc(tmp_path, page("<p>按装</p>")))] == ["按装"]


def test_non_utf8_list_is_read_as_gb18030_with_a_warning(tmp_path):
    words_dir = make_words(tmp_path, {"sensitive.txt": "赌博网站\n".encode("gb18030")})
    wc = WordCheck(words_dir)
    (problem,) = wc.finish()
    assert "UTF-8" in problem.message and problem.page.endswith("sensitive.txt")
    assert [f.target for f in wc.page(make_doc(tmp_path, page("<p>赌博网站</p>")))] == ["赌博网站"]


def test_unknown_top_level_list_is_reported_not_used(tmp_path):
    wc = WordCheck(make_words(tmp_path, {"政治.txt": "甲乙\n"}))
    (problem,) = wc.finish()
    assert problem.page.endswith("政治.txt") and "sensitive/政治.txt" in problem.message
    assert list(wc.page(make_doc(tmp_path, page("<p>甲乙</p>")))) == []


def test_missing_words_folder_falls_back_to_the_defaults_with_a_warning(tmp_path):
    wc = WordCheck(tmp_path / "nope")
    (problem,) = wc.finish()
    assert problem.rule == "word.list" and "默认词表" in problem.message
    assert [f.target for f in wc.page(make_doc(tmp_path, page("<p>再接再励</p>")))] == ["再接再励"]


def test_empty_words_folder_finds_nothing(tmp_path):
    wc = WordCheck(make_words(tmp_path, {}))
    assert list(wc.page(make_doc(tmp_path, page("<p>再接再励</p>")))) == []
    assert list(wc.finish()) == []


# -- the shipped defaults -------------------------------------------------------------------


def test_default_lists_load_cleanly_and_are_substantial():
    lists = load_word_lists(None)
    assert lists.problems == []
    typos = [e for e in lists.entries if e.rule == "word.typo" and e.category is None]
    expressions = [e for e in lists.entries if e.rule == "word.expression"]
    assert len(typos) >= 300 and len(expressions) >= 50
    assert not [e for e in lists.entries if e.rule == "word.sensitive"]  # the site's own to fill
    for e in typos + expressions:
        assert e.word != e.suggestion and e.word not in e.suggestion


@pytest.mark.parametrize(("text", "rule", "suggestion"), [
    ("我们要再接再励", "word.typo", "再接再厉"),
    ("认真部暑落实", "word.typo", "部署"),
    ("开展凋研活动", "word.typo", "调研"),
    ("中华人民共合国成立", "word.expression", "中华人民共和国"),
    ("台湾总统选举", "word.expression", "台湾地区领导人"),
    ("全国人大常委员会副委员长", "word.expression", "全国人大常委会"),
    ("原国土资源部发布", "word.typo", "自然资源部"),
])
def test_default_lists_flag_known_errors(tmp_path, text, rule, suggestion):
    (f,) = check(tmp_path, page(f"<p>{text}</p>"))
    assert (f.rule, f.suggestion) == (rule, suggestion)


def test_default_lists_leave_correct_official_text_alone(tmp_path):
    text = ("中华人民共和国国务院办公厅印发通知，要求再接再厉，认真部署调研工作。按装备配置标准执行，"
            "全部暑期活动按计划开展。地方国土资源部门和交通迅速发展。全国人大常委会、全国政协十四届二次会议、"
            "十四届全国人大二次会议在北京召开。台湾地区领导人、香港特区政府、内地与香港。")
    assert check(tmp_path, page(f"<p>{text}</p>")) == []


# -- limits, bad input, reuse ---------------------------------------------------------------


def test_huge_page_is_checked_up_to_the_cap_with_an_info_finding(tmp_path, monkeypatch):
    monkeypatch.setattr(words_mod, "MAX_PAGE_CHARS", 2000)
    html = page("<p>按装</p>" + "<p>正文内容</p>" * 400 + "<p>再接再励</p>")
    findings = check(tmp_path, html, BASIC)
    assert [(f.rule, f.severity) for f in findings] == [("word.limit", "info"), ("word.typo", "warning")]
    assert "2000" in findings[0].message


def test_findings_per_page_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(words_mod, "MAX_FINDINGS_PER_PAGE", 3)
    findings = check(tmp_path, page("<p>按装</p>" * 10), BASIC)
    assert [f.rule for f in findings] == ["word.typo"] * 3 + ["word.limit"]
    assert "7" in findings[-1].message


def test_broken_encoding_and_malformed_html_do_not_crash(tmp_path):
    path = tmp_path / "public" / "bad.html"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"<html><body><p>\xff\xfe\xe6\x8c\x89\xe8\xa3\x85 <div <p title='x>" + "按装".encode("gb18030"))
    doc = HtmlDoc.load(tmp_path / "public", path)
    findings = list(WordCheck(make_words(tmp_path, BASIC)).page(doc))
    assert all(f.rule == "word.typo" for f in findings)


def test_folding_that_expands_characters_keeps_offsets_exact():
    m = WordMatcher([WordEntry("按装", "word.typo", "安装")])
    text = "ﬁ㍿ß按装"
    (match,) = m.find(text)
    assert (match.start, match.end, match.text) == (3, 5, "按装")


def test_matcher_can_be_pickled_for_worker_processes():
    m = WordMatcher([WordEntry("按装", "word.typo", "安装")], allow=["按装备"])
    assert len(m.find("按装")) == 1
    clone = pickle.loads(pickle.dumps(m))
    assert [x.text for x in clone.find("按装 按装备")] == ["按装"]
    check_clone = pickle.loads(pickle.dumps(WordCheck(None)))
    assert len(check_clone.matcher) > 300


@pytest.mark.parametrize("word", ["ＡＢＣ", "ﬁnance", "㍿", "Straße", "İstanbul", "e\u0301", "\u1100\u1161\u11a8",
                                  "が", "\u304b\u3099", "Ω", "ℌ", "中华人民共和国", "ΣΑΣ", "①②", "\u00c5\u212b"])
def test_fold_is_nfkc_and_case_folding_one_character_at_a_time(word):
    # fold() skips the per-character work when the word is already NFKC: the result must not change
    import unicodedata

    from builder.checks.words import fold

    assert fold(word) == "".join(unicodedata.normalize("NFKC", c).casefold() for c in word)
