"""Photo throughput: 4000×3000 JPEGs → the full width ladder (480/960/1600) in JPEG + WebP.

    .venv/bin/python bench/media_images.py [--photos 24] [--jobs 1 2]

The photos are made once (bench/out/media-images/): camera-like content (smooth gradients,
shapes and sensor-like noise, q=92, about 1.7 MB each) with EXIF orientation and GPS, so every
real step runs (draft decode, rotation, metadata stripping, resize, two encodes). Each run
starts with an empty cache and goes through MediaLibrary.process, exactly as `zhuanti media
--jobs N` does (hashing, process pool start-up and cache commits included).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from builder.config import load_site_config  # noqa: E402
from builder.media import library_for, site_media  # noqa: E402
from media_pipeline.images import ImageParams, process_image  # noqa: E402


def make_photo(path: Path, seed: int) -> None:
    w, h = 4000, 3000
    small = Image.linear_gradient("L").resize((w // 8, h // 8))
    base = Image.merge("RGB", (small, small.rotate(90 + seed * 7), small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    draw = ImageDraw.Draw(base)
    for i in range(40):
        x, y = (seed * 97 + i * 53) % (w // 8), (seed * 31 + i * 71) % (h // 8)
        draw.ellipse((x, y, x + 40 + i, y + 30 + i), fill=((i * 37) % 255, (i * 91 + seed) % 255, (i * 13) % 255))
    photo = base.resize((w, h), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise((w, h), 18).convert("RGB")
    photo = Image.blend(photo, noise, 0.12)
    exif = Image.Exif()
    exif[0x010F] = "Bench Camera"
    exif[0x0112] = 6 if seed % 3 == 0 else 1
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    photo.save(path, quality=92, exif=exif.tobytes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    os.environ.setdefault("ZHUANTI_QUIET", "1")
    root = (args.out / "media-images").resolve()
    photos = root / "topics/bench/photos"
    photos.mkdir(parents=True, exist_ok=True)
    (root / "site_src").mkdir(exist_ok=True)
    (root / "site_src/site.toml").write_text('title = "bench"\n', encoding="utf-8")
    for i in range(args.photos):
        p = photos / f"photo-{i:03d}.jpg"
        if not p.exists():
            make_photo(p, i)
    sources = sorted(i.source for i in site_media(load_site_config(root)))[: args.photos]
    size_mb = sum(p.stat().st_size for p in sources) / len(sources) / 1e6

    # One photo in this process, step by step, for the breakdown.
    one = root / "one"
    shutil.rmtree(one, ignore_errors=True)
    t0 = time.perf_counter()
    out = process_image(sources[1], one, ImageParams())
    single = time.perf_counter() - t0
    made = sum(r.bytes for r in out.renditions) / 1e3

    rows = []
    for jobs in args.jobs:
        shutil.rmtree(root / ".zhuanti-cache", ignore_errors=True)
        lib = library_for(load_site_config(root))
        t0 = time.perf_counter()
        report = lib.process(sources, jobs=jobs)
        elapsed = time.perf_counter() - t0
        assert len(report.converted) == len(sources) and not report.failed, report.line()
        rows.append((jobs, elapsed))
    print(f"\nphotos: {len(sources)} × 4000×3000 JPEG ({size_mb:.1f} MB avg) → 480/960/1600 JPEG + WebP "
          f"({os.cpu_count()} cores)")
    print(f"one photo in-process: {single * 1000:.0f} ms, {len(out.renditions)} files, {made:.0f} kB written")
    print(f"{'jobs':>4} {'seconds':>8} {'photos/s':>9} {'ms/photo':>9}")
    for jobs, elapsed in rows:
        print(f"{jobs:>4} {elapsed:>8.2f} {len(sources) / elapsed:>9.2f} {elapsed / len(sources) * 1000:>9.0f}")


if __name__ == "__main__":
    main()
