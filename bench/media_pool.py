"""A few small photos: a process pool (the old behaviour) against in-process work (below
``executor.POOL_MIN_BYTES``), ``--jobs 2``, fresh cache each run.

    .venv/bin/python bench/media_pool.py [--photos 2] [--runs 3]

Prints seconds per run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from PIL import Image  # noqa: E402

from media_pipeline import executor as ex  # noqa: E402
from media_pipeline.executor import MediaTask, run_tasks  # noqa: E402

PARAMS = {"widths": (480, 960, 1600), "jpeg_quality": 85, "webp_quality": 80, "max_pixels": 120_000_000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = []
        for i in range(args.photos):
            p = root / f"p{i}.jpg"
            Image.effect_noise((1600, 1200), 60).convert("RGB").save(p, quality=90)
            sources.append(p)
        size = sum(p.stat().st_size for p in sources) / 1e6
        for label, threshold in (("process pool", 0), ("in-process", ex.POOL_MIN_BYTES)):
            ex.POOL_MIN_BYTES = threshold
            times = []
            for r in range(args.runs):
                shutil.rmtree(root / "cache", ignore_errors=True)
                tasks = [MediaTask("image", str(p), f"k{i}-{r}", PARAMS) for i, p in enumerate(sources)]
                t = time.perf_counter()
                results = run_tasks(tasks, root / "cache", jobs=2)
                times.append(time.perf_counter() - t)
                assert all(x["ok"] for x in results), results
            print(f"{label:<14} {args.photos} photos ({size:.1f} MB): " + " ".join(f"{x:.2f}" for x in times) + " s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
