"""`zhuanti new topic|column|page` from blueprints: every blueprint builds and passes `zhuanti check`
right after `zhuanti new`; names, titles, overwrites and bad input are handled with clear messages."""

import json

import pytest
from openpyxl import load_workbook

from builder.cli import main
from tests.sitefactory import page

BLUEPRINTS = ["standard", "data-list", "gallery", "video", "interview"]


@pytest.fixture()
def site(tmp_path):
    root = tmp_path / "site"
    assert main(["init", str(root)]) == 0
    return root


def fill_identity(root) -> None:
    """What a site does before publishing: its real identity instead of `zhuanti init`'s placeholders
    (which `zhuanti check` reports)."""
    toml = root / "site_src/site.toml"
    text = toml.read_text(encoding="utf-8")
    for old, new in (('"0000000000"', '"1100000088"'), ("京ICP备00000000号", "京ICP备12345678号"),
                     ("京公网安备 00000000000000号", "京公网安备 11010502000000号"),
                     ('organizer = "专题网站"', 'organizer = "示例市规划和自然资源委员会"')):
        assert old in text, old
        text = text.replace(old, new)
    toml.write_text(text, encoding="utf-8")


def check_json(root, tmp_path, capsys) -> dict:
    out = tmp_path / "check.json"
    code = main(["check", "--root", str(root), "--format", "json", "--output", str(out)])
    capsys.readouterr()
    data = json.loads(out.read_text(encoding="utf-8"))
    return {"code": code, **data}


@pytest.mark.slow
@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_every_blueprint_builds_and_passes_check_right_after_new(site, tmp_path, capsys, blueprint):
    assert main(["new", "topic", "demo", "--title", "示范专题", "--blueprint", blueprint, "--root", str(site)]) == 0
    assert "demo" in capsys.readouterr().err
    fill_identity(site)
    assert main(["build", "--root", str(site)]) == 0
    report = check_json(site, tmp_path, capsys)
    problems = [f"{f['rule']} {f['page']}: {f['message']}" for f in report["findings"] if f["severity"] != "info"]
    assert problems == [] and report["code"] == 0
    pub = site / "public/demo"
    nav = page(pub / "index.html")
    assert nav.css_first("h1").text().strip() == "示范专题"
    assert len(nav.css(".topic-nav a")) >= 2
    # nothing of the blueprint machinery is left in the topic
    topic = site / "topics/demo"
    assert not (topic / "blueprint.toml").exists() and not list(topic.rglob("*.xlsx.csv"))


@pytest.mark.slow
def test_media_blueprints_generate_their_photos_and_videos_and_ship_none(site, capsys):
    from builder.blueprints import builtin_dir

    shipped = [p for p in builtin_dir().rglob("*") if p.suffix.lower() in {".jpg", ".png", ".mp4", ".mov", ".xlsx"}]
    assert shipped == []
    assert main(["new", "topic", "zhan", "--title", "图片展", "--blueprint", "gallery", "--root", str(site)]) == 0
    photos = sorted((site / "topics/zhan").rglob("*.jpg"))
    assert len(photos) == 8 and all(p.stat().st_size > 5000 for p in photos)
    assert all(p.with_name(p.name + ".yaml").is_file() for p in photos)
    assert main(["new", "topic", "ship", "--title", "视频", "--blueprint", "video", "--root", str(site)]) == 0
    videos = sorted((site / "topics/ship/videos").glob("*.mp4"))
    assert [v.name for v in videos] == ["ep01.mp4", "ep02.mp4"]
    assert all(v.with_suffix(".srt").is_file() for v in videos)
    import av

    with av.open(str(videos[1])) as c:
        s = c.streams.video[0]
        assert (s.codec_context.width, s.codec_context.height) == (360, 640)  # the portrait episode
    assert main(["build", "--root", str(site)]) == 0
    media = page(site / "public/ship/media/index.html")
    shown = {b.text() for b in media.css(".media-filter-tags button")}
    assert not any("竖屏" in t for t in shown)  # internal_tags in the blueprint's topic.toml
    tag_lines = [s.text() for s in media.css(".media-tags")]
    assert tag_lines and all("竖屏" not in t for t in tag_lines)
    assert "竖屏" in (site / "topics/ship/videos/ep02.mp4.yaml").read_text(encoding="utf-8")  # still there for staff


def test_data_list_makes_an_excel_file_from_its_csv(site, capsys):
    assert main(["new", "topic", "sgs", "--title", "双公示", "--blueprint", "data-list", "--root", str(site)]) == 0
    wb = load_workbook(site / "topics/sgs/chufa/records.xlsx")
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("决定书文号", "案件名称", "违法行为类型") and len(rows) == 3
    assert main(["build", "--root", str(site)]) == 0
    assert len(list((site / "public/sgs/chufa").glob("*/index.html"))) == 2
    assert len(list((site / "public/sgs/xuke").glob("*/index.html"))) == 3


def test_old_blueprint_names_still_work(site, capsys):
    assert main(["new", "topic", "a", "--title", "甲", "--blueprint", "default", "--root", str(site)]) == 0
    assert main(["new", "topic", "b", "--title", "乙", "--blueprint", "data", "--root", str(site)]) == 0
    assert (site / "topics/a/zhengce/_index.md").is_file()
    assert (site / "topics/b/xuke/records.csv").is_file()
    assert "data-list" in capsys.readouterr().err


def test_unknown_blueprint_lists_the_known_ones_and_exits_2(site, capsys):
    assert main(["new", "topic", "a", "--title", "甲", "--blueprint", "nope", "--root", str(site)]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and all(name in err for name in BLUEPRINTS)
    assert not (site / "topics/a").exists()


def test_a_chinese_name_becomes_a_pinyin_slug_and_the_command_says_so(site, capsys):
    assert main(["new", "topic", "住有所居", "--root", str(site)]) == 0
    err = capsys.readouterr().err
    assert "zhuyousuoju" in err and "拼音" in err
    assert (site / "topics/zhuyousuoju/topic.toml").read_text(encoding="utf-8").startswith('title = "住有所居"')


def test_a_title_with_yaml_and_toml_syntax_builds(site, capsys):
    title = 'a: b # "引号" \\ 反斜杠'
    assert main(["new", "topic", "ab", "--title", title, "--root", str(site)]) == 0
    assert main(["build", "--root", str(site)]) == 0
    assert page(site / "public/ab/index.html").css_first("h1").text().strip() == title


@pytest.mark.parametrize("argv,needle", [
    (["new", "topic", "bad\nslug", "--title", "x"], "换行"),
    (["new", "topic", "ok\n", "--title", "x"], "换行"),
    (["new", "topic", "Bad Slug", "--title", "x"], "Bad Slug"),
    (["new", "topic", "ok", "--title", "两行\n标题"], "换行"),
    (["new", "topic", "ok", "--title", "  "], "标题"),
    (["new", "column", "nosuch/col", "--title", "x"], "nosuch"),
    (["new", "column", "justone", "--title", "x"], "TOPIC/COL"),
    (["new", "page", "t/nocol/p", "--title", "x"], "nocol"),
])
def test_bad_names_and_titles_exit_2_with_a_message(site, capsys, argv, needle):
    main(["new", "topic", "t", "--title", "专题", "--root", str(site)])
    capsys.readouterr()
    assert main([*argv, "--root", str(site)]) == 2
    assert needle in capsys.readouterr().err
    assert not (site / "topics/ok").exists()


def test_new_column_and_page_then_build(site, capsys):
    assert main(["new", "topic", "t", "--title", "专题", "--root", str(site)]) == 0
    assert main(["new", "column", "t/tongzhi", "--title", "通知公告", "--type", "通知公告", "--root", str(site)]) == 0
    assert main(["new", "page", "t/tongzhi/第一号通知", "--title", "关于开展检查的通知", "--root", str(site)]) == 0
    assert "diyihaotongzhi" in capsys.readouterr().err
    assert main(["build", "--root", str(site)]) == 0
    col = page(site / "public/t/tongzhi/index.html")
    assert [a.text() for a in col.css(".item-list a")] == ["关于开展检查的通知"]
    assert (site / "public/t/tongzhi/diyihaotongzhi/index.html").is_file()


def test_new_never_overwrites(site, capsys):
    assert main(["new", "topic", "t", "--title", "专题", "--root", str(site)]) == 0
    mine = site / "topics/t/dongtai/gongzuo-bushu.md"
    mine.write_text("mine", encoding="utf-8")
    assert main(["new", "topic", "t", "--title", "乙", "--root", str(site)]) == 2
    assert main(["new", "page", "t/dongtai/gongzuo-bushu", "--title", "乙", "--root", str(site)]) == 2
    assert main(["new", "column", "t/dongtai", "--title", "乙", "--root", str(site)]) == 2
    assert mine.read_text(encoding="utf-8") == "mine"
    assert "已存在" in capsys.readouterr().err


def test_a_site_blueprint_is_used_and_listed(site, capsys):
    own = site / "site_src/blueprints/huiyi"
    (own / "news").mkdir(parents=True)
    (own / "blueprint.toml").write_text('description = "会议专题"\n', encoding="utf-8")
    (own / "topic.toml").write_text("title = {{ title | toml }}\n", encoding="utf-8")
    (own / "index.md").write_text("---\ntitle: {{ title | yaml }}\n---\n\n{{ title }}，{{ today }}。\n", encoding="utf-8")
    assert main(["new", "topic", "hy", "--title", "全会", "--blueprint", "huiyi", "--root", str(site)]) == 0
    assert "全会，20" in (site / "topics/hy/index.md").read_text(encoding="utf-8")
    assert main(["new", "topic", "x", "--title", "甲", "--blueprint", "nope", "--root", str(site)]) == 2
    assert "huiyi：会议专题" in capsys.readouterr().err


def test_a_broken_site_blueprint_names_its_file(site, capsys):
    own = site / "site_src/blueprints/bad"
    own.mkdir(parents=True)
    (own / "index.md").write_text("{{ title | nosuchfilter }}\n", encoding="utf-8")
    assert main(["new", "topic", "x", "--title", "甲", "--blueprint", "bad", "--root", str(site)]) == 2
    assert "index.md" in capsys.readouterr().err
    assert not (site / "topics/x").exists()


def test_init_honours_root_and_writes_a_readme(tmp_path, capsys):
    assert main(["init", "--root", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a/site_src/site.toml").is_file()
    assert "zhuanti new topic" in (tmp_path / "a/README.md").read_text(encoding="utf-8")
    assert main(["--root", str(tmp_path), "init", "b"]) == 0
    assert (tmp_path / "b/site_src/site.toml").is_file()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not __import__("pathlib").Path("/usr/bin/chromium").exists(),
                    reason="needs Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
def test_every_blueprint_passes_the_browser_check_right_after_new(site, tmp_path, capsys):
    fill_identity(site)
    for blueprint in BLUEPRINTS:
        assert main(["new", "topic", f"t-{blueprint}", "--title", f"示范：{blueprint}", "--blueprint", blueprint,
                     "--root", str(site)]) == 0
    assert main(["build", "--root", str(site)]) == 0
    out = tmp_path / "browser.json"
    code = main(["check", "--root", str(site), "--browser", "--devices", "360,1366", "--format", "json",
                 "--output", str(out)])
    capsys.readouterr()
    findings = json.loads(out.read_text(encoding="utf-8"))["findings"]
    assert [f"{f['rule']} {f['page']}: {f['message']}" for f in findings] == [] and code == 0
