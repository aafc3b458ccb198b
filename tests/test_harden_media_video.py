"""Issue 9, item 10: a truncated or damaged video fails naming the file (never a silent short
clip), on both probe paths (ffprobe and PyAV); a container that does not match its extension is
noted."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.build import BuildOptions, build_site
from builder.errors import BuildFailed
from media_pipeline import probe as probe_module
from media_pipeline.errors import MediaError
from media_pipeline.ffmpeg import ffprobe_exe
from media_pipeline.video import VideoParams, transcode
from tests.media_samples import make_clip
from tests.sitefactory import SITE_TOML, md, write_site

PARAMS = VideoParams(heights=(96,), preset="ultrafast")
SITE = SITE_TOML + '\n[media]\nvideo_heights = [96]\nvideo_preset = "ultrafast"\nimage_widths = [40]\n'


@pytest.fixture(params=["ffprobe", "pyav"])
def probe_path(request, monkeypatch):
    """Run the test once with Debian's ffprobe (installed by ``make test``) and once with PyAV."""
    if request.param == "ffprobe":
        if ffprobe_exe() is None:
            pytest.skip("no ffprobe beside ffmpeg: `make test` installs Debian's ffmpeg (APT_PKGS)")
    else:
        monkeypatch.setattr(probe_module, "ffprobe_exe", lambda: None)
    return request.param


def _cut(full: Path, dest: Path, fraction: float = 1 / 7) -> Path:
    """An interrupted copy: the first ``fraction`` of the bytes."""
    data = full.read_bytes()
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


@pytest.mark.parametrize("ext,faststart", [("mp4", True), ("mkv", False), ("ts", False), ("avi", False)])
def test_a_video_cut_to_a_seventh_fails_naming_the_file(tmp_path, probe_path, ext, faststart):
    full = make_clip(tmp_path / f"full.{ext}", seconds=7, size="160x120", faststart=faststart)
    cut = _cut(full, tmp_path / f"cut.{ext}")
    with pytest.raises(MediaError) as err:
        transcode(cut, tmp_path / "out", PARAMS)
    assert err.value.path == str(cut)
    assert "截断或损坏" in err.value.message or "无法识别" in err.value.message
    # the whole file is fine on the same path
    assert transcode(full, tmp_path / "ok", PARAMS).duration > 6


def test_declared_frames_make_the_declared_duration(tmp_path, probe_path):
    full = make_clip(tmp_path / "full.avi", seconds=7, size="160x120")
    info = probe_module.probe(_cut(full, tmp_path / "cut.avi"))
    assert info.declared_frames == 175 or info.declared_frames == 176
    assert info.declared_duration > 6.5 > info.duration


def test_the_build_fails_on_a_truncated_video_and_names_it(tmp_path):
    write_site(tmp_path, {"topics/expo/index.md": md("展览", "![开幕](clip.mp4)")}, SITE)
    full = make_clip(tmp_path / "full.mp4", seconds=7, size="160x120", faststart=True)
    _cut(full, tmp_path / "topics/expo/clip.mp4")
    with pytest.raises(BuildFailed) as err:
        build_site(tmp_path, BuildOptions())
    text = str(err.value)
    assert "topics/expo/clip.mp4" in text and "截断或损坏" in text
    assert not (tmp_path / "public").exists()


def test_a_container_that_does_not_match_its_extension_is_noted(tmp_path, probe_path):
    write_site(tmp_path, {"topics/expo/index.md": md("展览", "![开幕](clip.mp4)")}, SITE)
    make_clip(tmp_path / "real.mkv", seconds=1, size="160x120")
    (tmp_path / "real.mkv").rename(tmp_path / "topics/expo/clip.mp4")  # a Matroska file named .mp4
    report = build_site(tmp_path, BuildOptions())
    notes = [n for n in report.notes if "topics/expo/clip.mp4" in n]
    assert notes and "matroska" in notes[0] and ".mp4" in notes[0]
    assert (tmp_path / "public/expo/clip/96p.mp4").is_file()


def test_a_matching_container_gets_no_note(tmp_path):
    from media_pipeline.probe import container_mismatch

    assert container_mismatch(Path("a.mp4"), "mov,mp4,m4a,3gp,3g2,mj2") is None
    assert container_mismatch(Path("a.webm"), "matroska,webm") is None
    assert "avi" in container_mismatch(Path("a.mov"), "avi")
