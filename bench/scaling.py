"""Scaling table: a cold build's time and memory at several corpus sizes, and how they grow.

    make bench-scaling [SCALE_PAGES="1000 10000 100000"] [SCALE_ROWS="10000 100000"] [SCALE_CORPUS=/tmp/zhuanti-scaling]
    .venv/bin/python bench/scaling.py [--pages 1000 10000 100000] [--rows 10000 100000] [--corpus DIR]
                                      [--repeat 1] [--search] [--jobs N]

Two series, each a cold build (no public/, no .zhuanti-cache/) in a child process:

* ``--pages``: the benchmark corpus (bench/gen_corpus.py --flavor zhuanti, as ``make bench``);
* ``--rows``: a site with one 双公示 data column of that many CSV rows (bench/gen_data.py).

Corpora are generated once and cached under ``--corpus`` (default bench/corpus/, git-ignored; a
100,000-page corpus is ~600 MB with its output, so pass a folder under /tmp on a small disk).
The site search is off unless ``--search`` (``[build] search = false`` is set in the corpus's
site.toml for the run and put back afterwards).

Per run: wall time, CPU time (user + system of the build and its worker processes: the figure
that stays fair on a shared machine), peak RSS of the process tree (sampled every 20 ms) and of
the main process alone, the engine's step timings (wall), and the sizes of what grows with the
site (output files and bytes, build state, source cache, manifest, sitemap). The table shows
per-page figures and their ratio to the smallest size of the series: 1.00 is linear, above 1 per
page means super-linear growth. Results go to bench/results/scaling-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent

# The build in the child: the engine's own step timings and the main process's peak RSS come back
# as one JSON line on stdout (the CLI prints only its summary).
CHILD = """
import json, os, resource, sys
from pathlib import Path
from builder import build
jobs = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
import time
memory = {}  # step -> (RSS of the main process after it, its peak RSS so far), MB
cpu = {}  # step -> CPU seconds of the main process (render: without its workers)
step = build.Builder.step
def measured(self, name, fn, *args, **kwargs):
    t0 = time.process_time()
    try:
        return step(self, name, fn, *args, **kwargs)
    finally:
        cpu[name] = round(time.process_time() - t0, 2)
        rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
        memory[name] = [round(rss), round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)]
build.Builder.step = measured
report = build.build_site(Path(sys.argv[1]), build.BuildOptions(jobs=jobs))
print(json.dumps({"timings": report.timings, "memory_mb": memory, "cpu_s": cpu, "pages_written": report.pages_written,
                  "files_written": report.files_written, "warnings": len(report.warnings),
                  "main_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _load(name: str) -> SimpleNamespace:
    return SimpleNamespace(**runpy.run_path(str(HERE / name)))


def set_search(site_toml: Path, on: bool) -> str:
    """Turn the site search on or off for the run; returns the original text to put back."""
    original = site_toml.read_text(encoding="utf-8")
    lines = [line for line in original.splitlines() if not line.strip().startswith("search =")]
    if "[build]" not in lines:
        lines.append("[build]")
    lines.insert(lines.index("[build]") + 1, f"search = {'true' if on else 'false'}")
    site_toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return original


def tree_size(folder: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            try:
                size += os.lstat(os.path.join(dirpath, name)).st_size
                files += 1
            except OSError:
                pass
    return files, size


def file_mb(path: Path) -> float:
    total = 0
    for suffix in ("", "-wal"):
        p = Path(str(path) + suffix)
        if p.is_file():
            total += p.stat().st_size
    return total / 1e6


def cold_build(run, root: Path, jobs: int | None, log: Path, trash) -> dict:
    trash.clear(root, ("public", ".zhuanti-cache"))  # deleted at the end (see run.Trash)
    env = {**os.environ, "ZHUANTI_QUIET": "1", "ZHUANTI_LANG": "en"}
    out = log.with_suffix(".json")
    cmd = [sys.executable, "-c", CHILD, str(root), str(jobs or "")]
    sample = run.measure(cmd, env=env, log=out)
    if sample.code != 0:
        sys.exit(f"cold build of {root} failed (exit {sample.code}): {sample.last_line}")
    child = json.loads(out.read_text(encoding="utf-8").strip().splitlines()[-1])
    files, size = tree_size(root / "public")
    cache = root / ".zhuanti-cache"
    return {"wall_s": sample.seconds, "cpu_s": sample.cpu_s, "peak_tree_mb": sample.peak_mb,
            "peak_main_mb": child["main_maxrss_mb"], "timings_s": child["timings"],
            "main_rss_after_step_mb": child.get("memory_mb", {}), "main_cpu_by_step_s": child.get("cpu_s", {}),
            "pages_written": child["pages_written"], "output_files": files, "output_mb": size / 1e6,
            "state_mb": file_mb(cache / "build-state.sqlite"), "sources_mb": file_mb(cache / "sources.sqlite"),
            "manifest_mb": file_mb(root / "public/.zhuanti/manifest.json"),
            "sitemap_mb": file_mb(root / "public/sitemap.xml")}


def median_run(runs: list[dict]) -> dict:
    """The run with the median CPU time (its other figures belong to the same run), peaks at their max."""
    ordered = sorted(runs, key=lambda r: r["cpu_s"])
    mid = dict(ordered[len(ordered) // 2])
    mid["peak_tree_mb"] = max(r["peak_tree_mb"] or 0 for r in runs)
    mid["peak_main_mb"] = max(r["peak_main_mb"] for r in runs)
    mid["cpu_min_max_s"] = [ordered[0]["cpu_s"], ordered[-1]["cpu_s"]]
    return mid


def print_series(title: str, unit: str, rows: list[tuple[int, dict]]) -> None:
    print(f"\n{title}")
    print(f"{unit:>9} {'pages':>8} {'wall s':>8} {'CPU s':>8} {'CPU ms/p':>9} {'×lin':>5} {'peak MB':>8} "
          f"{'main MB':>8} {'KB/p':>6} {'×lin':>5} {'state MB':>9} {'manif MB':>9} {'out MB':>8}")
    base = None
    for n, r in rows:
        pages = max(1, r["pages_written"])
        cpu_pp = r["cpu_s"] / pages * 1000
        mem = r["peak_tree_mb"] or r["peak_main_mb"]
        kb_pp = mem * 1000 / pages
        if base is None:
            base = (cpu_pp, kb_pp)
        print(f"{n:>9} {pages:>8} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} {cpu_pp:>9.2f} {cpu_pp / base[0]:>5.2f} "
              f"{mem:>8.0f} {r['peak_main_mb']:>8.0f} {kb_pp:>6.1f} {kb_pp / base[1]:>5.2f} {r['state_mb']:>9.1f} "
              f"{r['manifest_mb']:>9.1f} {r['output_mb']:>8.0f}")
    for n, r in rows:
        mem = r.get("main_rss_after_step_mb", {})
        cpu = r.get("main_cpu_by_step_s", {})
        print(f"  {n}: " + ", ".join(f"{k} {v:.1f} s" + (f" [{cpu[k]:.1f} CPU]" if k in cpu else "")
                                     + (f" ({mem[k][0]}/{mem[k][1]} MB)" if k in mem else "")
                                     for k, v in r["timings_s"].items() if v >= 0.05 or k in mem))
    print("  (steps: wall time [CPU of the build process; render without its workers] "
          "(the build process's RSS after the step / its peak so far))")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, nargs="*", default=[1000, 10000, 100000],
                    help="benchmark corpus sizes (pages); none: skip the series")
    ap.add_argument("--rows", type=int, nargs="*", default=[10000, 100000],
                    help="data column sizes (CSV rows); none: skip the series")
    ap.add_argument("--corpus", type=Path, default=HERE / "corpus", help="where generated corpora are cached")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=None, help="zhuanti --jobs (default: its own choice)")
    ap.add_argument("--search", action="store_true", help="with the site search (default: [build] search = false)")
    args = ap.parse_args()
    run = _load("run.py")
    gen_data = _load("gen_data.py")
    started = run.load_text()
    print(f"scaling benchmark ({os.cpu_count()} cores, {started}); corpora in {args.corpus}", flush=True)
    logs = args.corpus / "logs" / "scaling"
    logs.mkdir(parents=True, exist_ok=True)
    series: dict[str, list[tuple[int, dict]]] = {"pages": [], "rows": []}
    trash = run.Trash(args.corpus)
    for kind, sizes in (("pages", args.pages), ("rows", args.rows)):
        for n in sorted(sizes):
            if kind == "pages":
                root = run.make_corpus(n, args.corpus / f"zhuanti-{n}").resolve()
            else:
                root = (args.corpus / f"data-{n}").resolve()
                if not (root / ".complete").is_file():
                    gen_data.generate(n, root)
            original = set_search(root / "site_src/site.toml", args.search)
            try:
                runs = []
                for r in range(max(1, args.repeat)):
                    t0 = time.perf_counter()
                    runs.append(cold_build(run, root, args.jobs, logs / f"{kind}-{n}-{r}.log", trash))
                    print(f"  {kind} {n}: run {r + 1}: {runs[-1]['cpu_s']:.1f} s CPU, "
                          f"{runs[-1]['peak_tree_mb']:.0f} MB peak ({time.perf_counter() - t0:.0f} s wall, "
                          f"{run.load_text()})", flush=True)
            finally:
                (root / "site_src/site.toml").write_text(original, encoding="utf-8")
            series[kind].append((n, median_run(runs)))
    trash.empty()
    data = {"load_start": started, "load_end": run.load_text(), "machine": run.machine(), "search": args.search,
            "jobs": args.jobs, "repeat": args.repeat,
            "pages": [{"size": n, **r} for n, r in series["pages"]],
            "rows": [{"size": n, **r} for n, r in series["rows"]]}
    path = run.save("scaling", data)
    print(f"\ncold builds, {'with' if args.search else 'without'} the site search; median CPU of {args.repeat}; "
          f"peak = RSS of the process tree (main = the build process alone); ×lin = per page against the "
          f"smallest size (1.00 = linear); {started} at start, {run.load_text()} at end")
    if series["pages"]:
        print_series("benchmark corpus (bench/gen_corpus.py)", "corpus", series["pages"])
    if series["rows"]:
        print_series("one data column (bench/gen_data.py, CSV)", "rows", series["rows"])
    print(f"\n→ {path.relative_to(HERE.parent)}")
    if any(len(s) > 1 for s in series.values()):
        worst = max((r["cpu_s"] / max(1, r["pages_written"])) / (s[0][1]["cpu_s"] / max(1, s[0][1]["pages_written"]))
                    for s in series.values() if s for _, r in s)
        print(f"worst CPU per page against the smallest size: ×{worst:.2f} ({'linear or better' if worst <= 1.25 else 'super-linear'})")


if __name__ == "__main__":
    main()
