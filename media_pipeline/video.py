"""Transcode one video into web renditions: an H.264/AAC MP4 ladder, poster, HLS and captions.

Pure functions of (source file, parameters) → files in a folder; caching, job scheduling and the
catalog live elsewhere. ``transcode`` decodes the source once and encodes every rung of the
ladder in the same ffmpeg run (split filter → one output per rung).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from media_pipeline.errors import MediaConfigError, MediaError
from media_pipeline.ffmpeg import ffmpeg_exe, stderr_reason
from media_pipeline.i18n import tr
from media_pipeline.probe import VideoInfo, probe, truncated_or_corrupt

# Bump when the output of the same source and parameters changes (it is part of VideoParams.key()).
PIPELINE_VERSION = 1
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
# Sample rates AAC players handle everywhere; anything else is resampled to 48 kHz.
AAC_RATES = (48000, 44100, 32000, 24000, 22050, 16000)
# video_maxrate_kbps is the cap for 1080p; smaller rungs get a cap in proportion to their pixels.
REFERENCE_PIXELS = 1920 * 1080
MIN_MAXRATE_KBPS = 300
# The encode may end this much earlier than the container says before we call the file truncated.
TRUNCATION_TOLERANCE = (0.9, 1.0)  # (fraction of the duration, seconds of slack)

ProgressFn = Callable[[float], None]
# What ffmpeg says about a damaged or cut-off input (with -xerror it stops there).
_DAMAGED = re.compile(r"corrupt|partial file|Invalid data found|error while decoding|Invalid NAL|"
                      r"moov atom not found|Packet mismatch|truncat", re.IGNORECASE)


class BadParameter(ValueError):
    """A VideoParams value ffmpeg would reject; ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)  # both in args: survives pickling between processes
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class VideoParams:
    """Everything that decides the output bytes; ``key()`` is what the cache keys on.

    ``heights`` is the ladder of short-side sizes ("1080p"): a portrait phone clip's 1080p rung
    is 1080 pixels wide. ``maxrate_kbps`` caps the 1080p rung; other rungs scale by pixel count.
    The poster is taken at ``poster_seconds`` when set, else at ``poster_fraction`` of the length.
    """

    heights: tuple[int, ...] = (1080, 720, 480)
    crf: int = 23
    maxrate_kbps: int = 5000
    preset: str = "medium"
    audio_kbps: int = 128
    hls_min_seconds: float = 600.0
    hls_time: float = 4.0
    poster_fraction: float = 0.1
    poster_seconds: float | None = None
    jpeg_quality: int = 85
    webp_quality: int = 80

    def __post_init__(self) -> None:
        heights = tuple(sorted({even(h) for h in self.heights if h >= 2}, reverse=True))
        object.__setattr__(self, "heights", heights)
        problems = self.problems()
        if problems:
            raise BadParameter(*problems[0])

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for every value ffmpeg would reject or that makes no sense."""
        found = []
        if not self.heights:
            found.append(("heights", tr("至少需要一个大于 0 的高度", "needs at least one height above 0")))
        if not 0 <= self.crf <= 51:
            found.append(("crf", tr("应在 0 到 51 之间", "must be between 0 and 51")))
        if self.preset not in X264_PRESETS:
            found.append(("preset", tr("应为以下之一：{p}", "must be one of: {p}", p=", ".join(X264_PRESETS))))
        if self.maxrate_kbps <= 0 or self.audio_kbps <= 0:
            found.append(("maxrate_kbps", tr("码率必须大于 0", "bitrates must be above 0")))
        if self.hls_time <= 0:
            found.append(("hls_time", tr("必须大于 0", "must be above 0")))
        if not 0 <= self.poster_fraction < 1:
            found.append(("poster_fraction", tr("应在 0 到 1 之间", "must be between 0 and 1")))
        if self.poster_seconds is not None and self.poster_seconds < 0:
            found.append(("poster_seconds", tr("不能为负数", "must not be negative")))
        if not (1 <= self.jpeg_quality <= 100 and 0 <= self.webp_quality <= 100):
            found.append(("jpeg_quality", tr("质量应在 1 到 100 之间", "quality must be between 1 and 100")))
        return found

    @classmethod
    def from_config(cls, media: Any, source: Path | str | None = None) -> VideoParams:
        """From ``MediaSettings``; a bad value is a MediaConfigError naming the ``[media]`` field."""
        names = {"heights": "video_heights", "crf": "video_crf", "maxrate_kbps": "video_maxrate_kbps",
                 "preset": "video_preset", "audio_kbps": "video_audio_kbps", "hls_min_seconds": "hls_min_seconds",
                 "hls_time": "hls_time", "poster_fraction": "video_poster_fraction",
                 "poster_seconds": "video_poster_seconds", "jpeg_quality": "jpeg_quality",
                 "webp_quality": "webp_quality"}
        values = {mine: getattr(media, theirs) for mine, theirs in names.items() if hasattr(media, theirs)}
        if "heights" in values:
            values["heights"] = tuple(values["heights"])
        try:
            return cls(**values)
        except BadParameter as exc:
            name = f"media.{names[exc.field]}"
            raise MediaConfigError(f"{name}: {exc.message}", source, field=name) from None

    def key(self) -> str:
        """Stable text of every parameter (plus the pipeline version), for the cache key."""
        parts = [f"video-v{PIPELINE_VERSION}"]
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = ",".join(str(v) for v in value)
            elif isinstance(value, float):
                value = repr(value)
            parts.append(f"{f.name}={value}")
        return ";".join(parts)


@dataclass(frozen=True)
class Rendition:
    """One MP4 of the ladder. ``path`` is relative to the output folder (it survives the move)."""

    label: str          # "720p": the rung, i.e. the short side
    width: int
    height: int
    path: Path
    bytes: int
    bitrate: int        # bits per second, whole file (video + audio)


@dataclass(frozen=True)
class VideoOutputs:
    """What ``transcode`` wrote; every path is relative to the output folder, best rendition first."""

    duration: float
    width: int
    height: int
    has_audio: bool
    renditions: tuple[Rendition, ...]
    poster_jpg: Path
    poster_webp: Path
    hls: Path | None = None          # master playlist, hls/index.m3u8
    captions: Path | None = None     # captions.zh.vtt
    captions_source: str | None = None
    container: str = ""  # the source's real container as probed (ffmpeg's demuxer name)

    def to_dict(self) -> dict:
        """JSON-ready (paths as POSIX strings)."""
        def plain(value: Any) -> Any:
            if isinstance(value, Path):
                return value.as_posix()
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value
        return plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> VideoOutputs:
        rends = tuple(Rendition(**{**r, "path": Path(r["path"])}) for r in data["renditions"])
        opt = {k: Path(data[k]) if data.get(k) else None for k in ("hls", "captions")}
        return cls(duration=data["duration"], width=data["width"], height=data["height"],
                   has_audio=data["has_audio"], renditions=rends, poster_jpg=Path(data["poster_jpg"]),
                   poster_webp=Path(data["poster_webp"]), captions_source=data.get("captions_source"),
                   container=data.get("container", ""), **opt)


@dataclass(frozen=True)
class Rung:
    label: str
    width: int
    height: int

    @property
    def file(self) -> str:
        return f"{self.label}.mp4"


def even(n: float) -> int:
    """Largest even integer ≤ n, at least 2 (yuv420p needs even sides)."""
    return max(2, int(n) // 2 * 2)


def plan_ladder(info: VideoInfo, params: VideoParams) -> list[Rung]:
    """The rungs to encode, best first: ladder sizes up to the source's short side, never above.

    A source smaller than every rung gets one rendition at its own size (a 360p clip → 360p).
    """
    w, h = info.width, info.height
    short = min(w, h)
    sizes = [r for r in params.heights if r <= short] or [even(short)]
    rungs: list[Rung] = []
    for r in sizes:
        if w >= h:
            dims = (even(round(r * w / h / 2) * 2), r)
        else:
            dims = (r, even(round(r * h / w / 2) * 2))
        if not any((x.width, x.height) == dims for x in rungs):
            rungs.append(Rung(f"{r}p", *dims))
    return rungs


def wants_hls(info: VideoInfo, params: VideoParams) -> bool:
    return info.duration >= params.hls_min_seconds


def maxrate_kbps(rung: Rung, params: VideoParams) -> int:
    return max(MIN_MAXRATE_KBPS, round(params.maxrate_kbps * rung.width * rung.height / REFERENCE_PIXELS))


def poster_time(info: VideoInfo, params: VideoParams) -> float:
    at = params.poster_seconds if params.poster_seconds is not None else info.duration * params.poster_fraction
    # Stay clear of the very end: a seek past the last frame yields no picture.
    return max(0.0, min(at, info.duration - 0.5))


# ---------------------------------------------------------------- ffmpeg commands

_GLOBAL = ("-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1", "-nostats")


def _picture(stream, info: VideoInfo):
    """Deinterlace when needed; rotation is applied by ffmpeg's autorotate before the filter graph."""
    return stream.filter("bwdif", mode="send_frame") if info.interlaced else stream


def ladder_command(src: Path, info: VideoInfo, params: VideoParams, exe: str) -> list[str]:
    """One ffmpeg run: decode once, split, scale each branch, encode every rung (output names relative)."""
    inp = ffmpeg_python.input(str(Path(src).resolve()))
    rungs = plan_ladder(info, params)
    picture = _picture(inp[str(info.video_index)], info)
    branches = picture.filter_multi_output("split", len(rungs)) if len(rungs) > 1 else None
    outputs = []
    for i, rung in enumerate(rungs):
        v = branches[i] if branches is not None else picture
        v = v.filter("scale", rung.width, rung.height).filter("setsar", 1).filter("format", "yuv420p")
        streams = [v]
        rate = maxrate_kbps(rung, params)
        kwargs: dict[str, Any] = {
            # -profile:v only caps the profile; x264 signals the lowest one its tools need, so the
            # fastest presets (no 8x8 transform) would come out Constrained Baseline without 8x8dct.
            "c:v": "libx264", "profile:v": "high", "x264-params": "8x8dct=1", "pix_fmt": "yuv420p",
            "preset": params.preset,
            "crf": params.crf, "maxrate": f"{rate}k", "bufsize": f"{2 * rate}k",
            "movflags": "+faststart", "map_metadata": -1, "map_chapters": -1, "f": "mp4",
        }
        if wants_hls(info, params):
            # Keyframes on the segment grid so the MP4 can be cut into HLS segments without re-encoding.
            kwargs["force_key_frames"] = f"expr:gte(t,n_forced*{params.hls_time:g})"
        if info.has_audio and info.audio_index is not None:
            streams.append(inp[str(info.audio_index)])
            kwargs.update({"c:a": "aac", "b:a": f"{params.audio_kbps}k"})
            if info.audio_channels not in (1, 2):
                kwargs["ac"] = 2
            if info.audio_sample_rate not in AAC_RATES:
                kwargs["ar"] = 48000
        outputs.append(ffmpeg_python.output(*streams, rung.file, **kwargs))
    # -xerror: stop at the first corrupt packet (a truncated or damaged file), never publish a partial clip.
    return ffmpeg_python.merge_outputs(*outputs).global_args(*_GLOBAL, "-xerror").compile(cmd=exe,
                                                                                         overwrite_output=True)


def poster_command(src: Path, info: VideoInfo, rung: Rung, at: float, params: VideoParams, exe: str) -> list[str]:
    """poster.jpg and poster.webp from one decoded frame at ``at`` seconds, at the top rung's size."""
    # No -ss at all for the first frame: seeking in a stream without an index yields nothing.
    inp = ffmpeg_python.input(str(Path(src).resolve()), **({"ss": f"{at:.3f}"} if at > 0 else {}))
    v = _picture(inp[str(info.video_index)], info)
    v = v.filter("scale", rung.width, rung.height).filter("setsar", 1)
    split = v.filter_multi_output("split", 2)
    jpg, webp = split[0], split[1]
    qscale = max(2, min(31, round((100 - params.jpeg_quality) / 5) + 1))
    return ffmpeg_python.merge_outputs(
        ffmpeg_python.output(jpg.filter("format", "yuvj420p"), "poster.jpg", **{"frames:v": 1, "q:v": qscale,
                                                                                "update": 1, "f": "image2"}),
        ffmpeg_python.output(webp.filter("format", "yuv420p"), "poster.webp",
                             **{"frames:v": 1, "c:v": "libwebp", "quality": params.webp_quality, "f": "webp"}),
    ).global_args(*_GLOBAL).compile(cmd=exe, overwrite_output=True)


def hls_command(rungs: list[Rung], has_audio: bool, params: VideoParams, exe: str) -> list[str]:
    """Cut the finished MP4s into HLS segments (stream copy: no second encode)."""
    outputs = []
    for rung in rungs:
        inp = ffmpeg_python.input(rung.file)
        streams = [inp["v:0"]] + ([inp["a:0"]] if has_audio else [])
        outputs.append(ffmpeg_python.output(
            *streams, f"hls/{rung.label}/index.m3u8", c="copy", f="hls", hls_time=f"{params.hls_time:g}",
            hls_playlist_type="vod", hls_flags="independent_segments",
            hls_segment_filename=f"hls/{rung.label}/seg_%04d.ts"))
    return ffmpeg_python.merge_outputs(*outputs).global_args(*_GLOBAL).compile(cmd=exe, overwrite_output=True)


@dataclass
class _Run:
    """Result of one ffmpeg run: the last reported output time and stderr."""

    out_time: float | None = None
    stderr: list[str] = field(default_factory=list)


def run_ffmpeg(argv: list[str], cwd: Path, src: Path, what: str,
               on_time: Callable[[float], None] | None = None) -> _Run:
    """Run ffmpeg with ``-progress pipe:1``; report output seconds; MediaError on failure.

    stderr is drained in a thread (ffmpeg blocks when a pipe it writes fills up).
    """
    result = _Run()
    tail: collections.deque[str] = collections.deque(maxlen=200)
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        raise MediaError(tr("无法启动 ffmpeg：{e}", "cannot start ffmpeg: {e}", e=exc), src) from exc

    def drain() -> None:
        for raw in proc.stderr:  # type: ignore[union-attr]
            tail.append(raw.decode("utf-8", "replace").rstrip())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        for raw in proc.stdout:  # type: ignore[union-attr]
            key, _, value = raw.decode("utf-8", "replace").strip().partition("=")
            seconds = _progress_seconds(key, value)
            if seconds is not None:
                result.out_time = seconds
                if on_time is not None:
                    on_time(seconds)
        proc.wait()
    finally:
        if proc.poll() is None:  # the caller's callback raised (e.g. Ctrl-C): stop ffmpeg
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    result.stderr = list(tail)
    if proc.returncode != 0:
        reason = stderr_reason(result.stderr) or f"exit {proc.returncode}"
        if any(_DAMAGED.search(line) for line in result.stderr):
            raise truncated_or_corrupt(src, reason)
        raise MediaError(tr("{w}失败：{r}", "{w} failed: {r}", w=what, r=reason), src,
                         hint=tr("文件可能已损坏或编码不受支持；请用其他软件重新导出为 MP4 后再试。",
                                 "the file may be corrupt or use an unsupported codec; re-export it as MP4 and retry."))
    return result


def _progress_seconds(key: str, value: str) -> float | None:
    """Seconds from a ``-progress`` line; out_time_us and out_time_ms are both microseconds."""
    if key in ("out_time_us", "out_time_ms"):
        try:
            us = int(value)
        except ValueError:  # "N/A" before the first frame is written
            return None
        return us / 1_000_000 if us >= 0 else None
    return None


# ---------------------------------------------------------------- transcode

def transcode(src: Path, out_dir: Path, params: VideoParams, on_progress: ProgressFn | None = None,
              *, info: VideoInfo | None = None, within: Path | str | None = None) -> VideoOutputs:
    """Write the renditions of ``src`` into ``out_dir`` (a fresh folder the caller moves into place).

    Files: ``<label>.mp4`` per rung, ``poster.jpg``, ``poster.webp``, for long videos
    ``hls/index.m3u8`` (master over the ladder) with ``hls/<label>/index.m3u8`` and segments, and
    ``captions.zh.vtt`` when a caption file sits beside the source (really in ``within``, the site
    root, when given). ``on_progress`` gets 0..1.
    """
    src = Path(src)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    info = info or probe(src)
    exe = ffmpeg_exe()
    rungs = plan_ladder(info, params)
    hls = wants_hls(info, params)
    caption_file = find_captions(src, within)
    # Share of the progress bar per step: the ladder encode is nearly all of the work.
    encode_share = 0.9 if hls else 0.96
    reported = [0.0]

    def report(fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        if on_progress is not None and fraction > reported[0]:
            reported[0] = fraction
            on_progress(fraction)

    # Captions first: a broken caption file should fail before minutes of encoding.
    captions = None
    if caption_file is not None:
        write_captions(caption_file, out_dir / "captions.zh.vtt")
        captions = Path("captions.zh.vtt")

    def on_time(seconds: float) -> None:
        if info.duration > 0:
            report(encode_share * seconds / info.duration)

    run = run_ffmpeg(ladder_command(src, info, params, exe), out_dir, src,
                     tr("转码", "transcoding"), on_time)
    _check_complete(src, info, run)
    report(encode_share)

    make_poster(src, out_dir, info, rungs[0], params, exe)
    report(encode_share + 0.02)

    renditions = tuple(_rendition(out_dir, rung, info.duration, src) for rung in rungs)
    master = None
    if hls:
        for rung in rungs:
            (out_dir / "hls" / rung.label).mkdir(parents=True, exist_ok=True)
        run_ffmpeg(hls_command(rungs, info.has_audio, params, exe), out_dir, src, tr("生成 HLS", "making HLS"))
        write_master_playlist(out_dir, rungs, info)
        master = Path("hls/index.m3u8")
    report(1.0)
    top = renditions[0]
    return VideoOutputs(duration=info.duration, width=top.width, height=top.height, has_audio=info.has_audio,
                        renditions=renditions, poster_jpg=Path("poster.jpg"), poster_webp=Path("poster.webp"),
                        hls=master, captions=captions,
                        captions_source=caption_file.name if caption_file is not None else None,
                        container=info.container)


def make_poster(src: Path, out_dir: Path, info: VideoInfo, rung: Rung, params: VideoParams, exe: str) -> None:
    """poster.jpg + poster.webp; when seeking to the chosen time yields nothing, the first frame."""
    at = poster_time(info, params)
    attempts = (at, 0.0) if at > 0 else (0.0,)
    for n, attempt in enumerate(attempts):
        try:
            run_ffmpeg(poster_command(src, info, rung, attempt, params, exe), out_dir, src,
                       tr("生成封面图", "making the poster"))
        except MediaError:
            if n + 1 == len(attempts):
                raise
            continue
        if _nonempty(out_dir / "poster.jpg") and _nonempty(out_dir / "poster.webp"):
            return
    raise MediaError(tr("无法从视频中截取封面图", "could not take a poster frame from the video"), src)


def _nonempty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _check_complete(src: Path, info: VideoInfo, run: _Run) -> None:
    """A truncated fast-start MP4 decodes "successfully" up to the cut: catch it here."""
    partial = next((line for line in run.stderr if "partial file" in line), None)
    if partial:
        raise truncated_or_corrupt(src, stderr_reason([partial]))
    if "mpegts" in info.container.split(","):
        # A transport stream declares no length, but it is a whole number of 188-byte packets
        # (192 in .m2ts): a cut-off copy ends inside one.
        size = src.stat().st_size
        if size % 188 and size % 192:
            raise truncated_or_corrupt(src, tr("最后一个 TS 包不完整（{n} 字节不是 188 的整数倍）",
                                               "the last TS packet is incomplete ({n} bytes is not a multiple of 188)",
                                               n=size))
    ratio, slack = TRUNCATION_TOLERANCE
    declared = info.declared_duration
    if run.out_time is not None and declared > 0 and run.out_time < declared * ratio - slack:
        raise truncated_or_corrupt(src, tr("只解码出 {got:.1f} 秒，文件头记录为 {want:.1f} 秒",
                                           "decoded only {got:.1f} s of the {want:.1f} s the header declares",
                                           got=run.out_time, want=declared))


def _rendition(out_dir: Path, rung: Rung, duration: float, src: Path) -> Rendition:
    path = out_dir / rung.file
    if not _nonempty(path):
        raise MediaError(tr("转码没有产生 {f}", "transcoding produced no {f}", f=rung.file), src)
    size = path.stat().st_size
    bitrate = round(size * 8 / duration) if duration > 0 else 0
    return Rendition(rung.label, rung.width, rung.height, Path(rung.file), size, bitrate)


# ---------------------------------------------------------------- HLS master playlist

_EXTINF = re.compile(r"^#EXTINF:([0-9.]+)")


def write_master_playlist(out_dir: Path, rungs: list[Rung], info: VideoInfo) -> Path:
    """hls/index.m3u8 listing each rung's playlist with its measured peak and average bandwidth."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rung in rungs:
        variant = out_dir / "hls" / rung.label / "index.m3u8"
        peak, average = _segment_bandwidth(variant)
        codecs = _avc_codec(out_dir / rung.file) + (",mp4a.40.2" if info.has_audio else "")
        attrs = [f"BANDWIDTH={peak}", f"AVERAGE-BANDWIDTH={average}", f"RESOLUTION={rung.width}x{rung.height}",
                 f'CODECS="{codecs}"']
        if info.fps > 0:
            attrs.append(f"FRAME-RATE={info.fps:.3f}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attrs), f"{rung.label}/index.m3u8"]
    master = out_dir / "hls" / "index.m3u8"
    master.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return master


def _segment_bandwidth(playlist: Path) -> tuple[int, int]:
    """(peak, average) bits per second over the segments of a media playlist."""
    peak = total_bits = 0
    total_seconds = 0.0
    seconds = None
    for line in playlist.read_text(encoding="utf-8").splitlines():
        m = _EXTINF.match(line)
        if m:
            seconds = float(m.group(1))
        elif line and not line.startswith("#") and seconds:
            bits = (playlist.parent / line).stat().st_size * 8
            peak = max(peak, math.ceil(bits / seconds))
            total_bits += bits
            total_seconds += seconds
            seconds = None
    average = math.ceil(total_bits / total_seconds) if total_seconds else 0
    return max(peak, average), average


def _avc_codec(mp4: Path) -> str:
    """RFC 6381 codec string (avc1.64001F) from the encoded stream's avcC record."""
    import av

    try:
        with av.open(str(mp4)) as c:
            extra = c.streams.video[0].codec_context.extradata or b""
    except (av.error.FFmpegError, IndexError):
        extra = b""
    if len(extra) >= 4 and extra[0] == 1:
        return f"avc1.{extra[1]:02X}{extra[2]:02X}{extra[3]:02X}"
    return "avc1.640028"  # High 4.0: the safe guess for what libx264 writes


# ---------------------------------------------------------------- captions

CAPTION_LANGS = (".zh", ".zh-CN", ".zh-Hans", "")


def find_captions(src: Path, within: Path | str | None = None) -> Path | None:
    """A caption file beside the video: clip.zh.vtt, clip.vtt, clip.srt, clip.mov.srt … (any case).
    With ``within`` (the site root), one that is really elsewhere (a symbolic link to outside the
    site) is not taken: its text would be published."""
    src = Path(src)
    try:
        siblings = {p.name.lower(): p for p in src.parent.iterdir() if p.is_file()}
    except OSError:
        return None
    if within is not None:
        bound = os.path.realpath(within)
        siblings = {n: p for n, p in siblings.items() if Path(os.path.realpath(p)).is_relative_to(bound)}
    for base in (src.stem, src.name):
        for lang in CAPTION_LANGS:
            for ext in (".vtt", ".srt"):
                found = siblings.get(f"{base}{lang}{ext}".lower())
                if found is not None:
                    return found
    return None


def write_captions(caption_file: Path, dest: Path) -> Path:
    """Convert (SRT) or normalise (WebVTT) ``caption_file`` into ``dest`` as UTF-8 WebVTT."""
    text = _decode_caption(caption_file)
    vtt = check_vtt(text, caption_file) if caption_file.suffix.lower() == ".vtt" else srt_to_vtt(text, caption_file)
    dest.write_text(vtt, encoding="utf-8")
    return dest


def _decode_caption(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    # Subtitle files from Chinese Windows tools are often GBK; try UTF-8 first, then GB18030.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise MediaError(tr("字幕文件编码无法识别", "cannot tell the caption file's text encoding"), path,
                     hint=tr("请将字幕另存为 UTF-8 编码。", "save the captions as UTF-8."))


_TIME = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(.*)$")
_VTT_TIMING = re.compile(r"^(?:\d+:)?\d{2}:\d{2}\.\d{3}[ \t]+-->[ \t]+(?:\d+:)?\d{2}:\d{2}\.\d{3}(?:[ \t].*)?$")
_KEEP_TAG = re.compile(r"</?(?:b|i|u)>", re.I)
_ANY_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")


def _caption_error(path: Path, line: int, message: str) -> MediaError:
    return MediaError(message, path, line=line,
                      hint=tr("时间轴格式应为 00:01:02,500 --> 00:01:05,000。",
                              "timings look like 00:01:02,500 --> 00:01:05,000."))


def _ms(groups: tuple[str | None, ...], path: Path, line: int) -> int:
    hours, minutes, seconds, frac = groups
    if int(minutes) >= 60 or int(seconds) >= 60:
        raise _caption_error(path, line, tr("时间超出范围（分、秒应小于 60）", "time out of range (minutes and seconds must be below 60)"))
    millis = int(frac.ljust(3, "0"))
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + millis


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _cue_text(line: str) -> str:
    """SRT text → WebVTT text: keep <b>/<i>/<u>, drop other tags and {\\an8}, escape the rest."""
    line = _ASS_OVERRIDE.sub("", line)
    kept: list[str] = []

    def stash(m: re.Match) -> str:
        kept.append(m.group(0).lower())
        return f"\x00{len(kept) - 1}\x00"

    line = _KEEP_TAG.sub(stash, line)
    line = _ANY_TAG.sub("", line)
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], line)


def srt_to_vtt(text: str, path: Path) -> str:
    """SubRip → WebVTT. A malformed block is a MediaError naming the file and line."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = ["WEBVTT", ""]
    i, cues = 0, 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        numbered = lines[i].strip().isdigit() and i + 1 < len(lines) and bool(lines[i + 1].strip())
        if numbered:
            i += 1  # the cue number
        m = _SRT_TIMING.match(lines[i])
        if not m:
            what = lines[i].strip()[:40]
            if numbered or "-->" in lines[i]:
                msg = tr("时间轴格式错误：“{t}”", "malformed timing line: '{t}'", t=what)
            else:
                msg = tr("此处应为序号或时间轴，实际是：“{t}”", "expected a cue number or timing line, got: '{t}'",
                         t=what)
            raise _caption_error(path, i + 1, msg)
        start = _ms(m.groups()[0:4], path, i + 1)
        end = _ms(m.groups()[4:8], path, i + 1)
        if end < start:
            raise _caption_error(path, i + 1, tr("结束时间早于开始时间", "the end time is before the start time"))
        i += 1
        body = []
        while i < len(lines) and lines[i].strip():
            # A missing blank line between cues: a number followed by a timing starts the next cue.
            if lines[i].strip().isdigit() and i + 1 < len(lines) and _SRT_TIMING.match(lines[i + 1]):
                break
            body.append(_cue_text(lines[i].rstrip()))
            i += 1
        body = [b for b in body if b.strip()]
        if not body:
            continue
        cues += 1
        out += [f"{_vtt_time(start)} --> {_vtt_time(end)}", *(b.replace("-->", "--&gt;") for b in body), ""]
    if not cues:
        raise MediaError(tr("字幕文件中没有任何字幕", "the caption file holds no captions"), path)
    return "\n".join(out)


def check_vtt(text: str, path: Path) -> str:
    """Normalise a WebVTT file (BOM, CRLF) and check its header and timing lines."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise _caption_error(path, 1, tr("WebVTT 文件必须以 “WEBVTT” 开头", "a WebVTT file must start with 'WEBVTT'"))
    cues = 0
    for n, line in enumerate(lines[1:], start=2):
        if "-->" in line and not line.startswith("NOTE"):
            if not _VTT_TIMING.match(line.strip()):
                raise _caption_error(path, n, tr("时间轴格式错误：“{t}”", "malformed timing line: '{t}'",
                                                 t=line.strip()[:40]))
            cues += 1
    if not cues:
        raise MediaError(tr("字幕文件中没有任何字幕", "the caption file holds no captions"), path)
    return "\n".join(lines).rstrip("\n") + "\n"
