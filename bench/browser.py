"""The browser pass in numbers, and screenshots of the sample site's page types.

    .venv/bin/python bench/browser.py timing [--pages 10000] [--sample 20] [--skip-site] [--skip-corpus]
    .venv/bin/python bench/browser.py screenshots [--out bench/out/screenshots]   (make screenshots)

``timing``: the sample site's full ``check --browser`` pass (every page, five devices, no
screenshots) on its built ``public/`` (run ``make run`` first), then the 10,000-page corpus of
bench/run.py (../shared/bench/gen_corpus.py, built here when its public/ is missing) with
``--sample 20``. Prints a table with the machine's load before and after; nothing is asserted.

``screenshots``: each page type of the sample site (home, nav, column, detail, record, media, video,
and any other template the theme has) at 360 px (phone) and 1366 px (desktop), as PNG in CSS
pixels (the whole page, cut at 4,000 px), into one folder; prints where.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

SHOT_WIDTHS = ((360, 640, True), (1366, 768, False))
MAX_SHOT_HEIGHT = 4000
LIST_TEMPLATES = {"home", "nav", "column", "media"}


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def load_run_module():
    """bench/run.py as a module (its make_corpus is shared, not copied)."""
    spec = importlib.util.spec_from_file_location("bench_run", HERE / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_pass(public: Path, sample: int | None) -> tuple[float, float, object]:
    """Seconds to plan (read every page's template) and for the whole pass."""
    from builder.checks.browser import BrowserCheck

    check = BrowserCheck(public, sample=sample)
    t0 = time.perf_counter()
    check.plan(check.pages_to_check())
    planned = time.perf_counter() - t0
    check = BrowserCheck(public, sample=sample)
    t0 = time.perf_counter()
    findings = list(check.finish())
    return planned, time.perf_counter() - t0, (check, findings)


def timing(args) -> None:
    rows = []
    print(f"start: {load()} ({os.cpu_count()} cores)")
    if not args.skip_site:
        public = REPO / "public"
        if not (public / "index.html").is_file():
            sys.exit("the sample site is not built: run 'make run' first (or pass --skip-site)")
        planned, seconds, (check, findings) = time_pass(public, None)
        rows.append(("sample site, every page", check, planned, seconds, findings))
        print(f"sample site done: {load()}")
    if not args.skip_corpus:
        from builder.build import BuildOptions, build_site

        root = load_run_module().make_corpus(args.pages, args.corpus / f"zhuanti-{args.pages}").resolve()
        if not (root / "public" / "index.html").is_file():
            os.environ.setdefault("ZHUANTI_QUIET", "1")
            t0 = time.perf_counter()
            build_site(root, BuildOptions())
            print(f"corpus built in {time.perf_counter() - t0:.1f} s")
        planned, seconds, (check, findings) = time_pass(root / "public", args.sample)
        rows.append((f"{args.pages}-page corpus, --sample {args.sample}", check, planned, seconds, findings))
        print(f"corpus done: {load()}")
    print(f"\n{'run':<34} {'pages':>6} {'checked':>7} {'devices':>7} {'plan s':>7} {'total s':>8} "
          f"{'ms/page':>8} {'findings':>8}")
    for name, check, planned, seconds, found in rows:
        print(f"{name:<34} {len(check.pages_to_check()):>6} {int(check.stats.get('pages', 0)):>7} "
              f"{len(check.devices):>7} {planned:>7.1f} {seconds:>8.1f} {check.stats.get('ms_per_page', 0):>8.0f} "
              f"{len(found):>8}")
        print(f"  {check.note()}")
        print("  findings by rule: " + ", ".join(f"{r} {n}" for r, n in Counter(f.rule for f in found).most_common()))
    print(f"end: {load()}")


def page_types(public: Path) -> dict[str, str]:
    """Page type → the first page of that type: each template (``<body class="kind-…">``) and a video page."""
    # Shallow pages first, so each type is shown by the page a visitor meets first.
    from builder.checks.browser import page_template
    from builder.manifest import load_manifest

    manifest = load_manifest(public) or {}
    kinds = {p["path"]: p.get("kind") for p in manifest.get("pages", [])}
    rels = sorted(kinds) or sorted(p.relative_to(public).as_posix() for p in public.rglob("index.html"))
    rels.sort(key=lambda r: (r != "index.html", r.count("/"), r))
    types: dict[str, str] = {}
    for rel in rels:
        source = (public / rel).read_text(encoding="utf-8", errors="replace")
        template = page_template(rel, source, kinds.get(rel))
        types.setdefault(template, rel)
        if template not in LIST_TEMPLATES and re.search(r"<video\b", source):
            types.setdefault("video", rel)  # a page that is about one video (an episode), not a list
    return types


def screenshots(args) -> None:
    from builder.checks.browser import open_browser

    public = REPO / "public"
    if not (public / "index.html").is_file():
        sys.exit("the sample site is not built: run 'make run' (or 'zhuanti build') first")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    types = page_types(public)
    written = []
    with open_browser(public) as browser:
        for kind, rel in types.items():
            for width, height, mobile in SHOT_WIDTHS:
                tab = browser.open(rel, width, height, mobile=mobile)
                try:
                    full = tab.evaluate("Math.max(document.documentElement.scrollHeight, innerHeight)")
                    target = out / f"{kind}-{width}.png"
                    tab.screenshot(path=str(target), full_page=True, scale="css", animations="disabled",
                                   clip={"x": 0, "y": 0, "width": width, "height": min(full, MAX_SHOT_HEIGHT)})
                    written.append((target, rel))
                finally:
                    tab.context.close()
    for target, rel in written:
        print(f"{target.name:<24} {rel}")
    print(f"{len(written)} screenshots of {len(types)} page types written to {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("timing", help="time the sample site's full pass and the corpus with --sample")
    t.add_argument("--pages", type=int, default=10000)
    t.add_argument("--sample", type=int, default=20)
    t.add_argument("--corpus", type=Path, default=HERE / "corpus", help="where generated corpora are cached")
    t.add_argument("--skip-site", action="store_true")
    t.add_argument("--skip-corpus", action="store_true")
    s = sub.add_parser("screenshots", help="screenshots of each page type at 360 and 1366 px")
    s.add_argument("--out", type=Path, default=HERE / "out" / "screenshots")
    args = ap.parse_args()
    os.environ.setdefault("ZHUANTI_QUIET", "1")
    timing(args) if args.what == "timing" else screenshots(args)


if __name__ == "__main__":
    main()
