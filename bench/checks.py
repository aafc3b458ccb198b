"""Check benchmark (issue 3): links + hidden links + words (20,000-entry dictionary) + site rules on the
10,000-page corpus, against htmlproofer 3.x checking internal links alone; and the words pass in MB/s.

    .venv/bin/python bench/checks.py [--pages 10000] [--jobs 1 2] [--out bench/out] [--repeat 3]
    .venv/bin/python bench/checks.py --command [--root SITE] [--repeat 3]   # `zhuanti check` itself, by phase

The corpus is bench/run.py's (../shared/bench/gen_corpus.py --flavor zhuanti, built by
builder.build.build_site; about 1 % of its links point at pages that do not exist). The word lists
are written to a temporary folder: 20,000 deterministic entries (seeded random 2-4 character CJK
words plus real-looking typos and spam words, and two probes that do occur in the corpus so the
match → finding path runs). The checks go through the real runner (``run_checks``) with a copy of
the site config whose root holds that words folder. htmlproofer (Debian: apt-get install
ruby-html-proofer) checks the same public/ folder for internal links only; it exits 1 because of
the broken links, which is expected. Prints a table; nothing is asserted.

``--command`` times the real command line instead: ``zhuanti check`` on the site (``--root``: a site
already built, e.g. a copy of bench/corpus/zhuanti-10000; else the generated corpus), ``--repeat``
times, medians and min–max of wall and CPU seconds (user + system of the command and its worker
processes) and the load; then where one run's CPU goes, phase by phase, in one process (page checks
per family, reading and parsing, source lines, the reports). The dictionary is written into the
site's site_src/words/ when it has none.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import types
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DICT_SIZE = 20_000
DICT_SEED = 20240603
CJK_FIRST, CJK_LAST = 0x4E00, 0x9FA5  # CJK Unified Ideographs (the GB-era block)
MB = 1_000_000  # MB/s below are 10^6 bytes of UTF-8 per second

# Real-looking entries (common 错别字 and spam words a 错敏词 service lists); none occurs in the corpus.
REAL_TYPOS = [
    ("截止目前", "截至目前"), ("按装", "安装"), ("布署", "部署"), ("既使", "即使"), ("再接再励", "再接再厉"),
    ("迫不急待", "迫不及待"), ("一愁莫展", "一筹莫展"), ("变本加利", "变本加厉"), ("谈笑风声", "谈笑风生"),
    ("出谋化策", "出谋划策"), ("陈词烂调", "陈词滥调"), ("穿流不息", "川流不息"), ("默守成规", "墨守成规"),
    ("幅射", "辐射"), ("装祯", "装帧"), ("松驰", "松弛"), ("渡假村", "度假村"), ("签定合同", "签订合同"),
    ("部份", "部分"), ("防碍", "妨碍"), ("一股作气", "一鼓作气"), ("挺而走险", "铤而走险"),
    ("名符其实", "名副其实"), ("美仑美奂", "美轮美奂"), ("甘败下风", "甘拜下风"), ("以经", "已经"),
    ("合谐社会", "和谐社会"), ("帐户余额", "账户余额"), ("精兵减政", "精兵简政"), ("兢兢业业地", "兢兢业业"),
]
REAL_SENSITIVE = [
    "代开发票", "六合彩", "时时彩", "网络赌博", "博彩网站", "刷单返利", "高仿名表", "办假证", "私服外挂",
    "贷款秒批", "信用卡套现", "代写论文", "黑客接单", "casino", "真人娱乐城",
]
# Probes that do occur in the corpus: the broken links' text says 已撤销 (about 1 % of links);
# 养老机构床位数 is one of the twelve indicators of the pages' tables.
PROBE_TYPOS = [("养老机构床位数", "养老机构床位总数")]
PROBE_SENSITIVE = ["已撤销"]


def load_run_module():
    """bench/run.py as a module (its make_corpus is shared, not copied)."""
    spec = importlib.util.spec_from_file_location("bench_run", HERE / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_dictionary(words_dir: Path, size: int = DICT_SIZE, seed: int = DICT_SEED) -> dict[str, int]:
    """typos.txt (wrong<TAB>right) and sensitive.txt with ``size`` distinct entries in all."""
    rng = random.Random(seed)
    used: set[str] = set()
    typos: list[tuple[str, str]] = []
    sensitive: list[str] = []

    def fresh() -> str:
        while True:
            word = "".join(chr(rng.randint(CJK_FIRST, CJK_LAST)) for _ in range(rng.randint(2, 4)))
            if word not in used:
                used.add(word)
                return word

    for wrong, right in REAL_TYPOS + PROBE_TYPOS:
        used.add(wrong)
        typos.append((wrong, right))
    for word in REAL_SENSITIVE + PROBE_SENSITIVE:
        used.add(word)
        sensitive.append(word)
    n_typos = size // 2
    while len(typos) < n_typos:
        wrong = fresh()
        i = rng.randrange(len(wrong))  # the right form differs in one character, as typos do
        right = wrong[:i] + chr(rng.randint(CJK_FIRST, CJK_LAST)) + wrong[i + 1:]
        if right != wrong:
            typos.append((wrong, right))
    while len(typos) + len(sensitive) < size:
        sensitive.append(fresh())
    words_dir.mkdir(parents=True, exist_ok=True)
    (words_dir / "typos.txt").write_text(
        "# benchmark dictionary (bench/checks.py)\n" + "".join(f"{w}\t{r}\n" for w, r in typos), encoding="utf-8")
    (words_dir / "sensitive.txt").write_text(
        "# benchmark dictionary (bench/checks.py)\n" + "".join(f"{w}\n" for w in sensitive), encoding="utf-8")
    return {"typos": len(typos), "sensitive": len(sensitive)}


def build(root: Path) -> float:
    """Build the corpus (incremental: a no-op when public/ is current); returns seconds."""
    from builder.build import BuildOptions, build_site

    t0 = time.perf_counter()
    build_site(root, BuildOptions())
    return time.perf_counter() - t0


def run_runner(public: Path, site, cache_dir: Path, jobs: int):
    """One ``zhuanti check``-equivalent pass (manifest loaded, page checks only); (seconds, run)."""
    from builder.checks.runner import run_checks
    from builder.manifest import load_manifest

    t0 = time.perf_counter()
    manifest = load_manifest(public)
    run = run_checks(public, site=site, manifest=manifest, external=False, browser=False,
                     cache_dir=cache_dir, jobs=jobs)
    return time.perf_counter() - t0, run


def words_alone(public: Path, words_dir: Path, repeat: int) -> dict:
    """The words pass on pages already in memory: matcher setup, extraction, matching, WordCheck.page."""
    from builder.checks.runner import find_pages, load_page
    from builder.checks.text import extract_visible_text
    from builder.checks.words import MAX_PAGE_CHARS, WordCheck

    docs = [doc for doc in (load_page(public, p)[0] for p in find_pages(public)) if doc is not None]
    check = WordCheck(words_dir)
    t0 = time.perf_counter()
    matcher = check.matcher
    matcher.find("预热")  # builds the automata and the folding table (cached properties)
    setup = time.perf_counter() - t0

    def best(fn):
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t)
        return min(times), result

    extract_s, texts = best(lambda: [extract_visible_text(d.html, limit=MAX_PAGE_CHARS).text for d in docs])
    match_s, matches = best(lambda: sum(len(matcher.find(t)) for t in texts))
    page_s, findings = best(lambda: [f for d in docs for f in check.page(d)])
    return {"pages": len(docs), "entries": len(matcher), "problems": matcher.problems, "setup": setup,
            "bytes": sum(len(t.encode("utf-8")) for t in texts), "chars": sum(map(len, texts)),
            "html_bytes": sum(len(d.html.encode("utf-8")) for d in docs), "extract": extract_s,
            "match": match_s, "page": page_s, "matches": matches,
            "rules": Counter(f.rule for f in findings)}


def run_htmlproofer(public: Path, log: Path) -> tuple[float, int, int | None, int | None] | None:
    """htmlproofer on ``public`` (internal links only): (seconds, exit code, files, failures), None if absent."""
    exe = shutil.which("htmlproofer")
    if exe is None:
        return None
    cmd = [exe, str(public), "--disable-external", "--checks-to-ignore", "ImageCheck,ScriptCheck",
           "--allow-hash-href", "--root-dir", str(public)]
    print("running: " + " ".join(cmd), flush=True)
    with log.open("w", encoding="utf-8") as out:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)
        seconds = time.perf_counter() - t0
    text = log.read_text(encoding="utf-8", errors="replace")
    files, failures = re.search(r"Ran on (\d+) files?", text), re.search(r"found (\d+) failures?", text)
    return (seconds, proc.returncode, int(files.group(1)) if files else None,
            int(failures.group(1)) if failures else None)


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def command_runs(root: Path, repeat: int) -> None:
    """``zhuanti check`` on ``root`` ``repeat`` times: medians of wall and CPU seconds, with the load."""
    bench_run = load_run_module()
    env = {**os.environ, "ZHUANTI_QUIET": "1"}
    cmd = [str(bench_run.ZHUANTI), "check", "--root", str(root)]
    started = load_text()
    samples = []
    for r in range(repeat):
        samples.append(bench_run.measure(cmd, env=env))
        s = samples[-1]
        print(f"  run {r + 1}/{repeat}: {s.seconds:.2f} s wall, {s.cpu_s:.2f} s CPU, exit {s.code} "
              f"({load_text()})", flush=True)
    walls, cpus = sorted(s.seconds for s in samples), sorted(s.cpu_s for s in samples)
    print(f"zhuanti check, {root}: median {statistics.median(walls):.2f} s wall ({walls[0]:.2f}–{walls[-1]:.2f}), "
          f"{statistics.median(cpus):.2f} s CPU ({cpus[0]:.2f}–{cpus[-1]:.2f}); {started} at start, "
          f"{load_text()} at end; last line: {samples[-1].last_line}")


def phases(root: Path) -> None:
    """Where one check run's CPU goes, in one process (--jobs 1): process time of each phase."""
    from builder.checks import report, runner, sources
    from builder.config import load_site_config
    from builder.manifest import load_manifest

    clock = time.process_time
    spent: Counter[str] = Counter()

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += clock() - t
        return wrapper

    def load_and_parse(root_dir, path, rel, _load=runner._load):
        doc, problems = _load(root_dir, path, rel)
        if doc is not None:
            doc.tree  # noqa: B018 - parsed here, so the families' times are their own
        return doc, problems

    t = clock()
    site = load_site_config(root)
    manifest = load_manifest(site.output_dir)
    spent["site config + manifest"] = clock() - t
    patches = [(runner, "time", types.SimpleNamespace(perf_counter=clock)),  # the families' CPU, not wall
               (runner, "_load", timed("read + parse pages", load_and_parse)),
               (runner, "find_page_names", timed("find pages", runner.find_page_names)),
               (sources, "attach_sources", timed("source lines of findings", sources.attach_sources))]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in patches]
    try:
        for mod, name, fn in patches:
            setattr(mod, name, fn)
        t = clock()
        run = runner.run_checks(site.output_dir, site=site, manifest=manifest, external=False, browser=False,
                                cache_dir=site.cache_dir, jobs=1)
        total_run = clock() - t
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)
    for name, seconds in run.timings.items():
        spent[f"page checks: {name}"] = seconds
    t = clock()
    report.render_text(run, color=False, fail_on=site.check.fail_on)
    spent["text report"] = clock() - t
    t = clock()
    report.render_json(run, site.check.fail_on)
    spent["JSON report"] = clock() - t
    spent["other (runner, finish, notes)"] = max(0.0, total_run - sum(
        v for k, v in spent.items() if k not in ("site config + manifest", "text report", "JSON report")))
    total = sum(spent.values())
    print(f"\none run in one process ({run.pages} pages, {len(run.findings)} findings, {load_text()}):")
    for name, seconds in spent.most_common():
        print(f"  {name:<36} {seconds:>7.2f} s  {seconds / total:>6.1%}")
    print(f"  {'total':<36} {total:>7.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of the words-alone passes (best kept), "
                    "or of the command with --command")
    ap.add_argument("--command", action="store_true", help="time `zhuanti check` itself, then its phases")
    ap.add_argument("--root", type=Path, help="with --command: a site already built (default: the corpus)")
    args = ap.parse_args()
    os.environ.setdefault("ZHUANTI_QUIET", "1")
    from builder.config import load_site_config

    started_load = load_text()
    if args.command:
        root = args.root.resolve() if args.root else \
            load_run_module().make_corpus(args.pages, args.out / f"corpus-{args.pages}").resolve()
        if args.root is None:
            build(root)
        words = root / "site_src" / "words"
        if not (words / "typos.txt").is_file():
            write_dictionary(words)
        command_runs(root, max(1, args.repeat))
        phases(root)
        return
    root = load_run_module().make_corpus(args.pages, args.out / f"corpus-{args.pages}").resolve()
    build_s = build(root)
    site = load_site_config(root)
    public = site.output_dir
    print(f"corpus {root} built/updated in {build_s:.1f} s", flush=True)

    rows: list[tuple[str, int, float, str]] = []  # label, pages, seconds, note
    with tempfile.TemporaryDirectory(prefix="zhuanti-bench-checks-") as tmp:
        words_root = Path(tmp)
        sizes = write_dictionary(words_root / "site_src" / "words")
        bench_site = dataclasses.replace(site, root=words_root)  # the runner reads <root>/site_src/words
        breakdown = ""
        for jobs in args.jobs:
            seconds, run = run_runner(public, bench_site, words_root / "cache", jobs)
            rules = Counter(f.rule for f in run.findings)
            links = sum(n for r, n in rules.items() if r.startswith("link."))
            words = sum(n for r, n in rules.items() if r.startswith("word."))
            errors = rules.get("check.internal-error", 0)
            note = f"link.* {links}, word.* {words}" + (f", internal errors {errors}" if errors else "")
            rows.append((f"zhuanti checks, jobs {jobs}", run.pages, seconds, note))
            print(f"jobs {jobs}: {seconds:.2f} s ({note})", flush=True)
            if jobs == 1:
                breakdown = ", ".join(f"{k} {v:.2f} s" for k, v in run.timings.items())
        print("words pass alone …", flush=True)
        w = words_alone(public, words_root / "site_src" / "words", max(1, args.repeat))

    log = args.out / f"htmlproofer-{args.pages}.log"
    hp = run_htmlproofer(public, log)
    if hp is None:
        print("htmlproofer not on PATH: install it with `apt-get install -y ruby-html-proofer` "
              "(Debian, version 3.x); its row is skipped")
    else:
        seconds, code, files, failures = hp
        rows.insert(0, ("htmlproofer 3.x, internal links", files or w["pages"], seconds,
                        f"exit {code}, {failures if failures is not None else '?'} failures (log: {log})"))

    base = hp[0] if hp is not None else None
    print(f"\nchecks, {args.pages}-page corpus ({os.cpu_count()} cores; {started_load} at start, "
          f"{load_text()} at end)")
    print(f"dictionary: {w['entries']} entries in the matcher ({sizes['typos']} typos, "
          f"{sizes['sensitive']} sensitive){'; list problems: ' + str(len(w['problems'])) if w['problems'] else ''}")
    print(f"{'tool / config':<34} {'pages':>6} {'seconds':>8} {'ms/page':>8} {'speed-up':>9}  notes")
    for label, pages, seconds, note in rows:
        speed = f"{base / seconds:.1f}×" if base else "–"
        print(f"{label:<34} {pages:>6} {seconds:>8.2f} {seconds / max(pages, 1) * 1000:>8.2f} {speed:>9}  {note}")
    if breakdown:
        print(f"jobs 1 per family: {breakdown}")
    mb = w["bytes"] / MB
    print(f"\nwords pass alone ({w['pages']} pages in memory, best of {max(1, args.repeat)}; "
          f"matcher setup {w['setup']:.2f} s, not counted):")
    print(f"  visible text {mb:.1f} MB UTF-8 ({w['chars'] / 1e6:.1f} M characters) "
          f"from {w['html_bytes'] / MB:.1f} MB of HTML")
    print(f"  matching only (extraction excluded): {w['match']:.2f} s = {mb / w['match']:.1f} MB/s "
          f"({w['chars'] / 1e6 / w['match']:.1f} M chars/s), {w['matches']} matches")
    print(f"  extraction alone: {w['extract']:.2f} s = {mb / w['extract']:.1f} MB/s of visible text")
    print(f"  WordCheck.page (extraction + matching + findings): {w['page']:.2f} s = {mb / w['page']:.1f} MB/s "
          f"of visible text ({w['html_bytes'] / MB / w['page']:.1f} MB/s of HTML); "
          + ", ".join(f"{r} {n}" for r, n in sorted(w["rules"].items())))


if __name__ == "__main__":
    main()
