"""Media cost of a rebuild when everything is already cached: 100 videos and 1,000 photos.

    .venv/bin/python bench/media_cached.py [--videos 100] [--photos 1000] [--runs 5]

Only cache hits matter here, so the cache is pre-populated without transcoding: each source's
real cache key is computed (sha256 + parameters, as a build does) and an entry with small
placeholder files is committed through MediaCache — three MP4 rungs and two posters per video
(every tenth video also gets an HLS tree of 3 × 150 segments), three widths × (JPEG + WebP) per
photo. Each run uses a fresh MediaLibrary, as a new `zhuanti build` process would, and times:
find the files, check the cache (process → all reused), look up every entry, and publish
(hard-link) every rendition into an empty output folder. The first run after pre-population has
a warm hash index; a run with the index deleted shows the cost of hashing every source again.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from builder.config import load_site_config  # noqa: E402
from builder.media import library_for, site_media  # noqa: E402
from media_pipeline.cache import INDEX_FILE, MediaCache  # noqa: E402


def make_site(root: Path, videos: int, photos: int) -> None:
    (root / "site_src").mkdir(parents=True, exist_ok=True)
    (root / "site_src/site.toml").write_text('title = "bench"\n', encoding="utf-8")
    vdir = root / "topics/bench/视频"
    pdir = root / "topics/bench/图片"
    vdir.mkdir(parents=True, exist_ok=True)
    pdir.mkdir(parents=True, exist_ok=True)
    for i in range(videos):
        # Distinct content, small: the cached path never decodes it.
        (vdir / f"视频 {i:03d}.mp4").write_bytes(os.urandom(64 * 1024))
        if i % 4 == 0:
            (vdir / f"视频 {i:03d}.mp4.yaml").write_text(f"title: 视频{i}\ntags: [会议]\n", encoding="utf-8")
    for i in range(photos):
        (pdir / f"照片-{i:04d}.jpg").write_bytes(os.urandom(256 * 1024))
        if i % 4 == 0:
            (pdir / f"照片-{i:04d}.jpg.yaml").write_text(f"title: 照片{i}\ngroup: 现场\n", encoding="utf-8")


def populate(root: Path) -> None:
    site = load_site_config(root)
    lib = library_for(site)
    sources = [i.source for i in site_media(site)]
    hashes, errors = lib.hashes.hash_many(sources)
    assert not errors, errors
    cache = MediaCache(lib.cache.root)
    for n, src in enumerate(sources):
        task = lib._task(src.resolve(), hashes[src])
        if cache.get(task.key):
            continue
        tmp = cache.staging(task.key)
        if task.kind == "image":
            rends = []
            for w, h in ((480, 360), (960, 720), (1600, 1200)):
                for fmt, ext in (("jpeg", "jpg"), ("webp", "webp")):
                    name = f"image-{w}.{ext}"
                    (tmp / name).write_bytes(b"x" * 2048)
                    rends.append({"file": name, "width": w, "height": h, "format": fmt, "bytes": 2048})
            outputs = {"width": 4000, "height": 3000, "format": "jpeg", "has_alpha": False, "animated": False,
                       "renditions": rends}
        else:
            rends = []
            for label, w, h in (("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480)):
                (tmp / f"{label}.mp4").write_bytes(b"v" * 4096)
                rends.append({"label": label, "width": w, "height": h, "path": f"{label}.mp4", "bytes": 4096,
                              "bitrate": 1})
                if n % 10 == 0:
                    (tmp / "hls" / label).mkdir(parents=True)
                    for s in range(150):
                        (tmp / "hls" / label / f"seg_{s:03d}.ts").write_bytes(b"t" * 512)
                    (tmp / "hls" / label / "index.m3u8").write_text("#EXTM3U\n")
            (tmp / "poster.jpg").write_bytes(b"p" * 1024)
            (tmp / "poster.webp").write_bytes(b"p" * 1024)
            hls = None
            if n % 10 == 0:
                (tmp / "hls" / "index.m3u8").write_text("#EXTM3U\n")
                hls = "hls/index.m3u8"
            outputs = {"duration": 900.0 if hls else 60.0, "width": 1920, "height": 1080, "has_audio": True,
                       "renditions": rends, "poster_jpg": "poster.jpg", "poster_webp": "poster.webp", "hls": hls,
                       "captions": None, "captions_source": None}
        cache.commit(task.key, tmp, {"kind": task.kind, "outputs": outputs, **task.extra})


def one_run(root: Path, out: Path) -> dict[str, float]:
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    site = load_site_config(root)
    lib = library_for(site)
    items = site_media(site)  # the build's own view of the site (its loader)
    sources = [i.source for i in items]
    t1 = time.perf_counter()
    report = lib.process(sources, jobs=2)
    t2 = time.perf_counter()
    assert not report.converted and not report.transcoded and not report.failed, report.line()
    entries = lib.lookup_many(items)
    assert len(entries) == len(sources)
    t_lookup = time.perf_counter()
    shutil.rmtree(out, ignore_errors=True)  # not timed: a build stages into a fresh folder
    t3 = time.perf_counter()
    files = 0
    for item in items:
        files += len(lib.publish_into(out, item.source, item.output))
    t4 = time.perf_counter()
    times.update(find=t1 - t0, check=t2 - t1, lookup=t_lookup - t2, publish=t4 - t3, files=files)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=100)
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    os.environ.setdefault("ZHUANTI_QUIET", "1")
    root = (args.out / f"media-cached-{args.videos}v-{args.photos}p").resolve()
    if not (root / "site_src/site.toml").is_file():
        make_site(root, args.videos, args.photos)
    populate(root)
    runs = [one_run(root, root / "public") for _ in range(args.runs)]
    (root / ".zhuanti-cache/media" / INDEX_FILE).unlink()
    cold_index = one_run(root, root / "public")
    print(f"\ncached media rebuild: {args.videos} videos + {args.photos} photos, "
          f"{runs[0]['files']:.0f} rendition files ({os.cpu_count()} cores), median of {args.runs} runs")
    print(f"{'step':<34}{'seconds':>9}")
    for step, label in (("find", "find media files"), ("check", "cache check (process: all reused)"),
                        ("lookup", "look up every entry"), ("publish", "publish (hard-link) renditions")):
        print(f"{label:<34}{statistics.median(r[step] for r in runs):>9.3f}")
    total = statistics.median(r["find"] + r["check"] + r["lookup"] for r in runs)
    print(f"{'find + check + lookup':<34}{total:>9.3f}")
    print(f"{'… with publish':<34}{statistics.median(r['find'] + r['check'] + r['lookup'] + r['publish'] for r in runs):>9.3f}")
    print(f"{'cache check, hash index deleted':<34}{cold_index['check']:>9.3f}  "
          f"(re-hashes every source: {args.videos} × 64 KiB + {args.photos} × 256 KiB here)")


if __name__ == "__main__":
    main()
