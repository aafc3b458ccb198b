"""Media jobs on a Dask cluster (``--executor dask://HOST:PORT`` or ``[build] executor``) give the
same outputs as the local pools: byte-identical photos, videos with the same streams, dimensions
and duration. The cluster is a ``distributed.LocalCluster`` on 127.0.0.1 (worker threads, TCP)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

from builder.cli import main
from media_pipeline import executor as media_executor
from media_pipeline.executor import MediaTask, dask_address, run_tasks
from tests.media_samples import make_clip, sample_ffmpeg
from tests.sitefactory import md, write_site
from tests.test_build_media import SITE, gps_photo

distributed = pytest.importorskip("distributed", reason="the Dask tests need the 'distributed' package "
                                                        "(pip install 'zhuanti[dask]'; make test installs it)")

REPO = Path(__file__).resolve().parents[1]
VIDEO_EXTS = {".mp4", ".m4s", ".ts"}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                                  host="127.0.0.1", scheduler_port=0, dashboard_address=":0") as c:
        yield "dask://" + c.scheduler_address.removeprefix("tcp://")


def probe(path: Path) -> dict:
    """Streams (kind, codec, size), and duration to the millisecond."""
    with av.open(str(path)) as c:
        streams = [(s.type, s.codec_context.name, getattr(s.codec_context, "width", None),
                    getattr(s.codec_context, "height", None)) for s in c.streams]
        return {"streams": streams, "duration": round((c.duration or 0) / av.time_base, 3)}


SKIP_DIRS = {".zhuanti", "search-index"}  # the manifest names its build; the search index names its files by hash


def compare_outputs(a: Path, b: Path) -> int:
    """Every published file of ``a`` is in ``b`` and the same (videos: same streams, size, length)."""
    files_a = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file() and not SKIP_DIRS & set(p.parts))
    files_b = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file() and not SKIP_DIRS & set(p.parts))
    assert files_a == files_b
    media = 0
    for rel in files_a:
        fa, fb = a / rel, b / rel
        if fa.suffix.lower() in VIDEO_EXTS:
            assert probe(fa) == probe(fb), rel
            media += 1
        else:
            assert fa.read_bytes() == fb.read_bytes(), rel
            media += fa.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
    return media


def small_site(root: Path) -> Path:
    write_site(root, {
        "topics/expo/index.md": md("轨道交通摄影展", "![开幕](images/open.jpg)\n\n![夜景](images/night.jpg)"),
        "topics/expo/images/open.jpg": gps_photo(),
        "topics/expo/images/night.jpg": gps_photo(640, 800),
        "topics/expo/news/_index.md": md("新闻"),
        "topics/expo/news/day1/index.md": md("第一天", "![现场视频](clip.mp4)", date="2026-01-01"),
    }, site_toml=SITE)
    make_clip(root / "topics/expo/news/day1/clip.mp4", seconds=1, size="320x240")
    return root


def test_build_on_dask_publishes_the_same_files_as_the_local_pools(tmp_path, cluster, monkeypatch):
    local = small_site(tmp_path / "local")
    shutil.copytree(local, tmp_path / "dask")
    assert main(["build", "--root", str(local), "--jobs", "2"]) == 0
    assert main(["build", "--root", str(tmp_path / "dask"), "--executor", cluster]) == 0
    assert compare_outputs(local / "public", tmp_path / "dask/public") >= 4
    assert any(p.suffix == ".mp4" for p in (tmp_path / "dask/public").rglob("*"))
    # the cache is the single truth: a second build on Dask finds everything there and sends no job
    sent = []
    monkeypatch.setattr(media_executor, "_dask_run", lambda tasks, *a: sent.extend(tasks))
    assert main(["build", "--root", str(tmp_path / "dask"), "--executor", cluster, "--clean"]) == 0
    assert sent == []


def test_site_toml_executor_and_zhuanti_media(tmp_path, cluster, capsys, monkeypatch):
    root = small_site(tmp_path / "site")
    toml = root / "site_src/site.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[build]\nexecutor = "{cluster}"\n', encoding="utf-8")
    sent = []
    real = media_executor._dask_run
    monkeypatch.setattr(media_executor, "_dask_run", lambda tasks, *a: sent.extend(tasks) or real(tasks, *a))
    assert main(["media", "--root", str(root), "--lang", "en"]) == 0
    assert "1 video(s) transcoded, 2 photo(s) processed" in capsys.readouterr().err
    assert sorted(t.kind for t in sent) == ["image", "image", "video"]
    entries = list((root / ".zhuanti-cache/media").rglob("result.json"))
    assert len(entries) == 3


@pytest.mark.slow
def test_the_sample_sites_media_on_dask_equals_the_local_executor(tmp_path, cluster):
    """The shipped sample site (quick media from its generator): photo exhibition and video series."""
    local = tmp_path / "local"
    ignore = shutil.ignore_patterns("*.jpg", "*.mp4", "*.mov", "*.mkv", "__pycache__")
    for name in ("site_src", "topics", "themes"):
        shutil.copytree(REPO / name, local / name, ignore=ignore)
    toml = local / "site_src/site.toml"
    text = toml.read_text(encoding="utf-8")
    if not re.search(r"^\[media\]", text, re.M):
        toml.write_text(text + '\n[media]\nvideo_preset = "ultrafast"\n', encoding="utf-8")
    # The generator runs the ffmpeg on PATH; imageio's static build is new enough for every
    # option it uses (Debian 12's ffmpeg 5.1 has no -display_rotation). The build itself uses
    # whatever ffmpeg the pipeline picks, the same for both runs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ffmpeg").symlink_to(sample_ffmpeg())
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, str(REPO / "site_src/tools/make_sample_media.py"), "--quick",
                           "--root", str(local)], capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    dask_root = tmp_path / "dask"
    shutil.copytree(local, dask_root)
    assert main(["build", "--root", str(local)]) == 0
    assert main(["build", "--root", str(dask_root), "--executor", cluster]) == 0
    assert compare_outputs(local / "public", dask_root / "public") >= 60


def test_bad_executor_settings_are_usage_errors(tmp_path, capsys):
    root = small_site(tmp_path / "site")
    for bad in ("dask:/host", "spark://host:7077", "dask://host:port", "dask://:8786"):
        assert main(["build", "--root", str(root), "--executor", bad, "--lang", "en"]) == 2, bad
        err = capsys.readouterr().err
        assert bad in err and "dask://" in err and "--executor" in err
    assert main(["media", "--root", str(root), "--executor", "dask:/x", "--lang", "en"]) == 2
    assert "dask:/x" in capsys.readouterr().err
    toml = root / "site_src/site.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[build]\nexecutor = "dask:/x"\n', encoding="utf-8")
    assert main(["build", "--root", str(root), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "site.toml" in err and "build.executor" in err


def test_addresses():
    assert dask_address(None) is None and dask_address("local") is None
    assert dask_address("dask://scheduler") == "tcp://scheduler:8786"
    assert dask_address("dask://10.0.0.5:9000/") == "tcp://10.0.0.5:9000"


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(media_executor, "DASK_CONNECT_SECONDS", 1)
    root = small_site(tmp_path / "site")
    assert main(["media", "--root", str(root), "--executor", "dask://127.0.0.1:9", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in err and "dask scheduler" in err


def test_a_source_the_workers_cannot_see_is_named(tmp_path, cluster):
    task = MediaTask("image", str(tmp_path / "elsewhere/photo.jpg"), "k" * 64, {})
    with pytest.raises(Exception) as info:
        run_tasks([task], tmp_path / "cache", executor=cluster)
    assert "cannot see" in str(info.value) or "看不到" in str(info.value)
    assert "photo.jpg" in str(info.value)
