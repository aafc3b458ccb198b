"""Link family: internal targets and fragments, blank-title links, mixed content, external-domain policy."""

from __future__ import annotations

import pytest

from builder.checks.base import HtmlDoc
from builder.checks.links import LinkCheck, extract_links, srcset_urls
from builder.checks.urls import MAX_URL_LENGTH, DomainPolicy, SiteOrigin, classify, classify_any, host_in
from builder.config import CheckConfig, SiteConfig
from tests.sitefactory import write_site

SITE = SiteConfig(base_url="https://www.example.gov.cn/zt/")


def page(body: str, head: str = "") -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>t</title>{head}</head>'
            f"<body>\n{body}\n</body></html>")


def make_site(tmp_path, files: dict[str, str | bytes]):
    return write_site(tmp_path / "public", files)  # (its site_src/site.toml is one more file in the folder)


def run(root, manifest=None, site=SITE, pages=None, anchors_from_disk=False):
    check = LinkCheck(root, manifest, site, anchors_from_disk=anchors_from_disk)
    findings = []
    for path in sorted(pages or root.rglob("*.html")):
        findings.extend(check.page(HtmlDoc.load(root, path)))
    findings.extend(check.finish())
    return findings


def rules(findings, rule=None):
    return [f for f in findings if rule is None or f.rule == rule]


def test_broken_internal_link_names_page_line_target_and_source(tmp_path):
    root = make_site(tmp_path, {
        "topic/a/index.html": page('<p>x</p>\n<a href="../missing/">缺失</a>\n<a href="../b/">b</a>'),
        "topic/b/index.html": page("<p>b</p>"),
    })
    manifest = {"pages": [{"path": "topic/a/index.html", "source": "topics/topic/a.md"}]}
    (f,) = run(root, manifest)
    assert (f.rule, f.severity, f.page, f.line) == ("link.broken", "error", "topic/a/index.html", 3)
    assert f.target == "../missing/"
    assert "源文件：topics/topic/a.md" in f.message
    assert f.context == "<a href>"


def test_every_reference_kind_is_checked(tmp_path):
    body = """<img src="i1.png" srcset="i2.png 1x, i3.png 2x" alt="x">
<video src="v.mp4" poster="p.jpg"><source src="v2.mp4" type="video/mp4"></video>
<picture><source srcset="w.webp"></picture>
<script src="s.js"></script><link rel="stylesheet" href="c.css"><link rel="icon" href="f.ico">
<iframe src="fr.html"></iframe><object data="o.pdf"></object><embed src="e.swf">
<form action="search.html"></form><meta http-equiv="refresh" content="5; url=r.html">
<div style="background-image:url('bg.png')"></div><table background="tb.gif"></table>
<style>.x{background:url(st.png)} @import "im.css";</style>
<a href="doc.pdf">附件</a><area href="map.html">"""
    root = make_site(tmp_path, {"index.html": page(body)})
    targets = sorted(f.target for f in rules(run(root), "link.broken"))
    assert targets == sorted(["i1.png", "i2.png", "i3.png", "v.mp4", "p.jpg", "v2.mp4", "w.webp", "s.js", "c.css",
                              "f.ico", "fr.html", "o.pdf", "e.swf", "search.html", "r.html", "bg.png", "tb.gif",
                              "st.png", "im.css", "doc.pdf", "map.html"])


def test_resource_type_is_named_in_the_message(tmp_path):
    root = make_site(tmp_path, {"index.html": page('<img src="x.png" alt="a"><a href="f.docx">附件</a>')})
    messages = [f.message for f in run(root)]
    assert any(m.startswith("图片") for m in messages) and any(m.startswith("附件") for m in messages)


def test_working_internal_links_are_not_reported(tmp_path):
    root = make_site(tmp_path, {
        "index.html": page("""<a href="news/">dir</a><a href="news">dir no slash</a>
<a href="%E9%80%9A%E7%9F%A5/%E5%85%AC%E5%91%8A.html">中文</a><a href="/zt/news/index.html">root</a>
<a href="https://www.example.gov.cn/zt/news/">own host</a><a href="//www.example.gov.cn/zt/">own host</a>
<a href="/other-site/">outside the published tree</a><a href="?page=2">query</a><a href="">self</a>
<img src="img/a%20b.png" alt="x"><a href="./news/../news/index.html#n">dots</a>
<a href="%D6%D0%CE%C4.html">GBK</a><a href="images\\logo.png">backslash</a>"""),
        "news/index.html": page('<h2 id="n">n</h2>'),
        "通知/公告.html": page("x"),
        "img/a b.png": b"png",
        "中文.html": page("gbk"),
        "images/logo.png": b"png",
    })
    assert run(root) == []


def test_skipped_schemes(tmp_path):
    root = make_site(tmp_path, {"index.html": page(
        '<a href="mailto:a@b.cn">m</a><a href="tel:010">t</a><a href="javascript:void(0)">j</a>'
        '<img src="data:image/png;base64,AAAA" alt="d">')})
    assert run(root) == []


def test_folder_without_index_and_case_mismatch(tmp_path):
    root = make_site(tmp_path, {
        "index.html": page('<a href="empty/">e</a>\n<img src="Logo.PNG" alt="l">'),
        "empty/readme.txt": "x",
        "logo.png": b"png",
    })
    findings = run(root)
    empty, case = sorted(rules(findings, "link.broken"), key=lambda f: f.line)
    assert "index.html" in empty.message
    assert "大小写" in case.message and case.suggestion and "logo.png" in case.suggestion


def test_close_name_is_suggested(tmp_path):
    root = make_site(tmp_path, {"index.html": page('<a href="news/detial.html">x</a>'),
                                "news/detail.html": page("d")})
    (f,) = run(root)
    assert f.suggestion == "是否应为 news/detail.html？"


def test_link_leaving_the_folder(tmp_path):
    root = make_site(tmp_path, {"index.html": page('<a href="../../etc/passwd">x</a>')})
    (f,) = run(root)
    assert f.rule == "link.broken" and "之外" in f.message


def test_anchors_on_the_same_page(tmp_path):
    root = make_site(tmp_path, {"index.html": page(
        '<h2 id="top">顶部</h2><a href="#top">top</a><a href="#">#</a><a name="old"></a><a href="#old">old</a>'
        '<h3 id="第一章">一</h3><a href="#%E7%AC%AC%E4%B8%80%E7%AB%A0">encoded</a>\n<a href="#nope">nope</a>'
        '<a href="#!/route">spa</a>')})
    findings = run(root)
    (f,) = rules(findings, "link.anchor")
    assert f.target == "#nope" and f.line == 3 and "#nope" in f.message
    assert not rules(findings, "link.broken")


def test_top_works_without_an_element():
    doc_root = None  # noqa: F841 - #top is defined by HTML itself
    from builder.checks.links import _checkable_fragment

    assert not _checkable_fragment("top") and not _checkable_fragment("")
    assert _checkable_fragment("section-2")


def test_anchors_on_other_pages_seen_before_and_after(tmp_path):
    root = make_site(tmp_path, {
        "a.html": page('<a href="b.html#here">ok</a><a href="b.html#gone">bad</a>'),
        "b.html": page('<p id="here">x</p><a href="a.html#gone2">bad2</a><a href="c.html#x">unseen</a>'),
        "c.html": page('<p id="x">c</p>'),
    })
    findings = rules(run(root, pages=[root / "a.html", root / "b.html"]), "link.anchor")
    assert sorted((f.page, f.target) for f in findings) == [("a.html", "b.html#gone"), ("b.html", "a.html#gone2")]


def test_anchors_read_again_from_disk_give_the_same_findings(tmp_path):
    # The runner does not keep every page's anchors: a page already checked is read again when a link
    # asks. The findings (and whether they come at once or from finish()) must not change.
    root = make_site(tmp_path, {
        "a.html": page('<h2 id="一">x</h2><a href="b.html#here">ok</a>\n<a href="b.html#gone">bad</a>'
                       '<a href="#一">self</a><a href="#nope">self-bad</a>'),
        "b.html": page('<p id="here">x</p><a name="named"></a>\n<a href="a.html#gone2">bad2</a>'
                       '<a href="a.html#%E4%B8%80">encoded ok</a><a href="c.html#x">unseen</a><area href="a.html#no">'),
        "c.html": page('<p id="x">c</p><a href="b.html#named">named</a><a href="b.html#here">ok</a>'
                       '<a href="a.html#gone3">bad3</a>'),
        "d.html": page('<a href="c.html#missing">after</a>'),
    })
    pages = [root / n for n in ("a.html", "b.html", "c.html", "d.html")]
    kept, reread = run(root, pages=pages), run(root, pages=pages, anchors_from_disk=True)
    assert kept == reread
    assert sorted((f.page, f.target, f.context) for f in rules(reread, "link.anchor")) == [
        ("a.html", "#nope", "<a href>"), ("a.html", "b.html#gone", "<a href>"),
        ("b.html", "a.html#gone2", "<a href>"), ("b.html", "a.html#no", "<area href>"),
        ("c.html", "a.html#gone3", "<a href>"), ("d.html", "c.html#missing", "<a href>")]


def test_anchors_of_a_page_that_vanished_after_its_check_are_not_invented(tmp_path):
    root = make_site(tmp_path, {"a.html": page('<p id="x">a</p>'), "b.html": page('<a href="a.html#y">y</a>')})
    check = LinkCheck(root, None, SITE, files=["a.html", "b.html"], anchors_from_disk=True)
    list(check.page(HtmlDoc.load(root, root / "a.html")))
    (root / "a.html").unlink()  # (a build running meanwhile): nothing is said about its anchors
    assert not list(check.page(HtmlDoc.load(root, root / "b.html")))
    assert not list(check.finish())


def test_blank_title_links(tmp_path):
    root = make_site(tmp_path, {"index.html": page(
        '<a href="/zt/">\u3000 </a>\n<a href="x/" title="标题"></a><a href="x/" aria-label="标签"></a>'
        '<a href="x/"><img src="x/p.png" alt="图片说明"></a><a href="x/">文字</a>'
        '<a href="x/"><img src="x/p.png" alt=""></a>'),
        "x/index.html": page("x"), "x/p.png": b"png"})
    findings = rules(run(root), "link.blank-title")
    assert [(f.line, f.severity) for f in findings] == [(2, "warning"), (3, "warning")]
    assert "空白标题" in findings[0].message


def test_insecure_subresources_on_an_https_site(tmp_path):
    root = make_site(tmp_path, {"index.html": page(
        '<img src="http://img.beijing.gov.cn/a.png" alt="a">\n<script src="http://www.gov.cn/x.js"></script>'
        '<a href="http://www.gov.cn/">page link is fine</a><link rel="canonical" href="http://www.gov.cn/">')})
    findings = rules(run(root), "link.insecure")
    assert [(f.target, f.severity) for f in findings] == [("http://img.beijing.gov.cn/a.png", "warning"),
                                                          ("http://www.gov.cn/x.js", "warning")]
    assert "https" in findings[0].message


def test_insecure_is_not_reported_for_an_http_site_but_is_for_foreign_html(tmp_path):
    root = make_site(tmp_path, {"index.html": page('<img src="http://img.gov.cn/a.png" alt="a">')})
    http_site = SiteConfig(base_url="http://www.example.gov.cn/")
    assert rules(run(root, {"pages": []}, http_site), "link.insecure") == []
    assert len(rules(run(root, None, None), "link.insecure")) == 1


@pytest.mark.parametrize("href,severity,words", [
    ("http://evilgov.cn/", "warning", "evilgov.cn"),
    ("https://www.example.com/a", "warning", "允许列表"),
    ("http://1.2.3.4/x", "error", "IP"),
    ("http://[2001:db8::1]/", "error", "IP"),
    ("https://www.abc-casino.com/", "error", "赌博"),
    ("https://news.example.com/%E5%8D%9A%E5%BD%A9/", "error", "博彩"),
    ("https://porn.example.org/", "error", "色情"),
    ("https://good.example.xyz/", "error", ".xyz"),
])
def test_external_domain_policy(tmp_path, href, severity, words):
    root = make_site(tmp_path, {"index.html": page(f'<a href="{href}">x</a><a href="{href}">again</a>')})
    (f,) = run(root)
    assert (f.rule, f.severity, f.target) == ("link.external-domain", severity, href)
    assert words in f.message


def test_allowed_domains_are_quiet(tmp_path):
    site = SiteConfig(base_url="https://www.example.gov.cn/", check=CheckConfig(
        allowed_domains=["gov.cn", "people.com.cn", "example.xyz"]))
    root = make_site(tmp_path, {"index.html": page(
        '<a href="https://www.beijing.gov.cn/">北京</a><a href="http://gov.cn">g</a>'
        '<a href="https://www.people.com.cn/">人民网</a><a href="https://a.example.xyz/">ok</a>')})
    assert run(root, site=site) == []


def test_domain_suffix_match_is_on_a_label_boundary():
    assert host_in("www.beijing.gov.cn", ["gov.cn"])
    assert host_in("gov.cn", ["gov.cn"])
    assert not host_in("evilgov.cn", ["gov.cn"])
    assert not host_in("gov.cn.evil.com", ["gov.cn"])
    assert host_in("WWW.GOV.CN.", ["*.gov.cn"])
    policy = DomainPolicy(["gov.cn"], ["xyz"])
    assert policy.judge("https://www.gov.cn/", "www.gov.cn") is None
    assert policy.judge("https://alphabet.example.com/", "alphabet.example.com").severity == "warning"
    # answers are remembered per host: asking again, in any order, gives the same verdicts
    for _ in range(2):
        assert [policy.allows(h) for h in ("www.gov.cn", "evilgov.cn", "gov.cn", "x.gov.cn.evil.com")] == \
            [True, False, True, False]


@pytest.mark.parametrize("href,words", [
    ("a\x01b.html", "控制字符"),
    ("x" * 100_000, "长度异常"),
    ("http://[bad/", "格式错误"),
    ("file:///C:/Users/editor/Desktop/通知.doc", "本地文件"),
    ("C:\\Users\\editor\\a.png", "本地文件"),
    ("http:///nohost", "域名"),
])
def test_unusable_links_are_findings_with_a_reason(tmp_path, href, words):
    root = make_site(tmp_path, {"index.html": page("<p>x</p>")})
    doc = HtmlDoc(root, root / "index.html", page(f'<a href="{href}">x</a>'))
    (f,) = LinkCheck(root, None, SITE).page(doc)
    assert f.rule == "link.broken" and f.severity == "error"
    assert words in f.message
    assert len(f.target) <= 301


def test_malformed_html_does_not_crash(tmp_path):
    root = make_site(tmp_path, {"index.html": "<html><body><div><a href='missing.html'>x<table><tr><td>"
                                              "<img src=gone.png><p><a href=\"#nowhere\">y"})
    findings = run(root)
    assert {f.target for f in findings} >= {"missing.html", "gone.png", "#nowhere"}


def test_base_element_changes_where_relative_links_go(tmp_path):
    root = make_site(tmp_path, {
        "a/index.html": page('<a href="page.html">p</a><a href="missing.html">m</a>', '<base href="/zt/b/">'),
        "b/page.html": page("p"),
    })
    (f,) = run(root)
    assert f.target == "missing.html" and f.rule == "link.broken"


def test_english_messages(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    root = make_site(tmp_path, {"index.html": page('<a href="gone.html">x</a>')})
    manifest = {"pages": [{"path": "index.html", "source": "site_src/index.md"}]}
    (f,) = run(root, manifest)
    assert "does not exist" in f.message and "source: site_src/index.md" in f.message


def test_extraction_and_srcset_parsing(tmp_path):
    assert srcset_urls("a.png 1x, b,c.png 2x,d.png") == ["a.png", "b,c.png", "d.png"]
    root = make_site(tmp_path, {"index.html": page('<img src="a.png" srcset="b.png 480w, c.png 960w" alt="">')})
    doc = HtmlDoc.load(root, root / "index.html")
    assert [(link.attr, link.raw) for link in extract_links(doc)] == [("src", "a.png"), ("srcset", "b.png"),
                                                                      ("srcset", "c.png")]


def test_classification():
    origin = SiteOrigin.of(SITE)
    assert origin.host == "www.example.gov.cn" and origin.prefix == "/zt/" and origin.https
    assert classify("https://WWW.EXAMPLE.GOV.CN/zt/", origin).kind == "internal"
    assert classify("https://www.gov.cn/", origin).kind == "external"
    assert classify("mailto:a@b.cn", origin).kind == "skip"
    assert classify(" \n/zt/a/\t", origin).url == "/zt/a/"


def test_element_matching_two_selector_groups_is_reported_once_per_link(tmp_path):
    root = make_site(tmp_path, {"index.html": page('<img src="gone.png" alt="x" style="background:url(bg.png)">'
                                                   '<a href="x.html" background="b.gif">x</a>')})
    assert sorted(f.target for f in run(root)) == ["b.gif", "bg.png", "gone.png", "x.html"]


def test_self_links_in_one_folder_resolve_to_each_page(tmp_path):
    root = make_site(tmp_path, {"a.html": page('<a href="?x=1#only-a">a</a><p id="only-a">a</p>'),
                                "b.html": page('<a href="?x=1#only-b">b</a><p id="only-b">b</p>')})
    assert run(root) == []


def test_insecure_follows_the_base_url_of_a_foreign_folder_manifest(tmp_path):
    root = make_site(tmp_path, {"index.html": page('<img src="http://img.gov.cn/a.png" alt="a">')})
    assert rules(run(root, {"base_url": "http://old.example.gov.cn/"}, None), "link.insecure") == []
    assert len(rules(run(root, {"base_url": "https://new.example.gov.cn/"}, None), "link.insecure")) == 1


def test_keywords_on_allowed_domains():
    policy = DomainPolicy(["gov.cn"], [])
    # a gambling page planted on a hacked government site is still found
    assert policy.judge("https://www.x.gov.cn/bocai/1.html", "www.x.gov.cn").severity == "error"
    # short words are not judged on allowed domains: an innocent path may contain them
    assert policy.judge("https://www.x.gov.cn/sex-education/", "www.x.gov.cn") is None
    assert policy.judge("https://sex.example.com/", "sex.example.com").severity == "error"


def test_plain_paths_are_classified_as_the_general_way_does():
    import random

    origin = SiteOrigin("www.example.gov.cn", "/zt/", True)
    rng = random.Random(7)
    alphabet = "aZ09._~/-:?#%\\ \t@[]" + "中"
    samples = ["../../topic-01/", "/zt/a.html", "a", "//cdn.example.com/x.js", "./", "..", "/", "~x", "-",
               "a" * MAX_URL_LENGTH, "a" * (MAX_URL_LENGTH + 1), "C:/x", "http:x", "page-1/index.html"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    for raw in samples:
        assert classify(raw, origin) == classify_any(raw, origin), raw
