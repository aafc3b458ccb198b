"""Tiny real video/audio files for media tests, generated with ffmpeg's lavfi sources.

Every function writes the file it is given and returns its path; clips are small (a second or two
at 320x240 or 640x360, ultrafast) so a test that makes a few stays well under a second.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from media_pipeline.ffmpeg import ffmpeg_exe


def sample_ffmpeg() -> str:
    """The ffmpeg that makes samples: imageio's static build (recent enough for -display_rotation)
    even when a system ffmpeg on PATH is the one under test."""
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return ffmpeg_exe()


def run_ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly; a failure raises with its stderr (a broken fixture must say why)."""
    cmd = [sample_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    done = subprocess.run(cmd, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({done.returncode}): {' '.join(cmd)}\n"
                           f"{done.stderr.decode('utf-8', 'replace')}")


def make_clip(path: Path, *, seconds: float = 2, size: str = "320x240", rate: int = 25, audio: bool = True,
              pix_fmt: str = "yuv420p", vcodec: str = "libx264", acodec: str | None = None,
              faststart: bool = False, rotation: int | None = None, sar: str | None = None,
              interlaced: bool = False, source: str | None = None, extra: tuple[str, ...] = ()) -> Path:
    """A test-pattern clip (testsrc2, plus a 440 Hz tone unless ``audio=False``).

    ``rotation`` stores a display matrix of that many degrees counter-clockwise (90: shown rotated
    left; -90 is what a phone filming upright writes). ``sar`` makes anamorphic pixels ("16:15").
    ``source`` replaces the testsrc2 graph (e.g. a picture whose corners can be told apart).
    The container follows the file extension (.mp4, .mov, .mkv, .avi, .ts …).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = source or f"testsrc2=size={size}:rate={rate}"
    if sar:
        graph += f",setsar={sar}"
    args = ["-f", "lavfi", "-i", graph]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    args += ["-t", f"{seconds:g}", "-map", "0:v"] + (["-map", "1:a"] if audio else [])
    args += ["-c:v", vcodec, "-pix_fmt", pix_fmt]
    if vcodec == "libx264":
        args += ["-preset", "ultrafast"]
        if interlaced:
            args += ["-flags", "+ildct+ilme", "-x264-params", "tff=1"]
    if audio:
        args += ["-c:a", acodec or ("mp3" if path.suffix.lower() == ".avi" else "aac")]
    if faststart:
        args += ["-movflags", "+faststart"]
    args += [*extra]
    if rotation is None:
        run_ffmpeg(*args, str(path))
        return path
    # ffmpeg ≥ 6 ignores "-metadata:s:v rotate=…"; the display matrix is set on an input instead.
    plain = path.with_name(path.stem + ".unrotated" + path.suffix)
    run_ffmpeg(*args, str(plain))
    run_ffmpeg("-display_rotation", str(rotation), "-i", str(plain), "-map", "0", "-c", "copy", str(path))
    plain.unlink()
    return path


def corner_marked_source(size: str = "320x180", rate: int = 10) -> str:
    """A lavfi graph: blue picture with a red block in the top-left corner (to check orientation)."""
    return f"color=c=blue:s={size}:r={rate},drawbox=x=0:y=0:w=iw/5:h=ih/5:c=red:t=fill"


def make_audio_only(path: Path, *, seconds: float = 2, cover: bool = False) -> Path:
    """An audio file (AAC in .m4a/.mp4, MP3 in .mp3); ``cover`` adds cover art (an attached picture)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["-f", "lavfi", "-i", "sine=frequency=440"]
    if cover:
        art = path.with_name(path.stem + ".cover.png")
        run_ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", str(art))
        args += ["-i", str(art), "-map", "0:a", "-map", "1:v", "-c:v", "png" if path.suffix != ".mp3" else "mjpeg",
                 "-disposition:v:0", "attached_pic"]
    run_ffmpeg(*args, "-t", f"{seconds:g}", str(path))
    return path


def make_with_data_stream(path: Path, *, seconds: float = 1) -> Path:
    """A .mov with a timecode (tmcd) data track before the picture is even looked at."""
    return make_clip(path, seconds=seconds, extra=("-timecode", "01:00:00:00"))


def make_with_cover_and_video(path: Path, *, seconds: float = 1) -> Path:
    """An MP4 whose first video stream is cover art and whose second is the real picture."""
    path = Path(path)
    clip = make_clip(path.with_name(path.stem + ".plain.mp4"), seconds=seconds)
    art = path.with_name(path.stem + ".cover.png")
    run_ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", str(art))
    run_ffmpeg("-i", str(art), "-i", str(clip), "-map", "0:v", "-map", "1:v", "-map", "1:a", "-c:v:0", "png",
               "-c:v:1", "copy", "-c:a", "copy", "-disposition:v:0", "attached_pic", "-disposition:v:1", "default",
               str(path))
    return path


def truncate(src: Path, dest: Path, fraction: float = 0.5) -> Path:
    """The first ``fraction`` of ``src``'s bytes: an interrupted copy or upload."""
    data = Path(src).read_bytes()
    Path(dest).write_bytes(data[: int(len(data) * fraction)])
    return Path(dest)


def first_frame_rgb(path: Path):
    """The first decoded picture of ``path`` as a PIL RGB image, exactly as stored (no autorotation)."""
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            return frame.to_image().convert("RGB")
    raise AssertionError(f"{path}: no picture")


def corner_colours(image) -> dict[str, str]:
    """'red'/'blue'/'other' at the four corners (8% in from each edge) of a PIL RGB image."""
    w, h = image.size
    dx, dy = max(1, w * 8 // 100), max(1, h * 8 // 100)

    def name(rgb: tuple[int, int, int]) -> str:
        r, g, b = rgb[:3]
        if r > 150 and b < 100 and g < 100:
            return "red"
        if b > 150 and r < 100 and g < 100:
            return "blue"
        return "other"

    return {"top_left": name(image.getpixel((dx, dy))), "top_right": name(image.getpixel((w - 1 - dx, dy))),
            "bottom_left": name(image.getpixel((dx, h - 1 - dy))),
            "bottom_right": name(image.getpixel((w - 1 - dx, h - 1 - dy)))}
