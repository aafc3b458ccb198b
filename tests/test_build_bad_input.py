"""Bad input gets a clear message naming the file (and line/row/field); public/ is never half-written."""

import os

import pytest

from builder.build import BuildOptions, build_site
from builder.cli import main
from builder.errors import BuildFailed, ConfigError
from tests.sitefactory import BASIC, md, write_site


def failing(tmp_path, files):
    write_site(tmp_path, {**BASIC, **files})
    with pytest.raises(BuildFailed) as info:
        build_site(tmp_path, BuildOptions())
    return info.value.errors


def test_broken_yaml_front_matter_names_file_and_line(tmp_path):
    (err,) = failing(tmp_path, {"topics/demo/news/bad.md": "---\ntitle: 好\ndate: 2026-01-01\ntags: [a, b\n---\n正文\n"})
    assert err.path.endswith("bad.md") and err.line in (4, 5)
    assert "YAML" in err.message


def test_unknown_front_matter_key_warns_with_the_closest_valid_key(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/news/d.md": "---\ntitle: 丁\ntittle: 戊\ndate: 2026-01-01\n---\n"})
    report = build_site(tmp_path, BuildOptions())
    (warning,) = [w for w in report.warnings if "tittle" in w]
    assert "d.md:3" in warning and "“title”" in warning


def test_missing_template_names_the_template_and_page(tmp_path):
    (err,) = failing(tmp_path, {"topics/demo/news/t.md": md("模板", template="nope.html", date="2026-01-01")})
    assert "nope.html" in err.message and "t.md" in err.message


def test_broken_template_names_template_file_and_line(tmp_path):
    (err,) = failing(tmp_path, {"topics/demo/templates/detail.html": "{% extends 'base.html' %}\n{% block content %}\n{{ page.title \n{% endblock %}\n"})
    assert err.path.endswith("topics/demo/templates/detail.html") and err.line in (3, 4)


def test_topic_template_override_wins_over_the_theme(tmp_path):
    write_site(tmp_path, {**BASIC, "topics/demo/templates/detail.html":
                          "{% extends 'base.html' %}{% block content %}<p class=custom>{{ page.title }}</p>{% endblock %}"})
    build_site(tmp_path, BuildOptions())
    assert 'class=custom' in (tmp_path / "public/demo/news/a/index.html").read_text(encoding="utf-8")
    assert 'class=custom' not in (tmp_path / "public/index.html").read_text(encoding="utf-8")


def test_two_pages_with_the_same_url_name_both_files(tmp_path):
    errs = failing(tmp_path, {"topics/demo/news/x.md": md("甲"), "topics/demo/news/y.md": md("乙", slug="x")})
    (err,) = [e for e in errs if "x/index.html" in e.message]
    assert "topics/demo/news/x.md" in str(err) and "topics/demo/news/y.md" in str(err)


@pytest.mark.parametrize("slug", ["../../../outside", "a/b", "..", ".hidden"])
def test_a_slug_that_would_escape_public_is_rejected(tmp_path, slug):
    (err,) = failing(tmp_path, {"topics/demo/news/x.md": md("甲", slug=f'"{slug}"')})
    assert err.field == "slug" and err.path.endswith("x.md")
    assert not (tmp_path / "outside").exists()


def test_non_utf8_markdown_names_the_encoding_found(tmp_path):
    (err,) = failing(tmp_path, {"topics/demo/news/gbk.md": md("国标编码").encode("gb18030")})
    assert err.path.endswith("gbk.md") and "GB18030" in err.message and "UTF-8" in err.message


def test_broken_site_toml_exits_2_naming_file_and_line(tmp_path, capsys):
    write_site(tmp_path, BASIC, site_toml='title = "x"\nbase_url = \n')
    assert main(["build", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "site.toml:2" in err


def test_unknown_site_setting_exits_2_with_the_closest_name(tmp_path, capsys):
    write_site(tmp_path, BASIC, site_toml='title = "x"\n[identity]\nsite_cod = "1"\n')
    assert main(["build", "--root", str(tmp_path)]) == 2
    assert "identity.site_code" in capsys.readouterr().err


def test_missing_site_is_exit_2(tmp_path, capsys):
    assert main(["build", "--root", str(tmp_path)]) == 2
    assert "site.toml" in capsys.readouterr().err


def test_symlink_pointing_outside_the_site_is_not_followed_and_warned(tmp_path):
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "passwd.md").write_text(md("秘密"), encoding="utf-8")
    root = tmp_path / "site"
    write_site(root, BASIC)
    os.symlink(outside, root / "topics/demo/news/leak")
    os.symlink(outside / "passwd.md", root / "topics/demo/news/leak2.md")
    report = build_site(root, BuildOptions())
    assert not (root / "public/demo/news/leak").exists()
    assert not (root / "public/demo/news/leak2").exists()
    assert sum("leak" in w for w in report.warnings) == 2


def test_a_broken_link_to_a_source_file_names_both_files(tmp_path):
    (err,) = failing(tmp_path, {"topics/demo/news/l.md": md("链接", "见[不存在](../zhengce/item-3.md)。")})
    assert err.path.endswith("topics/demo/news/l.md") and "../zhengce/item-3.md" in err.message and err.line == 5


def test_a_failed_build_leaves_the_previous_public_untouched(tmp_path):
    write_site(tmp_path, BASIC)
    build_site(tmp_path, BuildOptions())
    before = {p: p.read_bytes() for p in (tmp_path / "public").rglob("*") if p.is_file()}
    (tmp_path / "topics/demo/news/a.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    with pytest.raises(BuildFailed):
        build_site(tmp_path, BuildOptions())
    after = {p: p.read_bytes() for p in (tmp_path / "public").rglob("*") if p.is_file()}
    assert before == after
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".public.staging")]


def test_output_folder_with_foreign_files_is_not_overwritten(tmp_path):
    write_site(tmp_path, BASIC)
    (tmp_path / "public").mkdir()
    (tmp_path / "public/keep.txt").write_text("mine")
    with pytest.raises(ConfigError):
        build_site(tmp_path, BuildOptions())
    assert (tmp_path / "public/keep.txt").read_text() == "mine"


def test_output_outside_the_root_is_refused(tmp_path):
    write_site(tmp_path, BASIC, site_toml='title = "x"\noutput = "../elsewhere"\n')
    with pytest.raises(ConfigError):
        build_site(tmp_path, BuildOptions())
    assert not (tmp_path.parent / "elsewhere").exists()


def test_unknown_topic_and_bad_jobs_are_usage_errors(tmp_path, capsys):
    write_site(tmp_path, BASIC)
    assert main(["build", "--topic", "nope", "--root", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["build", "--jobs", "0", "--root", str(tmp_path)]) == 2
