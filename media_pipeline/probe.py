"""What a video file holds (duration, display size, rotation, codecs), read with ffprobe or PyAV.

Any file a user drops into a topic goes through ``probe`` first: garbage, empty files and files
without a picture become a MediaError naming the file and the reason, never a traceback.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from media_pipeline import check_source_file
from media_pipeline.errors import MediaError
from media_pipeline.ffmpeg import ffmpeg_exe, ffprobe_exe, stderr_reason
from media_pipeline.i18n import tr

# How many packets of the video stream to read while looking for the first decodable picture
# (a clip cut out of a broadcast may start several seconds before its first keyframe).
_FIRST_FRAME_PACKETS = 1000


@dataclass(frozen=True)
class VideoInfo:
    """A probed video. ``width``/``height`` are the display size: pixel aspect applied, then rotation.

    ``coded_width``/``coded_height`` are the stored picture size. ``rotation`` is the display-matrix
    rotation, counter-clockwise degrees as ffmpeg reports it, normalised to 0/90/180/270 (a phone's
    portrait clip, ffprobe "rotation of -90 degrees", is 270). ``video_index``/``audio_index`` are
    absolute stream numbers, so ``-map 0:<index>`` picks the same streams the probe saw.
    """

    duration: float
    width: int
    height: int
    coded_width: int
    coded_height: int
    fps: float
    video_codec: str
    pix_fmt: str
    bit_depth: int
    rotation: int
    has_audio: bool
    audio_codec: str | None
    container: str
    profile: str | None = None
    interlaced: bool = False
    video_index: int = 0
    audio_index: int | None = None
    audio_channels: int = 0
    audio_sample_rate: int = 0
    declared_frames: int = 0  # the frame count the header declares (0: none); a cut AVI still says 176

    @property
    def declared_duration(self) -> float:
        """The length the file's headers promise: the container's duration, or the declared frame
        count over the frame rate when that is longer (the index of a cut AVI describes the cut)."""
        by_frames = self.declared_frames / self.fps if self.declared_frames > 0 and self.fps > 0 else 0.0
        return max(self.duration, by_frames)

    @property
    def short_side(self) -> int:
        """The "p" of the video (1080 for 1920x1080 and for a 1080x1920 portrait clip)."""
        return min(self.width, self.height)


def probe(path: Path) -> VideoInfo:
    """Probe ``path`` with ffprobe when the system has one, else with PyAV."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise MediaError(tr("不是文件", "not a file"), path)
    check_source_file(path, "video")
    exe = ffprobe_exe()
    return _probe_ffprobe(path, exe) if exe else _probe_pyav(path)


def _unreadable(path: Path, reason: str) -> MediaError:
    if _missing_moov(path):
        reason = tr("缺少 moov 索引，文件不完整", "the moov index is missing: the file is incomplete")
    return MediaError(tr("无法识别的视频文件（{r}）", "not a readable video file ({r})", r=reason), path,
                      hint=tr("文件可能已损坏、未传完，或不是视频。请重新导出或复制。",
                              "the file may be corrupt, incompletely copied, or not a video; export or copy it again."))


def _no_video(path: Path) -> MediaError:
    return MediaError(tr("没有视频流（只有声音或封面图）", "no video stream (audio or cover art only)"), path,
                      hint=tr("音频请作为附件链接，不要用视频语法插入。",
                              "link audio files as downloads instead of embedding them as video."))


def top_level_atoms(path: Path, limit: int = 64) -> list[str]:
    """Names of the top-level boxes of an MP4/MOV file in order (``ftyp moov mdat`` = fast start).

    Stops at the end of the file, at a box that runs past it (a truncated file) or after ``limit``.
    """
    names: list[str] = []
    with open(path, "rb") as fh:
        size_total = fh.seek(0, 2)
        pos = 0
        while pos + 8 <= size_total and len(names) < limit:
            fh.seek(pos)
            header = fh.read(16)
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8].decode("latin-1")
            if size == 1 and len(header) == 16:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = size_total - pos
            if size < 8 or not kind.isprintable():
                break
            names.append(kind)
            pos += size
    return names


def _missing_moov(path: Path) -> bool:
    """An MP4/MOV whose boxes look right but hold no moov: a recording or copy that was cut off."""
    try:
        atoms = top_level_atoms(path)
    except OSError:
        return False
    return bool(atoms) and atoms[0] in ("ftyp", "wide", "free", "mdat") and "moov" not in atoms


def normalise_rotation(degrees: float | None) -> int:
    """Counter-clockwise degrees → 0, 90, 180 or 270 (display matrices may say -90 or 89.99)."""
    if degrees is None or not math.isfinite(degrees):
        return 0
    return (round(degrees / 90) * 90) % 360


def bit_depth_of(pix_fmt: str | None) -> int:
    """Bits per component of a pixel format (yuv422p10le → 10); 8 when unknown."""
    if not pix_fmt:
        return 8
    try:
        import av
        return int(av.video.format.VideoFormat(pix_fmt).components[0].bits)
    except (ValueError, IndexError, ImportError):
        return 8


def display_size(coded_w: int, coded_h: int, sar: Fraction | None, rotation: int) -> tuple[int, int]:
    """Size as shown: anamorphic pixels stretched to square ones, then quarter-turns swap the sides."""
    w = coded_w
    if sar and sar > 0 and sar != 1:
        w = max(2, round(coded_w * sar / 2) * 2)
    return (coded_h, w) if rotation in (90, 270) else (w, coded_h)


def _rate(value: object) -> float:
    """A frame rate given as Fraction, "30000/1001", "0/0" or None → float (0.0 when unknown)."""
    try:
        rate = Fraction(str(value)) if value is not None else Fraction(0)
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(rate) if 0 < rate < 10_000 else 0.0


def _float(value: object) -> float | None:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and f >= 0 else None


# ---------------------------------------------------------------- ffprobe

def _probe_ffprobe(path: Path, exe: str) -> VideoInfo:
    cmd = [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path.resolve())]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise _unreadable(path, tr("ffprobe 超时", "ffprobe timed out")) from None
    stderr = run.stderr.decode("utf-8", "replace").splitlines()
    if run.returncode != 0:
        raise _unreadable(path, stderr_reason(stderr) or f"ffprobe exit {run.returncode}")
    try:
        data = json.loads(run.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError as exc:
        raise _unreadable(path, f"ffprobe: {exc}") from exc
    return info_from_ffprobe(path, data)


def info_from_ffprobe(path: Path, data: dict) -> VideoInfo:
    """Build a VideoInfo from ``ffprobe -show_format -show_streams -print_format json`` output."""
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    fmt = data.get("format") or {}
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    if video is None:
        raise _no_video(path)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    coded_w, coded_h = int(video.get("width") or 0), int(video.get("height") or 0)
    if coded_w <= 0 or coded_h <= 0:
        raise _unreadable(path, tr("视频画面尺寸未知", "unknown picture size"))
    rotation = None
    for side in video.get("side_data_list") or []:
        if side.get("side_data_type") == "Display Matrix":
            try:
                rotation = float(side["rotation"])
            except (KeyError, TypeError, ValueError):
                pass
    if rotation is None and "rotate" in (video.get("tags") or {}):
        # Old ffprobe: the legacy tag is clockwise, the display matrix counter-clockwise.
        try:
            rotation = -float(video["tags"]["rotate"])
        except (TypeError, ValueError):
            pass
    rot = normalise_rotation(rotation)
    sar = None
    try:
        num, den = str(video.get("sample_aspect_ratio") or "").split(":", 1)
        sar = Fraction(int(num), int(den)) if int(den) else None
    except ValueError:
        pass  # absent or "N/A"
    width, height = display_size(coded_w, coded_h, sar, rot)
    duration = (_float(fmt.get("duration")) or _float(video.get("duration"))
                or _scan_duration(path, int(video.get("index", 0))))
    pix_fmt = video.get("pix_fmt") or ""
    return VideoInfo(
        duration=duration, width=width, height=height, coded_width=coded_w, coded_height=coded_h,
        fps=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")),
        video_codec=video.get("codec_name") or "unknown", pix_fmt=pix_fmt, bit_depth=bit_depth_of(pix_fmt),
        rotation=rot, has_audio=audio is not None, audio_codec=audio.get("codec_name") if audio else None,
        container=fmt.get("format_name") or "", profile=video.get("profile"),
        interlaced=video.get("field_order") in ("tt", "bb", "tb", "bt"),
        video_index=int(video.get("index", 0)), audio_index=int(audio["index"]) if audio else None,
        audio_channels=int(audio.get("channels") or 0) if audio else 0,
        audio_sample_rate=int(audio.get("sample_rate") or 0) if audio else 0,
        declared_frames=int(video["nb_frames"]) if str(video.get("nb_frames", "")).isdigit() else 0,
    )


# ---------------------------------------------------------------- PyAV

def _probe_pyav(path: Path) -> VideoInfo:
    import av

    try:
        container = av.open(str(path), metadata_errors="replace")
    except av.error.FFmpegError as exc:
        raise _unreadable(path, _av_reason(exc)) from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _unreadable(path, str(exc)) from exc
    with container:
        video = next((s for s in container.streams.video
                      if not s.disposition & av.stream.Disposition.attached_pic), None)
        if video is None:
            raise _no_video(path)
        audio = next(iter(container.streams.audio), None)
        cc = video.codec_context
        if not cc.width or not cc.height:
            raise _unreadable(path, tr("视频画面尺寸未知", "unknown picture size"))
        rotation, interlaced = _first_frame(path, container, video)
        rot = normalise_rotation(rotation)
        sar = video.sample_aspect_ratio or cc.sample_aspect_ratio
        width, height = display_size(cc.width, cc.height, Fraction(sar) if sar else None, rot)
        duration = _pyav_duration(path, container, video)
        pix_fmt = cc.pix_fmt or ""
        acc = audio.codec_context if audio is not None else None
        return VideoInfo(
            duration=duration, width=width, height=height, coded_width=cc.width, coded_height=cc.height,
            fps=_rate(video.average_rate) or _rate(video.guessed_rate) or _rate(video.base_rate),
            video_codec=cc.codec.canonical_name or cc.name or "unknown", pix_fmt=pix_fmt, bit_depth=bit_depth_of(pix_fmt),
            rotation=rot, has_audio=audio is not None, audio_codec=(acc.codec.canonical_name or acc.name) if acc else None,
            container=container.format.name or "", profile=video.profile,
            interlaced=interlaced or cc.field_order in (2, 3, 4, 5),
            video_index=video.index, audio_index=audio.index if audio is not None else None,
            audio_channels=int(getattr(acc, "channels", 0) or 0) if acc else 0,
            audio_sample_rate=int(acc.sample_rate or 0) if acc else 0,
            declared_frames=int(video.frames or 0),
        )


def _av_reason(exc: Exception) -> str:
    # PyAV appends the whole ffmpeg log to the message; the first line says it.
    return str(getattr(exc, "strerror", None) or exc).splitlines()[0]


def _first_frame(path: Path, container, video) -> tuple[float | None, bool]:
    """Decode the first picture: PyAV only exposes rotation on frames, and it proves the codec works."""
    import av

    try:
        for n, packet in enumerate(container.demux(video)):
            for frame in packet.decode():
                return float(frame.rotation or 0), bool(frame.interlaced_frame)
            if n >= _FIRST_FRAME_PACKETS:
                break
        for frame in video.codec_context.decode(None):  # flush: a two-frame clip ends here
            return float(frame.rotation or 0), bool(frame.interlaced_frame)
    except av.error.FFmpegError as exc:
        raise _unreadable(path, tr("无法解码视频：{e}", "cannot decode the video: {e}", e=_av_reason(exc))) from exc
    except (NotImplementedError, ValueError) as exc:
        raise _unreadable(path, tr("不支持的视频编码：{e}", "unsupported video codec: {e}", e=exc)) from exc
    raise _unreadable(path, tr("视频流中没有可解码的画面", "the video stream has no decodable picture"))


def _pyav_duration(path: Path, container, video) -> float:
    if container.duration and container.duration > 0:
        return container.duration / 1_000_000
    if video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return _scan_duration(path, video.index)


def _scan_duration(path: Path, index: int) -> float:
    """No duration in the headers (raw streams, some AVI/TS): read every packet's time, no decoding."""
    import av

    end, start, packets = 0.0, None, 0
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            video = container.streams[index]
            for packet in container.demux(video):
                packets += 1
                if packet.pts is not None and packet.time_base:
                    t = float(packet.pts * packet.time_base)
                    start = t if start is None else min(start, t)
                    end = max(end, t + float((packet.duration or 0) * packet.time_base))
            rate = _rate(video.average_rate) or _rate(video.guessed_rate)
    except av.error.FFmpegError:
        return max(0.0, end - (start or 0.0))  # a damaged tail: the time read so far
    if start is None or end <= start:  # an elementary stream has no timestamps: count pictures
        return packets / rate if rate else 0.0
    return end - start


# ---------------------------------------------------------------- full decode

def validate(path: Path, timeout: float = 3600) -> None:
    """Decode every packet and fail on the first error: catches truncated and corrupt files.

    This costs one full decode; ``video.transcode`` does not call it (it detects truncation from
    its own decode), it is for callers that want a strict check without transcoding.
    """
    path = Path(path)
    info = probe(path)
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", str(path.resolve()),
           "-map", f"0:{info.video_index}"]
    if info.audio_index is not None:
        cmd += ["-map", f"0:{info.audio_index}"]
    cmd += ["-f", "null", "-"]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise MediaError(tr("检查超时", "validation timed out"), path) from None
    lines = run.stderr.decode("utf-8", "replace").splitlines()
    partial = any("partial file" in line for line in lines)
    if run.returncode != 0 or partial:
        raise truncated_or_corrupt(path, stderr_reason(lines))


# ffmpeg's demuxer names (as ffprobe's format_name and PyAV's format.name give them) by extension.
_CONTAINERS = {
    ".mp4": "mov", ".m4v": "mov", ".mov": "mov", ".3gp": "mov", ".mkv": "matroska", ".webm": "matroska",
    ".avi": "avi", ".wmv": "asf", ".flv": "flv", ".ts": "mpegts", ".mts": "mpegts", ".m2ts": "mpegts",
    ".mpg": "mpeg", ".mpeg": "mpeg",
}


def container_mismatch(path: Path, container: str) -> str | None:
    """A note when the file's real container is not the one its extension names (a renamed
    file: some players and servers go by the extension), else None."""
    expected = _CONTAINERS.get(Path(path).suffix.lower())
    if not expected or not container or expected in container.split(","):
        return None
    return tr("扩展名 {e} 与实际格式（{c}）不符；已按实际格式处理，建议改正扩展名",
              "the extension {e} does not match the real format ({c}); processed as {c}, consider renaming it",
              e=Path(path).suffix.lower(), c=container)


def truncated_or_corrupt(path: Path, reason: str) -> MediaError:
    return MediaError(tr("视频文件已截断或损坏（{r}）", "the video file is truncated or corrupt ({r})", r=reason), path,
                      hint=tr("文件可能没有复制完整，请重新复制或导出。",
                              "the file was probably not copied completely; copy or export it again."))
