"""`zhuanti init` and `zhuanti new topic` give a site that builds; the wheel carries the theme."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from builder.cli import main
from tests.sitefactory import page

REPO = Path(__file__).resolve().parents[1]


def test_init_then_new_topic_then_build(tmp_path, capsys):
    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    assert (site / "themes/default/templates/base.html").is_file()
    for name in ("typos.txt", "expressions.txt", "sensitive.txt", "allow.txt"):
        assert (site / "site_src/words" / name).is_file(), name
    assert main(["new", "topic", "zhuyou", "--title", "住有所居", "--root", str(site)]) == 0
    assert main(["new", "topic", "sgs", "--title", "双公示", "--blueprint", "data", "--root", str(site)]) == 0
    assert main(["build", "--root", str(site)]) == 0
    pub = site / "public"
    nav = page(pub / "zhuyou/index.html")
    assert nav.css_first("h1").text().strip() == "住有所居"
    assert [a.text() for a in nav.css(".column-card h2 a")] == ["工作动态", "政策文件", "政策解读"]  # the standard blueprint
    assert len(list((pub / "zhuyou").rglob("index.html"))) == 8  # navigation, 3 columns, 4 detail pages
    assert len(list((pub / "sgs/xuke").glob("*/index.html"))) == 3  # the data-list blueprint's sample records


def test_init_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("x")
    assert main(["init", str(tmp_path)]) == 2
    assert (tmp_path / "keep.txt").read_text() == "x"
    assert "不为空" in capsys.readouterr().err


@pytest.mark.parametrize("argv,needle", [
    (["new", "topic", "Bad Slug", "--title", "x"], "Bad Slug"),
    (["new", "topic", "ok", "--title", "x", "--blueprint", "nope"], "nope"),
])
def test_new_topic_bad_usage_exits_2(tmp_path, capsys, argv, needle):
    main(["init", str(tmp_path / "s")])
    assert main([*argv, "--root", str(tmp_path / "s")]) == 2
    assert needle in capsys.readouterr().err


def test_new_topic_refuses_to_overwrite(tmp_path, capsys):
    main(["init", str(tmp_path / "s")])
    assert main(["new", "topic", "a", "--title", "甲", "--root", str(tmp_path / "s")]) == 0
    (tmp_path / "s/topics/a/index.md").write_text("mine", encoding="utf-8")
    assert main(["new", "topic", "a", "--title", "乙", "--root", str(tmp_path / "s")]) == 2
    assert (tmp_path / "s/topics/a/index.md").read_text(encoding="utf-8") == "mine"


def test_english_messages_with_lang_en_and_env(tmp_path, capsys, monkeypatch):
    assert main(["--lang", "en", "build", "--root", str(tmp_path)]) == 2
    assert "configuration file not found" in capsys.readouterr().err
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    assert main(["build", "--root", str(tmp_path)]) == 2
    assert "configuration file not found" in capsys.readouterr().err


@pytest.mark.slow
def test_the_wheel_alone_gives_a_working_zhuanti(tmp_path):
    """pip install . must ship the theme and word lists: build a wheel, run it outside the repo."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(REPO)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("zhuanti-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "zhuanti_themes/default/templates/base.html" in names
    assert "zhuanti_themes/default/static/css/zhuanti.css" in names
    assert "builder/data/blueprints/gallery/blueprint.toml" in names
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "ZHUANTI_LANG": "en"}
    run = lambda *a: subprocess.run([sys.executable, "-c", "import sys; from builder.cli import main; "  # noqa: E731
                                     "sys.exit(main(sys.argv[1:]))", *a], cwd=tmp_path, env=env,
                                    capture_output=True, text=True)
    r = run("init", "newsite")
    assert r.returncode == 0, r.stderr
    r = run("new", "topic", "demo", "--title", "示范", "--root", "newsite")
    assert r.returncode == 0, r.stderr
    r = run("build", "--root", "newsite")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "newsite/public/demo/index.html").is_file()
    import builder
    r = subprocess.run([sys.executable, "-c", "import builder; print(builder.__file__)"], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert r.stdout.strip().startswith(str(target)), (r.stdout, builder.__file__)
