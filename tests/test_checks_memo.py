"""What the checks remember from page to page (to check 10,000 pages in seconds) never changes a
finding: each memoised path is compared with the same check run without the memory."""

from __future__ import annotations

import posixpath
import re

import pytest

from builder.checks import hidden, links
from builder.checks.base import HtmlDoc
from builder.checks.hidden import HiddenLinkCheck, local_attributes
from builder.checks.links import LinkCheck
from builder.config import SiteConfig

SITE = SiteConfig(base_url="https://www.example.gov.cn/")
BAD = "https://casino-win.example.com/"

CSS = """
.menu[data-state="closed"] a { display: none }
li:first-child > a.ext { visibility: hidden }
p + div a { font-size: 0 }
.QUIET a { opacity: 0 }
.box a { color: #fff } .box { background: #fff }
.box[data-dark] { background: #000 }
[hidden] { display: none !important }
:root .note:not(.shown) a { position: absolute; left: -9999px }
body * { color: #333 }
"""

BODIES = [
    f'<div class="menu" data-state="closed"><a href="{BAD}">x</a></div>',
    f'<div class="menu" data-state="open"><a href="{BAD}">x</a></div>',
    f'<ul><li><a class="ext" href="{BAD}">1</a></li><li><a class="ext" href="{BAD}">2</a></li></ul>',
    f'<ul><li><span>0</span></li><li><a class="ext" href="{BAD}">2</a></li></ul>',
    f'<p>x</p><div><a href="{BAD}">y</a></div>',
    f'<h2>x</h2><div><a href="{BAD}">y</a></div>',
    f'<div class="quiet"><a href="{BAD}">x</a></div>',
    f'<div class="box"><a href="{BAD}">x</a></div>',
    f'<div class="box" data-dark><a href="{BAD}">x</a></div>',
    f'<div class="note"><a href="{BAD}">x</a></div>',
    f'<div class="note shown"><a href="{BAD}">x</a></div>',
    f'<section hidden><a href="{BAD}">x</a></section>',
    f'<section><a href="{BAD}" style="display:none">x</a></section>',
]


def write_pages(root, doctype: str) -> list:
    (root / "s.css").parent.mkdir(parents=True, exist_ok=True)
    (root / "s.css").write_text(CSS, encoding="utf-8")
    paths = []
    for round_ in range(2):  # the second round finds every signature remembered
        for i, body in enumerate(BODIES):
            path = root / f"{doctype and 'std' or 'quirks'}-{round_}-{i}.html"
            path.write_text(f'{doctype}<html><head><link rel="stylesheet" href="s.css"></head><body>{body}'
                            "</body></html>", encoding="utf-8")
            paths.append(path)
    return paths


@pytest.mark.parametrize("doctype", ["<!doctype html>", "<!DOCTYPE HTML>\n", ""])
def test_remembered_cascade_gives_the_findings_of_a_fresh_one(tmp_path, monkeypatch, doctype):
    paths = write_pages(tmp_path, doctype)
    shared = HiddenLinkCheck(SITE)
    remembered = [list(shared.page(HtmlDoc.load(tmp_path, p))) for p in paths]
    monkeypatch.setattr(hidden, "_STANDARDS_MODE", re.compile("(?!)"))  # never the index
    fresh = [list(HiddenLinkCheck(SITE).page(HtmlDoc.load(tmp_path, p))) for p in paths]
    assert remembered == fresh
    hits = {p.name.split("-", 2)[2]: len(f) for p, f in zip(paths, fresh, strict=True)}
    # The cases really differ (so the memory had something to get wrong): which pages hide the link.
    assert hits["0.html"] == 1 and hits["1.html"] == 0  # data-state is part of the signature
    assert hits["2.html"] == 1 and hits["3.html"] == 0  # :first-child is matched on every page
    assert hits["4.html"] == 1 and hits["5.html"] == 0  # so is the sibling combinator
    assert hits["7.html"] == 1 and hits["8.html"] == 0  # white on white, not white on black
    assert hits["9.html"] == 1 and hits["10.html"] == 0  # :not() of a class
    assert hits["11.html"] == 1 and hits["12.html"] == 1
    # Quirks mode matches class names in any case (.QUIET matches class="quiet"); standards mode does not.
    assert hits["6.html"] == (0 if doctype else 1)


@pytest.mark.parametrize("selector,attrs", [
    (":root", set()), ("body *", set()), (".a > .b p", set()), ("[hidden]", {"hidden"}),
    ('a[aria-current="page"]', {"aria-current"}), ('[data-x="a b"] .c', {"data-x"}),
    (".x:not(.y)", set()), ("[lang|=en] p", {"lang"}), ("[class~=x]", {"class"}),
    (".a + .b", None), (".a ~ .b", None), ("li:first-child a", None), ("a:nth-child(2n+1)", None),
    (":has(a)", None), ("svg|a", None), (".a\\:b", None), ("p:empty", None), ("a:link", None),
])
def test_which_selectors_depend_on_ancestors_only(selector, attrs):
    got = local_attributes(selector)
    assert (None if got is None else set(got)) == attrs


@pytest.mark.parametrize("folder,path", [
    ("a/b/c", "../x/"), ("a/b/c", "../../x/y.html"), ("a/b/c", "../../../x"), ("a/b/c", "../../../../x"),
    ("a/b/c", "../../"), ("a/b", "../.."), ("a/b", "../../.."), ("a/b", "../x/../y"), ("a/b", "../x/./y"),
    ("a/b", "../x//y"), ("a/b", "../%2E%2E/y"), ("a/b", "../x/.."), ("a/b", "../x/."), ("a/b", ".././x"),
    ("a", "../"), ("a", "../.x/..y"), ("a/b", "x/y"),
])
def test_climbing_a_relative_link_joins_as_before(folder, path):
    up, rest = links._climbing(path)
    above = links.ancestors(folder)
    base = above[up] if up and up < len(above) else folder
    if base == folder:
        rest = path
    assert rest  # "" would mean "this page"
    assert posixpath.normpath(posixpath.join(base, rest)) == posixpath.normpath(posixpath.join(folder, path))
    assert rest.endswith("/") == path.endswith("/")


def test_links_from_many_folders_share_memo_entries_and_findings(tmp_path):
    root = tmp_path / "public"
    for topic in ("t1", "t2"):
        for n in range(3):
            page = root / topic / f"p{n}" / "index.html"
            page.parent.mkdir(parents=True)
            page.write_text(f'<!doctype html><p><a href="../../t1/">t1</a><a href="../../t3/">gone</a>'
                            f'<a href="../p{n + 1}/">next</a><a href="../../../x/">out</a>'
                            f'<a href="../../t2/%70{n}/">enc</a></p>', encoding="utf-8")
    (root / "t1" / "index.html").write_text("<!doctype html><p>t1</p>", encoding="utf-8")
    check = LinkCheck(root, None, SITE)
    found = []
    for page in sorted(root.rglob("p*/index.html")):
        found += [(f.page, f.rule, f.target) for f in check.page(HtmlDoc.load(root, page))]
    # ../../t1/ and ../../t3/ from six folders: one memo entry each
    assert sum(1 for key in check._resolved if key[1] in ("t1/", "t3/")) == 2
    broken = sorted((page, target) for page, rule, target in found if rule == "link.broken")
    assert broken == sorted(
        [(f"{t}/p{n}/index.html", "../../t3/") for t in ("t1", "t2") for n in range(3)]
        + [(f"{t}/p2/index.html", "../p3/") for t in ("t1", "t2")]
        + [(f"{t}/p{n}/index.html", "../../../x/") for t in ("t1", "t2") for n in range(3)])


def test_quirks_mode_pages_are_not_given_what_standards_pages_matched(tmp_path):
    css = tmp_path / "s.css"
    css.write_text(".QUIET a { opacity: 0 }", encoding="utf-8")
    body = f'<html><head><link rel="stylesheet" href="s.css"></head><body><div class="quiet"><a href="{BAD}">x</a>'
    (tmp_path / "a.html").write_text("<!doctype html>" + body, encoding="utf-8")
    (tmp_path / "b.html").write_text(body, encoding="utf-8")
    check = HiddenLinkCheck(SITE)
    found = [len(list(check.page(HtmlDoc.load(tmp_path, tmp_path / name)))) for name in ("a.html", "b.html")]
    assert found == [0, 1]


def test_blank_link_characters_are_those_of_the_pattern():
    every = "".join(map(chr, range(0x110000)))
    assert sorted(links._BLANK_CHARS) == sorted(c for c in every if links._BLANK.fullmatch(c))


@pytest.mark.parametrize("markup", [
    '<a href="x" style="color:red">t</a>', '<a href="x">t</a>', '<a href="x"></a>', '<a href="x">t<!--c--></a>',
    '<a href="x"><font color="red">t</font></a>', '<a href="x">t<span style="color:red">u</span></a>',
    '<a href="x" style="">t</a>',
])
def test_colour_carriers_of_a_link_are_those_the_selector_finds(markup):
    from selectolax.lexbor import LexborHTMLParser

    node = LexborHTMLParser(markup).css_first("a")
    assert [n.mem_id for n in hidden._colour_carriers(node)] == [n.mem_id for n in node.css("font[color],[style]")]


def test_plain_text_report_is_what_rich_prints(monkeypatch):
    from builder.checks import report
    from builder.checks.base import CheckResult, Finding

    odd = ["tab\there", "cr\rx", "bell\x07", "esc\x1b[31m", "[bold]markup[/]", ":smile:", "全角　空格  ", "nul\x00",
           "x" * 300, "line\nbreak", "\u2028", "back\x08space"]
    findings = [Finding("word.typo", "warning", f"p{i}.html", f"消息 {s}", line=i, target=s, context=f"上下文 {s}",
                        suggestion=s, source="topics/a.md" if i % 2 else None, source_line=i)
                for i, s in enumerate(odd)]
    findings.append(Finding("site.identity", "error", "", "全站", suggestion=None))
    result = CheckResult(root="x", pages=3, findings=findings)
    fast = report.render_text(result, color=False, width=100)
    monkeypatch.setattr(report, "_RICH_REWRITES", re.compile(""))  # every line through rich
    assert fast == report.render_text(result, color=False, width=100)


def test_stylesheets_found_from_every_depth_as_before(tmp_path, monkeypatch):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "s.css").write_text(".x a { display: none } body { background: #fff }", encoding="utf-8")
    pages = {"a/p.html": "../css/s.css", "a/b/p.html": "../../css/s.css", "a/b/q.html": "../css/s.css",
             "a/b/r.html": "/css/s.css", "a/b/c/p.html": "../../../css/s.css", "a/b/c/q.html": "../../../../css/s.css",
             "a/b/c/r.html": "../../%2E%2E/css/s.css", "p.html": "css/s.css"}
    for rel, href in pages.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'<!doctype html><link rel="stylesheet" href="{href}"><div class="x"><a href="{BAD}">x</a>'
                        f'</div><p><a href="{BAD}" style="color:#fff">y</a></p>', encoding="utf-8")
    shared = HiddenLinkCheck(SITE)
    remembered = [list(shared.page(HtmlDoc.load(tmp_path, tmp_path / rel))) for rel in pages]
    fresh = [list(HiddenLinkCheck(SITE).page(HtmlDoc.load(tmp_path, tmp_path / rel))) for rel in pages]
    assert remembered == fresh
    assert [len(f) for f in fresh] == [2, 2, 0, 2, 2, 0, 2, 2]  # the sheet found (white on white too), or not


def test_selectors_lexbor_cannot_read_are_skipped_with_or_without_the_memory(tmp_path):
    css = "div >> a { display: none } .box a:bogus { display: none } .box a { visibility: hidden }"
    (tmp_path / "s.css").write_text(css, encoding="utf-8")
    for name in ("a.html", "b.html"):
        (tmp_path / name).write_text(f'<!doctype html><link rel="stylesheet" href="s.css"><div class="box">'
                                     f'<a href="{BAD}">x</a></div>', encoding="utf-8")
    check = HiddenLinkCheck(SITE)
    found = [list(check.page(HtmlDoc.load(tmp_path, tmp_path / n))) for n in ("a.html", "b.html")]
    # the unreadable rules (display:none) are ignored; the readable one hides the link on both pages
    assert [[(f.context, "visibility:hidden" in f.message) for f in page] for page in found] == [[("<a>", True)]] * 2
