"""Reports (text, JSON, JUnit, HTML) and the run store they draw the trend from."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import xml.etree.ElementTree as ET

import pytest
from selectolax.lexbor import LexborHTMLParser

from builder.checks import report, store
from builder.checks.base import CheckResult, Finding
from builder.checks.runner import CheckRun

FINDINGS = [
    Finding("link.broken", "error", "index.html", "链接指向不存在的文件", line=12, target="news/missing.html",
            context='<a href="news/missing.html">', suggestion="修改链接"),
    Finding("word.typo", "warning", "news/a.html", "疑似错别字“因该”，应为“应该”", line=30, target="因该",
            context="我们因该认真学习，因该落实", suggestion="应该"),
    Finding("word.expression", "error", "news/a.html", "严重表述错误", line=31, target="中华人明共和国",
            context="…中华人明共和国成立…", suggestion="中华人民共和国"),
    Finding("site.empty-column", "warning", "", "空白栏目 3 个"),
    Finding("mobile.tap-target", "info", "index.html", "点击区域偏小", line=None),
]


def make_run(findings=FINDINGS, pages=("index.html", "news/a.html", "news/b.html")) -> CheckRun:
    return CheckRun(root="/srv/site/public", pages=len(pages), findings=list(findings), page_list=list(pages),
                    notes=["空白栏目 5 个，达到单项否决线"])


# ---------------------------------------------------------------- JSON


def test_json_follows_the_spec_schema():
    data = json.loads(report.render_json(make_run()))
    assert set(data) == {"summary", "findings"}
    s = data["summary"]
    assert s["pages"] == 3 and s["errors"] == 2 and s["warnings"] == 2 and s["infos"] == 1
    assert s["by_rule"] == {"link.broken": 1, "mobile.tap-target": 1, "site.empty-column": 1,
                            "word.expression": 1, "word.typo": 1}
    # inspections count the home page and the other pages separately
    assert s["home_by_rule"] == {"link.broken": 1, "mobile.tap-target": 1}
    assert s["other_by_rule"]["word.typo"] == 1 and s["other_by_rule"]["link.broken"] == 0
    assert s["notes"] == ["空白栏目 5 个，达到单项否决线"]
    assert s["passed"] is False and s["fail_on"] == "error"
    for f in data["findings"]:
        assert list(f) == ["rule", "severity", "page", "line", "target", "context", "suggestion", "message",
                           "source", "source_line"]
    assert data["findings"][1]["target"] == "因该"


def test_json_passes_when_only_below_fail_on():
    data = json.loads(report.render_json(make_run([FINDINGS[1]]), "error"))
    assert data["summary"]["passed"] is True
    assert json.loads(report.render_json(make_run([FINDINGS[1]]), "warning"))["summary"]["passed"] is False


# ---------------------------------------------------------------- text


def test_text_is_grouped_by_page_site_wide_and_home_first():
    text = report.render_text(make_run(), color=False)
    assert "\x1b[" not in text
    site_at, home_at, other_at = text.index("（全站）"), text.index("index.html（首页）"), text.index("news/a.html")
    assert site_at < home_at < other_at
    assert "link.broken" in text and "→ news/missing.html" in text and "建议：应该" in text
    assert "共检查 3 个页面：2 个错误，2 个警告，1 条提示" in text
    assert "结论：未通过" in text
    assert "空白栏目 5 个" in text


def test_text_in_colour_for_a_terminal():
    text = report.render_text(make_run(), color=True)
    assert "\x1b[" in text and "错误" in text


def test_text_of_a_clean_run_says_passed():
    text = report.render_text(make_run([]), color=False)
    assert "结论：通过" in text and "0 个错误" in text


def test_text_in_english(monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    text = report.render_text(make_run(), color=False)
    assert "3 pages checked: 2 errors, 2 warnings" in text and "(site-wide)" in text


# ---------------------------------------------------------------- JUnit


def test_junit_has_one_testcase_per_page_and_parses():
    xml = report.render_junit(make_run(), seconds=1.5)
    root = ET.fromstring(xml)
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"index.html", "news/a.html", "news/b.html", "(site)"}
    # fail_on = "error": only the two pages with errors fail; warnings are output, not failures
    assert suite.get("tests") == "4" and suite.get("failures") == "2" and root.get("failures") == "2"
    assert cases["news/b.html"].find("failure") is None
    assert cases["(site)"].find("failure") is None and "空白栏目" in cases["(site)"].find("system-out").text
    failure = cases["news/a.html"].find("failure")
    assert failure.get("type") == "word.expression"
    assert "1 个错误，0 个警告" in failure.get("message")
    assert "中华人明共和国" in failure.text and "因该" not in failure.text
    assert "因该" in cases["news/a.html"].find("system-out").text
    # an info-only finding does not fail a page; it is kept as output
    assert "点击区域偏小" in cases["index.html"].find("system-out").text


def test_junit_failures_follow_fail_on():
    """Issue 9 item 15: JUnit agrees with the exit code — a run that passes has no <failure>."""
    warnings_only = make_run([FINDINGS[1], FINDINGS[3]])
    root = ET.fromstring(report.render_junit(warnings_only, fail_on="error"))
    assert root.get("failures") == "0" and not list(root.iter("failure"))
    assert not warnings_only.failed("error")
    strict = ET.fromstring(report.render_junit(warnings_only, fail_on="warning"))
    assert strict.get("failures") == "2" and len(list(strict.iter("failure"))) == 2
    assert warnings_only.failed("warning")
    lenient = ET.fromstring(report.render_junit(make_run(), fail_on="error"))
    assert {c.get("name") for c in lenient.iter("testcase") if c.find("failure") is not None} == {
        "index.html", "news/a.html"}


def test_junit_strips_control_characters_from_page_text():
    nasty = Finding("word.sensitive", "error", "p\x01.html", "敏感词\x00\x1b[31m", target="x\x0by",
                    context="before\x07after\ufffe\x7f", suggestion="\x0c")
    xml = report.render_junit(make_run([nasty], pages=["p\x01.html"]))
    root = ET.fromstring(xml)  # would raise on any illegal character
    case = root.find("testsuite/testcase")
    assert case.get("name") == "p.html"
    assert "beforeafter" in case.find("failure").text and "\x1b" not in xml


# ---------------------------------------------------------------- HTML


def _doc(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(html)


def test_html_report_is_self_contained_and_chinese():
    page = report.render_html(make_run(), generated="2026-11-24 10:00:00", seconds=2.5)
    tree = _doc(page)
    assert tree.css_first("html").attributes["lang"] == "zh-CN"
    assert "网站检查报告" in page and "未通过" in page
    assert not tree.css("link") and not tree.css("img") and not tree.css("iframe")
    assert all("src" not in s.attributes for s in tree.css("script"))
    for node in tree.css("[href], [src]"):
        raise AssertionError(f"external reference {node.html}")
    assert "@import" not in page and "url(" not in page
    csp = tree.css_first('meta[http-equiv="Content-Security-Policy"]').attributes["content"]
    assert "default-src 'none'" in csp


def test_html_report_has_tiles_chart_and_a_table_per_page():
    tree = _doc(report.render_html(make_run()))
    tiles = {t.css_first("span").text(): t.css_first("b").text() for t in tree.css(".tile")}
    assert tiles["检查页面"] == "3" and tiles["错误"] == "2" and tiles["警告"] == "2"
    assert tiles["首页问题"] == "2" and tiles["其他页面问题"] == "3"
    bars = tree.css("#chart-by-rule rect.bar")
    assert sorted(b.attributes["data-rule"] for b in bars) == sorted({f.rule for f in FINDINGS})
    pages = [s.attributes["data-page"] for s in tree.css("section.page")]
    assert pages == ["", "index.html", "news/a.html"]
    rows = tree.css('section.page[data-page="news/a.html"] tbody tr')
    assert [r.attributes["data-rule"] for r in rows] == ["word.typo", "word.expression"]
    assert tree.css_first(".notes").text().count("单项否决") >= 1
    options = [o.attributes["value"] for o in tree.css("#f-rule option")]
    assert options[0] == "" and "word.typo" in options


def test_html_report_highlights_the_matched_word_in_its_context():
    tree = _doc(report.render_html(make_run()))
    row = tree.css('tr[data-rule="word.typo"]')[0]
    assert [m.text() for m in row.css("td.ctx mark")] == ["因该", "因该"]


def test_html_report_escapes_page_text():
    evil = Finding("word.sensitive", "error", 'x"><script>alert(1)</script>.html',
                   "<img src=x onerror=alert(1)>", target="<b>词</b>",
                   context="前文<script>alert(2)</script><b>词</b>后文", suggestion="</td></tr></table>")
    page = report.render_html(make_run([evil], pages=[evil.page]))
    tree = _doc(page)
    assert len(tree.css("script")) == 1  # only the report's own filter script
    assert not tree.css("img") and "alert(1)</script>" not in page
    assert tree.css_first("td.ctx mark").text() == "<b>词</b>"
    assert tree.css_first("section.page").attributes["data-page"] == evil.page


def test_html_report_without_findings():
    tree = _doc(report.render_html(make_run([])))
    assert "没有发现问题" in tree.body.text() and not tree.css("#chart-by-rule")
    assert "通过" in tree.css_first("header").text()


def test_html_trend_chart_from_stored_runs(tmp_path):
    folder = tmp_path / "public"
    folder.mkdir()
    t0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    for i, findings in enumerate([FINDINGS, FINDINGS[:2], FINDINGS[1:2]]):
        run = make_run(findings)
        store.record_run(tmp_path / "cache", run, folder=folder, verdict="fail" if run.failed() else "pass",
                         fail_on="error", manifest_sha=None, seconds=1.0, when=t0 + dt.timedelta(days=i))
    runs = store.trend(tmp_path / "cache", folder)
    assert [r["errors"] for r in runs] == [2, 1, 0] and [r["verdict"] for r in runs] == ["fail", "fail", "pass"]
    tree = _doc(report.render_html(make_run(), trend=runs))
    assert len(tree.css("#chart-trend circle")) == 6  # errors and warnings of three runs
    assert len(tree.css("#chart-trend polyline")) == 2
    assert "2026-11-01" in tree.css_first("#chart-trend").text()


def test_html_report_in_english(monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    page = report.render_html(make_run())
    assert "Site check report" in page and '<html lang="en">' in page


# ---------------------------------------------------------------- store


def test_store_records_runs_and_answers_the_last_verdict_per_manifest(tmp_path):
    cache = tmp_path / "cache"
    folder = tmp_path / "public"
    assert store.last_verdict(cache, "abc") is None
    store.record_run(cache, make_run(), folder=folder, verdict="fail", fail_on="error", manifest_sha="abc",
                     seconds=1.2, options={"external": True})
    assert store.last_verdict(cache, "abc") == "fail"
    store.record_run(cache, make_run([]), folder=folder, verdict="pass", fail_on="error", manifest_sha="abc",
                     seconds=1.0)
    assert store.last_verdict(cache, "abc") == "pass"
    assert store.last_verdict(cache, "other") is None
    [first, second] = store.trend(cache, folder)
    assert first["by_rule"]["word.typo"] == 1 and first["options"] == {"external": True}
    assert second["pages"] == 3 and second["errors"] == 0
    assert store.trend(cache, folder, limit=1)[0]["id"] == second["id"]
    assert store.trend(cache, tmp_path / "elsewhere") == []


def test_store_rejects_an_unknown_verdict(tmp_path):
    with pytest.raises(ValueError):
        store.record_run(tmp_path, make_run(), folder=tmp_path, verdict="maybe", fail_on="error",
                         manifest_sha=None, seconds=0)


def test_corrupt_store_reads_as_never_checked(tmp_path):
    (tmp_path / store.DB_NAME).write_bytes(b"this is not a database" * 100)
    assert store.last_verdict(tmp_path, "abc") is None
    assert store.trend(tmp_path, tmp_path) == []
    with pytest.raises(sqlite3.DatabaseError):
        store.record_run(tmp_path, make_run(), folder=tmp_path, verdict="pass", fail_on="error",
                         manifest_sha=None, seconds=0)


def test_manifest_sha_is_the_sha256_of_the_manifest_file(tmp_path):
    import hashlib

    assert store.manifest_sha(tmp_path) is None
    (tmp_path / ".zhuanti").mkdir()
    (tmp_path / ".zhuanti/manifest.json").write_text('{"tool": "zhuanti"}', encoding="utf-8")
    assert store.manifest_sha(tmp_path) == hashlib.sha256(b'{"tool": "zhuanti"}').hexdigest()


def test_user_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert store.user_cache_dir() == tmp_path / "zhuanti"


def test_plain_check_result_is_reported_too():
    """Reporters take any CheckResult; without the runner's page list the pages come from findings."""
    result = CheckResult(root="x", pages=2, findings=[FINDINGS[0]])
    root = ET.fromstring(report.render_junit(result))
    assert [c.get("name") for c in root.iter("testcase")] == ["index.html"]


def test_html_counts_home_page_and_other_pages_apart():
    tree = _doc(report.render_html(make_run()))
    rows = {r.css_first("td.rule").text(deep=False): [td.text() for td in r.css("td")[1:]]
            for r in tree.css("table.by-rule tbody tr")}
    assert rows["link.broken"] == ["1", "0", "1"]
    assert rows["word.typo"] == ["0", "1", "1"]
