"""Site compliance: footer identity, page-specification meta tags, dates, columns, topics, veto notes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from builder.checks.base import Finding, HtmlDoc
from builder.checks.site import SiteCheck, compact, veto_notes
from builder.config import CheckConfig, IdentityConfig, SiteConfig

TODAY = dt.date(2026, 11, 24)
CODE = "1100000088"
ICP = "京ICP备05070602号-1"
POLICE = "京公网安备 11010202000001号"
ORG = "北京市规划和自然资源委员会"


def site_config(**identity) -> SiteConfig:
    ident = dict(site_code=CODE, icp=ICP, police_record=POLICE, organizer=ORG) | identity
    return SiteConfig(base_url="https://ghzrzyw.beijing.gov.cn/zt/", identity=IdentityConfig(**ident),
                      check=CheckConfig())


FOOTER = (f"<footer><p>主办单位：{ORG}</p><p>网站标识码：{CODE}</p>"
          f"<p><a href='https://beian.miit.gov.cn'>{ICP}</a> <a href='#'>{POLICE}</a></p></footer>")
EVERY = {"SiteName": "北京市规划和自然资源委员会", "SiteDomain": "ghzrzyw.beijing.gov.cn", "SiteIDCode": CODE}
COLUMN = EVERY | {"ColumnName": "工作动态", "ColumnDescription": "工作动态", "ColumnKeywords": "动态",
                  "ColumnType": "工作动态"}
DETAIL = EVERY | {"ArticleTitle": "关于开展调研的通知", "PubDate": "2026-11-20 09:30", "ContentSource": "办公室"}


def html(meta: dict[str, str], body: str = "<p>正文</p>", footer: str = FOOTER) -> str:
    tags = "\n".join(f'<meta name="{k}" content="{v}">' for k, v in meta.items())
    return (f"<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>页面</title>\n{tags}\n"
            f"</head>\n<body>\n{body}\n{footer}\n</body>\n</html>\n")


def doc(tmp_path: Path, text: str, rel: str = "index.html") -> HtmlDoc:
    path = tmp_path / "public" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return HtmlDoc.load(tmp_path / "public", path)


def manifest(pages=(), columns=(), topics=(), identity=None) -> dict:
    return {"schema": 1, "tool": "zhuanti", "version": "0.1.0", "built_at": "2026-11-24T10:00:00Z",
            "base_url": "https://ghzrzyw.beijing.gov.cn/zt/", "identity": identity or {},
            "files": [], "pages": list(pages), "columns": list(columns), "topics": list(topics)}


def run(tmp_path, text, rel="index.html", site=None, man=None, today=TODAY) -> list[Finding]:
    return list(SiteCheck(site, man, today=today).page(doc(tmp_path, text, rel)))


def rules(findings) -> list[str]:
    return [f.rule for f in findings]


# -- footer identity ------------------------------------------------------------------------


def test_complete_page_with_site_config_has_no_findings(tmp_path):
    assert run(tmp_path, html(EVERY), site=site_config()) == []


@pytest.mark.parametrize(("drop", "label"), [
    (f"<p>网站标识码：{CODE}</p>", "网站标识码"),
    (f"<a href='https://beian.miit.gov.cn'>{ICP}</a>", "ICP备案号"),
    (f"<a href='#'>{POLICE}</a>", "公安备案号"),
    (f"<p>主办单位：{ORG}</p>", "主办单位"),
])
def test_each_missing_footer_element_is_named(tmp_path, drop, label):
    page = html(EVERY, footer=FOOTER.replace(drop, ""))
    (f,) = run(tmp_path, page, site=site_config())
    assert (f.rule, f.severity, f.target) == ("site.identity", "error", label)
    assert label in f.message
    assert f.line == next(i for i, x in enumerate(page.split("\n"), 1) if x.startswith("<footer"))


def test_footer_value_differing_from_site_toml_is_reported_with_both_values(tmp_path):
    page = html(EVERY, footer=FOOTER.replace(ICP, "京ICP备99999999号"))
    (f,) = run(tmp_path, page, site=site_config())
    assert "京ICP备99999999号" in f.message and ICP in f.message


def test_police_record_matches_whatever_the_spacing(tmp_path):
    page = html(EVERY, footer=FOOTER.replace(POLICE, POLICE.replace(" ", "")))
    assert run(tmp_path, page, site=site_config()) == []


def test_foreign_html_footer_is_judged_by_pattern(tmp_path):
    assert run(tmp_path, html(EVERY)) == []
    bm = html(EVERY | {"SiteIDCode": "bm01000001"}, footer=FOOTER.replace(CODE, "bm01000001"))
    assert run(tmp_path, bm, rel="a.html") == []


@pytest.mark.parametrize(("old", "new", "label"), [
    (f"网站标识码：{CODE}", "网站标识码：12345", "网站标识码"),
    (ICP, "ICP备05070602号", "ICP备案号"),
    (POLICE, "京公网安备 1101020200号", "公安备案号"),
    ("主办单位：", "承办：", "主办单位"),
])
def test_foreign_html_near_misses_are_flagged(tmp_path, old, new, label):
    findings = run(tmp_path, html({}, footer=FOOTER.replace(old, new)))
    (f,) = [f for f in findings if f.rule == "site.identity"]
    assert label in f.message


def test_identity_from_the_manifest_is_used_without_a_site_config(tmp_path):
    man = manifest(identity={"site_code": CODE, "icp": "京ICP备00000001号", "police_record": POLICE, "organizer": ORG})
    (f,) = run(tmp_path, html(EVERY), man=man)
    assert f.rule == "site.identity" and "京ICP备00000001号" in f.message


def test_redirect_stubs_and_fragments_are_not_pages(tmp_path):
    stub = '<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0; url=/a/"></head></html>'
    assert run(tmp_path, stub, rel="old/index.html") == []
    assert run(tmp_path, "<div>片段</div>", rel="part.html") == []
    # minified pages may drop <html> and <body>; a title still makes it a page
    assert rules(run(tmp_path, "<title>页面</title><p>正文</p>", rel="min.html")) == ["site.identity", "site.meta"]


# -- meta tags ------------------------------------------------------------------------------


def test_every_page_needs_site_meta_tags(tmp_path):
    page = html({"SiteName": "x"})
    (f,) = run(tmp_path, page, site=site_config())
    assert (f.rule, f.severity, f.target) == ("site.meta", "error", "SiteDomain, SiteIDCode")
    assert f.line == page.split("\n").index("</head>") + 1


def test_site_id_code_must_be_valid_and_equal_the_footer_and_the_config(tmp_path):
    bad = run(tmp_path, html(EVERY | {"SiteIDCode": "abc"}), rel="a.html")
    assert [(f.rule, "abc" in f.message) for f in bad] == [("site.meta", True)]
    foreign = run(tmp_path, html(EVERY | {"SiteIDCode": "bm01000001"}), rel="b.html")
    assert [f.suggestion for f in foreign] == [CODE]  # differs from the footer's code
    configured = run(tmp_path, html(EVERY | {"SiteIDCode": "1100000099"},
                                    footer=FOOTER.replace(CODE, "1100000099")), rel="c.html", site=site_config())
    assert {f.rule for f in configured} == {"site.meta", "site.identity"}


def test_site_domain_must_match_base_url(tmp_path):
    (f,) = run(tmp_path, html(EVERY | {"SiteDomain": "www.example.com"}), site=site_config())
    assert (f.rule, f.severity, f.suggestion) == ("site.meta", "warning", "ghzrzyw.beijing.gov.cn")


def test_column_pages_need_column_meta(tmp_path):
    man = manifest(pages=[{"path": "t/news/index.html", "kind": "column", "topic": "t", "column": "news"}])
    assert run(tmp_path, html(COLUMN), rel="t/news/index.html", site=site_config(), man=man) == []
    missing = run(tmp_path, html(EVERY | {"ColumnName": "工作动态"}), rel="t/news/index.html",
                  site=site_config(), man=man)
    assert [(f.severity, f.target) for f in missing] == [("error", "ColumnType"),
                                                          ("warning", "ColumnDescription, ColumnKeywords")]
    # a home page is not a column page
    assert run(tmp_path, html(EVERY), rel="index.html", site=site_config(), man=man) == []


def test_detail_pages_need_article_meta_and_a_well_formed_pubdate(tmp_path):
    man = manifest(pages=[{"path": "t/news/a/index.html", "kind": "detail", "date": "2026-11-20 09:30"}])
    rel = "t/news/a/index.html"
    assert run(tmp_path, html(DETAIL), rel=rel, site=site_config(), man=man) == []
    (f,) = run(tmp_path, html(DETAIL | {"PubDate": "2026/11/20"}), rel=rel, site=site_config(), man=man)
    assert f.rule == "site.meta" and "YYYY-MM-DD HH:MM" in f.message
    (f,) = run(tmp_path, html(DETAIL | {"PubDate": "2026-02-30 09:30"}), rel=rel, site=site_config(), man=man)
    assert f.rule == "site.meta"
    no_source = {k: v for k, v in DETAIL.items() if k != "ContentSource"}
    (f,) = run(tmp_path, html(no_source), rel=rel, site=site_config(), man=man)
    assert f.target == "ContentSource"


def test_detail_page_without_any_date_is_no_date(tmp_path):
    undated = {k: v for k, v in DETAIL.items() if k != "PubDate"}
    rel = "t/news/a/index.html"
    man = manifest(pages=[{"path": rel, "kind": "detail", "date": None}])
    (f,) = run(tmp_path, html(undated), rel=rel, site=site_config(), man=man)
    assert (f.rule, f.severity) == ("site.no-date", "error")
    # near miss: the date is known, only the meta tag is missing
    man = manifest(pages=[{"path": rel, "kind": "detail", "date": "2026-11-20 09:30"}])
    (f,) = run(tmp_path, html(undated), rel=rel, site=site_config(), man=man)
    assert (f.rule, f.target) == ("site.meta", "PubDate")


def test_foreign_detail_page_is_recognised_by_its_meta_and_visible_date(tmp_path):
    undated = {k: v for k, v in DETAIL.items() if k != "PubDate"}
    assert rules(run(tmp_path, html(undated, body="<p>发布时间：2026年11月20日</p>"), rel="a.html")) == ["site.meta"]
    assert rules(run(tmp_path, html(undated, body="<p>没有日期</p>"), rel="b.html")) == ["site.no-date"]


def test_future_publish_date_is_a_warning(tmp_path):
    (f,) = run(tmp_path, html(DETAIL | {"PubDate": "2026-12-01 08:00"}), rel="a.html")
    assert (f.rule, f.severity) == ("site.future-date", "warning")
    assert run(tmp_path, html(DETAIL | {"PubDate": "2026-11-24 23:59"}), rel="b.html") == []


def test_foreign_column_page_saying_no_items_is_probably_empty(tmp_path):
    (f,) = run(tmp_path, html(COLUMN, body="<ul></ul><p>暂无信息</p>"), rel="news/index.html")
    assert (f.rule, f.severity, f.target) == ("site.empty-column", "warning", "工作动态")
    assert run(tmp_path, html(COLUMN, body="<ul><li>新闻</li></ul>"), rel="n2/index.html") == []


def test_malformed_and_badly_encoded_pages_do_not_crash(tmp_path):
    path = tmp_path / "public" / "bad.html"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"<html><head><meta name='SiteName' content='\xff\xfe'><body><footer>\xe4\xb8 <div <p title='x>")
    findings = list(SiteCheck(None, None, today=TODAY).page(HtmlDoc.load(tmp_path / "public", path)))
    assert {f.rule for f in findings} == {"site.identity", "site.meta"}


# -- site-wide: columns and topics ----------------------------------------------------------


def col(name, ctype, latest, pages=3, topic="t", stale_after=None) -> dict:
    return {"path": f"{topic}/{name}/index.html", "topic": topic, "name": name, "title": name, "column_type": ctype,
            "stale_after_days": stale_after, "pages": pages, "latest": latest}


def finish(man, site=None, today=TODAY) -> list[Finding]:
    return list(SiteCheck(site, man, today=today).finish())


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def test_empty_column_is_an_error_and_a_column_with_a_page_is_not(tmp_path):
    found = finish(manifest(columns=[col("empty", "工作动态", None, pages=0), col("one", "其他", None, pages=1)]))
    assert [(f.rule, f.severity, f.page) for f in found] == [("site.empty-column", "error", "t/empty/index.html")]


def test_stale_columns_by_type_and_by_stale_after():
    found = finish(manifest(columns=[
        col("news-old", "工作动态", days_ago(15)),
        col("news-ok", "工作动态", days_ago(14)),
        col("notice-old", "通知公告", days_ago(200)),
        col("notice-ok", "通知公告", days_ago(100)),
        col("policy-old", "政策文件", days_ago(184)),
        col("custom-old", "其他", days_ago(8), stale_after=7),
        col("custom-ok", "其他", days_ago(7), stale_after=7),
        col("other", "其他", days_ago(999)),
        col("undated", "工作动态", None),
    ]))
    assert [(f.rule, f.severity, f.page.split("/")[1], f.target) for f in found] == [
        ("site.stale-column", "warning", "news-old", "工作动态"),
        ("site.stale-column", "warning", "notice-old", "通知公告"),
        ("site.stale-column", "warning", "policy-old", "政策文件"),
        ("site.stale-column", "warning", "custom-old", "其他"),
        ("site.stale-column", "warning", "undated", "工作动态"),
    ]
    assert "15" in found[0].message and "14" in found[0].message


def test_stale_windows_come_from_check_config():
    site = site_config()
    site.check.news_stale_days = 30
    assert finish(manifest(columns=[col("news", "工作动态", days_ago(20))]), site=site) == []


def test_archived_topics_are_not_checked_for_freshness_but_empty_columns_still_count():
    man = manifest(columns=[col("news", "工作动态", days_ago(400)), col("empty", "工作动态", None, pages=0)],
                   topics=[{"slug": "t", "title": "专题", "start": None, "end": "2025-01-01", "archived": True}])
    assert [f.rule for f in finish(man)] == ["site.empty-column"]


def test_active_topic_past_its_end_date_is_an_error():
    man = manifest(pages=[{"path": "old/index.html", "kind": "nav", "topic": "old"}], topics=[
        {"slug": "old", "title": "旧专题", "start": "2025-01-01", "end": "2026-11-23", "archived": False},
        {"slug": "today", "title": "今天结束", "start": None, "end": TODAY.isoformat(), "archived": False},
        {"slug": "done", "title": "已归档", "start": None, "end": "2020-01-01", "archived": True},
        {"slug": "open", "title": "无结束日期", "start": None, "end": None, "archived": False},
    ])
    (f,) = finish(man)
    assert (f.rule, f.severity, f.page, f.target) == ("site.topic-ended", "error", "old/index.html", "old")
    assert "2026-11-23" in f.message


def test_foreign_html_has_no_site_wide_findings():
    assert finish(None) == []


# -- veto notes -----------------------------------------------------------------------------


def f(rule: str, target: str | None = None) -> Finding:
    return Finding(rule, "error", "x/index.html", "m", target=target)


def test_veto_notes_appear_at_the_inspection_thresholds():
    assert veto_notes([f("site.empty-column")] * 4 + [f("word.expression")] * 3) == []
    notes = veto_notes([f("site.empty-column")] * 5)
    assert len(notes) == 1 and "空白栏目 5 个" in notes[0]
    assert len(veto_notes([f("word.expression")] * 4)) == 1
    assert len(veto_notes([f("word.sensitive")])) == 1


def test_veto_notes_count_news_and_notice_columns_separately_from_all_stale_columns():
    nn = [f("site.stale-column", t) for t in ("工作动态", "通知公告", "政策文件", "要闻动态", "工作动态")]
    other = [f("site.stale-column", "其他")] * 4
    assert len(veto_notes(nn[:4] + other)) == 0
    assert len(veto_notes(nn)) == 1
    assert len(veto_notes(nn + other + [f("site.stale-column", None)])) == 2


def test_veto_notes_in_english(monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    (note,) = veto_notes([f("site.empty-column")] * 6)
    assert note.startswith("6 empty columns")


def test_compact_removes_exactly_what_the_regex_whitespace_class_matches():
    # compact() joins str.split() pieces; it must drop the same characters as re.sub(r"\s+", "", …)
    # did (full-width and no-break spaces included), and nothing else.
    every = "".join(chr(c) for c in range(0x3100) if not 0xD800 <= c < 0xE000) + "\U0001d400\u205f\ufeff"
    assert compact(every) == re.sub(r"\s+", "", every)
    assert compact("网站标识码：\u3000 11000\u00a000088\n") == "网站标识码：1100000088"
