"""Profile a cold build of the benchmark corpus: where the time goes, per step and per function.

    .venv/bin/python bench/profile_build.py [--pages 10000] [--top 40] [--pyinstrument]
    .venv/bin/python bench/profile_build.py --parts [--pages 10000]   # ms per page of each part, no profiler

Builds bench/corpus/zhuanti-<pages>/ from scratch in this one process (``jobs=1``, so rendering is
profiled too) under cProfile with the wall clock (``time.perf_counter``; a CPU clock would cost a
system call per function call, tens of seconds that the profile then charges to small functions),
so profile on an idle machine; the CPU total is printed beside it. ``--pyinstrument`` adds pyinstrument's call tree (wall
clock). Writes bench/results/profile-<pages>-<time>.txt and prints the per-step table.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import runpy
import sys
import time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
# What one page's render is made of, timed by ``--parts`` (module, attribute, label); the
# markdown, template and minify parts are inside "render".
PARTS = (
    ("builder.render.pages", "PageRenderer.render", "render (Markdown, templates, minify, context)"),
    ("builder.render.pages", "PageRenderer.markdown_for", "  Markdown and its post-processing"),
    ("builder.render.templates", "Templates.render", "  Jinja2 templates"),
    ("minify_html", "minify", "  minify-html"),
    ("builder.build", "page_record", "search record"),
    ("builder.build", "write_file", "write the file"),
    ("os", "makedirs", "make its folder"),
)


def time_parts() -> dict[str, list[float]]:
    """Wrap each of ``PARTS`` with a timer; label → [seconds, calls]."""
    import importlib

    totals: dict[str, list[float]] = {}
    for module, attr, label in PARTS:
        owner = importlib.import_module(module)
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        fn = getattr(owner, name)
        total = totals[label] = [0.0, 0]

        def timed(*a, _fn=fn, _total=total, **k):
            t0 = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                _total[0] += time.perf_counter() - t0
                _total[1] += 1

        setattr(owner, name, timed)
    return totals


def _load_run() -> SimpleNamespace:
    """bench/run.py's functions (its corpus, measuring and saving are shared, not copied)."""
    return SimpleNamespace(**runpy.run_path(str(HERE / "run.py")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--pyinstrument", action="store_true", help="also a pyinstrument call tree (wall clock)")
    ap.add_argument("--parts", action="store_true",
                    help="no profiler: time the parts of each page's render (ms per page)")
    args = ap.parse_args()
    run = _load_run()
    os.environ["ZHUANTI_QUIET"] = "1"
    root = run.make_corpus(args.pages, run.CORPUS / f"zhuanti-{args.pages}").resolve()
    trash = run.Trash(run.CORPUS)
    trash.clear(root, ("public", ".zhuanti-cache"))  # deleted after the build (see run.Trash)
    from builder.build import BuildOptions, build_site

    started = run.load_text()
    if args.parts:
        parts = time_parts()
        t0, c0 = time.perf_counter(), time.process_time()
        report = build_site(root, BuildOptions(jobs=1))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        trash.empty()
        print(f"cold build, {args.pages}-page corpus, one process: {report.pages_written} pages, wall {wall:.1f} s, "
              f"CPU {cpu:.1f} s; {started} at start, {run.load_text()} at end")
        print("  " + " ".join(f"{k} {v:.2f}" for k, v in report.timings.items()) + " (steps, s)")
        for label, (seconds, calls) in parts.items():
            print(f"  {label:<48} {seconds:6.2f} s  {seconds / max(calls, 1) * 1000:6.3f} ms × {calls}")
        return
    profiler = cProfile.Profile(time.perf_counter)
    tree = None
    if args.pyinstrument:
        from pyinstrument import Profiler

        tree = Profiler(interval=0.005)
        tree.start()
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    profiler.enable()
    report = build_site(root, BuildOptions(jobs=1))
    profiler.disable()
    trash.empty()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    kids = (kids1.ru_utime - kids0.ru_utime) + (kids1.ru_stime - kids0.ru_stime)
    if tree is not None:
        tree.stop()
    pages = report.pages_written
    out = io.StringIO()
    out.write(f"cold build, {args.pages}-page corpus, jobs=1, one process: {pages} pages, wall {wall:.1f} s, "
              f"CPU {cpu:.1f} s ({cpu / max(pages, 1) * 1000:.2f} ms CPU/page) + {kids:.1f} s in child processes "
              f"(ffmpeg; not in the profile below); {started} at start, "
              f"{run.load_text()} at end\n\nsteps (wall, from the build report):\n")
    for name, seconds in report.timings.items():
        out.write(f"  {name:<10} {seconds:>8.2f} s  {seconds / wall * 100:>5.1f} %\n")
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"\ntop {args.top} functions by own time:\n")
    stats.sort_stats("tottime").print_stats(args.top)
    out.write(f"\ntop {args.top} by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(args.top)
    if tree is not None:
        out.write("\npyinstrument (wall clock):\n" + tree.output_text(unicode=False, color=False))
    run.RESULTS.mkdir(parents=True, exist_ok=True)
    path = run.RESULTS / f"profile-{args.pages}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.txt"
    text = out.getvalue().replace(str(HERE.parent) + "/", "")
    path.write_text(text, encoding="utf-8")
    print(text.split("\ntop ")[0])
    print(f"→ {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    sys.exit(main())
