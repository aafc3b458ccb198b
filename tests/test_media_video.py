"""Transcoding: the MP4 ladder, poster, HLS, captions, and clear errors for files that cannot be used."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import av
import pytest
from media_samples import (
    corner_colours,
    corner_marked_source,
    first_frame_rgb,
    make_audio_only,
    make_clip,
    truncate,
)
from PIL import Image

from builder.config import MediaConfig
from media_pipeline.errors import MediaConfigError as ConfigError
from media_pipeline.errors import MediaError
from media_pipeline.ffmpeg import ffmpeg_exe
from media_pipeline.probe import VideoInfo, probe, top_level_atoms
from media_pipeline.video import (
    VideoOutputs,
    VideoParams,
    find_captions,
    plan_ladder,
    run_ffmpeg,
    srt_to_vtt,
    transcode,
    write_captions,
)

FAST = VideoParams(preset="ultrafast")


def fast(**changes) -> VideoParams:
    return dataclasses.replace(FAST, **changes)


def stream_facts(mp4: Path) -> dict:
    """What a player sees in an output file (read back with PyAV, independently of probe())."""
    with av.open(str(mp4)) as c:
        v = c.streams.video[0]
        audio = list(c.streams.audio)
        frame = next(c.decode(video=0))
        return {"codec": v.codec_context.name, "profile": v.profile, "pix_fmt": v.codec_context.pix_fmt,
                "width": v.codec_context.width, "height": v.codec_context.height, "rotation": frame.rotation,
                "audio": [a.codec_context.name for a in audio], "duration": c.duration / 1e6}


def assert_web_mp4(mp4: Path) -> dict:
    facts = stream_facts(mp4)
    assert facts["codec"] == "h264"
    assert facts["profile"] == "High"
    assert facts["pix_fmt"] == "yuv420p"
    assert facts["width"] % 2 == 0 and facts["height"] % 2 == 0
    assert facts["rotation"] == 0
    atoms = top_level_atoms(mp4)
    assert atoms.index("moov") < atoms.index("mdat"), atoms
    return facts


def info_of(width: int, height: int, duration: float = 10.0) -> VideoInfo:
    return VideoInfo(duration=duration, width=width, height=height, coded_width=width, coded_height=height,
                     fps=25.0, video_codec="h264", pix_fmt="yuv420p", bit_depth=8, rotation=0, has_audio=True,
                     audio_codec="aac", container="mov,mp4")


# ---------------------------------------------------------------- the ladder

def test_ladder_of_a_1080p_source_has_three_rungs():
    rungs = plan_ladder(info_of(1920, 1080), VideoParams())
    assert [(r.label, r.width, r.height) for r in rungs] == \
        [("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480)]


def test_ladder_never_upscales_a_small_source():
    assert [r.label for r in plan_ladder(info_of(640, 360), VideoParams())] == ["360p"]
    assert [r.label for r in plan_ladder(info_of(1280, 720), VideoParams())] == ["720p", "480p"]
    odd = plan_ladder(info_of(481, 361), VideoParams())
    assert [(r.width, r.height) for r in odd] == [(480, 360)]


def test_ladder_of_a_portrait_clip_counts_its_short_side():
    rungs = plan_ladder(info_of(1080, 1920), VideoParams())
    assert [(r.label, r.width, r.height) for r in rungs] == \
        [("1080p", 1080, 1920), ("720p", 720, 1280), ("480p", 480, 854)]


def test_params_key_is_stable_and_changes_with_every_setting():
    assert VideoParams().key() == VideoParams().key()
    assert VideoParams(heights=(480, 1080, 720)).key() == VideoParams().key()
    keys = {VideoParams().key(), fast().key(), VideoParams(crf=20).key(), VideoParams(hls_min_seconds=60).key(),
            VideoParams(heights=(720,)).key(), VideoParams(poster_seconds=3).key()}
    assert len(keys) == 6


def test_params_come_from_site_media_config():
    params = VideoParams.from_config(MediaConfig(video_heights=[720, 360], video_crf=28, hls_time=6))
    assert params.heights == (720, 360) and params.crf == 28 and params.hls_time == 6
    assert VideoParams.from_config(MediaConfig()) == VideoParams()


@pytest.mark.parametrize(("setting", "value", "field"), [
    ("video_crf", 60, "media.video_crf"), ("video_preset", "turbo", "media.video_preset"),
    ("video_heights", [], "media.video_heights"), ("video_poster_fraction", 1.5, "media.video_poster_fraction")])
def test_bad_media_setting_is_a_config_error_naming_it(setting, value, field):
    with pytest.raises(ConfigError) as err:
        VideoParams.from_config(MediaConfig(**{setting: value}), "site_src/site.toml")
    assert err.value.field == field
    assert err.value.path == "site_src/site.toml"


# ---------------------------------------------------------------- transcode

def test_transcode_writes_a_web_ladder_poster_and_reports_progress(tmp_path):
    src = make_clip(tmp_path / "clip.mp4", size="640x360", seconds=2)
    progress: list[float] = []
    out = transcode(src, tmp_path / "out", fast(heights=(360, 240)), progress.append)
    assert [(r.label, r.width, r.height) for r in out.renditions] == [("360p", 640, 360), ("240p", 426, 240)]
    for rendition in out.renditions:
        path = tmp_path / "out" / rendition.path
        assert rendition.bytes == path.stat().st_size > 0
        assert rendition.bitrate > 0
        facts = assert_web_mp4(path)
        assert (facts["width"], facts["height"]) == (rendition.width, rendition.height)
        assert facts["audio"] == ["aac"]
        assert facts["duration"] == pytest.approx(2.0, abs=0.15)
    with Image.open(tmp_path / "out" / out.poster_jpg) as jpg, Image.open(tmp_path / "out" / out.poster_webp) as webp:
        assert jpg.format == "JPEG" and webp.format == "WEBP"
        assert jpg.size == webp.size == (640, 360)
    assert out.hls is None and out.captions is None
    assert progress and progress[-1] == 1.0
    assert progress == sorted(progress) and all(0 < p <= 1 for p in progress)
    assert (out.width, out.height, out.duration) == (640, 360, pytest.approx(2.0, abs=0.1))


def test_a_360p_source_gets_one_360p_rendition_not_upscaled(tmp_path):
    out = transcode(make_clip(tmp_path / "small.mp4", size="640x360", seconds=1), tmp_path / "out", FAST)
    assert [(r.label, r.height) for r in out.renditions] == [("360p", 360)]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.mp4")) == ["360p.mp4"]


def test_a_1080p_source_gets_1080_720_and_480(tmp_path):
    src = make_clip(tmp_path / "full_hd.mp4", size="1920x1080", rate=10, seconds=0.5, audio=False)
    out = transcode(src, tmp_path / "out", FAST)
    assert [(r.width, r.height) for r in out.renditions] == [(1920, 1080), (1280, 720), (854, 480)]
    for rendition in out.renditions:
        facts = assert_web_mp4(tmp_path / "out" / rendition.path)
        assert facts["height"] <= 1080


@pytest.mark.parametrize("stored", [90, -90])
def test_rotated_phone_clip_comes_out_upright_without_rotation_metadata(tmp_path, stored):
    # A red block in the stored picture's top-left corner. Shown rotated 90° counter-clockwise it sits
    # bottom-left; a phone's -90 (clockwise) puts it top-right.
    src = make_clip(tmp_path / "phone.mov", source=corner_marked_source("320x180"), seconds=1, rotation=stored)
    expected_corner = "bottom_left" if stored == 90 else "top_right"
    out = transcode(src, tmp_path / "out", FAST)
    (rendition,) = out.renditions
    assert (rendition.width, rendition.height) == (180, 320)
    mp4 = tmp_path / "out" / rendition.path
    assert_web_mp4(mp4)
    assert probe(mp4).rotation == 0
    for picture in (first_frame_rgb(mp4), Image.open(tmp_path / "out" / out.poster_jpg).convert("RGB")):
        assert picture.size == (180, 320)
        corners = corner_colours(picture)
        assert corners[expected_corner] == "red", corners
        assert list(corners.values()).count("red") == 1, corners


def test_ten_bit_422_source_becomes_8_bit_420(tmp_path):
    src = make_clip(tmp_path / "camera.mkv", pix_fmt="yuv422p10le", seconds=1)
    assert probe(src).bit_depth == 10
    out = transcode(src, tmp_path / "out", FAST)
    facts = assert_web_mp4(tmp_path / "out" / out.renditions[0].path)
    assert facts["pix_fmt"] == "yuv420p"


def test_silent_source_stays_silent(tmp_path):
    out = transcode(make_clip(tmp_path / "silent.mp4", audio=False, seconds=1), tmp_path / "out", FAST)
    assert not out.has_audio
    assert stream_facts(tmp_path / "out" / out.renditions[0].path)["audio"] == []


@pytest.mark.parametrize(("name", "vcodec"), [("old.avi", "mpeg4"), ("camera.mkv", "libx264"),
                                               ("tv.mov", "libx264"), ("broadcast.ts", "libx264")])
def test_other_containers_become_web_mp4(tmp_path, name, vcodec):
    out = transcode(make_clip(tmp_path / name, vcodec=vcodec, seconds=1), tmp_path / "out", FAST)
    facts = assert_web_mp4(tmp_path / "out" / out.renditions[0].path)
    assert facts["audio"] == ["aac"]


def test_interlaced_source_is_deinterlaced(tmp_path):
    src = make_clip(tmp_path / "tv.mp4", interlaced=True, seconds=1)
    out = transcode(src, tmp_path / "out", FAST)
    mp4 = tmp_path / "out" / out.renditions[0].path
    assert_web_mp4(mp4)
    assert not probe(mp4).interlaced


def test_anamorphic_source_gets_square_pixels(tmp_path):
    src = make_clip(tmp_path / "dv.mkv", size="720x576", sar="16/15", seconds=0.5, audio=False)
    out = transcode(src, tmp_path / "out", fast(heights=(576,)))
    (rendition,) = out.renditions
    assert (rendition.width, rendition.height) == (768, 576)
    with av.open(str(tmp_path / "out" / rendition.path)) as c:
        assert c.streams.video[0].sample_aspect_ratio in (None, 0, 1)


def test_video_with_spaces_and_chinese_in_its_name_transcodes(tmp_path):
    src = make_clip(tmp_path / "会议 录像" / "我的 视频.mov", seconds=1)
    out = transcode(src, tmp_path / "输出 目录", FAST)
    assert_web_mp4(tmp_path / "输出 目录" / out.renditions[0].path)


def test_output_metadata_is_stripped(tmp_path):
    src = make_clip(tmp_path / "phone.mov", seconds=1,
                    extra=("-metadata", "location=+39.9042+116.4074/", "-metadata", "title=内部"))
    out = transcode(src, tmp_path / "out", FAST)
    with av.open(str(tmp_path / "out" / out.renditions[0].path)) as c:
        assert "location" not in c.metadata and "title" not in c.metadata


def test_poster_is_taken_at_the_configured_second(tmp_path):
    # Black for one second, then white: a poster at 1.5 s is white, the default (10 %) black.
    src = make_clip(tmp_path / "fade.mp4", audio=False, seconds=2,
                    source="color=c=black:s=320x240:r=10,drawbox=c=white:t=fill:enable='gte(t,1)'")
    default = transcode(src, tmp_path / "a", FAST)
    late = transcode(src, tmp_path / "b", fast(poster_seconds=1.5))
    dark = Image.open(tmp_path / "a" / default.poster_jpg).convert("L").getpixel((160, 120))
    light = Image.open(tmp_path / "b" / late.poster_jpg).convert("L").getpixel((160, 120))
    assert dark < 50 < 200 < light


# ---------------------------------------------------------------- HLS

def parse_playlist(path: Path) -> list[tuple[str, str]]:
    """(tag line, uri) pairs of an m3u8, after checking its header."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    pairs, tag = [], ""
    for line in lines[1:]:
        if line.startswith("#EXTINF") or line.startswith("#EXT-X-STREAM-INF"):
            tag = line
        elif line and not line.startswith("#"):
            pairs.append((tag, line))
    return pairs


def test_long_video_also_gets_hls_over_the_ladder(tmp_path):
    src = make_clip(tmp_path / "long.mp4", size="640x360", seconds=3)
    out = transcode(src, tmp_path / "out", fast(heights=(360, 240), hls_min_seconds=2, hls_time=1))
    assert out.hls == Path("hls/index.m3u8")
    master = tmp_path / "out" / out.hls
    variants = parse_playlist(master)
    assert [uri for _, uri in variants] == ["360p/index.m3u8", "240p/index.m3u8"]
    for (tag, uri), rendition in zip(variants, out.renditions, strict=True):
        assert f"RESOLUTION={rendition.width}x{rendition.height}" in tag
        assert re.search(r'CODECS="avc1\.64[0-9A-F]{4},mp4a\.40\.2"', tag), tag
        assert int(re.search(r"BANDWIDTH=(\d+)", tag).group(1)) > 0
        media = master.parent / uri
        assert "#EXT-X-ENDLIST" in media.read_text()
        segments = parse_playlist(media)
        assert len(segments) >= 3
        total = 0.0
        for extinf, seg in segments:
            assert (media.parent / seg).stat().st_size > 0
            total += float(extinf.split(":")[1].rstrip(","))
        assert total == pytest.approx(3.0, abs=0.2)


def test_short_video_gets_no_hls(tmp_path):
    out = transcode(make_clip(tmp_path / "short.mp4", seconds=1), tmp_path / "out", fast(hls_min_seconds=2))
    assert out.hls is None and not (tmp_path / "out" / "hls").exists()


def test_outputs_round_trip_through_json(tmp_path):
    src = make_clip(tmp_path / "long.mp4", seconds=2)
    (tmp_path / "long.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\n你好\n", encoding="utf-8")
    out = transcode(src, tmp_path / "out", fast(hls_min_seconds=1, hls_time=1))
    assert VideoOutputs.from_dict(json.loads(json.dumps(out.to_dict()))) == out


# ---------------------------------------------------------------- captions

SRT = ("\ufeff1\r\n00:00:00,500 --> 00:00:01,250\r\n各位代表：<i>大家好</i>\r\n\r\n"
       "2\r\n00:00:01,300 --> 00:00:01,900 X1:10 X2:20\r\n<font color=\"#ff0\">A & B</font> {\\an8}上方\r\n第二行\r\n")


def test_srt_beside_the_video_becomes_webvtt(tmp_path):
    src = make_clip(tmp_path / "speech.mp4", seconds=2)
    (tmp_path / "speech.srt").write_bytes(SRT.encode("utf-8"))
    out = transcode(src, tmp_path / "out", FAST)
    assert out.captions == Path("captions.zh.vtt") and out.captions_source == "speech.srt"
    vtt = (tmp_path / "out" / out.captions).read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n")
    assert "\r" not in vtt and "\ufeff" not in vtt
    assert "00:00:00.500 --> 00:00:01.250\n各位代表：<i>大家好</i>\n" in vtt
    assert "00:00:01.300 --> 00:00:01.900\nA &amp; B 上方\n第二行\n" in vtt


def test_gbk_encoded_srt_is_read(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"")
    srt = tmp_path / "clip.zh.srt"
    srt.write_bytes("1\n00:00:01,000 --> 00:00:02,000\n欢迎收看\n".encode("gbk"))
    assert find_captions(tmp_path / "clip.mp4") == srt
    write_captions(srt, tmp_path / "out.vtt")
    assert "欢迎收看" in (tmp_path / "out.vtt").read_text(encoding="utf-8")


def test_webvtt_beside_the_video_is_kept(tmp_path):
    src = make_clip(tmp_path / "talk.mov", seconds=1)
    (tmp_path / "talk.vtt").write_text("WEBVTT\r\n\r\n00:00.000 --> 00:00.800 line:0\r\n标题\r\n", encoding="utf-8")
    out = transcode(src, tmp_path / "out", FAST)
    vtt = (tmp_path / "out" / out.captions).read_text(encoding="utf-8")
    assert vtt == "WEBVTT\n\n00:00.000 --> 00:00.800 line:0\n标题\n"


def test_broken_srt_names_the_file_and_line(tmp_path):
    src = make_clip(tmp_path / "speech.mp4", seconds=1)
    bad = tmp_path / "speech.srt"
    bad.write_text("1\n00:00:01,000 --> 00:00:02,000\n第一句\n\n2\n00:00:03 -> 00:00:04\n第二句\n", encoding="utf-8")
    with pytest.raises(MediaError) as err:
        transcode(src, tmp_path / "out", FAST)
    assert err.value.path == str(bad)
    assert err.value.line == 6
    assert "speech.srt:6" in str(err.value)
    assert "00:00:03 -> 00:00:04" in err.value.message


@pytest.mark.parametrize(("text", "line", "words"), [
    ("1\n00:00:02,000 --> 00:00:01,000\n倒序\n", 2, "早于"),
    ("1\n00:61:00,000 --> 00:62:00,000\n超出\n", 2, "超出范围"),
    ("\n\n", None, "没有任何字幕"),
])
def test_bad_srt_timings_are_reported(text, line, words):
    with pytest.raises(MediaError) as err:
        srt_to_vtt(text, Path("a.srt"))
    assert err.value.line == line
    assert words in err.value.message


def test_vtt_without_header_is_reported(tmp_path):
    src = make_clip(tmp_path / "talk.mp4", seconds=1)
    (tmp_path / "talk.vtt").write_text("00:00.000 --> 00:01.000\n你好\n", encoding="utf-8")
    with pytest.raises(MediaError) as err:
        transcode(src, tmp_path / "out", FAST)
    assert err.value.line == 1 and "WEBVTT" in err.value.message


def test_srt_without_blank_lines_between_cues_still_converts():
    vtt = srt_to_vtt("1\n00:00:01,000 --> 00:00:02,000\n甲\n2\n00:00:02,000 --> 00:00:03,000\n乙\n", Path("a.srt"))
    assert vtt.count("-->") == 2 and "\n甲\n" in vtt and "\n乙\n" in vtt


# ---------------------------------------------------------------- bad input

def test_truncated_fast_start_mp4_is_caught_while_transcoding(tmp_path):
    whole = make_clip(tmp_path / "whole.mp4", seconds=2, faststart=True)
    cut = truncate(whole, tmp_path / "cut.mp4", 0.5)
    with pytest.raises(MediaError) as err:
        transcode(cut, tmp_path / "out", FAST)
    assert err.value.path == str(cut)
    assert "截断或损坏" in err.value.message


def test_truncated_mp4_without_fast_start_is_reported(tmp_path):
    cut = truncate(make_clip(tmp_path / "whole.mp4", seconds=2), tmp_path / "cut.mp4", 0.5)
    with pytest.raises(MediaError) as err:
        transcode(cut, tmp_path / "out", FAST)
    assert err.value.path == str(cut) and "moov" in err.value.message


@pytest.mark.parametrize("kind", ["text", "empty", "audio"])
def test_unusable_files_are_media_errors_naming_them(tmp_path, kind):
    path = tmp_path / "我的 视频.mov"
    if kind == "text":
        path.write_text("hello, not a video\n", encoding="utf-8")
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path = make_audio_only(tmp_path / "我的 视频.m4a")
    with pytest.raises(MediaError) as err:
        transcode(path, tmp_path / "out", FAST)
    assert err.value.path == str(path)
    assert path.name in str(err.value)
    expected = {"text": "无法识别的视频文件", "empty": "0 字节", "audio": "没有视频流"}[kind]
    assert expected in err.value.message


def test_ffmpeg_failure_reports_the_last_stderr_lines(tmp_path):
    with pytest.raises(MediaError) as err:
        run_ffmpeg([ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(tmp_path / "missing.mp4"), "-f", "null", "-"],
                   tmp_path, tmp_path / "missing.mp4", "转码")
    assert "转码失败" in err.value.message
    assert "No such file or directory" in err.value.message


def test_a_progress_callback_that_raises_stops_ffmpeg(tmp_path):
    src = make_clip(tmp_path / "clip.mp4", seconds=1)

    def stop(_fraction: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        transcode(src, tmp_path / "out", FAST, stop)


def test_progress_is_read_from_ffmpeg_while_it_runs(tmp_path):
    # -re paces the input in real time, so ffmpeg reports progress (every 0.5 s) before the end.
    seen: list[float] = []
    run = run_ffmpeg([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1",
                      "-nostats", "-re", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10", "-t", "1.2",
                      "-f", "null", "-"], tmp_path, tmp_path / "x.mp4", "test", seen.append)
    assert len(seen) >= 2
    assert seen == sorted(seen)
    assert run.out_time == pytest.approx(1.2, abs=0.15)


def test_raw_h264_stream_without_an_index_or_timestamps_transcodes(tmp_path):
    src = make_clip(tmp_path / "camera.h264", audio=False, seconds=1)
    info = probe(src)
    assert info.duration == pytest.approx(1.0, abs=0.1)  # counted from the pictures
    out = transcode(src, tmp_path / "out", FAST)
    assert_web_mp4(tmp_path / "out" / out.renditions[0].path)
    with Image.open(tmp_path / "out" / out.poster_jpg) as poster:
        assert poster.size == (320, 240)
