"""The real-browser pass (mobile.*, a11y.*): small pages opened in Debian Chromium at 360 px."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from builder.checks.base import HtmlDoc
from builder.checks.browser import CHROMIUM, BrowserCheck, axe_findings, open_browser, source_line
from builder.errors import ConfigError

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="needs Chromium: apt-get install -y chromium fonts-noto-cjk")

HEAD = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{margin:0;padding:8px;font:16px/1.6 sans-serif;color:#222;background:#fff}}{style}</style>
</head>
"""


def page(title: str, body: str, style: str = "", head: str = HEAD) -> str:
    return head.format(title=title, style=style) + f"<body>\n{body}\n</body>\n</html>\n"


PAGES = {
    "index.html": page("首页", """<nav><a href="wide.html" style="display:block;padding:12px">宽表格</a></nav>
<main><h1>专题首页</h1><p>欢迎访问本专题。</p></main>"""),
    "wide.html": page("宽表格", """<main><h1>统计表</h1>
<table style="width:600px"><tr><td>指标</td><td>数值</td></tr></table></main>"""),
    "fluid.html": page("流式页面", """<header><h1>流式页面</h1>
<nav><ul class="menu"><li><a href="index.html">首页</a></li><li><a href="wide.html">统计</a></li></ul></nav></header>
<main><p>这是正文，其中的<a href="index.html">行内链接</a>不算点击区域过小。</p>
<div style="overflow-x:auto"><table style="width:800px"><tr><td>很宽的表格放在可滚动的容器里</td></tr></table></div>
<img src="photo.png" alt="会议现场" width="1200" height="600" style="max-width:100%;height:auto"></main>
<footer><p>主办单位：某某委员会</p></footer>""",
                       style=".menu{display:flex;list-style:none;padding:0;margin:0}"
                             ".menu a{display:block;min-width:44px;min-height:44px;padding:10px 12px;box-sizing:border-box}"),
    # line 11 of the source holds the image without alt
    "no-alt.html": page("缺少替代文本", '<h1>图片</h1>\n<img src="photo.png">'),
    "low-contrast.html": page("对比度", '<h1>通知</h1><p style="color:#bbb">浅灰色的正文很难看清。</p>'),
    "no-viewport.html": page("无 viewport", "<h1>没有 viewport</h1><p>正文。</p>",
                             head=HEAD.replace('<meta name="viewport" content="width=device-width, '
                                               'initial-scale=1">\n', "")),
    "bad-viewport.html": page("固定宽度 viewport", "<h1>固定宽度</h1><p>正文。</p>",
                              head=HEAD.replace("width=device-width, initial-scale=1", "width=1024")),
    "small-text.html": page("小字", '<h1>小字</h1><p class="tiny">这段文字只有十像素。</p>',
                            style=".tiny{font-size:10px}"),
    "tap.html": page("点击区域", """<h1>分享</h1>
<div class="icons"><a href="index.html">微</a><a href="wide.html">信</a><a href="fluid.html">博</a></div>""",
                     style=".icons a{display:inline-block;width:16px;height:16px;overflow:hidden}"),
    "many-alt.html": page("很多图片", "<h1>图集</h1>" + "".join(f'<img src="p{i}.png">' for i in range(12))),
    "external.html": page("外部资源", """<h1>外部资源</h1>
<script src="http://10.255.255.1/never-answers.js"></script>
<script src="https://hm.baidu.com/hm.js?0123456789"></script>
<link rel="stylesheet" href="https://cdn.example.com/site.css">
<img src="https://img.example.com/banner.png" alt="横幅">
<iframe src="https://player.example.com/v/1" title="视频"></iframe>"""),
    "moved.html": page("已迁移", "<p>本页已迁移</p>",
                       head=HEAD.replace("</head>", '<meta http-equiv="refresh" content="0;url=fluid.html">\n</head>')),
    "js-moved.html": page("脚本跳转", '<script>location.replace("index.html")</script>'),
    "js-away.html": page("跳到外站", '<script>location.href = "https://www.example.com/"</script>'),
}


def write_site(root: Path, pages: dict[str, str]) -> Path:
    for rel, html in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return write_site(tmp_path_factory.mktemp("browser-site"), PAGES)


@pytest.fixture(scope="module")
def checked(site: Path) -> dict[str, list]:
    """One browser run over the whole sample site; findings grouped by page."""
    # 5 s: a page that waited for an unreachable external host would be reported as timed out.
    check = BrowserCheck(site, timeout_ms=5000)
    for rel in PAGES:
        check.page(HtmlDoc.load(site, site / rel))
    findings = list(check.finish())
    by_page: dict[str, list] = {rel: [] for rel in PAGES}
    for f in findings:
        by_page[f.page].append(f)
    by_page["__stats__"] = [check.stats]
    return by_page


def rules(findings) -> set[str]:
    return {f.rule for f in findings}


@pytest.mark.browser
@needs_chromium
class TestBrowserCheck:
    def test_fixed_width_table_overflows_a_360px_screen(self, checked):
        overflow = [f for f in checked["wide.html"] if f.rule == "mobile.overflow"]
        assert len(overflow) == 1
        f = overflow[0]
        assert f.severity == "error"
        assert f.target.endswith("table")
        assert "360px" in f.message and "600px" in f.message
        assert f.context.startswith("<table")
        assert f.line == 11  # the <table> line in the source

    def test_fluid_page_has_no_findings(self, checked):
        assert checked["fluid.html"] == []

    def test_img_without_alt_is_an_a11y_error(self, checked):
        alt = [f for f in checked["no-alt.html"] if f.rule == "a11y.image-alt"]
        assert len(alt) == 1
        assert alt[0].severity == "error"
        assert alt[0].message.startswith("图片缺少替代文本")
        assert alt[0].target == "img"
        assert alt[0].context == '<img src="photo.png">'
        assert alt[0].line == 11
        assert "dequeuniversity.com" in alt[0].suggestion

    def test_page_with_alt_and_good_contrast_has_no_a11y_errors(self, checked):
        for rel in ("index.html", "fluid.html", "small-text.html"):
            assert not [f for f in checked[rel] if f.rule.startswith("a11y.")], rel

    def test_low_contrast_text_reports_the_ratio(self, checked):
        [f] = [f for f in checked["low-contrast.html"] if f.rule == "a11y.color-contrast"]
        assert f.severity == "error"
        assert f.message.startswith("文字对比度不足：对比度 1.")
        assert "4.5:1" in f.message
        assert f.target == "p"

    def test_missing_viewport_meta(self, checked):
        [f] = [f for f in checked["no-viewport.html"] if f.rule == "mobile.viewport"]
        assert f.severity == "error"
        assert "viewport" in f.message
        assert "width=device-width" in f.suggestion
        # without a viewport the page lays out at 980px, so no overflow is claimed at 360px
        assert "mobile.overflow" not in rules(checked["no-viewport.html"])

    def test_viewport_without_device_width(self, checked):
        [f] = [f for f in checked["bad-viewport.html"] if f.rule == "mobile.viewport"]
        assert "width=1024" in f.message
        assert f.line == 5

    def test_text_below_12px(self, checked):
        [f] = [f for f in checked["small-text.html"] if f.rule == "mobile.font-size"]
        assert f.severity == "warning"
        assert "10px" in f.message and "这段文字只有十像素" in f.message
        assert f.target == "body > p.tiny"

    def test_small_crowded_tap_targets_but_not_links_in_text(self, checked):
        taps = [f for f in checked["tap.html"] if f.rule == "mobile.tap-target"]
        assert {f.target for f in taps if f.severity == "warning"} == {
            f"body > div.icons > a:nth-of-type({i})" for i in (1, 2, 3)}
        assert all("16×16px" in f.message for f in taps)
        # the inline link inside the paragraph of fluid.html is exempt, the 44px menu links too
        assert "mobile.tap-target" not in rules(checked["fluid.html"])

    def test_findings_per_rule_are_capped_per_page(self, checked):
        alts = [f for f in checked["many-alt.html"] if f.rule == "a11y.image-alt"]
        assert len(alts) == 11
        assert alts[-1].message == "另有 2 处同类问题未逐一列出"

    def test_external_resources_are_blocked_and_do_not_hang(self, checked):
        assert checked["external.html"] == []  # loaded, checked, nothing timed out

    def test_a_page_that_redirects_is_not_blamed_for_its_target(self, checked):
        assert [(f.rule, f.severity, f.target) for f in checked["moved.html"]] == [
            ("mobile.redirect", "info", "fluid.html")]
        assert [(f.rule, f.target) for f in checked["js-moved.html"]] == [("mobile.redirect", "index.html")]
        assert [(f.rule, f.target) for f in checked["js-away.html"]] == [
            ("mobile.redirect", "https://www.example.com/")]

    def test_every_page_was_checked_and_timed(self, checked):
        [stats] = checked["__stats__"]
        assert stats["pages"] == len(PAGES)
        assert stats["ms_per_page"] > 0


@pytest.mark.browser
@needs_chromium
def test_external_requests_never_reach_the_network(site: Path):
    failed: dict[str, str] = {}
    with open_browser(site, timeout_ms=5000) as browser:
        context = browser.new_context()
        tab = context.new_page()
        tab.on("requestfailed", lambda r: failed.__setitem__(r.url, r.failure))
        tab.goto(browser.base_url + "external.html", wait_until="load")
        context.close()
    assert failed["http://10.255.255.1/never-answers.js"].startswith("net::ERR_BLOCKED_BY_CLIENT")
    assert failed["https://img.example.com/banner.png"].startswith("net::ERR_BLOCKED_BY_CLIENT")
    assert all(not url.startswith(browser.base_url) for url in failed)


@pytest.mark.browser
@needs_chromium
def test_a_hanging_or_missing_page_is_a_finding_and_the_run_goes_on(tmp_path: Path):
    write_site(tmp_path, {
        "hang.html": page("死循环", "<h1>死循环</h1><script>while (true) {}</script>"),
        "ok.html": page("正常", "<h1>正常</h1><img src=a.png>"),
    })
    check = BrowserCheck(tmp_path, pages=["hang.html", "gone.html", "ok.html"], timeout_ms=1500)
    findings = list(check.finish())
    by_page = {f.page: f for f in findings}
    assert by_page["hang.html"].rule == "mobile.load-failed"
    assert by_page["hang.html"].message.startswith("页面在规定时间内未加载完成")
    assert by_page["gone.html"].rule == "mobile.load-failed"
    assert by_page["gone.html"].message == "页面无法打开：HTTP 404"
    assert by_page["ok.html"].rule == "a11y.image-alt"  # checked after the hung page was dropped


@pytest.mark.browser
@needs_chromium
def test_page_cap_checks_home_first_and_reports_the_rest(tmp_path: Path):
    write_site(tmp_path, {
        "index.html": page("首页", "<h1>首页</h1>"),
        "a/deep/page.html": page("深层", "<h1>深层</h1>"),
        "news/1.html": page("新闻", "<h1>新闻</h1>"),
        ".zhuanti/report.html": page("内部", "<h1>内部</h1>"),
    })
    check = BrowserCheck(tmp_path, max_pages=2)  # page() never called: the folder is scanned
    assert check.pages_to_check() == ["index.html", "news/1.html", "a/deep/page.html"]
    findings = list(check.finish())
    assert [(f.rule, f.severity, f.page) for f in findings] == [
        ("mobile.pages-capped", "info", "a/deep/page.html")]
    assert "前 2 个页面" in findings[0].message and "另有 1 个" in findings[0].message
    assert check.stats["pages"] == 2
    assert "每页" in check.note()


def test_recorded_pages_are_the_ones_checked(tmp_path: Path):
    write_site(tmp_path, {"index.html": page("首页", "<h1>首页</h1>"), "b.html": page("乙", "<h1>乙</h1>")})
    check = BrowserCheck(tmp_path)
    assert list(check.page(HtmlDoc.load(tmp_path, tmp_path / "b.html"))) == []
    assert check.pages_to_check() == ["b.html"]
    assert BrowserCheck(tmp_path, pages=["index.html"]).pages_to_check() == ["index.html"]


def test_missing_chromium_is_a_configuration_error(tmp_path: Path, monkeypatch):
    write_site(tmp_path, {"index.html": page("首页", "<h1>首页</h1>")})
    check = BrowserCheck(tmp_path, chromium=str(tmp_path / "no-chromium"))
    with pytest.raises(ConfigError) as info:
        list(check.finish())
    assert info.value.exit_code == 2
    assert "找不到 Chromium 浏览器" in info.value.message
    assert "apt-get install -y chromium" in info.value.hint

    monkeypatch.setenv("ZHUANTI_LANG", "en")
    with pytest.raises(ConfigError) as info:
        list(BrowserCheck(tmp_path, chromium=str(tmp_path / "no-chromium")).finish())
    assert info.value.message.startswith("Chromium not found at")
    assert "apt-get install -y chromium" in str(info.value)


@pytest.mark.browser
@needs_chromium
def test_open_browser_screenshots_a_page_as_a_phone_shows_it(site: Path, tmp_path: Path):
    with open_browser(site) as browser:
        shot = browser.screenshot("fluid.html", tmp_path / "fluid.png")
        wide = browser.open("wide.html")
        overflow = browser.horizontal_overflow(wide)
        fluid = browser.open("fluid.html")
        assert browser.horizontal_overflow(fluid) is None
        desktop = browser.open("wide.html", width=1280, height=800, mobile=False)
        assert browser.horizontal_overflow(desktop) is None
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])  # PNG IHDR
    assert width == 360 * 3 and height >= 640 * 3
    assert overflow["clientWidth"] == 360 and overflow["scrollWidth"] > 600
    assert overflow["widest"]["path"] == "body > main > table"


def test_axe_impact_decides_the_severity_and_english_texts_stay_english(monkeypatch):
    violation = {"id": "meta-viewport-large", "impact": "minor", "help": "Users should be able to zoom",
                 "helpUrl": "https://dequeuniversity.com/rules/axe/4.12/meta-viewport-large",
                 "nodes": [{"target": ["meta"], "html": '<meta name="viewport" content="maximum-scale=1.5">',
                            "failureSummary": "Fix any of the following:\n  zooming limited"}]}
    [f] = axe_findings("a.html", [violation], '<head>\n<meta name="viewport" content="maximum-scale=1.5">')
    assert (f.rule, f.severity, f.line, f.target) == ("a11y.meta-viewport-large", "warning", 2, "meta")
    assert f.message == "无障碍问题：Users should be able to zoom"
    assert f.suggestion.startswith("Fix any of the following: zooming limited https://")
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    [f] = axe_findings("a.html", [dict(violation, id="image-alt", impact="critical")])
    assert (f.severity, f.message) == ("error", "Users should be able to zoom")


def test_source_line_finds_the_element_the_browser_serialised():
    source = '<body>\n<p>x</p>\n<img alt="" src=\'a.png\'>\n<a id="more" href="b.html">更多</a>'
    assert source_line(source, '<a id="more" href="b.html">更多</a>') == 4
    assert source_line(source, '<img alt="" src="a.png">') is None  # attribute quoting differs
    assert source_line(source, None) is None


@pytest.mark.browser
@needs_chromium
def test_an_export_with_root_absolute_urls_is_served_under_its_prefix(tmp_path: Path):
    write_site(tmp_path, {
        "index.html": page("专题", '<h1>专题</h1><img src="/zt/两会/logo.svg" alt="标志"><p class="wide">宽</p>',
                           head=HEAD.replace("</head>", '<link rel="stylesheet" href="/zt/两会/site.css">\n</head>')),
        "site.css": ".wide{width:700px}",
        "logo.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    })
    # The stylesheet is found under the prefix: its fixed width makes the page overflow.
    findings = list(BrowserCheck(tmp_path, url_prefix="/zt/两会/").finish())
    assert [(f.rule, f.target) for f in findings] == [("mobile.overflow", "body > p.wide")]
    assert list(BrowserCheck(tmp_path).finish()) == []  # served at /, the stylesheet is missing
