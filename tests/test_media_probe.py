"""Probing videos: sizes, rotation, bit depth, odd streams, and a clear MediaError for bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from media_samples import (
    make_audio_only,
    make_clip,
    make_with_cover_and_video,
    make_with_data_stream,
    truncate,
)

from media_pipeline import probe as probe_module
from media_pipeline.errors import MediaError
from media_pipeline.ffmpeg import ffmpeg_exe, ffprobe_exe, stderr_reason
from media_pipeline.probe import info_from_ffprobe, normalise_rotation, probe, top_level_atoms, validate


def test_probe_reports_size_duration_rate_and_codecs(tmp_path):
    info = probe(make_clip(tmp_path / "clip.mp4", seconds=2, size="320x240", rate=25))
    assert (info.width, info.height) == (320, 240)
    assert (info.coded_width, info.coded_height) == (320, 240)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.fps == pytest.approx(25)
    assert info.video_codec == "h264"
    assert info.pix_fmt == "yuv420p" and info.bit_depth == 8
    assert info.rotation == 0
    assert info.has_audio and info.audio_codec == "aac"
    assert "mp4" in info.container


@pytest.mark.parametrize(("stored", "reported"), [(90, 90), (-90, 270), (180, 180)])
def test_probe_reports_rotation_and_the_displayed_size(tmp_path, stored, reported):
    info = probe(make_clip(tmp_path / "phone.mov", size="640x360", seconds=1, rotation=stored))
    assert info.rotation == reported
    assert (info.coded_width, info.coded_height) == (640, 360)
    expected = (360, 640) if reported in (90, 270) else (640, 360)
    assert (info.width, info.height) == expected
    assert info.short_side == 360


def test_probe_reports_ten_bit_422_and_a_silent_track(tmp_path):
    info = probe(make_clip(tmp_path / "camera.mkv", pix_fmt="yuv422p10le", audio=False))
    assert info.pix_fmt == "yuv422p10le"
    assert info.bit_depth == 10
    assert not info.has_audio and info.audio_codec is None and info.audio_index is None
    assert "matroska" in info.container


def test_probe_reads_avi_and_mpeg_ts(tmp_path):
    avi = probe(make_clip(tmp_path / "old.avi", vcodec="mpeg4"))
    assert avi.container == "avi" and avi.video_codec == "mpeg4" and avi.audio_codec == "mp3"
    ts = probe(make_clip(tmp_path / "broadcast.ts"))
    assert ts.container == "mpegts" and ts.duration == pytest.approx(2.0, abs=0.1)


def test_probe_applies_the_pixel_aspect_ratio_to_the_display_size(tmp_path):
    # PAL DV: 720x576 stored with 16:15 pixels is shown 768 wide.
    info = probe(make_clip(tmp_path / "dv.mkv", size="720x576", sar="16/15", seconds=0.5, audio=False))
    assert (info.coded_width, info.coded_height) == (720, 576)
    assert (info.width, info.height) == (768, 576)


def test_probe_reports_interlaced_pictures(tmp_path):
    assert probe(make_clip(tmp_path / "tv.mp4", interlaced=True, seconds=1)).interlaced
    assert not probe(make_clip(tmp_path / "web.mp4", seconds=1)).interlaced


def test_probe_ignores_data_streams_and_cover_art(tmp_path):
    with_timecode = probe(make_with_data_stream(tmp_path / "camera.mov"))
    assert (with_timecode.width, with_timecode.height) == (320, 240)
    assert with_timecode.has_audio
    with_cover = probe(make_with_cover_and_video(tmp_path / "covered.mp4"))
    assert with_cover.video_codec == "h264" and (with_cover.width, with_cover.height) == (320, 240)


def test_top_level_atoms_tell_fast_start_from_moov_at_the_end(tmp_path):
    fast = top_level_atoms(make_clip(tmp_path / "fast.mp4", faststart=True))
    slow = top_level_atoms(make_clip(tmp_path / "slow.mp4"))
    assert fast.index("moov") < fast.index("mdat")
    assert slow.index("moov") > slow.index("mdat")
    assert top_level_atoms(make_clip(tmp_path / "old.avi", vcodec="mpeg4")) == []


def test_rotation_is_normalised_to_quarter_turns():
    assert [normalise_rotation(d) for d in (0, 90, -90, 180, -180, 270, 89.99, 450, None)] == \
        [0, 90, 270, 180, 180, 270, 90, 90, 0]


# ---------------------------------------------------------------- bad input

def test_zero_byte_file_is_reported_as_empty(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError) as err:
        probe(empty)
    assert err.value.path == str(empty)
    assert "0 字节" in err.value.message


def test_text_file_named_mp4_is_not_a_readable_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("这不是视频，是会议纪要。\n" * 20, encoding="utf-8")
    with pytest.raises(MediaError) as err:
        probe(fake)
    assert err.value.path == str(fake)
    assert "无法识别的视频文件" in err.value.message
    assert err.value.hint


def test_audio_only_file_has_no_video_stream(tmp_path):
    for audio in (make_audio_only(tmp_path / "speech.m4a"), make_audio_only(tmp_path / "song.mp3", cover=True)):
        with pytest.raises(MediaError) as err:
            probe(audio)
        assert err.value.path == str(audio)
        assert "没有视频流" in err.value.message


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(MediaError) as err:
        probe(tmp_path / "gone.mp4")
    assert "不存在" in err.value.message


def test_truncated_mp4_without_fast_start_lacks_its_index(tmp_path):
    whole = make_clip(tmp_path / "whole.mp4", seconds=2)
    cut = truncate(whole, tmp_path / "cut.mp4", 0.5)
    with pytest.raises(MediaError) as err:
        probe(cut)
    assert err.value.path == str(cut)
    assert "moov" in err.value.message


def test_truncated_fast_start_mp4_fails_validation(tmp_path):
    whole = make_clip(tmp_path / "whole.mp4", seconds=2, faststart=True)
    cut = truncate(whole, tmp_path / "cut.mp4", 0.5)
    assert probe(cut).duration == pytest.approx(2.0, abs=0.1)  # the header still claims it all
    validate(whole)
    with pytest.raises(MediaError) as err:
        validate(cut)
    assert err.value.path == str(cut)
    assert "截断或损坏" in err.value.message


def test_broken_file_with_spaces_and_chinese_in_its_name_is_named_in_the_error(tmp_path):
    broken = truncate(make_clip(tmp_path / "src.mov"), tmp_path / "我的 视频.mov", 0.3)
    with pytest.raises(MediaError) as err:
        probe(broken)
    assert err.value.path == str(broken)
    assert "我的 视频.mov" in str(err.value)


def test_good_file_with_spaces_and_chinese_in_its_name_probes(tmp_path):
    info = probe(make_clip(tmp_path / "会议 录像" / "我的 视频.mov", seconds=1))
    assert info.width == 320


def test_messages_follow_the_language_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    with pytest.raises(MediaError) as err:
        probe(make_audio_only(tmp_path / "speech.m4a"))
    assert "no video stream" in err.value.message


# ---------------------------------------------------------------- ffprobe path

FFPROBE_JSON = {
    "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "12.480000"},
    "streams": [
        {"index": 0, "codec_type": "video", "codec_name": "mjpeg", "width": 300, "height": 300,
         "disposition": {"attached_pic": 1}},
        {"index": 1, "codec_type": "data", "codec_name": "none", "tags": {"handler_name": "Core Media Metadata"}},
        {"index": 2, "codec_type": "video", "codec_name": "hevc", "profile": "Main 10", "width": 1920, "height": 1080,
         "coded_width": 1920, "coded_height": 1088, "pix_fmt": "yuv420p10le", "avg_frame_rate": "30000/1001",
         "r_frame_rate": "30/1", "sample_aspect_ratio": "1:1", "field_order": "progressive",
         "disposition": {"attached_pic": 0},
         "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]},
        {"index": 3, "codec_type": "audio", "codec_name": "aac", "channels": 2, "sample_rate": "48000"},
    ],
}


def test_ffprobe_output_is_read_like_a_phone_clip():
    info = info_from_ffprobe(Path("IMG_0001.MOV"), FFPROBE_JSON)
    assert info.video_index == 2 and info.audio_index == 3
    assert info.rotation == 270
    assert (info.width, info.height) == (1080, 1920)
    assert info.fps == pytest.approx(29.97, abs=0.01)
    assert info.bit_depth == 10
    assert info.duration == pytest.approx(12.48)
    assert info.audio_channels == 2 and info.audio_sample_rate == 48000


def test_ffprobe_output_with_only_cover_art_has_no_video_stream():
    data = {"format": {"format_name": "mp3"}, "streams": [FFPROBE_JSON["streams"][0], FFPROBE_JSON["streams"][3]]}
    with pytest.raises(MediaError) as err:
        info_from_ffprobe(Path("song.mp3"), data)
    assert "没有视频流" in err.value.message


def test_old_ffprobe_rotate_tag_is_clockwise():
    stream = {k: v for k, v in FFPROBE_JSON["streams"][2].items() if k != "side_data_list"}
    data = {"format": FFPROBE_JSON["format"], "streams": [{**stream, "tags": {"rotate": "90"}}]}
    assert info_from_ffprobe(Path("old.mov"), data).rotation == 270


@pytest.mark.skipif(ffprobe_exe() is None, reason="no system ffprobe (the imageio build has none)")
def test_probe_with_ffprobe_agrees_with_pyav(tmp_path, monkeypatch):
    clip = make_clip(tmp_path / "phone.mov", size="640x360", seconds=1, rotation=-90)
    with_ffprobe = probe(clip)
    monkeypatch.setattr(probe_module, "ffprobe_exe", lambda: None)
    with_pyav = probe(clip)
    for name in ("width", "height", "rotation", "video_codec", "pix_fmt", "has_audio", "audio_codec"):
        assert getattr(with_ffprobe, name) == getattr(with_pyav, name), name


def test_ffmpeg_is_found():
    exe = ffmpeg_exe()
    assert Path(exe).is_file()
    if shutil.which("ffmpeg"):
        assert exe == shutil.which("ffmpeg")


def test_stderr_reason_drops_addresses_and_generic_lines():
    lines = ["[in#0/mov,mp4 @ 0x55d0c0ffee00] moov atom not found",
             "[in#0 @ 0x55d0c0ffee01] Error opening input: Invalid data found when processing input",
             "Error opening input file cut.mp4.", "Error opening input files: Invalid data found when processing input"]
    reason = stderr_reason(lines)
    assert "moov atom not found" in reason
    assert "0x55d0" not in reason
    assert "Error opening input files" not in reason
