"""A single file that is a symbolic link to outside the site is never read into the site: a template
(theme, partial, topic override) is refused naming it (exit 2, like a linked folder); a static file,
an asset, an attachment or a photo's sidecar is not read (a warning names it); a blueprint file is refused."""

from __future__ import annotations

import os
import shutil

import pytest

from builder import engine_sources
from builder.build import BuildOptions, build_site
from builder.cli import main
from builder.config import load_site_config
from builder.serve.session import PreviewSession
from tests.media_samples import make_clip
from tests.sitefactory import BASIC, md, page, write_site
from tests.test_build_media import SITE, gps_photo

SECRET = "SECRET-OUTSIDE-THE-SITE"


@pytest.fixture(autouse=True)
def trusted_signatures(monkeypatch):
    monkeypatch.setattr(engine_sources, "RACY_NS", 0)  # builds seconds apart: signatures are trusted


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    (folder / "partials").mkdir(parents=True)
    (folder / "detail.html").write_text(f"<p>{SECRET}</p>", encoding="utf-8")
    (folder / "partials/footer.html").write_text(f"<footer>{SECRET}</footer>", encoding="utf-8")
    (folder / "secret.txt").write_text(SECRET, encoding="utf-8")
    return folder


@pytest.fixture
def site(tmp_path):
    return write_site(tmp_path / "site", BASIC)


def link(site, rel, target):
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    return path


def published(site) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in (site / "public").rglob("*") if p.is_file())


@pytest.mark.parametrize("rel, target", [
    ("themes/default/templates/detail.html", "detail.html"),                      # a page template of the theme
    ("themes/default/templates/partials/footer.html", "partials/footer.html"),    # a partial every page includes
    ("themes/default/templates/partials", "partials"),                            # a folder inside templates/
    ("topics/demo/templates/detail.html", "detail.html"),                         # a topic's own override
])
def test_a_template_linked_to_outside_the_site_is_refused_naming_it(site, outside, capsys, rel, target):
    link(site, rel, outside / target)
    assert main(["build", "--root", str(site)]) == 2
    err = capsys.readouterr().err
    assert "站点目录之外" in err and str(outside / target) in err
    named = rel if rel.endswith(".html") else rel + "/footer.html"
    assert named in err
    assert not (site / "public").exists()


def test_the_refusal_is_in_english_with_lang_en(site, outside, capsys):
    link(site, "topics/demo/templates/detail.html", outside / "detail.html")
    assert main(["--lang", "en", "build", "--root", str(site)]) == 2
    assert "points outside the site root" in capsys.readouterr().err


def test_a_template_linked_to_a_file_inside_the_site_keeps_working(site):
    (site / "shared").mkdir()
    (site / "shared/detail.html").write_text(
        "{% extends 'base.html' %}{% block content %}<h1>共用：{{ page.title }}</h1>{% endblock %}", encoding="utf-8")
    link(site, "themes/default/templates/detail.html", "../../../shared/detail.html")  # relative, stays inside
    link(site, "topics/demo/templates/page.html", site / "shared/detail.html")
    build_site(site, BuildOptions())
    assert "共用：甲新闻" in (site / "public/demo/news/a/index.html").read_text(encoding="utf-8")


def test_the_built_in_theme_outside_the_site_keeps_working(site):
    build_site(site, BuildOptions())
    assert (site / "public/demo/news/a/index.html").is_file()


def test_serve_refuses_a_template_linked_later_and_recovers(site, outside):
    session = PreviewSession(site, load_site_config(site))  # what ``zhuanti serve`` rebuilds with
    try:
        assert session.rebuild().ok
        bad = link(site, "themes/default/templates/partials/footer.html", outside / "partials/footer.html")
        outcome = session.rebuild({bad})
        assert not outcome.ok
        (problem,) = outcome.problems
        assert problem.file == "themes/default/templates/partials/footer.html" and "站点目录之外" in problem.message
        assert SECRET not in published(site) + "".join(p.read_text(encoding="utf-8", errors="replace")
                                                       for p in session.output.rglob("*") if p.is_file())
        bad.unlink()
        assert session.rebuild({bad}).ok
    finally:
        session.close()


@pytest.mark.parametrize("rel", ["themes/default/static/secret.txt", "site_src/assets/secret.txt",
                                 "topics/demo/policy/doc/secret.txt"])
def test_a_static_file_linked_to_outside_the_site_is_not_published(site, outside, rel):
    if rel.startswith("themes/"):
        (site / "themes/default/static").mkdir(parents=True)
    link(site, rel, outside / "secret.txt")
    report = build_site(site, BuildOptions())
    assert SECRET not in published(site)
    assert not any(p.name == "secret.txt" for p in (site / "public").rglob("*"))
    assert any("secret.txt" in w and "站点目录之外" in w for w in report.warnings), report.warnings


def test_a_blueprint_file_linked_to_outside_the_site_is_refused(site, outside, capsys):
    own = site / "site_src/blueprints/mine"
    own.mkdir(parents=True)
    (own / "index.md").write_text("---\ntitle: {{ title }}\n---\n", encoding="utf-8")
    link(site, "site_src/blueprints/mine/notes.md", outside / "secret.txt")
    assert main(["new", "topic", "zhuyou", "--title", "住有所居", "--blueprint", "mine", "--root", str(site)]) == 2
    err = capsys.readouterr().err
    assert "notes.md" in err and "站点目录之外" in err
    assert not (site / "topics/zhuyou").exists()


def test_a_blueprint_file_linked_inside_the_site_is_used(site):
    own = site / "site_src/blueprints/mine"
    own.mkdir(parents=True)
    (site / "site_src/shared.md").write_text("---\ntitle: {{ title }}\n---\n", encoding="utf-8")
    link(site, "site_src/blueprints/mine/index.md", "../../shared.md")
    assert main(["new", "topic", "zhuyou", "--title", "住有所居", "--blueprint", "mine", "--root", str(site)]) == 0
    assert "住有所居" in (site / "topics/zhuyou/index.md").read_text(encoding="utf-8")
    shutil.rmtree(site / "topics/zhuyou")


def test_a_photo_sidecar_linked_to_outside_the_site_is_not_read(tmp_path, outside):
    (outside / "credit.yaml").write_text(f"title: {SECRET}\nphotographer: {SECRET}\n", encoding="utf-8")
    root = write_site(tmp_path / "photos", {"topics/expo/index.md": md("摄影展", "![](images/open.jpg)"),
                                            "topics/expo/images/open.jpg": gps_photo()}, site_toml=SITE)
    link(root, "topics/expo/images/open.jpg.yaml", outside / "credit.yaml")
    report = build_site(root, BuildOptions())
    assert (root / "public/expo/media/index.html").is_file()
    assert SECRET not in published(root)
    assert any("open.jpg.yaml" in w and "站点目录之外" in w for w in report.warnings), report.warnings


def test_a_video_caption_file_linked_to_outside_the_site_is_not_published(tmp_path, outside):
    (outside / "clip.srt").write_text(f"1\n00:00:00,000 --> 00:00:00,900\n{SECRET}\n", encoding="utf-8")
    root = write_site(tmp_path / "videos", {"topics/expo/index.md": md("视频", "![现场](clip.mp4)")}, site_toml=SITE)
    make_clip(root / "topics/expo/clip.mp4", seconds=1, size="320x240")
    link(root, "topics/expo/clip.srt", outside / "clip.srt")
    report = build_site(root, BuildOptions())
    video = page(root / "public/expo/index.html").css_first("video")
    assert video is not None and video.css_first("track") is None
    assert SECRET not in published(root)
    assert any("clip.srt" in w and "站点目录之外" in w for w in report.warnings), report.warnings


@pytest.mark.parametrize("rel", ["site_src/index.md", "topics/demo/index.md", "topics/demo/policy/doc/index.md"])
def test_a_page_file_looked_up_by_name_and_linked_to_outside_the_site_is_not_read(site, outside, rel):
    (outside / "page.md").write_text(md(SECRET, SECRET), encoding="utf-8")
    (site / rel).unlink(missing_ok=True)
    link(site, rel, outside / "page.md")
    if rel == "topics/demo/index.md":  # the navigation page links to news/: keep that link valid
        (site / "topics/demo/policy/doc/index.md").write_text(md("捆绑页面"), encoding="utf-8")
    report = build_site(site, BuildOptions())
    assert SECRET not in published(site)
    assert sum(rel in w and "站点目录之外" in w for w in report.warnings) == 1, report.warnings


def test_a_column_index_linked_to_outside_the_site_is_not_read(site, outside):
    (outside / "column.md").write_text(md(SECRET, SECRET, column_type="工作动态"), encoding="utf-8")
    (site / "topics/demo/index.md").write_text(md("示范专题", "导航页。"), encoding="utf-8")
    (site / "topics/demo/news/_index.md").unlink()
    link(site, "topics/demo/news/_index.md", outside / "column.md")
    report = build_site(site, BuildOptions())
    assert SECRET not in published(site)
    assert any("news/_index.md" in w and "站点目录之外" in w for w in report.warnings), report.warnings


def test_a_topic_toml_linked_to_outside_the_site_is_refused_naming_it(site, outside, capsys):
    (outside / "topic.toml").write_text(f'title = "{SECRET}"\n', encoding="utf-8")
    (site / "topics/demo/topic.toml").unlink()
    link(site, "topics/demo/topic.toml", outside / "topic.toml")
    assert main(["build", "--root", str(site)]) == 2
    err = capsys.readouterr().err
    assert "topics/demo/topic.toml" in err and "站点目录之外" in err
    assert not (site / "public").exists()


def test_a_site_toml_linked_to_outside_the_site_is_refused_naming_it(site, tmp_path, capsys):
    shared = tmp_path / "shared.toml"
    shared.write_text((site / "site_src/site.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (site / "site_src/site.toml").unlink()
    link(site, "site_src/site.toml", shared)
    assert main(["build", "--root", str(site)]) == 2
    err = capsys.readouterr().err
    assert "site_src/site.toml" in err and "站点目录之外" in err and str(shared) in err
    assert not (site / "public").exists()
