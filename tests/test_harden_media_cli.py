"""Issue 9, item 21: `zhuanti media` for people and pipes — plain columns when piped, known tags on
an unknown --tag, markup-like titles, Pillow's warnings and reasons as file-named messages in the
user's language, and no process pool for a couple of small photos."""

from __future__ import annotations

import io
import struct
import sys
from pathlib import Path

import pytest
from PIL import Image

from builder.cli import main
from builder.config import load_site_config
from builder.media import library_for
from media_pipeline import executor as executor_mod
from media_pipeline.executor import MediaTask, run_tasks
from media_pipeline.images import ImageParams, warning_text
from tests.sitefactory import write_site

SITE = """
title = "测试委员会"
[media]
image_widths = [40, 80]
"""
LONG = "一个非常非常长的文件夹名称用来检验管道输出不会被折行" * 2


def _photo(path: Path, colour="red", size=(120, 90)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _site(tmp_path: Path) -> Path:
    write_site(tmp_path, {
        "topics/demo/topic.toml": 'title = "示范"\n',
        f"topics/demo/{LONG}/a.jpg.yaml": "title: 图[/]\ntags: [会议, 2025]\ngroup: 现场\n",
        "topics/demo/b.jpg.yaml": "title: '[bold]不是加粗[/bold]'\ntags: [调研]\n",
    }, SITE)
    _photo(tmp_path / f"topics/demo/{LONG}/a.jpg")
    _photo(tmp_path / "topics/demo/b.jpg", "blue")
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_piped_is_tab_separated_one_line_per_file(tmp_path, capsys):
    root = _site(tmp_path)
    code, out, _ = run(capsys, "--root", str(root), "media", "--list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3  # header + two files, however long the paths
    header = lines[0].split("\t")
    assert header[:2] == ["文件", "标题"] and len(header) == 7
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert rows[f"topics/demo/{LONG}/a.jpg"][1] == "图[/]"
    assert rows["topics/demo/b.jpg"][1] == "[bold]不是加粗[/bold]"


def test_list_on_a_terminal_prints_markup_like_titles_as_text(tmp_path, capsys, monkeypatch):
    root = _site(tmp_path)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that no cell is folded
    code, out, _ = run(capsys, "--root", str(root), "media", "--list")
    assert code == 0 and "图[/]" in out and "[bold]不是加粗[/bold]" in out


def test_an_unknown_tag_lists_the_known_ones(tmp_path, capsys):
    root = _site(tmp_path)
    code, out, err = run(capsys, "--root", str(root), "media", "--list", "--tag", "开会")
    assert code == 2 and "开会" in err
    assert "2025" in err and "会议" in err and "调研" in err


def test_a_known_tag_still_filters(tmp_path, capsys):
    root = _site(tmp_path)
    code, out, _ = run(capsys, "--root", str(root), "media", "--list", "--tag", "调研")
    assert code == 0 and len(out.splitlines()) == 2 and "b.jpg" in out


def _bad_exif_jpeg(path: Path) -> Path:
    """A JPEG whose EXIF declares a tag longer than the file (Pillow warns 'Tag data larger than file')."""
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">H", 1) + struct.pack(">HHII", 0x010F, 2, 1000, 26) + b"\0" * 4
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(buf, "JPEG", exif=b"Exif\x00\x00" + tiff)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


def test_pillow_warnings_become_file_named_notes_in_chinese(tmp_path, capsys):
    write_site(tmp_path, {"topics/demo/topic.toml": ""}, SITE)
    _bad_exif_jpeg(tmp_path / "topics/demo/odd.jpg")
    code, out, err = run(capsys, "--root", str(tmp_path), "media", "--jobs", "1")
    assert code == 0
    assert "topics/demo/odd.jpg: EXIF 元数据损坏" in err
    assert "Tag data larger than file" not in err and "UserWarning" not in err


def test_a_truncated_photo_fails_with_a_chinese_reason(tmp_path, capsys):
    write_site(tmp_path, {"topics/demo/topic.toml": ""}, SITE)
    whole = _photo(tmp_path / "whole.jpg", size=(400, 300))
    data = whole.read_bytes()
    (tmp_path / "topics/demo/cut.jpg").write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "--root", str(tmp_path), "media")
    assert code == 1 and "topics/demo/cut.jpg: 图片文件已损坏或不完整：文件不完整（在中途被截断）" in err
    assert "truncated" not in err.lower()
    code, _, err = run(capsys, "--lang", "en", "--root", str(tmp_path), "media")
    assert "incomplete" in err and "truncated" in err  # English mode keeps Pillow's own words too


def test_warning_text_falls_back_to_a_general_sentence():
    assert "EXIF" in warning_text("Possibly corrupt EXIF data.")
    assert "警告" in warning_text("something Pillow never said before")


def test_two_small_photos_do_not_start_a_process_pool(tmp_path, monkeypatch):
    def no_pool(workers):
        raise AssertionError("a process pool was started for two small photos")

    monkeypatch.setattr(executor_mod, "_process_pool", no_pool)
    a, b = _photo(tmp_path / "a.jpg"), _photo(tmp_path / "b.jpg", "blue")
    params = {"widths": (40,), "jpeg_quality": 85, "webp_quality": 80, "max_pixels": 10_000_000}
    tasks = [MediaTask("image", str(p), f"k{i}", params) for i, p in enumerate((a, b))]
    results = run_tasks(tasks, tmp_path / "cache", jobs=2)
    assert all(r["ok"] for r in results)


def test_many_large_photos_still_use_the_pool(tmp_path, monkeypatch):
    started = []

    def fake_pool(workers):
        started.append(workers)
        return executor_mod.SerialExecutor()

    monkeypatch.setattr(executor_mod, "_process_pool", fake_pool)
    monkeypatch.setattr(executor_mod, "POOL_MIN_BYTES", 1)
    tasks = [MediaTask("image", str(_photo(tmp_path / f"{i}.jpg")), f"k{i}",
                       {"widths": (40,), "jpeg_quality": 85, "webp_quality": 80, "max_pixels": 10_000_000})
             for i in range(3)]
    assert all(r["ok"] for r in run_tasks(tasks, tmp_path / "cache", jobs=2)) and started == [2]


def test_image_params_are_what_the_library_sends(tmp_path):
    site = load_site_config(write_site(tmp_path, {}, SITE))
    assert library_for(site).image_params == ImageParams(widths=(40, 80))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pyproject_declares_an_spdx_license(lang):
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["license"] == "MIT"  # a string: no setuptools deprecation warning on install
    assert any(r.startswith("setuptools>=77") for r in data["build-system"]["requires"])
