"""Separate mobile pages (issue 10 item 3): ``[mobile] separate = true`` builds every page again
under /m/, from a theme's ``*.mobile.html`` templates where there are any, linked the way search
engines expect separate mobile URLs (rel=alternate with a media query, canonical back)."""

from __future__ import annotations

import datetime as dt

import pytest

from builder.build import BuildOptions, build_site
from builder.cli import main
from builder.clock import get_zone
from tests.engine_support import clean_reference, diff, tree
from tests.sitefactory import BASIC, SITE_TOML, page, write_site

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=get_zone("Asia/Shanghai"))
MOBILE = SITE_TOML + "\n[mobile]\nseparate = true\n"
# A topic's mobile detail template: the same page, marked so the test can tell which one rendered.
MOBILE_DETAIL = '{% extends "detail.html" %}{% block title %}手机版 {{ super() }}{% endblock %}'


@pytest.fixture(autouse=True)
def pinned_manifest_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")


def build(root):
    return build_site(root, BuildOptions(now=NOW))


def test_every_page_has_a_mobile_page_linked_both_ways(tmp_path):
    root = write_site(tmp_path, {**BASIC, "topics/demo/templates/detail.mobile.html": MOBILE_DETAIL}, MOBILE)
    build(root)
    pub = root / "public"
    desktop = page(pub / "demo/news/a/index.html")
    mobile = page(pub / "m/demo/news/a/index.html")
    alternate = desktop.css_first('link[rel="alternate"][media]')
    assert alternate.attributes["href"] == "https://www.example.gov.cn/zhuanti/m/demo/news/a/"
    assert alternate.attributes["media"] == "only screen and (max-width: 640px)"
    assert desktop.css_first('link[rel="canonical"]').attributes["href"] == \
        "https://www.example.gov.cn/zhuanti/demo/news/a/"
    # the mobile page points back at the desktop page and has no alternate of its own
    assert mobile.css_first('link[rel="canonical"]').attributes["href"] == \
        "https://www.example.gov.cn/zhuanti/demo/news/a/"
    assert mobile.css_first('link[rel="alternate"][media]') is None
    # the theme's mobile template serves detail pages; pages without one use their own template
    assert mobile.css_first("title").text().startswith("手机版 ")
    assert not desktop.css_first("title").text().startswith("手机版")
    assert not page(pub / "m/demo/index.html").css_first("title").text().startswith("手机版")
    # every page and list page exists in both trees; links inside /m/ stay inside /m/
    html = sorted(p.relative_to(pub).as_posix() for p in pub.rglob("index.html") if not p.is_relative_to(pub / "m"))
    assert all((pub / "m" / rel).is_file() for rel in html if not rel.startswith(("search/", "search-index/")))
    assert (pub / "m/demo/news/page/2/index.html").is_file()
    link = next(a for a in mobile.css("a[href]") if a.text().strip() == "乙")
    assert (pub / "m/demo/news/a" / link.attributes["href"].split("#")[0] / "index.html").resolve().is_file()
    assert "/m/" not in (pub / "sitemap.xml").read_text(encoding="utf-8")  # canonical URLs only


def test_the_check_finds_nothing_wrong_in_the_mobile_pages(tmp_path, capsys):
    root = write_site(tmp_path, BASIC, MOBILE)
    assert main(["build", "--root", str(root)]) == 0
    assert main(["check", "--root", str(root), "--lang", "en"]) == 0


def test_adding_a_mobile_template_later_remakes_the_mobile_pages_exactly(tmp_path):
    root = write_site(tmp_path, BASIC, MOBILE)
    build(root)
    assert not page(root / "public/m/demo/news/a/index.html").css_first("title").text().startswith("手机版")
    template = root / "topics/demo/templates/detail.mobile.html"
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_text(MOBILE_DETAIL, encoding="utf-8")
    build(root)
    assert page(root / "public/m/demo/news/a/index.html").css_first("title").text().startswith("手机版")
    status, result, ref = clean_reference(root, tmp_path / "ref", now=NOW)
    assert status == "ok", result
    got = tree(root / "public")
    assert got == ref, diff(got, ref)


def test_switching_mobile_pages_off_removes_them(tmp_path):
    root = write_site(tmp_path, BASIC, MOBILE)
    build(root)
    (root / "site_src/site.toml").write_text(SITE_TOML, encoding="utf-8")
    build(root)
    assert not (root / "public/m").exists()
    assert page(root / "public/demo/news/a/index.html").css_first('link[rel="alternate"][media]') is None


@pytest.mark.parametrize("setting, field", [('prefix = "../m"', "mobile.prefix"), ('prefix = "M"', "mobile.prefix"),
                                            ("max_width = 0", "mobile.max_width"), ("separat = true", "separat")])
def test_bad_mobile_settings_are_usage_errors_naming_the_key(tmp_path, capsys, setting, field):
    root = write_site(tmp_path, BASIC, SITE_TOML + f"\n[mobile]\nseparate = true\n{setting}\n")
    assert main(["build", "--root", str(root), "--lang", "en"]) == 2
    assert field in capsys.readouterr().err


def test_a_prefix_that_is_a_topic_is_refused(tmp_path, capsys):
    root = write_site(tmp_path, BASIC, MOBILE.replace("separate = true", 'separate = true\nprefix = "demo"'))
    assert main(["build", "--root", str(root), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "mobile.prefix" in err and "demo" in err
    assert not (root / "public").exists()
