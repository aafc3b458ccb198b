"""link.hidden (暗链): off-site links hidden from readers, and scripts that write or cloak links."""

from __future__ import annotations

import pytest

from builder.checks.base import HtmlDoc
from builder.checks.hidden import HiddenLinkCheck, parse_color, parse_css
from builder.config import SiteConfig

SITE = SiteConfig(base_url="https://www.example.gov.cn/zt/")
BAD = "https://casino-win.example.com/"
GOV = "https://www.beijing.gov.cn/"


def check(tmp_path, body: str, head: str = "", files: dict[str, str] | None = None, site=SITE):
    root = tmp_path / "public"
    root.mkdir(exist_ok=True)
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    page = root / "index.html"
    page.write_text(f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>t</title>{head}'
                    f"</head><body>\n{body}\n</body></html>", encoding="utf-8")
    hidden = HiddenLinkCheck(site)
    return list(hidden.page(HtmlDoc.load(root, page))) + list(hidden.finish())


def only_hidden(findings):
    assert all(f.rule == "link.hidden" for f in findings)
    return findings


@pytest.mark.parametrize("body,technique", [
    (f'<div style="display:none"><a href="{BAD}">博彩</a></div>', "display:none"),
    (f'<div style="visibility: hidden"><p><a href="{BAD}">x</a></p></div>', "visibility:hidden"),
    (f'<span style="opacity:0"><a href="{BAD}">x</a></span>', "opacity:0"),
    (f'<p style="font-size:0px"><a href="{BAD}">x</a></p>', "font-size:0"),
    (f'<p style="font:0/0 a"><a href="{BAD}">x</a></p>', "font-size:0"),
    (f'<div style="height:0;overflow:hidden"><a href="{BAD}">x</a></div>', "height:0"),
    (f'<div style="position:absolute;left:-9999px"><a href="{BAD}">x</a></div>', "left:-9999px"),
    (f'<div style="position:fixed; top:-1000px"><a href="{BAD}">x</a></div>', "top:-1000px"),
    (f'<a style="text-indent:-9999px;display:block" href="{BAD}">x</a>', "text-indent"),
    (f'<div style="position:absolute;clip:rect(0 0 0 0)"><a href="{BAD}">x</a></div>', "clip"),
    (f'<div hidden><a href="{BAD}">x</a></div>', "hidden"),
    (f'<div style="background:#ffffff"><a style="color:#FFF" href="{BAD}">x</a></div>', "背景相同"),
    (f'<div style="background-color:rgb(0,0,0)"><a href="{BAD}"><font color="black">x</font></a></div>',
     "背景相同"),
    (f'<marquee scrollamount="10000"><a href="{BAD}">x</a></marquee>', "scrollamount"),
    (f'<marquee height="1" width="1"><a href="{BAD}">x</a></marquee>', "marquee"),
    (f'<iframe src="{BAD}" width="0" height="0"></iframe>', "iframe"),
    (f'<iframe src="{BAD}" style="width:1px;height:1px"></iframe>', "iframe"),
    (f'<a href="{BAD}">正常\u200b文字</a>', "零宽"),
])
def test_hidden_technique_is_reported(tmp_path, body, technique):
    findings = only_hidden(check(tmp_path, body))
    assert len(findings) == 1, findings
    f = findings[0]
    assert f.severity == "error"
    assert f.target == BAD
    assert technique in f.message
    assert f.line == 2
    assert "暗链" in f.message or "零宽" in f.message or "背景" in f.message


def test_hiding_by_style_element_rule_on_an_ancestor(tmp_path):
    head = "<style>#friend .box { display: none } p.x{color:red}</style>"
    body = f'<div id="friend"><section class="box"><ul><li><a href="{BAD}">x</a></li></ul></section></div>'
    (f,) = only_hidden(check(tmp_path, body, head))
    assert "display:none" in f.message and 'class="box"' in f.context


def test_hiding_by_a_local_stylesheet(tmp_path):
    head = '<link rel="stylesheet" href="/zt/css/site.css">'
    css = "/* theme */ .links{color:#333} .ft-links { position: absolute; left: -10000px; }"
    body = f'<div class="ft-links"><a href="{BAD}">x</a></div>'
    (f,) = only_hidden(check(tmp_path, body, head, files={"css/site.css": css}))
    assert "left:-10000px" in f.message


def test_important_rule_beats_inline_style(tmp_path):
    head = "<style>.x{display:none!important}</style>"
    (f,) = check(tmp_path, f'<div class="x" style="display:block"><a href="{BAD}">x</a></div>', head)
    assert "display:none" in f.message


def test_inline_style_beats_a_plain_rule(tmp_path):
    head = "<style>.x{display:none}</style>"
    assert check(tmp_path, f'<div class="x" style="display:block"><a href="{BAD}">x</a></div>', head) == []


def test_collapsed_menu_of_internal_links_is_not_hidden(tmp_path):
    body = ('<nav style="display:none"><a href="/zt/a/">栏目</a><a href="b/index.html">b</a>'
            '<a href="https://www.example.gov.cn/zt/c/">c</a></nav>')
    assert check(tmp_path, body) == []


def test_visible_external_links_are_not_hidden(tmp_path):
    body = (f'<footer style="background:#003366;color:#fff"><a style="color:#fff" href="{GOV}">北京</a>'
            f'<a href="{BAD}">x</a></footer><iframe src="https://player.example.com/v" width="640" height="360">'
            '</iframe><a aria-hidden="true" href="https://www.gov.cn/">国</a>')
    assert check(tmp_path, body) == []


def test_hidden_link_to_an_allowed_domain_is_only_a_warning(tmp_path):
    (f,) = check(tmp_path, f'<div style="display:none"><a href="{GOV}">北京</a></div>')
    assert f.severity == "warning" and f.target == GOV


def test_hover_dropdown_is_not_hidden(tmp_path):
    head = "<style>.menu li ul{display:none} .menu li:hover > ul{display:block}</style>"
    body = f'<div class="menu"><ul><li><span>部门</span><ul><li><a href="{BAD}">x</a></li></ul></li></ul></div>'
    assert check(tmp_path, body, head) == []


def test_tab_panels_are_not_hidden(tmp_path):
    body = (f'<div class="tab-con"><a href="{GOV}">a</a></div>'
            f'<div class="tab-con" style="display:none"><a href="https://www.people.com.cn/">人民网</a></div>')
    assert check(tmp_path, body) == []


def test_state_class_reveal_and_controls_are_not_hidden(tmp_path):
    head = "<style>.panel{display:none} .panel.active{display:block} #more{display:none}</style>"
    body = (f'<section class="panel"><a href="{BAD}">x</a></section>'
            f'<button aria-controls="more">更多</button><div id="more"><a href="{BAD}">y</a></div>')
    assert check(tmp_path, body, head) == []


def test_lone_hidden_div_with_a_class_is_still_hidden(tmp_path):
    body = f'<p class="intro">正文</p><div class="x1"><p class="y" style="display:none"><a href="{BAD}">x</a></p></div>'
    (f,) = check(tmp_path, body)
    assert f.severity == "error"


def test_image_replacement_logo_is_not_hidden(tmp_path):
    head = "<style>.logo{display:block;text-indent:-9999px;background:url(logo.png) no-repeat}</style>"
    assert check(tmp_path, f'<a class="logo" href="{GOV}">首页</a>', head) == []


def test_responsive_and_print_rules_are_ignored(tmp_path):
    head = ("<style>@media (max-width: 768px) { .links { display: none } }"
            "@media print { .links { display: none } } @media screen { .x { color: red } }</style>"
            '<style media="print">.links{visibility:hidden}</style>')
    assert check(tmp_path, f'<div class="links"><a href="{BAD}">x</a></div>', head) == []


def test_screen_media_rule_applies(tmp_path):
    head = "<style>@media screen { .links { display: none } }</style>"
    assert len(check(tmp_path, f'<div class="links"><a href="{BAD}">x</a></div>', head)) == 1


def test_white_link_on_default_background_needs_every_stylesheet(tmp_path):
    body = f'<a style="color:white" href="{BAD}">x</a>'
    (f,) = check(tmp_path, body)
    assert "白色" in f.message
    # an external stylesheet may set a dark background: unknown, so no finding
    assert check(tmp_path, body, '<link rel="stylesheet" href="https://cdn.example.com/x.css">') == []


@pytest.mark.parametrize("script", [
    'document.write("<a href=\\"http://casino.example.com/\\">博彩</a>");',
    "document.getElementById('f').innerHTML = '<a href=http://pj.example.com>x</a>';",
    'document.write(unescape("%3Ca%20href%3D%22http%3A//bet.example.xyz/%22%3Ex%3C/a%3E"));',
    "eval(String.fromCharCode(100,111,99,117,109,101,110,116,46,119,114,105,116,101));",
    'var s=String.fromCharCode(60,97,32,104,114,101,102,61,104,116,116,112);',
    'var r=document.referrer;if(r.indexOf("baidu")>0||r.indexOf("sogou")>0){window.location.href="http://x.example.com";}',
    'if(/Baiduspider|Googlebot/i.test(navigator.userAgent)){document.write("<div>links</div>")}',
])
def test_link_writing_and_cloaking_scripts_are_reported(tmp_path, script):
    (f,) = only_hidden(check(tmp_path, f"<p>正文</p>\n<script>{script}</script>"))
    assert f.severity == "error"
    assert f.line == 3
    assert "可疑脚本" in f.message


@pytest.mark.parametrize("script", [
    # 党政机关 badge: writes a span and a script, no link
    "document.write(unescape(\"%3Cspan id='_ideConac' %3E%3C/span%3E%3Cscript src='http://dcs.conac.cn/js/1.js' "
    "type='text/javascript'%3E%3C/script%3E\"));",
    # TRS pagination
    "document.write(\"<a href='index_1.html'>下一页</a>\");",
    # back button
    "function back(){ window.location.href = document.referrer; }",
    "var hm = document.createElement('script'); hm.src = 'https://hm.baidu.com/hm.js?x';",
    "var keys = String.fromCharCode(65, 66);",
])
def test_ordinary_scripts_are_not_reported(tmp_path, script):
    assert check(tmp_path, f"<script>{script}</script>") == []


def test_script_writing_allowed_domain_links_is_a_warning(tmp_path):
    (f,) = check(tmp_path, "<script>document.write('<a href=\"https://www.gov.cn/\">中国政府网</a>')</script>")
    assert f.severity == "warning" and f.target == "www.gov.cn"


def test_english_messages(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    (f,) = check(tmp_path, f'<div style="display:none"><a href="{BAD}">x</a></div>')
    assert "hidden off-site link" in f.message and "display:none" in f.message


def test_foreign_folder_without_site_treats_every_absolute_link_as_external(tmp_path):
    (f,) = check(tmp_path, '<div style="display:none"><a href="https://a.example.com/">x</a></div>', site=None)
    assert f.severity == "error"


def test_malformed_html_and_absurd_links_do_not_crash(tmp_path):
    long = "https://x.example.com/" + "a" * 100_000
    body = (f'<div style="display:none"><p><a href="{long}">x<span><div><a href="https://b.example.com/\x01">'
            '<table><tr><td><a href="http://[bad/">y</div></p>')
    findings = check(tmp_path, body)
    assert findings and all(f.rule == "link.hidden" for f in findings)
    assert all(len(f.target or "") <= 301 for f in findings)


def test_malformed_css_is_read_as_far_as_possible():
    rules = parse_css(".a{display:none} .b{color:red; .c{{{ } @media screen{ .d{opacity:0}")
    selectors = {r.selector for r in rules}
    assert {".a", ".b"} <= selectors
    assert parse_css("}}}{;;@import 'x.css';") == []


def test_colour_parsing():
    assert parse_color("#FFF") == parse_color("white") == parse_color("rgb(255, 255, 255)") == (255, 255, 255)
    assert parse_color("rgba(0,0,0,0)")[3:] == (0,)
    assert parse_color("var(--ink)") is None


@pytest.mark.parametrize("script", [
    # pagination and analytics in one block: the written link is local, the foreign host is not a link
    "document.write(\"<a href='index_2.html'>下一页</a>\"); var hm = document.createElement('script');"
    " hm.src = 'https://hm.baidu.com/hm.js?x';",
    # back button next to Baidu analytics
    "function back(){ location.href = document.referrer; } var s = 'https://hm.baidu.com/hm.js';",
])
def test_scripts_mixing_ordinary_code_are_not_reported(tmp_path, script):
    assert check(tmp_path, f"<script>{script}</script>") == []


def test_attribute_selectors_and_selector_lists(tmp_path):
    head = ('<style>a::after, .ad-box a[href$=".com/"], p.y { display : none } '
            'a:not([href]){color:red} .bad\\:sel{x:1} ::-webkit-scrollbar{display:none}</style>')
    (f,) = check(tmp_path, f'<div class="ad-box"><a href="{BAD}">x</a></div>', head)
    assert "display:none" in f.message


def test_siblings_that_are_all_hidden_are_not_tab_panels(tmp_path):
    body = (f'<div class="ad" style="display:none"><a href="{BAD}">x</a></div>'
            '<div class="ad" style="display:none"><a href="https://b.example.com/">y</a></div>'
            '<div class="ad" style="display:none">no link</div>')
    assert [f.severity for f in check(tmp_path, body)] == ["error", "error"]


def test_a_hidden_descendant_does_not_hide_its_ancestors_links(tmp_path):
    """`[hidden] {display:none}` hides the element carrying the attribute, not the body around it."""
    from builder.checks.base import HtmlDoc
    from builder.checks.hidden import HiddenLinkCheck

    html = ("<html><head><style>[hidden]{display:none !important}</style></head><body>"
            "<div hidden>filter</div><footer><a href='https://beian.miit.gov.cn/'>京ICP备12345678号</a></footer>"
            "</body></html>")
    (tmp_path / "index.html").write_text(html, encoding="utf-8")
    doc = HtmlDoc.load(tmp_path, tmp_path / "index.html")
    assert list(HiddenLinkCheck(None).page(doc)) == []


def test_required_parent_tag_never_rules_out_an_element_the_css_engine_matches():
    from selectolax.lexbor import LexborHTMLParser

    from builder.checks.hidden import required_parent_tag

    tree = LexborHTMLParser(
        '<div class="prose"><ul><li><a href="x">a</a><strong><a>b</a></strong></li>'
        '<li class="x"><span><a>c</a></span><a class="y">d</a></li></ul><p><a>e</a></p>'
        '<LI><A>f</A></LI><svg><g><a>g</a></g></svg><table><tr><td><a>h</a></td></tr></table></div>')
    selectors = [".prose li > a:first-child", ".prose li > strong:first-child > a", "li>a", "ul li.x > a.y",
                 "LI > A", "li > a > b", "li ~ p > a", "p > a", "td > a", "g > a", "tr > td", "div > ul",
                 "li.x:first-child > span > a", "body > div", "html > body", "strong > a:last-child"]
    readable = 0
    for selector in selectors:
        parent = required_parent_tag(selector)
        if parent is None:
            continue
        readable += 1
        for node in tree.css(selector):
            assert (node.parent.tag or "").lower() == parent, (selector, node.html)
    assert readable == len(selectors)
    for unreadable in ["a", "div a", ".x > a", "li + a", "li > a:not(.x)", "li[title='a > b'] > a", "*  > a",
                       ":is(ul, ol) > a", "svg|g > a", "li:nth-child(2n+1) > a"]:
        assert required_parent_tag(unreadable) is None, unreadable
