"""Build benchmark: cold build, no-op rebuild and a one-page edit on the 10,000-page corpus.

    .venv/bin/python bench/run.py [--pages 10000] [--jobs 1 2]

The corpus comes from ../shared/bench/gen_corpus.py --flavor zhuanti (about 1 % of its links point
at pages that do not exist, so the benchmark site sets build.source_link_errors = "warning").
Prints a table; nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GEN = HERE.parent.parent / "shared" / "bench" / "gen_corpus.py"


def make_corpus(pages: int, out: Path) -> Path:
    if not (out / "site_src/site.toml").is_file():
        if not GEN.is_file():
            sys.exit(f"corpus generator not found: {GEN}")
        subprocess.run([sys.executable, str(GEN), "--pages", str(pages), "--out", str(out), "--flavor", "zhuanti"],
                       check=True)
        with (out / "site_src/site.toml").open("a", encoding="utf-8") as f:
            f.write('\n[build]\nsource_link_errors = "warning"\n')
    return out


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    os.environ.setdefault("ZHUANTI_QUIET", "1")
    from builder.build import BuildOptions, build_site

    root = make_corpus(args.pages, args.out / f"corpus-{args.pages}").resolve()
    rows = []
    for jobs in args.jobs:
        shutil.rmtree(root / "public", ignore_errors=True)
        cold, report = timed(lambda j=jobs: build_site(root, BuildOptions(jobs=j, clean=True)))
        pages = report.pages_written
        noop, report = timed(lambda j=jobs: build_site(root, BuildOptions(jobs=j)))
        assert report.pages_written == 0, report.pages_written
        target = next(iter(sorted((root / "topics/bench").glob("topic-01/page-*.md"))))
        original = target.read_text(encoding="utf-8")
        target.write_text(original + "\n补充说明。\n", encoding="utf-8")
        try:
            edit, report = timed(lambda j=jobs: build_site(root, BuildOptions(jobs=j)))
            edited = report.pages_written
        finally:
            target.write_text(original, encoding="utf-8")
        build_site(root, BuildOptions(jobs=jobs))
        rows.append((jobs, pages, cold, noop, edit, edited))
    print(f"\nzhuanti build, {args.pages}-page corpus ({os.cpu_count()} cores)")
    print(f"{'jobs':>4} {'pages':>6} {'cold s':>8} {'ms/page':>8} {'no-op s':>8} {'1 edit s':>9} {'re-rendered':>11}")
    for jobs, pages, cold, noop, edit, edited in rows:
        print(f"{jobs:>4} {pages:>6} {cold:>8.2f} {cold / pages * 1000:>8.2f} {noop:>8.2f} {edit:>9.2f} {edited:>11}")


if __name__ == "__main__":
    main()
