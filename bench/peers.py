"""zhuanti against its peers on the same corpus: cold builds and link checks, in one table.

    make bench-peers [PAGES=10000] [REPEAT=3]
    .venv/bin/python bench/peers.py [--pages 10000] [--repeat 3] [--tools zhuanti hugo …] [--no-checks]

`make bench-peers` installs the peers first: Debian's hugo, jekyll, ruby-html-proofer and
linkchecker (apt-get, as root), pelican and mkdocs into bench/.peers-venv, @11ty/eleventy into
bench/.peers-node. A peer that is missing is skipped with a line saying how to install it.

bench/gen_corpus.py writes the same Markdown bodies in each tool's layout with a minimal
"wrap the content" template (bench/corpus/<flavor>-<pages>/). Every run is cold: the tool's
output and cache folders are moved aside first (deleted at the end: see ``run.Trash``). Runs
alternate between tools (zhuanti, hugo, …, zhuanti, hugo, …) so a change in the machine's load hits every tool alike. The checkers run on
zhuanti's built output: ``zhuanti check`` (links, anchors, hidden links, 20,000-entry words, site
rules) against htmlproofer (internal links only) and linkchecker (internal links, recursive from
the home page). Medians of wall and CPU time, min–max, the peak memory of the whole process tree
(psutil, sampled every 20 ms) and the ratios zhuanti/peer (below 1: zhuanti is faster). JSON in bench/results/.
"""

from __future__ import annotations

import argparse
import os
import runpy
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
PEERS_VENV = HERE / ".peers-venv" / "bin"
PEERS_NODE = HERE / ".peers-node" / "node_modules" / ".bin"


def _load_run() -> SimpleNamespace:
    """bench/run.py's functions (its corpus, measuring and saving are shared, not copied)."""
    return SimpleNamespace(**runpy.run_path(str(HERE / "run.py")))


run = _load_run()


@dataclass
class Tool:
    name: str
    flavor: str
    command: Callable[[Path], list[str]]
    clean: tuple[str, ...]  # removed before every (cold) run, relative to the corpus
    output: str  # where the HTML lands, relative to the corpus
    exe: Path | str  # what must exist
    install: str  # how to get it
    in_corpus: bool = False  # run with the corpus as the working directory

    def missing(self) -> str | None:
        found = Path(self.exe).is_file() if os.sep in str(self.exe) else shutil.which(str(self.exe))
        return None if found else f"{self.name} not found ({self.exe}): {self.install}"


def build_tools() -> list[Tool]:
    return [
        Tool("zhuanti", "zhuanti", lambda d: [str(run.ZHUANTI), "build", "--root", str(d)],
             ("public", ".zhuanti-cache"), "public", run.ZHUANTI, "make bench"),
        Tool("hugo --minify", "hugo", lambda d: ["hugo", "--minify", "--quiet", "--source", str(d),
                                                  "--destination", str(d / "public"), "--cacheDir", str(d / ".hugo-cache")],
             ("public", "resources", ".hugo-cache"), "public", "hugo", "apt-get install hugo"),
        Tool("eleventy", "eleventy", lambda d: [str(PEERS_NODE / "eleventy"), "--quiet"],
             ("_site",), "_site", PEERS_NODE / "eleventy", "make bench-peers (npm @11ty/eleventy)", in_corpus=True),
        Tool("mkdocs", "mkdocs", lambda d: [str(PEERS_VENV / "mkdocs"), "build", "-q", "-f", str(d / "mkdocs.yml")],
             ("site",), "site", PEERS_VENV / "mkdocs", "make bench-peers (pip mkdocs)"),
        Tool("jekyll", "jekyll", lambda d: ["jekyll", "build", "--quiet", "--disable-disk-cache", "--source", str(d),
                                             "--destination", str(d / "_site")],
             ("_site", ".jekyll-cache"), "_site", "jekyll", "apt-get install jekyll"),
        Tool("pelican", "pelican", lambda d: [str(PEERS_VENV / "pelican"), str(d / "content"), "-s",
                                               str(d / "pelicanconf.py"), "-o", str(d / "output"), "-q"],
             ("output", "cache"), "output", PEERS_VENV / "pelican", "make bench-peers (pip pelican markdown)"),
    ]


def checkers(public: Path, root: Path) -> list[tuple[str, list[str], str]]:
    """(name, command, how to install) of every checker, all on zhuanti's output."""
    return [
        ("zhuanti check", [str(run.ZHUANTI), "check", "--root", str(root)], "make bench"),
        ("htmlproofer (internal)", ["htmlproofer", str(public), "--disable-external", "--checks-to-ignore",
                                    "ImageCheck,ScriptCheck", "--allow-hash-href", "--root-dir", str(public)],
         "apt-get install ruby-html-proofer"),
        ("linkchecker (internal)", ["linkchecker", "--no-status", "--no-warnings",
                                    (public / "index.html").as_uri()], "apt-get install linkchecker"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", nargs="+", help="names to run (default: all found), e.g. zhuanti hugo")
    ap.add_argument("--no-checks", action="store_true", help="builds only")
    ap.add_argument("--corpus", type=Path, default=run.CORPUS)
    args = ap.parse_args()
    env = run.tool_env(ZHUANTI_QUIET="1", ZHUANTI_LANG="en", JEKYLL_ENV="production")
    started = run.load_text()
    print(f"peers, {args.pages} pages ({os.cpu_count()} cores, {started})", flush=True)
    tools = []
    for tool in build_tools():
        if args.tools and tool.name.split()[0] not in args.tools:
            continue
        reason = tool.missing()
        if reason:
            print("skipped: " + reason, flush=True)
            continue
        tools.append((tool, run.make_corpus(args.pages, args.corpus / f"{tool.flavor}-{args.pages}", tool.flavor)
                      .resolve()))
    logs = args.corpus / "logs" / f"peers-{args.pages}"
    logs.mkdir(parents=True, exist_ok=True)
    samples: dict[str, list] = {t.name: [] for t, _ in tools}
    files: dict[str, int] = {}
    trash = run.Trash(args.corpus)
    for r in range(max(1, args.repeat)):
        for tool, root in tools:  # alternating: one run of each tool per round
            trash.clear(root, tool.clean)  # renamed aside, deleted at the end (see run.Trash)
            s = run.measure(tool.command(root), cwd=root if tool.in_corpus else None, env=env,
                            log=logs / f"{tool.flavor}-{r}.log")
            if s.code != 0:
                print(f"  {tool.name} failed (exit {s.code}): {s.last_line} — log {logs}/{tool.flavor}-{r}.log",
                      flush=True)
            samples[tool.name].append(s)
            files[tool.name] = run.html_pages(root / tool.output)
            print(f"  round {r + 1}: {tool.name} {s.seconds:.2f} s, "
                  f"{s.peak_mb or 0:.0f} MB, {files[tool.name]} html files", flush=True)

    trash.empty()
    check_samples: dict[str, list] = {}
    zroot = args.corpus / f"zhuanti-{args.pages}"
    if not args.no_checks and (zroot / "public").is_dir():
        run.write_dictionary(zroot.resolve())
        run.measure([str(run.ZHUANTI), "build", "--root", str(zroot)], env=env)  # current output
        chosen = []
        for name, cmd, install in checkers(zroot.resolve() / "public", zroot.resolve()):
            if shutil.which(cmd[0]) or Path(cmd[0]).is_file():
                chosen.append((name, cmd))
                check_samples[name] = []
            else:
                print(f"skipped: {name} not found: {install}", flush=True)
        for r in range(max(1, args.repeat)):
            for name, cmd in chosen:
                s = run.measure(cmd, env=env, log=logs / f"check-{name.split()[0]}-{r}.log")
                check_samples[name].append(s)
                print(f"  round {r + 1}: {name} {s.seconds:.2f} s (exit {s.code}), {s.peak_mb or 0:.0f} MB",
                      flush=True)

    builds = {name: run.summarize(s) for name, s in samples.items() if s}
    checks = {name: run.summarize(s) for name, s in check_samples.items() if s}
    ended = run.load_text()
    path = run.save(f"peers-{args.pages}", {
        "pages": args.pages, "repeat": args.repeat, "load_start": started, "load_end": ended,
        "machine": run.machine(), "html_files": files, "builds": builds, "checks": checks,
        "versions": versions()})
    print(f"\n{args.pages}-page corpus, medians of {args.repeat} cold runs (min–max); peak = process tree RSS; "
          f"{os.cpu_count()} cores; {started} at start, {ended} at end")
    print(f"{'tool':<30} {'median s':>8} {'min–max s':^15} {'CPU s':>7} {'peak MB':>8}  zhuanti/peer (wall; CPU)")
    for table, ours in ((builds, "zhuanti"), (checks, "zhuanti check")):
        base = table.get(ours)
        for name, s in table.items():
            ratio = (f"{base['median_s'] / s['median_s']:.2f}×; {base['cpu_median_s'] / max(s['cpu_median_s'], 1e-9):.2f}×"
                     if base and name != ours else "")
            print(run.fmt_row(name, s, ratio))
        if table:
            print()
    print(f"→ {path.relative_to(HERE.parent)}")


def versions() -> dict[str, str]:
    """Tool versions for the JSON record (best effort: a tool that cannot say is left out)."""
    import subprocess

    probes = {"hugo": ["hugo", "version"], "jekyll": ["jekyll", "--version"],
              "mkdocs": [str(PEERS_VENV / "mkdocs"), "--version"], "pelican": [str(PEERS_VENV / "pelican"), "--version"],
              "eleventy": [str(PEERS_NODE / "eleventy"), "--version"], "htmlproofer": ["htmlproofer", "--version"],
              "linkchecker": ["linkchecker", "--version"]}
    found = {}
    for name, cmd in probes.items():
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.strip():
            found[name] = out.strip().splitlines()[0]
    return found


if __name__ == "__main__":
    sys.exit(main())
