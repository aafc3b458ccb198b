"""Build benchmark: zhuanti cold, no-op, one-edit and check on the generated corpus.

    make bench [PAGES=10000] [REPEAT=3]
    .venv/bin/python bench/run.py [--pages 1000 10000] [--repeat 3] [--jobs N]
    .venv/bin/python bench/run.py --steps [--pages 10000] [--corpus DIR]   # engine step timings

The corpus comes from bench/gen_corpus.py --flavor zhuanti (a verbatim copy of the project's shared
generator) and is cached under bench/corpus/zhuanti-<pages>/. About 1 % of its links point at pages
that do not exist, so the benchmark site sets build.source_link_errors = "warning", and
``zhuanti check`` exits 1 on it (expected). The check runs with bench/checks.py's deterministic
20,000-entry word dictionary, written into the corpus's site_src/words/.

Every step runs the real command line (``zhuanti build`` / ``zhuanti check``) in a child process;
its wall time, its CPU time (user + system of the process and its children, from getrusage: the
fair figure when other work shares the machine) and the peak memory of its whole process tree
(the sum of the RSS of the process and its children, sampled every 20 ms with psutil) are recorded. Steps of one repetition run in
order: cold (no public/, no .zhuanti-cache/), no-op, check, one edit (a page gets a sentence; the
page is restored afterwards and the site rebuilt, untimed). With several page counts the table
shows how time and memory scale. Results also go to bench/results/zhuanti-<pages>-<time>.json.
Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
GEN = HERE / "gen_corpus.py"
CORPUS = HERE / "corpus"
RESULTS = HERE / "results"
ZHUANTI = Path(sys.executable).with_name("zhuanti")
SAMPLE_EVERY = 0.02  # seconds between memory samples


def make_corpus(pages: int, out: Path, flavor: str = "zhuanti") -> Path:
    """Generate the corpus into ``out`` unless it is already there (cached between runs)."""
    marker = out / ".complete"
    if not marker.is_file():
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run([sys.executable, str(GEN), "--pages", str(pages), "--out", str(out), "--flavor", flavor],
                       check=True)
        if flavor == "zhuanti":
            with (out / "site_src/site.toml").open("a", encoding="utf-8") as f:
                f.write('\n[build]\nsource_link_errors = "warning"\n')
        marker.write_text(f"{pages} {flavor}\n", encoding="utf-8")
    return out


class Trash:
    """Where the output of an earlier run goes before a timed cold run: renamed aside (one rename),
    and deleted only when the benchmark is over (``empty``).

    Deleting it right before the run would be timed too, though not as deletion: on a file system
    without a journal (this machine's ext4), the kernel will not reuse an inode deleted in the last
    60 to 360 seconds, and checks every such inode, one by one, on each file it creates
    (``recently_deleted()`` in fs/ext4/ialloc.c). After ``rm -rf`` of a 10,000-page output, a build
    that creates the next 21,000 folders and files spends seconds of system time in that scan (perf:
    90 % of a file-creation loop; 0.5 s for 10,000 folders and files without it, 2 to 9.6 s with
    it), for zhuanti and every peer alike; how much depends on what was deleted when, so cold builds
    varied by ±40 %. A user's first build in a fresh clone never pays it."""

    def __init__(self, near: Path) -> None:
        self.folder = near / ".bench-trash"
        self.count = 0

    def clear(self, root: Path, rels) -> None:
        """Move ``root/rel`` for each of ``rels`` out of the way (same file system: a rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for rel in rels:
            path = root / rel
            if path.exists() or path.is_symlink():
                self.count += 1
                os.rename(path, self.folder / f"{os.getpid()}-{self.count}")

    def empty(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Trash:
        return self

    def __exit__(self, *exc) -> None:
        self.empty()


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


class Sample(NamedTuple):
    seconds: float
    peak_mb: float | None
    code: int
    last_line: str = ""
    cpu_s: float = 0.0  # user + system CPU of the process and every descendant it waited for


def _tree_rss(proc) -> int:
    import psutil

    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(cmd: list[str], cwd: Path | None = None, env: dict | None = None, log: Path | None = None) -> Sample:
    """Run ``cmd``; its wall time, the peak RSS of its process tree (MB) and its exit code."""
    try:
        import psutil
    except ImportError:  # bench extra not installed: time only
        psutil = None
    out = open(log, "wb") if log else subprocess.DEVNULL
    # stderr into a file, not a pipe: a checker that reports thousands of findings there would fill
    # the pipe and wait forever while this loop only samples memory.
    errors = tempfile.TemporaryFile()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=errors)
        peak = 0
        watched = psutil.Process(child.pid) if psutil else None
        while child.poll() is None:
            if watched is not None:
                peak = max(peak, _tree_rss(watched))
            time.sleep(SAMPLE_EVERY)
        seconds = time.perf_counter() - t0
        errors.seek(0)
        err = errors.read().decode("utf-8", "replace")
    finally:
        errors.close()
        if log:
            out.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in err.splitlines() if line.strip()]
    return Sample(seconds, peak / 1e6 if watched is not None else None, child.returncode,
                  lines[-1].strip() if lines else "", cpu)


def summarize(samples: list[Sample]) -> dict:
    times = [s.seconds for s in samples]
    peaks = [s.peak_mb for s in samples if s.peak_mb is not None]
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "cpu_median_s": statistics.median(s.cpu_s for s in samples),
            "peak_mb": max(peaks) if peaks else None, "runs": [s._asdict() for s in samples]}


def fmt_row(label: str, s: dict, extra: str = "") -> str:
    peak = f"{s['peak_mb']:.0f}" if s.get("peak_mb") is not None else "–"
    cpu = s.get("cpu_median_s")
    return (f"{label:<30} {s['median_s']:>8.2f} {s['min_s']:>7.2f}–{s['max_s']:<7.2f} "
            f"{cpu if cpu is not None else float('nan'):>7.2f} {peak:>8}  {extra}")


def write_dictionary(root: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_checks", HERE / "checks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    words = root / "site_src" / "words"
    if not (words / "typos.txt").is_file():
        module.write_dictionary(words)


def tool_env(**extra: str) -> dict[str, str]:
    """The environment of a measured command: as a user's shell has it, so without
    PYTHONDONTWRITEBYTECODE (set on some CI machines). zhuanti is installed editable, so with that
    variable every command would compile its ~50 modules again (~50 ms), which the pip-installed
    Python peers, whose bytecode pip wrote at install time, never pay."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}


def zhuanti_runs(root: Path, repeat: int, jobs: int | None, logs: Path, trash: Trash) -> dict[str, list[Sample]]:
    env = tool_env(ZHUANTI_QUIET="1", ZHUANTI_LANG="en")
    build = [str(ZHUANTI), "build", "--root", str(root)] + (["--jobs", str(jobs)] if jobs else [])
    check = [str(ZHUANTI), "check", "--root", str(root)] + (["--jobs", str(jobs)] if jobs else [])
    target = sorted((root / "topics/bench").glob("topic-01/page-*.md"))[0]
    original = target.read_text(encoding="utf-8")
    runs: dict[str, list[Sample]] = {"cold": [], "no-op": [], "check": [], "one edit": []}
    for r in range(repeat):
        trash.clear(root, ("public", ".zhuanti-cache"))
        runs["cold"].append(measure(build, env=env, log=logs / f"cold-{r}.log"))
        if runs["cold"][-1].code != 0:
            sys.exit(f"cold build failed (exit {runs['cold'][-1].code}): {runs['cold'][-1].last_line}")
        runs["no-op"].append(measure(build, env=env))
        runs["check"].append(measure(check, env=env, log=logs / f"check-{r}.log"))
        target.write_text(original + "\n补充说明。\n", encoding="utf-8")
        try:
            runs["one edit"].append(measure(build, env=env))
        finally:
            target.write_text(original, encoding="utf-8")
        measure(build, env=env)  # back in step with the sources (untimed)
        print(f"  run {r + 1}/{repeat}: cold {runs['cold'][-1].seconds:.2f} s, "
              f"no-op {runs['no-op'][-1].seconds:.2f} s, check {runs['check'][-1].seconds:.2f} s, "
              f"one edit {runs['one edit'][-1].seconds:.2f} s", flush=True)
    return runs


def engine_steps(root: Path, repeat: int) -> None:
    """In-process no-op and one-edit builds of an already built corpus, with the engine's own step
    timings (wall) and the CPU time of the whole build (this process; a one-page build has no
    workers)."""
    os.environ.setdefault("ZHUANTI_QUIET", "1")
    from builder.build import BuildOptions, build_site

    if not (root / "public" / ".zhuanti" / "manifest.json").is_file():
        print("  (first build, untimed)", flush=True)
        build_site(root, BuildOptions())
    target = sorted((root / "topics/bench").glob("topic-01/page-*.md"))[0]
    original = target.read_text(encoding="utf-8")
    for r in range(repeat):
        for name in ("no-op", "one edit"):
            if name == "one edit":
                target.write_text(original + f"\n补充说明{r}。\n", encoding="utf-8")
            try:
                t0, c0 = time.perf_counter(), time.process_time()
                report = build_site(root, BuildOptions())
                total, cpu = time.perf_counter() - t0, time.process_time() - c0
            finally:
                target.write_text(original, encoding="utf-8")
            steps = " ".join(f"{k} {v * 1000:.0f}" for k, v in report.timings.items())
            how = ("nothing to do" if "load" not in report.timings else
                   "site patched" if report.patched is not None else "site loaded whole")
            print(f"  {name:<9} {total:6.2f} s wall, {cpu:5.2f} s CPU ({report.pages_written} written, {how}; "
                  f"ms: {steps}; {load_text()})", flush=True)
        build_site(root, BuildOptions())  # back in step with the sources (untimed)


def html_pages(public: Path) -> int:
    return sum(1 for _ in public.rglob("*.html"))


def machine() -> dict:
    return {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, nargs="+", default=[10000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=None, help="zhuanti --jobs (default: its own choice)")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="where generated corpora are cached")
    ap.add_argument("--steps", action="store_true",
                    help="in-process no-op and one-edit builds with the engine's step timings")
    args = ap.parse_args()
    if args.steps:
        for pages in args.pages:
            root = make_corpus(pages, args.corpus / f"zhuanti-{pages}").resolve()
            print(f"{pages} pages, engine steps ({os.cpu_count()} cores, {load_text()}): {root}", flush=True)
            engine_steps(root, max(1, args.repeat))
        return
    if not ZHUANTI.is_file():
        sys.exit(f"{ZHUANTI} not found: run `make bench` (it installs zhuanti into .venv)")
    started = load_text()
    print(f"zhuanti benchmark ({os.cpu_count()} cores, {started})", flush=True)
    rows = []
    for pages in args.pages:
        root = make_corpus(pages, args.corpus / f"zhuanti-{pages}").resolve()
        write_dictionary(root)
        logs = args.corpus / "logs" / f"zhuanti-{pages}"
        logs.mkdir(parents=True, exist_ok=True)
        print(f"{pages} pages: {root}", flush=True)
        with Trash(args.corpus) as trash:
            runs = zhuanti_runs(root, max(1, args.repeat), args.jobs, logs, trash)
        steps = {name: summarize(samples) for name, samples in runs.items()}
        out = html_pages(root / "public")
        rows.append((pages, out, steps))
        path = save(f"zhuanti-{pages}", {
            "tool": "zhuanti", "pages": pages, "html_files": out, "jobs": args.jobs, "repeat": args.repeat,
            "load_start": started, "load_end": load_text(), "machine": machine(),
            "summary_lines": {k: v[-1].last_line for k, v in runs.items()}, "steps": steps})
        print(f"  → {path.relative_to(HERE.parent)}", flush=True)
    print(f"\nzhuanti, medians of {args.repeat} (min–max), peak = process tree RSS; "
          f"{os.cpu_count()} cores; {started} at start, {load_text()} at end")
    print(f"{'corpus / step':<30} {'median s':>8} {'min–max s':^15} {'CPU s':>7} {'peak MB':>8}  per page")
    for pages, out, steps in rows:
        for name, s in steps.items():
            per = f"{s['median_s'] / out * 1000:.2f} ms/page ({out} html files)" if name in ("cold", "check") else ""
            print(fmt_row(f"{pages} pages, {name}", s, per))
    if len(rows) > 1:
        first_pages, _, first = rows[0]
        print("\nscaling against the smallest corpus (time and memory per page; 1.00 = linear):")
        for pages, _, steps in rows[1:]:
            k = pages / first_pages
            t = steps["cold"]["median_s"] / first["cold"]["median_s"] / k
            m = (steps["cold"]["peak_mb"] / first["cold"]["peak_mb"] / k) if steps["cold"]["peak_mb"] else float("nan")
            c = steps["cold"]["cpu_median_s"] / max(first["cold"]["cpu_median_s"], 1e-9) / k
            print(f"  {pages} pages: cold wall time ×{t:.2f}, CPU time ×{c:.2f}, peak memory ×{m:.2f} per page")


if __name__ == "__main__":
    main()
