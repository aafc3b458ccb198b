"""`zhuanti media`: process everything into the cache, list the catalog, bad input, bad usage, videos."""

from __future__ import annotations

import json
import multiprocessing
import struct
import subprocess
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from builder.cli import main
from builder.config import load_site_config
from builder.media import library_for, site_media
from media_pipeline.cache import MediaCache
from media_pipeline.executor import video_job
from media_pipeline.ffmpeg import ffmpeg_exe
from tests.sitefactory import write_site

SITE = """
title = "测试委员会"
[media]
image_widths = [40, 80]
video_heights = [120, 96]
video_preset = "ultrafast"
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _photo(path: Path, size=(120, 90), colour="red") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width``×``height`` but holds a few bytes (never 900 MP in memory)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)))


def _clip(path: Path, seconds: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10",
                    "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(seconds), "-pix_fmt", "yuv420p",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def _bad_site(tmp_path: Path) -> Path:
    write_site(tmp_path, {
        "topics/demo/topic.toml": 'title = "示范"\n',
        "topics/demo/images/现场 照片 1.jpg.yaml": "title: 现场\ntags: [会议]\ngroup: 现场\n",
        "topics/demo/images/合影.png.yaml": "title: 合影\ntags: [会议\ngroup: x\n",
        "topics/demo/images/说明.jpg": "这是一个文本文件",
        "topics/demo/images/empty.jpg": b"",
        "topics/demo/images/bomb.png": _png_header(30000, 30000),
    }, SITE)
    _photo(tmp_path / "topics/demo/images/现场 照片 1.jpg")
    _photo(tmp_path / "topics/demo/images/合影.png", colour="blue")
    _photo(tmp_path / "site_src/assets/logo.png", (30, 30))
    return tmp_path


def test_bad_files_fail_with_path_and_reason_and_the_rest_is_cached(tmp_path, capsys):
    root = _bad_site(tmp_path)
    code, out, err = run(capsys, "--root", str(root), "media", "--jobs", "2")
    assert code == 1
    assert "topics/demo/images/说明.jpg: 不是图片" in err
    assert "topics/demo/images/empty.jpg: 文件为空（0 字节）" in err
    assert "topics/demo/images/bomb.png: 图片像素过多（900 百万像素" in err
    assert "topics/demo/images/合影.png.yaml:3: YAML 语法错误" in err
    assert "处理图片 3 个" in err and "失败 4 个" in err
    site = load_site_config(root)
    entries = library_for(site).lookup_many(site_media(site))
    assert sorted(p.name for p in entries) == ["logo.png", "合影.png", "现场 照片 1.jpg"]
    cache = MediaCache(site.cache_dir / "media")
    assert all((Path(e.dir) / "result.json").is_file() for e in entries.values())
    assert not list((cache.root / ".tmp").iterdir())
    # second run: nothing is processed again, the same failures are reported again
    code, _, err = run(capsys, "--root", str(root), "media")
    assert code == 1 and "处理图片 0 个" in err and "复用缓存 3 个" in err and "失败 4 个" in err


def test_clean_run_exits_zero_and_topic_limits_the_work(tmp_path, capsys):
    write_site(tmp_path, {"topics/a/topic.toml": "", "topics/b/topic.toml": ""}, SITE)
    _photo(tmp_path / "topics/a/x.jpg")
    _photo(tmp_path / "topics/b/y.jpg", colour="blue")
    code, _, err = run(capsys, "--root", str(tmp_path), "media", "--topic", "a", "--jobs", "1")
    assert code == 0 and "处理图片 1 个" in err and "失败 0 个" in err
    code, _, err = run(capsys, "--root", str(tmp_path), "media")
    assert code == 0 and "处理图片 1 个" in err and "复用缓存 1 个" in err


def test_list_json_prints_the_catalog_and_filters(tmp_path, capsys):
    write_site(tmp_path, {"topics/demo/a.jpg.yaml": "title: 开幕\ntags: [会议, 2025]\ngroup: 现场\n",
                          "topics/demo/b.jpg.yaml": "title: 调研\ntags: [调研]\ngroup: 资料\n"}, SITE)
    _photo(tmp_path / "topics/demo/a.jpg")
    _photo(tmp_path / "topics/demo/b.jpg")
    assert run(capsys, "--root", str(tmp_path), "media")[0] == 0
    code, out, _ = run(capsys, "--root", str(tmp_path), "media", "--list", "--format", "json")
    data = json.loads(out)
    assert code == 0 and [d["source"] for d in data] == ["topics/demo/a.jpg", "topics/demo/b.jpg"]
    assert set(data[0]) == {"source", "kind", "topic", "title", "tags", "group", "description", "duration", "width",
                            "height", "renditions", "poster", "processed", "error"}
    assert data[0]["renditions"][0] == "demo/a-80.jpg"
    code, out, _ = run(capsys, "--root", str(tmp_path), "media", "--list", "--tag", "会议", "--format", "json")
    assert [d["title"] for d in json.loads(out)] == ["开幕"]
    code, out, _ = run(capsys, "--root", str(tmp_path), "media", "--list", "--group", "资料", "--format", "json")
    assert [d["title"] for d in json.loads(out)] == ["调研"]
    code, out, err = run(capsys, "--root", str(tmp_path), "media", "--list")
    assert code == 0 and "topics/demo/a.jpg" in out and "开幕" in out and "共 2 个图片和视频" in err


def test_list_with_bad_input_exits_one_after_printing(tmp_path, capsys):
    root = _bad_site(tmp_path)
    code, out, err = run(capsys, "--root", str(root), "media", "--list", "--format", "json")
    assert code == 1
    listed = {d["source"]: d for d in json.loads(out)}
    assert listed["topics/demo/images/empty.jpg"]["error"] == "文件为空（0 字节）"
    assert "合影.png.yaml:3" in err


@pytest.mark.parametrize("argv", [["media", "--tag", "x"], ["media", "--group", "x"], ["media", "--format", "json"],
                                  ["media", "--jobs", "0"], ["media", "--topic", "nope"]])
def test_bad_usage_exits_two(tmp_path, capsys, argv):
    write_site(tmp_path, {"topics/demo/topic.toml": ""}, SITE)
    code, _, err = run(capsys, "--root", str(tmp_path), *argv)
    assert code == 2 and err.strip()


def test_unknown_topic_suggests_the_closest(tmp_path, capsys):
    write_site(tmp_path, {"topics/demo/topic.toml": ""}, SITE)
    code, _, err = run(capsys, "--root", str(tmp_path), "media", "--topic", "dem")
    assert code == 2 and "demo" in err


def test_english_messages(tmp_path, capsys):
    write_site(tmp_path, {"topics/demo/bad.jpg": "text"}, SITE)
    code, _, err = run(capsys, "--lang", "en", "--root", str(tmp_path), "media")
    assert code == 1 and "not an image" in err and "1 failed" in err


# ---------------------------------------------------------------- videos

def test_video_is_transcoded_cached_listed_and_published(tmp_path, capsys):
    write_site(tmp_path, {"topics/demo/视频/开幕 式.mp4.yaml": "title: 开幕式\ngroup: 视频\n"}, SITE)
    src = _clip(tmp_path / "topics/demo/视频/开幕 式.mp4")
    code, _, err = run(capsys, "--root", str(tmp_path), "media")
    assert code == 0 and "转码视频 1 个" in err
    code, _, err = run(capsys, "--root", str(tmp_path), "media")
    assert code == 0 and "转码视频 0 个" in err and "复用缓存 1 个" in err
    code, out, _ = run(capsys, "--root", str(tmp_path), "media", "--list", "--format", "json")
    (item,) = json.loads(out)
    assert item["kind"] == "video" and item["title"] == "开幕式" and 0.8 < item["duration"] < 1.3
    assert item["renditions"] == ["demo/视频/开幕-式/120p.mp4", "demo/视频/开幕-式/96p.mp4"]
    assert item["poster"] == "demo/视频/开幕-式/poster.jpg"
    lib = library_for(load_site_config(tmp_path))
    written = lib.publish_into(tmp_path / "public", src, "demo/视频/开幕-式.mp4")
    assert "demo/视频/开幕-式/120p.mp4" in written and "demo/视频/开幕-式/poster.webp" in written
    assert not any(w.endswith("开幕 式.mp4") for w in written)
    html = lib.html(src, "", "../视频/", "demo/视频/开幕-式.mp4")
    assert 'aria-label="开幕式"' in html and "<video controls" in html


def test_corrupt_video_fails_and_photos_still_cached(tmp_path, capsys):
    write_site(tmp_path, {"topics/demo/broken.mp4": b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100}, SITE)
    _photo(tmp_path / "topics/demo/a.jpg")
    code, _, err = run(capsys, "--root", str(tmp_path), "media", "--jobs", "2")
    assert code == 1 and "topics/demo/broken.mp4" in err and "处理图片 1 个" in err


class _ListSink:
    def __init__(self) -> None:
        self.items: list = []

    def put(self, item) -> None:
        self.items.append(item)


def test_video_job_reports_progress_and_returns_plain_data(tmp_path):
    src = _clip(tmp_path / "c.mp4")
    site = load_site_config(write_site(tmp_path, {}, SITE))
    params = library_for(site)._task(src, "0" * 64).params
    sink = _ListSink()
    result = video_job(str(src), str(tmp_path / "cache"), "vkey", params, {"source_name": "c.mp4"}, sink, 7)
    assert result["ok"] and result["result"]["kind"] == "video"
    json.dumps(result)
    fractions = [f for task, f in sink.items if task == 7]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_videos_on_a_process_pool_send_progress_through_a_queue(tmp_path):
    write_site(tmp_path, {}, SITE)
    src = _clip(tmp_path / "topics/demo/c.mp4")
    lib = library_for(load_site_config(tmp_path))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")) as pool:
        report = lib.process([src], video_executor=pool)
    assert report.transcoded == ["topics/demo/c.mp4"]
    assert lib.lookup(src).outputs.renditions[0].label == "120p"
