"""The real-browser pass (mobile.*, a11y.*): small pages opened in Debian Chromium at 360 px."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from builder.checks.base import Finding, HtmlDoc
from builder.checks.browser import (
    CHROMIUM,
    BrowserCheck,
    axe_findings,
    merge_devices,
    open_browser,
    parse_devices,
    source_line,
    spread,
    zoom_lock,
)
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
    # 10 s: a page that waited for an unreachable external host (it never answers) would be reported as
    # timed out; the margin is for a loaded machine.
    check = BrowserCheck(site, timeout_ms=10000, elder=False)
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
        assert "360×640" in f.message and "600px" in f.message
        assert "1366" not in f.message  # fits the desktop screen
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
    check = BrowserCheck(tmp_path, pages=["hang.html", "gone.html", "ok.html"], timeout_ms=3000, elder=False)
    findings = list(check.finish())
    by_page = {f.page: f for f in findings}
    assert by_page["hang.html"].rule == "mobile.load-failed"
    assert by_page["hang.html"].message.startswith("页面在规定时间（3.0 秒）内未加载完成")
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
    check = BrowserCheck(tmp_path, max_pages=2, elder=False)  # page() never called: the folder is scanned
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


def test_missing_chromium_in_open_browser_is_a_configuration_error(tmp_path: Path, monkeypatch):
    with pytest.raises(ConfigError) as info:
        with open_browser(tmp_path, chromium=str(tmp_path / "no-chromium")):
            pass
    assert info.value.exit_code == 2
    assert "找不到 Chromium 浏览器" in info.value.message
    assert "apt-get install -y chromium" in info.value.hint


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
    assert f.message == "无障碍问题（axe 英文原文）：Users should be able to zoom"
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
    findings = list(BrowserCheck(tmp_path, url_prefix="/zt/两会/", elder=False).finish())
    assert [(f.rule, f.target) for f in findings] == [("mobile.overflow", "body > p.wide")]
    assert list(BrowserCheck(tmp_path, elder=False).finish()) == []  # served at /, the stylesheet is missing


# ---------------------------------------------------------------- devices, bad input, sampling, 适老化, pictures

DEVICE_PAGES = {
    "index.html": page("首页", '<h1>首页</h1><p><a href="wide.html" style="display:block;padding:12px">宽</a></p>'),
    # 800 px: too wide for the phones and the 768 px tablet, fits the desktop
    "wide.html": page("宽元素", '<h1>宽元素</h1>\n<div class="banner" style="width:800px">横幅</div>'),
    "zoom.html": page("禁止缩放", "<h1>禁止缩放</h1>", head=HEAD.replace(
        "initial-scale=1", "initial-scale=1, maximum-scale=1, user-scalable=no")),
    "throws.html": page("脚本出错", "<h1>脚本出错</h1>\n<script>\nnull.menu.open();\n</script>"),
    "huge.html": page("超宽表格", '<h1>超宽表格</h1>\n<table style="width:20000px"><tr><td>宽</td></tr></table>'),
    "photo.html": page("大图", '<h1>大图</h1>\n<img src="p.svg" alt="现场" width="1200" height="20">'),
    "p.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="20"><rect width="1200" height="20"/></svg>',
}


@pytest.fixture(scope="module")
def device_run(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("devices"), DEVICE_PAGES)
    check = BrowserCheck(root, timeout_ms=10000, elder=False, screenshots=True)
    findings = list(check.finish())
    return check, findings


def of(findings, rel: str, rule: str) -> list:
    return [f for f in findings if f.page == rel and f.rule == rule]


@pytest.mark.browser
@needs_chromium
class TestDevices:
    def test_too_wide_element_is_flagged_on_phones_and_not_on_the_desktop(self, device_run):
        check, findings = device_run
        by_device = check.by_device["wide.html"]
        assert set(by_device) == {"android", "iphone", "iphone-max", "tablet", "desktop"}
        assert [f.target for f in by_device["android"] if f.rule == "mobile.overflow"] == ["body > div.banner"]
        assert [f for f in by_device["desktop"] if f.rule == "mobile.overflow"] == []
        [f] = of(findings, "wide.html", "mobile.overflow")  # one finding naming every device it fails on
        assert f.message.startswith("在 360×640 安卓手机 屏幕上出现横向滚动")
        assert "375×812 iPhone" in f.message and "768×1024 平板" in f.message and "1366" not in f.message
        assert f.line == 11 and f.context.startswith('<div class="banner"')

    def test_zoom_locking_viewport_is_an_error(self, device_run):
        _, findings = device_run
        [f] = of(findings, "zoom.html", "mobile.viewport")
        assert f.severity == "error"
        assert "禁止用户放大" in f.message and f.target == "user-scalable=no" and f.line == 5
        assert not of(findings, "zoom.html", "a11y.meta-viewport")  # not counted twice

    def test_a_page_whose_script_throws_has_a_console_error(self, device_run):
        _, findings = device_run
        [f] = of(findings, "throws.html", "mobile.console-error")
        assert f.severity == "error"
        assert f.message == "页面脚本出错：TypeError: Cannot read properties of null (reading 'menu')"
        assert f.line == 12  # the line of the throwing statement in the page

    def test_a_20000px_table_is_named_and_its_screenshot_stays_small(self, device_run):
        check, findings = device_run
        [f] = of(findings, "huge.html", "mobile.overflow")
        assert f.target == "body > table" and "20000px" in f.message and "1366×768 电脑" in f.message
        shots = [s for s in check.screenshots if s.page == "huge.html"]
        assert shots and all(s.width <= 480 and len(s.jpeg) < 150_000 for s in shots)
        assert all(s.outlined == ("body > table",) for s in shots)  # the culprit outlined in red

    def test_an_image_wider_than_the_screen(self, device_run):
        _, findings = device_run
        [f] = of(findings, "photo.html", "mobile.image-width")
        assert f.target == "body > img" and "1200px" in f.message and f.line == 11

    def test_each_template_is_photographed_on_every_device(self, device_run):
        check, _ = device_run
        templates = {s.template for s in check.screenshots if s.reason == "template"}
        assert templates == {"index@0", "page@0"}
        home = sorted((s.device.width, s.width, s.height) for s in check.screenshots
                      if s.page == "index.html")
        assert home == [(360, 360, 640), (375, 375, 812), (414, 414, 896), (768, 480, 640), (1366, 480, 270)]
        assert all(s.jpeg.startswith(b"\xff\xd8") for s in check.screenshots)

    def test_the_note_says_every_page_was_checked(self, device_run):
        check, _ = device_run
        assert check.note().startswith("浏览器检查：6 个页面 × 5 种设备")
        assert check.note().endswith("；全部页面")


def test_device_list_is_parsed_and_unknown_devices_are_usage_errors():
    assert [d.width for d in parse_devices("1366, 360,android")] == [360, 1366]
    assert len(parse_devices(None)) == 5
    with pytest.raises(ConfigError) as info:
        parse_devices("360,nokia")
    assert info.value.exit_code == 2 and "未知的设备：nokia" in info.value.message
    assert "android=360" in info.value.hint


def test_sampling_keeps_n_pages_per_template_spread_over_them(tmp_path: Path):
    pages = {"index.html": page("首页", "<h1>首页</h1>")}
    for i in range(10):
        pages[f"news/{i}/index.html"] = page(f"新闻{i}", "<h1>新闻</h1>").replace("<body>", '<body class="kind-detail">')
    pages["news/index.html"] = page("列表", "<h1>列表</h1>").replace("<body>", '<body class="kind-column">')
    write_site(tmp_path, pages)
    check = BrowserCheck(tmp_path, sample=3)
    jobs, findings = check.plan(check.pages_to_check())
    assert findings == []
    chosen = [j.rel for j in jobs]
    assert chosen == ["index.html", "news/index.html", "news/0/index.html", "news/4/index.html", "news/9/index.html"]
    assert [j.rel for j in jobs if j.representative] == ["index.html", "news/index.html", "news/0/index.html"]
    assert check.selection == "抽样检查：每个模板最多 3 页，共 5/12 页（column 1/1、detail 3/10、index@0 1/1）"
    assert spread(list("abcdefghij"), 1) == ["a"]
    with pytest.raises(ConfigError):
        BrowserCheck(tmp_path, sample=0)


ELDER_HEAD = HEAD.replace("</head>", """<script>
if (new URLSearchParams(location.search).get('elder') === '1') document.documentElement.setAttribute('data-elder', '');
</script>
<style>html[data-elder] body{{font-size:20px}}
.float{{position:fixed;right:0;bottom:0;width:80px;height:80px;background:#c00;color:#fff}}
html[data-elder] .note{{font-size:14px}}html[data-elder] .float.hidden-in-elder{{display:none}}</style>
</head>""")


@pytest.mark.browser
@needs_chromium
def test_elderly_friendly_mode_is_checked_for_text_size_and_floating_boxes(tmp_path: Path):
    write_site(tmp_path, {
        "index.html": page("适老化", '<h1>适老化</h1>\n<p class="note">注：这段说明文字太小。</p>\n'
                           '<div class="float">在线咨询</div>', head=ELDER_HEAD),
        "good.html": page("合格", '<h1>合格</h1><p>正文</p><div class="float hidden-in-elder">客服</div>',
                          head=ELDER_HEAD),
        "plain.html": page("普通", "<h1>普通</h1><p>正文</p>"),
    })
    for rel, kind in (("index.html", "home"), ("good.html", "detail"), ("plain.html", "site")):
        html = (tmp_path / rel).read_text(encoding="utf-8")
        (tmp_path / rel).write_text(html.replace("<body>", f'<body class="kind-{kind}">'), encoding="utf-8")
    findings = list(BrowserCheck(tmp_path, devices=parse_devices("360"), timeout_ms=10000).finish())
    [small] = of(findings, "index.html", "mobile.elder-font-size")
    assert small.target == "body.kind-home > p.note" and "14px" in small.message and "18px" in small.message
    [floating] = of(findings, "index.html", "mobile.elder-floating")
    assert floating.target == "body.kind-home > div.float" and "position:fixed" in floating.message
    assert not [f for f in findings if f.page == "good.html"]
    [missing] = of(findings, "plain.html", "mobile.elder-mode")
    assert missing.severity == "info" and "没有进入适老化模式" in missing.message


@pytest.mark.browser
@needs_chromium
def test_without_any_elder_mode_the_check_is_skipped_with_one_notice(tmp_path: Path):
    write_site(tmp_path, {"index.html": page("首页", "<h1>首页</h1>"), "a.html": page("甲", "<h1>甲</h1>")})
    findings = list(BrowserCheck(tmp_path, devices=parse_devices("360")).finish())
    assert [(f.rule, f.severity) for f in findings] == [("mobile.elder-mode", "info")]
    assert "未检查适老化模式" in findings[0].message and "共试了 2 个页面" in findings[0].message


def test_missing_chromium_skips_the_pass_and_the_static_checks_decide(tmp_path: Path, monkeypatch, capsys):
    from builder.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("ZHUANTI_CHROMIUM", str(tmp_path / "no-chromium"))
    write_site(tmp_path / "export", {"index.html": page("首页", '<h1>首页</h1><a href="gone.html">失效</a>')})
    code = main(["check", str(tmp_path / "export"), "--browser", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1  # the broken link (a static finding) fails the run, not the missing browser
    data = json.loads(out)
    assert {f["rule"] for f in data["findings"]} >= {"link.broken"}
    assert not [f for f in data["findings"] if f["rule"].startswith(("mobile.", "a11y."))]
    assert "apt-get install chromium" in err
    [note] = [m for m in data["summary"]["messages"] if "浏览器检查已跳过" in m]
    assert "找不到 Chromium" in note
    from builder.checks import store

    [recorded] = store.trend(store.user_cache_dir(), tmp_path / "export")
    assert recorded["options"] == {"browser": False, "external": False}  # asked for, but it did not run


def test_sample_without_browser_is_a_usage_error(tmp_path: Path, capsys):
    from builder.cli import main

    write_site(tmp_path / "export", {"index.html": page("首页", "<h1>首页</h1>")})
    assert main(["check", str(tmp_path / "export"), "--sample", "3"]) == 2
    assert "--sample 和 --devices 只用于浏览器检查" in capsys.readouterr().err


@pytest.mark.browser
@needs_chromium
def test_html_report_shows_screenshots_and_reads_well_at_360px(tmp_path: Path, monkeypatch, capsys):
    from builder.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write_site(tmp_path / "export", {k: DEVICE_PAGES[k] for k in ("index.html", "wide.html", "huge.html")})
    report = tmp_path / "out" / "report.html"
    report.parent.mkdir()
    code = main(["check", str(tmp_path / "export"), "--browser", "--format", "html", "--output", str(report),
                 "--devices", "360,1366"])
    assert code == 1
    text = report.read_text(encoding="utf-8")
    assert "各模板在不同设备上的截图" in text
    with open_browser(report.parent) as browser:
        tab = browser.open("report.html")  # a 360 px phone
        assert browser.horizontal_overflow(tab) is None
        shots = tab.locator("#screenshots figure.shot img")
        assert shots.count() == 4  # two templates × two devices
        assert all(w > 50 for w in shots.evaluate_all("els => els.map(e => e.naturalWidth)"))
        outlined = tab.locator('section.page[data-page="wide.html"] figure.shot')
        assert outlined.count() >= 1
        assert "红框：body > div.banner" in outlined.first.inner_text()
        assert tab.locator('section.page[data-page="wide.html"] figure.shot img').first.evaluate(
            "e => e.complete && e.naturalWidth > 0")
        # huge.html is its template's example: its section points to that row instead of repeating it
        example = tab.locator('section.page[data-page="huge.html"]')
        assert example.locator("figure.shot").count() == 0
        assert example.locator(".shots-link a").get_attribute("href") == "#tpl-page@0"
    assert text.count("data:image/jpeg;base64,") == 4 + 1  # no picture twice: 4 template shots, wide.html at 360


def test_zoom_lock_is_read_from_the_viewport_content():
    assert zoom_lock("width=device-width, initial-scale=1") is None
    assert zoom_lock("width=device-width, user-scalable=0") == "user-scalable=0"
    assert zoom_lock("width=device-width; maximum-scale=1.0") == "maximum-scale=1.0"
    assert zoom_lock("width=device-width, maximum-scale=5") is None
    assert zoom_lock("width=device-width, maximum-scale=yes") is None  # not a number: not a lock


def test_one_problem_on_several_devices_is_one_finding_naming_them():
    phone, tablet, desk = parse_devices("360,768,1366")
    wide = Finding("mobile.overflow", "error", "a.html", "在 360×640 安卓手机 屏幕上出现横向滚动", target="table")
    advice = Finding("mobile.tap-target", "info", "a.html", "3 个可点击元素小于建议的 44×44px", target="a.x")
    merged = merge_devices([(phone, [wide, advice]), (tablet, [replace(wide, message="768"),
                                                              replace(advice, target="a.y")]), (desk, [])])
    assert [f.message for f in merged] == [
        "在 360×640 安卓手机 屏幕上出现横向滚动（768×1024 平板 上同样存在）",
        "3 个可点击元素小于建议的 44×44px（768×1024 平板 上同样存在）"]


@pytest.mark.browser
@needs_chromium
def test_the_default_theme_passes_on_every_device_and_in_its_elder_mode(tmp_path: Path):
    """The theme and the check agree: no errors or warnings, and ?elder=1 switches html.elder on."""
    from builder.build import BuildOptions, build_site
    from tests.sitefactory import BASIC
    from tests.sitefactory import write_site as write_source

    write_source(tmp_path, BASIC)
    build_site(tmp_path, BuildOptions())
    check = BrowserCheck(tmp_path / "public", sample=1, timeout_ms=10000)
    findings = list(check.finish())
    assert [(f.page, f.rule, f.message) for f in findings if f.severity != "info"] == []
    assert not [f for f in findings if f.rule == "mobile.elder-mode"]  # the mode was found and checked
    assert check._elder_pages and all(check._elder_pages.values())
    assert {"home", "nav", "column", "detail"} <= set(check.templates.values())


@pytest.mark.browser
@needs_chromium
def test_a_page_that_hangs_after_loading_runs_out_of_its_budget_and_the_run_goes_on(tmp_path: Path):
    write_site(tmp_path, {
        "late.html": page("加载后卡死", "<h1>加载后卡死</h1>"
                         "<script>addEventListener('load', () => setTimeout(() => { while (true) {} }, 0))</script>"),
        "ok.html": page("正常", "<h1>正常</h1><img src=a.png>"),
    })
    check = BrowserCheck(tmp_path, pages=["late.html", "ok.html"], devices=parse_devices("360"), timeout_ms=2000,
                         elder=False, contexts=1)
    findings = list(check.finish())
    [late] = [f for f in findings if f.page == "late.html"]
    assert late.rule == "mobile.load-failed" and late.severity == "error"
    assert late.message.startswith("页面在规定时间（12.0 秒）内未加载完成或未完成检查")
    assert [f.rule for f in findings if f.page == "ok.html"] == ["a11y.image-alt"]  # fresh tabs after the hang
