"""Issue 9, item 14: the identity `zhuanti init` writes (0000000000, 京ICP备00000000号,
京公网安备 00000000000000号, 主办单位 "专题网站") is a site.identity error saying where to fill it in."""

from __future__ import annotations

import json

from builder.checks.base import HtmlDoc
from builder.checks.site import SiteCheck, is_placeholder
from builder.cli import main
from builder.config import IdentityConfig, SiteConfig


def test_a_new_site_does_not_pass_the_check_with_placeholder_identity(tmp_path, capsys):
    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    assert main(["build", "--root", str(site)]) == 0
    capsys.readouterr()
    report = tmp_path / "report.json"
    code = main(["check", "--root", str(site), "--format", "json", "--output", str(report)])
    assert code == 1
    data = json.loads(report.read_text(encoding="utf-8"))
    found = {f["target"]: f for f in data["findings"] if f["rule"] == "site.identity"}
    assert set(found) == {"site_code", "icp", "police_record", "organizer"}
    for key, f in found.items():
        assert f["severity"] == "error"
        assert f["source"] == "site_src/site.toml" and isinstance(f["source_line"], int)
        assert f"site_src/site.toml [identity] {key}" in f["suggestion"]
        line = (site / "site_src/site.toml").read_text(encoding="utf-8").splitlines()[f["source_line"] - 1]
        assert line.startswith(key)
    assert "0000000000" in found["site_code"]["message"] and "占位值" in found["icp"]["message"]
    assert "专题网站" in found["organizer"]["message"]


def test_filled_in_identity_is_not_a_placeholder(tmp_path):
    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    toml = site / "site_src/site.toml"
    text = toml.read_text(encoding="utf-8")
    for old, new in (("0000000000", "1100000088"), ("京ICP备00000000号", "京ICP备05012345号-1"),
                     ("京公网安备 00000000000000号", "京公网安备 11010502000001号")):
        text = text.replace(old, new)
    toml.write_text(text.replace('organizer = "专题网站"', 'organizer = "测试市规划和自然资源委员会"'), encoding="utf-8")
    assert main(["build", "--root", str(site)]) == 0
    report = tmp_path / "report.json"
    main(["check", "--root", str(site), "--format", "json", "--output", str(report)])
    data = json.loads(report.read_text(encoding="utf-8"))
    assert not [f for f in data["findings"] if f["rule"] == "site.identity"]


def test_placeholder_rules():
    assert is_placeholder("site_code", "0000000000") and is_placeholder("site_code", "bm00000000")
    assert is_placeholder("icp", "京ICP备00000000号") and is_placeholder("icp", "京ICP备00000000号-1")
    assert is_placeholder("police_record", "京公网安备 00000000000000号")
    assert is_placeholder("organizer", "专题网站")
    assert not is_placeholder("icp", "京ICP备05012345号-1") and not is_placeholder("site_code", "1100000088")
    assert not is_placeholder("organizer", "测试市规划和自然资源委员会")


def test_a_foreign_page_footer_with_zero_codes_is_reported(tmp_path):
    html = ("<!DOCTYPE html><html lang='zh-CN'><head><title>t</title></head><body><footer>"
            "<p>主办单位：某某局 网站标识码：1100000088</p><p>京ICP备00000000号 京公网安备 11010502000001号</p>"
            "</footer></body></html>")
    (tmp_path / "a.html").write_text(html, encoding="utf-8")
    check = SiteCheck(None, None)
    findings = [f for f in check.page(HtmlDoc.load(tmp_path, tmp_path / "a.html")) if f.rule == "site.identity"]
    assert findings and "占位值" in findings[0].message and "京ICP备00000000号" in findings[0].message


def test_a_config_without_placeholders_gives_no_site_wide_identity_finding():
    site = SiteConfig(identity=IdentityConfig(site_code="1100000088", icp="京ICP备05012345号",
                                              police_record="京公网安备 11010502000001号", organizer="某某局"))
    assert not [f for f in SiteCheck(site, None).finish() if f.rule == "site.identity"]
