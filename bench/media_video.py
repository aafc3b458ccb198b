"""Overhead of media_pipeline.video.transcode over the bare ffmpeg commands doing the same encode.

    .venv/bin/python bench/media_video.py [--seconds 20] [--size 1280x720] [--repeat 3] [--preset medium]

A test-pattern clip (testsrc2 + a tone) is encoded with the site's default parameters (ladder
1080/720/480 → 720p and 480p for a 720p source, CRF 23, AAC, fast start), once through
``transcode`` and once with hand-written ffmpeg command lines run by subprocess: the ladder in one
run, then the poster run (JPEG + WebP). The "HLS" rows force HLS (keyframes on a 4 s grid, then
the MP4s cut into segments) and compare with the bare commands doing the same. Runs alternate
bare/ours so drift on the machine hits both; the table shows the median of the runs.
Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from media_pipeline.ffmpeg import ffmpeg_exe  # noqa: E402
from media_pipeline.probe import probe  # noqa: E402
from media_pipeline.video import VideoParams, transcode  # noqa: E402


def make_source(path: Path, seconds: float, size: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
                    "-t", f"{seconds:g}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-c:a", "aac",
                    str(path)], check=True)


def bare_commands(src: Path, out: Path, params: VideoParams, hls: bool) -> list[list[str]]:
    """What a person would type for the same outputs (written out here, not taken from video.py)."""
    info = probe(src)
    w, h = info.width, info.height
    rungs = [r for r in params.heights if r <= min(w, h)]
    dims = [(round(r * w / h / 2) * 2, r) for r in rungs]
    exe = ffmpeg_exe()
    graph = f"[0:v]split={len(dims)}" + "".join(f"[s{i}]" for i in range(len(dims))) + ";" + ";".join(
        f"[s{i}]scale={rw}:{rh},setsar=1,format=yuv420p[o{i}]" for i, (rw, rh) in enumerate(dims))
    ladder = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-filter_complex", graph]
    for i, (rw, rh) in enumerate(dims):
        rate = max(300, round(params.maxrate_kbps * rw * rh / (1920 * 1080)))
        ladder += ["-map", f"[o{i}]", "-map", "0:a", "-c:v", "libx264", "-profile:v", "high",
                   "-x264-params", "8x8dct=1", "-preset", params.preset, "-crf", str(params.crf),
                   "-maxrate", f"{rate}k", "-bufsize", f"{2 * rate}k", "-c:a", "aac", "-b:a", f"{params.audio_kbps}k",
                   "-movflags", "+faststart", "-map_metadata", "-1"]
        if hls:
            ladder += ["-force_key_frames", f"expr:gte(t,n_forced*{params.hls_time:g})"]
        ladder.append(str(out / f"{rh}p.mp4"))
    at = info.duration * params.poster_fraction
    rw, rh = dims[0]
    poster = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{at:.3f}", "-i", str(src),
              "-filter_complex", f"[0:v]scale={rw}:{rh},setsar=1,split=2[a][b]",
              "-map", "[a]", "-frames:v", "1", "-q:v", "4", "-update", "1", str(out / "poster.jpg"),
              "-map", "[b]", "-frames:v", "1", "-c:v", "libwebp", "-quality", "80", str(out / "poster.webp")]
    commands = [ladder, poster]
    if hls:
        remux = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        for _, rh in dims:
            remux += ["-i", str(out / f"{rh}p.mp4")]
        for i, (_, rh) in enumerate(dims):
            (out / "hls" / f"{rh}p").mkdir(parents=True, exist_ok=True)
            remux += ["-map", f"{i}:v", "-map", f"{i}:a", "-c", "copy", "-f", "hls", "-hls_time", f"{params.hls_time:g}",
                      "-hls_playlist_type", "vod", "-hls_segment_filename", str(out / f"hls/{rh}p/seg_%04d.ts"),
                      str(out / f"hls/{rh}p/index.m3u8")]
        commands.append(remux)
    return commands


def measured(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its finished children) spent in ``fn``.

    CPU time barely moves when other work shares the machine; wall time does.
    """
    def cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    wall, used = time.perf_counter(), cpu()
    fn()
    return time.perf_counter() - wall, cpu() - used


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--no-hls", action="store_true", help="skip the HLS rows")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zhuanti-bench-video-"))
    try:
        src = work / "source.mp4"
        make_source(src, args.seconds, args.size)
        base = VideoParams(preset=args.preset)
        cases = [("MP4 ladder + poster", dataclasses.replace(base, hls_min_seconds=args.seconds * 10), False)]
        if not args.no_hls:
            cases.append(("+ HLS", dataclasses.replace(base, hls_min_seconds=0), True))
        print(f"source: {args.seconds:g} s {args.size} 30 fps + AAC; preset {args.preset}; "
              f"ffmpeg {ffmpeg_exe()}; median of {args.repeat} runs")
        print(f"{'case':<22} {'bare wall':>10} {'ours wall':>10} {'overhead':>9}   "
              f"{'bare CPU':>9} {'ours CPU':>9} {'overhead':>9}   {'ladder only':>11}")
        for name, params, hls in cases:
            bare_wall, bare_cpu, ours_wall, ours_cpu, ladder_wall = [], [], [], [], []
            for n in range(args.repeat):
                bare_out = work / f"bare-{n}"
                bare_out.mkdir()
                commands = bare_commands(src, bare_out, params, hls)
                runs = [measured(lambda c=c: subprocess.run(c, check=True)) for c in commands]
                ladder_wall.append(runs[0][0])
                bare_wall.append(sum(r[0] for r in runs))
                bare_cpu.append(sum(r[1] for r in runs))
                wall, cpu = measured(lambda n=n, p=params: transcode(src, work / f"ours-{n}", p))
                ours_wall.append(wall)
                ours_cpu.append(cpu)
                shutil.rmtree(bare_out)
                shutil.rmtree(work / f"ours-{n}")
            bw, ow, bc, oc, lw = (statistics.median(x) for x in (bare_wall, ours_wall, bare_cpu, ours_cpu, ladder_wall))
            print(f"{name:<22} {bw:>9.2f}s {ow:>9.2f}s {100 * (ow - bw) / bw:>+8.1f}%   "
                  f"{bc:>8.2f}s {oc:>8.2f}s {100 * (oc - bc) / bc:>+8.1f}%   {lw:>10.2f}s")
        print("bare = the hand-written ffmpeg commands producing the same files (ladder, poster[, HLS remux]);")
        print("ours = transcode() (probe, one ladder run with progress parsing, poster, [HLS remux + master]).")
        print("CPU = user+sys of the process and its ffmpeg children: the fair figure when the machine is shared.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
