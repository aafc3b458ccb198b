"""`zhuanti check` end to end: folder choice, formats, exit codes, the run record and the gate."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from builder.checks import store
from builder.checks.browser import CHROMIUM, open_browser
from builder.cli import main
from builder.manifest import dump_manifest
from tests.sitefactory import write_site

HEAD = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="SiteName" content="测试委员会专题网站">
<meta name="SiteDomain" content="www.example.gov.cn">
<meta name="SiteIDCode" content="1100000088">
<title>{title}</title>
</head>
"""
FOOTER = """<footer>
<p>主办单位：测试市规划和自然资源委员会</p>
<p>网站标识码：1100000088 京ICP备12345678号 京公网安备 11000000000000号</p>
</footer>"""


def page(title: str, body: str) -> str:
    return HEAD.format(title=title) + f"<body>\n<h1>{title}</h1>\n{body}\n{FOOTER}\n</body>\n</html>\n"


CLEAN = {
    "index.html": page("首页", '<p><a href="news/index.html">工作动态</a></p>'),
    "news/index.html": page("工作动态", '<p><a href="../index.html">返回首页</a></p>'),
}
BROKEN = {
    **CLEAN,
    "news/a.html": page("新闻", '<p>正文<a href="missing.html">失效链接</a></p>'),
}


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch) -> Path:
    """Foreign folders record their runs under the user's cache: keep that inside tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "zhuanti"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def site_with_public(root: Path, public: dict[str, str], site_toml_extra: str = "") -> Path:
    from tests.sitefactory import SITE_TOML

    write_site(root, {}, site_toml=SITE_TOML + site_toml_extra)
    write(root / "public", public)
    manifest = {"schema": 1, "tool": "zhuanti", "version": "0.1.0", "built_at": "2026-11-24T10:00:00Z",
                "base_url": "https://www.example.gov.cn/zhuanti/", "files": [], "pages": [], "columns": [],
                "topics": []}
    write(root / "public", {".zhuanti/manifest.json": dump_manifest(manifest)})
    return root


# ---------------------------------------------------------------- bad usage


def test_nonexistent_path_is_bad_usage(tmp_path, capsys):
    code, out, err = run(capsys, "check", str(tmp_path / "nowhere"))
    assert code == 2
    assert "要检查的目录不存在" in err and "nowhere" in err and out == ""


def test_a_file_instead_of_a_folder_is_bad_usage(tmp_path, capsys):
    write(tmp_path, {"index.html": page("首页", "")})
    code, _, err = run(capsys, "check", str(tmp_path / "index.html"))
    assert code == 2 and "不是目录" in err and str(tmp_path) in err


def test_no_path_outside_a_site_says_what_to_do(tmp_path, capsys):
    code, _, err = run(capsys, "--root", str(tmp_path), "check")
    assert code == 2
    assert "不是 zhuanti 站点" in err and "zhuanti check" in err


def test_no_path_in_an_unbuilt_site_says_build_first(tmp_path, capsys):
    write_site(tmp_path, {})
    code, _, err = run(capsys, "--root", str(tmp_path), "check")
    assert code == 2 and "zhuanti build" in err and "public" in err


def test_bad_jobs_and_output_are_bad_usage(tmp_path, capsys):
    write(tmp_path / "site", CLEAN)
    code, _, err = run(capsys, "check", str(tmp_path / "site"), "--jobs", "0")
    assert code == 2 and "--jobs" in err
    code, _, err = run(capsys, "check", str(tmp_path / "site"), "--output", str(tmp_path / "no/such/dir/r.json"))
    assert code == 2 and "--output" in err


def test_bad_usage_in_english(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "zh")
    code, _, err = run(capsys, "--lang", "en", "check", str(tmp_path / "nowhere"))
    assert code == 2 and "the folder to check does not exist" in err


# ---------------------------------------------------------------- foreign folders


def test_empty_folder_is_clean_with_a_clear_message(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, out, err = run(capsys, "check", str(tmp_path / "empty"), "--format", "json")
    assert code == 0
    assert json.loads(out)["summary"]["pages"] == 0
    assert "没有找到网页" in err and "0 个页面" in err


def test_clean_foreign_folder_passes(tmp_path, capsys):
    write(tmp_path / "export", CLEAN)
    code, out, err = run(capsys, "check", str(tmp_path / "export"))
    assert code == 0, out
    assert "结论：通过" in out
    assert "检查完成：2 个页面，0 个错误" in err


def test_broken_link_fails_with_json_in_the_spec_schema(tmp_path, capsys):
    write(tmp_path / "export", BROKEN)
    code, out, err = run(capsys, "check", str(tmp_path / "export"), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["summary"]["pages"] == 3 and data["summary"]["errors"] >= 1
    [broken] = [f for f in data["findings"] if f["rule"] == "link.broken"]
    assert broken["page"] == "news/a.html" and broken["target"] == "missing.html" and broken["line"] == 13
    assert set(broken) == {"rule", "severity", "page", "line", "target", "context", "suggestion", "message",
                           "source", "source_line"}
    assert "未通过" in err


def test_bad_pages_are_findings_and_the_rest_is_checked(tmp_path, capsys):
    write(tmp_path / "export", {
        **BROKEN,
        "photo.html": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        "broken-enc.html": page("乱码", "<p>正文</p>").encode("utf-8").replace("正文".encode(), b"\xff\xfe"),
        "unclosed.html": HEAD.format(title="未闭合") + "<body><div><p>没有闭合<table><tr><td>" + FOOTER,
    })
    code, out, _ = run(capsys, "check", str(tmp_path / "export"), "--format", "json")
    assert code == 1
    data = json.loads(out)
    rules = {(f["rule"], f["page"]) for f in data["findings"]}
    assert ("check.unreadable", "photo.html") in rules
    assert ("check.encoding", "broken-enc.html") in rules
    assert ("link.broken", "news/a.html") in rules
    assert not any(f["rule"] == "check.internal-error" for f in data["findings"])
    assert data["summary"]["pages"] == 6


def test_junit_output_to_a_file(tmp_path, capsys):
    write(tmp_path / "export", BROKEN)
    report = tmp_path / "junit.xml"
    code, out, err = run(capsys, "check", str(tmp_path / "export"), "--format", "junit", "--output", str(report))
    assert code == 1 and out == "" and str(report) in err
    cases = {c.get("name"): c for c in ET.parse(report).getroot().iter("testcase")}
    assert set(cases) == {"index.html", "news/index.html", "news/a.html"}
    assert cases["news/a.html"].find("failure") is not None and cases["index.html"].find("failure") is None


def test_text_report_to_a_file_is_plain(tmp_path, capsys):
    write(tmp_path / "export", BROKEN)
    report = tmp_path / "report.txt"
    code, _, _ = run(capsys, "check", str(tmp_path / "export"), "--output", str(report))
    text = report.read_text(encoding="utf-8")
    assert code == 1 and "\x1b[" not in text
    assert "news/a.html" in text and "link.broken" in text and "→ missing.html" in text


def test_html_report_goes_to_the_cache_and_its_path_is_printed(tmp_path, capsys, user_cache):
    write(tmp_path / "export", BROKEN)
    code, out, _ = run(capsys, "check", str(tmp_path / "export"), "--format", "html")
    assert code == 1
    path = Path(out.strip())
    assert path.parent == user_cache / "reports" and path.name.startswith("check-") and path.suffix == ".html"
    html = path.read_text(encoding="utf-8")
    assert 'id="chart-by-rule"' in html and "missing.html" in html
    # a second run lands in a new file and the trend shows both runs
    code, out2, _ = run(capsys, "check", str(tmp_path / "export"), "--format", "html")
    assert Path(out2.strip()) != path
    assert Path(out2.strip()).read_text(encoding="utf-8").count("<circle") == 4


def test_foreign_runs_are_recorded_in_the_user_cache(tmp_path, capsys, user_cache):
    write(tmp_path / "export", CLEAN)
    run(capsys, "check", str(tmp_path / "export"))
    [entry] = store.trend(user_cache, tmp_path / "export")
    assert entry["verdict"] == "pass" and entry["pages"] == 2 and entry["manifest_sha"] is None
    assert not (tmp_path / "export" / ".zhuanti-cache").exists()


def test_unwritable_store_only_warns(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocker"))
    (tmp_path / "blocker").write_text("a file where the cache folder should be")
    write(tmp_path / "export", CLEAN)
    code, out, err = run(capsys, "check", str(tmp_path / "export"))
    assert code == 0 and "无法记录本次检查结果" in err and "结论：通过" in out


# ---------------------------------------------------------------- site mode and the gate


def test_site_mode_checks_public_and_records_the_verdict_against_the_manifest(tmp_path, capsys):
    root = site_with_public(tmp_path / "site", BROKEN)
    code, out, _ = run(capsys, "--root", str(root), "check", "--format", "json")
    assert code == 1
    assert json.loads(out)["summary"]["pages"] == 3
    sha = store.manifest_sha(root / "public")
    assert sha and store.last_verdict(root / ".zhuanti-cache", sha) == "fail"

    # fixed and checked again: the same build manifest now passes the gate
    (root / "public/news/a.html").unlink()
    code, _, _ = run(capsys, "--root", str(root), "check", "--format", "json")
    assert code == 0
    assert store.last_verdict(root / ".zhuanti-cache", sha) == "pass"
    assert [r["verdict"] for r in store.trend(root / ".zhuanti-cache", root / "public")] == ["fail", "pass"]


def test_site_fail_on_warning_fails_on_a_warning(tmp_path, capsys):
    extra = '\n[check]\nfail_on = "warning"\nallowed_domains = ["gov.cn"]\n'
    outside = page("外链", '<p><a href="https://www.example.com/">外部网站</a></p>')
    root = site_with_public(tmp_path / "site", {**CLEAN, "out.html": outside}, extra)
    code, out, _ = run(capsys, "--root", str(root), "check", "--format", "json")
    data = json.loads(out)
    assert data["summary"]["errors"] == 0 and data["summary"]["warnings"] >= 1
    assert any(f["rule"] == "link.external-domain" for f in data["findings"])
    assert code == 1 and data["summary"]["fail_on"] == "warning"

    # the same folder checked as a foreign export uses the default policy (fail on errors only)
    code, _, _ = run(capsys, "check", str(root / "public"), "--root", str(tmp_path))
    assert code == 0


def test_explicit_path_inside_the_site_uses_the_site_policy(tmp_path, capsys, user_cache):
    root = site_with_public(tmp_path / "site", CLEAN)
    code, _, _ = run(capsys, "--root", str(root), "check", str(root / "public"))
    assert code == 0
    assert (root / ".zhuanti-cache" / store.DB_NAME).is_file()
    assert not (user_cache / store.DB_NAME).exists()


def test_built_sample_site_is_checked_end_to_end(tmp_path, capsys):
    """A real build, then `zhuanti check`: the verdict is recorded against the build's manifest."""
    from tests.sitefactory import BASIC

    root = write_site(tmp_path / "site", BASIC)
    assert main(["--root", str(root), "build"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "--root", str(root), "check", "--format", "json")
    data = json.loads(out)
    assert data["summary"]["pages"] >= 7
    assert not [f for f in data["findings"] if f["rule"].startswith("check.")]
    sha = store.manifest_sha(root / "public")
    assert store.last_verdict(root / ".zhuanti-cache", sha) == ("fail" if code == 1 else "pass")


# ---------------------------------------------------------------- the HTML report in a real browser


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium: apt-get install -y chromium fonts-noto-cjk")
def test_html_report_shows_the_chart_in_chromium(tmp_path, capsys):
    write(tmp_path / "export", {
        **BROKEN,
        "words.html": page("错字", "<p>中华人民<b>共合国</b>成立，我们因该认真学习。</p>"),
        "nofooter.html": HEAD.format(title="无页脚") + "<body><p>没有页脚</p></body></html>",
    })
    report = tmp_path / "out" / "report.html"
    report.parent.mkdir()
    code, _, _ = run(capsys, "check", str(tmp_path / "export"), "--format", "html", "--output", str(report))
    assert code == 1
    data_rules = {f.split('"')[1] for f in report.read_text(encoding="utf-8").split('data-rule=')[1:]}
    with open_browser(report.parent) as browser:
        tab = browser.open("report.html", 1280, 900, mobile=False)
        chart = tab.locator("#chart-by-rule")
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20
        bars = tab.locator("#chart-by-rule rect.bar")
        rules = set(bars.evaluate_all("els => els.map(e => e.getAttribute('data-rule'))"))
        assert bars.count() == len(rules) and rules <= data_rules and "link.broken" in rules
        widths = bars.evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
        assert all(w > 0 for w in widths)
        # the filter works: clicking the link.broken bar leaves only its rows visible
        tab.locator('#chart-by-rule rect.bar[data-rule="link.broken"]').click()
        visible = tab.locator("section.page tbody tr:visible")
        assert visible.count() >= 1
        assert set(visible.evaluate_all("els => els.map(e => e.dataset.rule)")) == {"link.broken"}
        tab.locator('#chart-by-rule rect.bar[data-rule="link.broken"]').click()  # toggles back
        tab.evaluate("window.scrollTo(0, 0)")
        shot = tmp_path / "report.png"
        tab.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium: apt-get install -y chromium fonts-noto-cjk")
def test_browser_pass_runs_from_the_command(tmp_path, capsys):
    wide = page("宽表格", '<table style="width:900px"><tr><td>很宽的表格</td></tr></table>')
    write(tmp_path / "export", {**CLEAN, "wide.html": wide})
    code, out, _ = run(capsys, "check", str(tmp_path / "export"), "--browser", "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert [f["page"] for f in data["findings"] if f["rule"] == "mobile.overflow"] == ["wide.html"]
    assert any("浏览器检查：3 个页面" in m for m in data["summary"]["messages"])
    assert data["summary"]["notes"] == []


def test_external_links_are_checked_with_external(tmp_path, capsys):
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802 - stdlib name
            self.send_response(200 if self.path == "/ok" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        links = page("外链", f'<p><a href="{base}/ok">在</a> <a href="{base}/gone">失效</a></p>')
        write(tmp_path / "export", {**CLEAN, "links.html": links})
        code, out, _ = run(capsys, "check", str(tmp_path / "export"), "--format", "json")
        assert not any(f["rule"] == "link.external-dead" for f in json.loads(out)["findings"])  # not without it
        code, out, _ = run(capsys, "check", str(tmp_path / "export"), "--external", "--format", "json")
    finally:
        server.shutdown()
        server.server_close()
    data = json.loads(out)
    dead = [f for f in data["findings"] if f["rule"] == "link.external-dead"]
    assert [f["target"] for f in dead] == [f"{base}/gone"] and dead[0]["page"] == "links.html"
    assert code == 1 and any("外部链接：2 个" in m for m in data["summary"]["messages"])
