"""Configuration hardening (issue 9, items 4, 13, 18): everything confined to the site root, one clock
in the site's time zone, configuration errors exit 2, settings that used to be ignored now act."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import uuid

import pytest
from PIL import Image

from builder import clock
from builder.build import BuildOptions, build_site
from builder.cli import main
from builder.errors import BuildFailed, ConfigError
from tests.sitefactory import BASIC, SITE_TOML, md, page, write_site


@pytest.fixture(autouse=True)
def _default_zone():
    # a site with timezone = "UTC" configures the process; the next test starts from the default
    yield
    clock.configure(clock.DEFAULT_ZONE)


# ---- item 4: nothing from outside the site root ------------------------------------------------


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    (folder / "static").mkdir(parents=True)
    (folder / "static/secret.txt").write_text("outside", encoding="utf-8")
    return folder


def config_error(root) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        build_site(root, BuildOptions())
    return info.value


@pytest.mark.parametrize("link, field", [("site_src/assets", "site_src/assets"), ("topics", "topics"),
                                         ("themes/default/static", "themes/default/static"),
                                         ("themes/default", "themes/default"), (".zhuanti-cache", ".zhuanti-cache"),
                                         ("topics/demo/templates", "topics/demo/templates")])
def test_a_symbolic_link_to_outside_the_site_is_refused_naming_it(tmp_path, outside, link, field):
    root = write_site(tmp_path / "site", BASIC if link != "topics" else {})
    target = root / link
    if target.exists():
        import shutil
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside / "static" if link.endswith("static") or link == "site_src/assets" else outside, target)
    if link.endswith("templates"):  # found while loading the topic, reported with the other content errors
        with pytest.raises(BuildFailed) as info:
            build_site(root, BuildOptions())
        (err,) = info.value.errors
        assert info.value.exit_code == 2
    else:
        err = config_error(root)
    assert err.field == field and "站点目录之外" in err.message and str(outside) in err.message
    assert not (root / "public").exists()


def test_new_topic_does_not_write_through_a_symlinked_topics_folder(tmp_path, outside, capsys):
    root = write_site(tmp_path / "site", {})
    os.symlink(outside, root / "topics")
    assert main(["new", "topic", "zhuyou", "--title", "住有所居", "--root", str(root)]) == 2
    assert "topics" in capsys.readouterr().err and not (outside / "zhuyou").exists()


@pytest.mark.parametrize("setting, field", [('theme = "/etc"', "theme"), ('theme = "../.."', "theme"),
                                            ('output = ".zhuanti-cache"', "output"),
                                            ('output = ".zhuanti-cache/public"', "output")])
def test_theme_paths_and_an_output_in_the_cache_are_refused(tmp_path, setting, field):
    root = write_site(tmp_path, BASIC, site_toml=SITE_TOML.replace('language = "zh-CN"', f'language = "zh-CN"\n{setting}'))
    err = config_error(root)
    assert err.field == field and err.path.endswith("site.toml")


# ---- item 13: one clock, in the site's time zone ---------------------------------------------


def test_clock_reads_the_pinned_moment_in_the_site_zone(monkeypatch):
    monkeypatch.setenv(clock.NOW_ENV, "2026-03-01T23:30:00+00:00")
    assert clock.today() == dt.date(2026, 3, 2)  # Beijing is already on the 2nd
    assert clock.today("UTC") == dt.date(2026, 3, 1)
    with pytest.raises(clock.UnknownZone):
        clock.get_zone("Asia/Beijing")


def test_a_page_dated_today_in_beijing_is_not_future_when_utc_is_still_yesterday(tmp_path, monkeypatch):
    monkeypatch.setenv(clock.NOW_ENV, "2026-03-01T23:30:00+00:00")  # 2026-03-02 07:30 in Beijing
    write_site(tmp_path, {**BASIC, "topics/demo/news/today.md": md("今日", date="2026-03-02")})
    assert main(["build", "--root", str(tmp_path)]) == 0
    assert "2026-03-02" in (tmp_path / "public/demo/news/today/index.html").read_text(encoding="utf-8")
    out = tmp_path / "report.json"
    main(["check", "--root", str(tmp_path), "--format", "json", "--output", str(out)])
    rules = [f["rule"] for f in json.loads(out.read_text(encoding="utf-8"))["findings"]]
    assert "site.future-date" not in rules
    # the same page seen from a site that says it is in UTC is dated tomorrow there
    toml = tmp_path / "site_src/site.toml"
    toml.write_text(SITE_TOML.replace('language = "zh-CN"', 'language = "zh-CN"\ntimezone = "UTC"'), encoding="utf-8")
    (tmp_path / "topics/demo/news/today.md").write_text(md("今日", date="2026-03-02"), encoding="utf-8")
    assert main(["build", "--root", str(tmp_path), "--future"]) == 0
    main(["check", "--root", str(tmp_path), "--format", "json", "--output", str(out)])
    rules = [f["rule"] for f in json.loads(out.read_text(encoding="utf-8"))["findings"]]
    assert "site.future-date" in rules


def test_an_unknown_time_zone_exits_2(tmp_path, capsys):
    write_site(tmp_path, BASIC, site_toml=SITE_TOML + '\n[build]\n').joinpath("site_src/site.toml").write_text(
        SITE_TOML.replace('language = "zh-CN"', 'language = "zh-CN"\ntimezone = "Asia/Beijing"'), encoding="utf-8")
    assert main(["build", "--root", str(tmp_path)]) == 2
    assert "Asia/Beijing" in capsys.readouterr().err


# ---- item 18: configuration errors exit 2; minify, keywords; line endings; alt text --------------


def test_a_bad_topic_toml_and_a_bad_stale_after_exit_2(tmp_path, capsys):
    write_site(tmp_path, {**BASIC, "topics/demo/topic.toml": 'title = "示范专题"\nstart = "明天"\n'})
    assert main(["build", "--root", str(tmp_path)]) == 2
    assert "topic.toml" in capsys.readouterr().err
    write_site(tmp_path, {**BASIC, "topics/demo/news/_index.md": md("工作动态", stale_after="两周")})
    assert main(["build", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "_index.md" in err and "stale_after" in err


def test_build_minify_false_in_site_toml_keeps_the_html_readable(tmp_path):
    write_site(tmp_path, BASIC)
    build_site(tmp_path, BuildOptions())
    minified = (tmp_path / "public/index.html").read_text(encoding="utf-8")
    write_site(tmp_path, BASIC, site_toml=SITE_TOML + "\n[build]\nminify = false\n")
    build_site(tmp_path, BuildOptions())
    plain = (tmp_path / "public/index.html").read_text(encoding="utf-8")
    assert plain.count("\n") > minified.count("\n") + 10


def test_front_matter_keywords_go_into_the_keywords_meta(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/news/k.md": md("关键词", date="2026-01-01", keywords="[规划, 住房]",
                                                                  tags="[新闻]")})
    build_site(tmp_path, BuildOptions())
    meta = page(tmp_path / "public/demo/news/k/index.html").css_first('meta[name="Keywords"]')
    assert meta.attributes["content"] == "规划,住房,新闻"


def test_site_keywords_go_into_the_home_page_keywords_meta(tmp_path):
    write_site(tmp_path, BASIC, site_toml=SITE_TOML.replace('language = "zh-CN"', 'language = "zh-CN"\nkeywords = ["规划", "专题"]'))
    build_site(tmp_path, BuildOptions())
    meta = page(tmp_path / "public/index.html").css_first('meta[name="Keywords"]')
    assert meta.attributes["content"] == "规划,专题"


@pytest.mark.parametrize("data", [b"---\rtitle: \xe6\x97\xa7Mac\rdate: 2026-01-01\r---\r\r\xe6\xad\xa3\xe6\x96\x87\r",
                                  b"\xef\xbb\xbf\xef\xbb\xbf---\ntitle: \xe6\x97\xa7Mac\ndate: 2026-01-01\n---\n\n\xe6\xad\xa3\xe6\x96\x87\n"],
                         ids=["cr-only", "double-bom"])
def test_front_matter_with_cr_line_endings_or_a_double_bom_is_read(tmp_path, data):
    write_site(tmp_path, {**BASIC, "topics/demo/news/mac.md": data})
    build_site(tmp_path, BuildOptions())
    doc = page(tmp_path / "public/demo/news/mac/index.html")
    assert doc.css_first("h1").text().strip() == "旧Mac"
    assert "title:" not in doc.body.text()


def test_image_alt_text_is_escaped_once(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 30)).save(buf, "JPEG")
    write_site(tmp_path, {**BASIC, "topics/demo/news/a.md": md("甲新闻", "![规划 & 建设](images/p.jpg)", date="2026-01-03"),
                          "topics/demo/news/images/p.jpg": buf.getvalue()},
               site_toml=SITE_TOML + "\n[media]\nimage_widths = [32]\n")
    build_site(tmp_path, BuildOptions())
    html = (tmp_path / "public/demo/news/a/index.html").read_text(encoding="utf-8")
    img = page(tmp_path / "public/demo/news/a/index.html").css_first("picture img")
    assert img.attributes["alt"] == "规划 & 建设" and "&amp;amp;" not in html


# ---- disk full ---------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("a small tmpfs cannot be mounted here (needs root): " + done.stderr.decode().strip())
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_is_said_in_words_and_public_is_kept(small_disk, capsys):
    root = write_site(small_disk / "site", BASIC)
    assert main(["build", "--root", str(root)]) == 0
    before = (root / "public/index.html").read_bytes()
    filler = small_disk / f"filler-{uuid.uuid4().hex}"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # fill the disk to the last byte
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    capsys.readouterr()
    assert main(["build", "--root", str(root), "--clean"]) == 1
    err = capsys.readouterr().err
    assert "磁盘空间已满" in err and "public/ 保持不变" in err and "Traceback" not in err
    assert (root / "public/index.html").read_bytes() == before


def test_a_topic_date_out_of_range_exits_2(tmp_path, capsys):
    write_site(tmp_path, {**BASIC, "topics/demo/topic.toml": 'title = "示范专题"\nstart = 0001-01-01\n'})
    assert main(["build", "--root", str(tmp_path)]) == 2
    assert "topic.toml" in capsys.readouterr().err


def test_pages_show_dates_in_the_site_zone(tmp_path):
    toml = SITE_TOML.replace('language = "zh-CN"', 'language = "zh-CN"\ntimezone = "UTC"')
    write_site(tmp_path, {**BASIC, "topics/demo/news/z.md": md("时区", date="2026-03-02T01:00:00+08:00")}, site_toml=toml)
    with clock.pinned(dt.datetime(2026, 6, 1, tzinfo=dt.UTC)):
        build_site(tmp_path, BuildOptions(jobs=2))
    meta = page(tmp_path / "public/demo/news/z/index.html").css_first('meta[name="PubDate"]')
    assert meta.attributes["content"] == "2026-03-01 17:00"
