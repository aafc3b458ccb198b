"""Issue 9, items 12 and 16: images that show nothing, a static missing-alt rule, invisible
characters and domain-less mailto: links, and findings that name their source file and line."""

from __future__ import annotations

import json

import pytest

from builder.checks.base import Finding, HtmlDoc
from builder.checks.links import LinkCheck, media_matches
from builder.checks.report import render_junit, render_text
from builder.checks.runner import CheckRun, run_checks
from builder.checks.sources import attach_sources
from builder.checks.urls import SiteOrigin, classify
from builder.cli import main
from builder.config import SiteConfig
from tests.sitefactory import md, write_site

SITE = SiteConfig(base_url="https://www.example.gov.cn/zt/")


def page(body: str) -> str:
    return ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>t</title></head>'
            f"<body>\n{body}\n</body></html>")


def check(tmp_path, body: str) -> list[Finding]:
    root = tmp_path / "public"
    root.mkdir(parents=True, exist_ok=True)
    (root / "a.html").write_text(page(body), encoding="utf-8")
    (root / "ok.jpg").write_bytes(b"x")
    lc = LinkCheck(root, None, SITE)
    return list(lc.page(HtmlDoc.load(root, root / "a.html"))) + list(lc.finish())


# ---------------------------------------------------------------- item 12

@pytest.mark.parametrize("body,needle", [
    ('<img src="" alt="空">', 'src=""'),
    ('<img src="   " alt="空格">', 'src=""'),
    ('<img alt="无地址">', "没有 src"),
    ('<picture><source media="(min-width: 800px)" srcset="ok.jpg"><img alt="宽屏才有"></picture>', "360"),
    ('<picture><source media="(max-width: 600px)" srcset="ok.jpg"><img alt="窄屏才有"></picture>', "1280"),
])
def test_an_image_that_shows_nothing_is_broken(tmp_path, body, needle):
    broken = [f for f in check(tmp_path, body) if f.rule == "link.broken"]
    assert len(broken) == 1 and broken[0].severity == "error"
    assert needle in broken[0].message or needle in (broken[0].target or "")


@pytest.mark.parametrize("body", [
    '<img src="ok.jpg" alt="有">',
    '<img srcset="ok.jpg 1x" alt="只有 srcset">',
    '<picture><source media="(min-width: 800px)" srcset="ok.jpg"><source srcset="ok.jpg"><img alt="有后备"></picture>',
    '<picture><source media="(min-width: 800px)" srcset="ok.jpg"><img src="ok.jpg" alt="img 是后备"></picture>',
    '<img data-src="ok.jpg" alt="懒加载">',
])
def test_images_that_show_something_are_fine(tmp_path, body):
    assert not [f for f in check(tmp_path, body) if f.rule == "link.broken"]


def test_media_queries_at_phone_and_desktop_width():
    assert not media_matches("(min-width: 800px)", 360) and media_matches("(min-width: 800px)", 1280)
    assert media_matches("(max-width: 40em)", 360) and not media_matches("(max-width: 40em)", 1280)
    assert media_matches("(min-width: 800px), (max-width: 400px)", 360)
    assert media_matches("(orientation: landscape)", 360)  # not judged: assumed to apply


def test_a_missing_alt_is_a_static_a11y_finding(tmp_path):
    findings = check(tmp_path, '<img src="ok.jpg">\n<img src="ok.jpg" alt="">\n<img src="ok.jpg" alt="说明">')
    alt = [f for f in findings if f.rule == "a11y.img-alt"]
    assert len(alt) == 1 and alt[0].severity == "warning" and alt[0].line == 2 and alt[0].target == "ok.jpg"
    assert "alt" in alt[0].message


def test_the_static_alt_rule_stands_aside_when_the_browser_pass_reports_it():
    static = Finding("a11y.img-alt", "warning", "a.html", "m")
    axe = Finding("a11y.image-alt", "error", "a.html", "m")
    assert attach_sources([static, axe], None, None) == [axe]
    assert attach_sources([static], None, None) == [static]


# ---------------------------------------------------------------- item 16: invisible characters, mailto

@pytest.mark.parametrize("url,code", [("news/a\u200b.html", "U+200B"), ("https://www.gov.cn/\ufeffx", "U+FEFF"),
                                      ("news/%E2%80%8Ba.html", "U+200B"), ("a\u3000.html", "U+3000")])
def test_a_url_with_an_invisible_character_says_so(url, code):
    c = classify(url, SiteOrigin("www.example.gov.cn", "/zt/", True))
    assert c.kind == "invalid" and code in c.problem and "不可见字符" in c.problem


@pytest.mark.parametrize("url,bad", [("mailto:office", True), ("mailto:office@", True), ("mailto:a@localhost", True),
                                     ("mailto:", True), ("mailto:office@gh.example.gov.cn", False),
                                     ("mailto:?subject=%E5%88%86%E4%BA%AB", False),
                                     ("mailto:a@x.gov.cn,b@y.gov.cn", False), ("mailto:a@x.gov.cn,b", True)])
def test_a_mailto_without_a_domain_is_reported(url, bad):
    c = classify(url, SiteOrigin("www.example.gov.cn", "/zt/", True))
    assert (c.kind == "invalid") is bad
    if bad:
        assert "域名" in c.problem or "地址" in c.problem


def test_invisible_and_mailto_reach_the_report(tmp_path):
    findings = check(tmp_path, '<a href="ok\u200b.jpg">图</a>\n<a href="mailto:bangongshi">写信</a>')
    broken = [f for f in findings if f.rule == "link.broken"]
    assert len(broken) == 2
    assert "U+200B" in broken[0].message and "bangongshi" in broken[1].message


# ---------------------------------------------------------------- item 16: source and line

def test_findings_on_built_pages_name_the_source_file_and_line(tmp_path, capsys):
    write_site(tmp_path, {
        "topics/demo/index.md": md("示范", "导航。"),
        "topics/demo/news/_index.md": md("新闻", column_type="工作动态"),
        "topics/demo/news/a.md": md("甲", "第一段。\n\n第二段有[坏链接](missing-page.html)。\n\n我们因该认真学习。",
                                    date="2026-01-03"),
    })
    (tmp_path / "site_src/words").mkdir(parents=True, exist_ok=True)
    (tmp_path / "site_src/words/typos.txt").write_text("因该\t应该\n", encoding="utf-8")
    assert main(["build", "--root", str(tmp_path)]) == 0
    out = tmp_path / "r.json"
    main(["check", "--root", str(tmp_path), "--format", "json", "--output", str(out)])
    data = json.loads(out.read_text(encoding="utf-8"))
    by_rule = {f["rule"]: f for f in data["findings"] if f["page"] == "demo/news/a/index.html"}
    assert by_rule["link.broken"]["source"] == "topics/demo/news/a.md"
    assert by_rule["link.broken"]["source_line"] == 8
    assert by_rule["word.typo"]["source"] == "topics/demo/news/a.md" and by_rule["word.typo"]["source_line"] == 10
    capsys.readouterr()
    main(["check", "--root", str(tmp_path)])
    text = capsys.readouterr()
    assert "topics/demo/news/a.md:8" in text.out + text.err


def test_a_data_record_names_its_row(tmp_path):
    findings = attach_sources([Finding("word.typo", "warning", "d/r1/index.html", "m", target="因该")],
                              {"pages": [{"path": "d/r1/index.html", "source": "topics/d/data.csv#row=3"}]}, tmp_path)
    assert findings[0].source == "topics/d/data.csv#row=3" and findings[0].source_line is None


def test_reports_show_the_source_first():
    f = Finding("word.typo", "warning", "a/index.html", "错别字", line=40, target="因该", source="topics/a.md",
                source_line=9)
    run = CheckRun(root="/x", pages=1, findings=[f], page_list=["a/index.html"])
    line = next(x for x in render_text(run).splitlines() if "word.typo" in x)
    assert line.strip().startswith("topics/a.md:9")
    assert "topics/a.md:9" in render_junit(run, fail_on="warning")


def test_foreign_folders_have_no_source(tmp_path):
    (tmp_path / "a.html").write_text(page('<a href="nope.html">x</a>'), encoding="utf-8")
    run = run_checks(tmp_path, site=None, manifest=None, external=False, browser=False, cache_dir=tmp_path / "c")
    assert run.findings and all(f.source is None and f.source_line is None for f in run.findings)
