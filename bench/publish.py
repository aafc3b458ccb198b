"""Publish benchmark (issue 8): the 10,000-page corpus to every target type on 127.0.0.1 — first
publish (files/s), then a republish after editing one page (files sent, seconds) — and rsync over
OpenSSH against paramiko's SFTP for the ssh target.

    .venv/bin/python bench/publish.py [--pages 10000] [--out bench/out] [--targets dir ssh-rsync ssh-sftp s3]
                                      [--gen bench/gen_corpus.py] [--corpus PATH]

The corpus is bench/run.py's (bench/gen_corpus.py --flavor zhuanti, built with builder.build),
or ``--corpus PATH``: a corpus folder already generated (a copy: the bench builds and edits it). Its pages hold deliberately broken links, so its check fails: every publish here
runs with --force (which the release records). The servers are the tests' own: OpenSSH's sshd and
``rclone serve s3`` started on 127.0.0.1 (tests/publish_helpers.py). Prints a table and the load;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def load_run_module():
    """bench/run.py as a module (its make_corpus is shared, not copied)."""
    spec = importlib.util.spec_from_file_location("bench_run", HERE / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu() -> float:
    """CPU seconds of this process and its finished children (rsync, ssh, cp)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def publish(root: Path, target: str) -> tuple[float, float, int, str]:
    """Seconds, CPU seconds (client side), files sent and the summary of ``zhuanti publish TARGET --force``."""
    from builder.cli import main

    err = io.StringIO()
    t0, c0 = time.perf_counter(), cpu()
    with contextlib.redirect_stderr(err):
        rc = main(["--root", str(root), "--lang", "en", "publish", target, "--force", "--allow-deletes"])
    seconds, cpu_seconds = time.perf_counter() - t0, cpu() - c0
    text = err.getvalue()
    if rc != 0:
        sys.exit(f"publish {target} failed ({rc}):\n{text}")
    m = re.search(r"sent (\d+) files", text)
    return seconds, cpu_seconds, int(m.group(1)) if m else 0, text.strip().splitlines()[-1]


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--targets", nargs="+", default=["dir", "ssh-rsync", "ssh-sftp", "s3"])
    ap.add_argument("--gen", type=Path, help="gen_corpus.py (default: bench/run.py's, bench/gen_corpus.py)")
    ap.add_argument("--corpus", type=Path, help="a generated corpus folder to use (and build) instead")
    args = ap.parse_args()
    os.environ["ZHUANTI_QUIET"] = "1"
    import pytest

    from builder.build import BuildOptions, build_site
    from tests import publish_helpers as servers

    run = load_run_module()
    if args.gen:
        run.GEN = args.gen
    root = (args.corpus or run.make_corpus(args.pages, args.out / f"corpus-{args.pages}")).resolve()
    t0 = time.perf_counter()
    build_site(root, BuildOptions())
    print(f"build (incremental, may be a no-op): {time.perf_counter() - t0:.1f} s; {load()}")
    site_toml = root / "site_src/site.toml"
    original_toml = site_toml.read_text(encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="zhuanti-bench-publish-"))
    mp = pytest.MonkeyPatch()
    started = []
    try:
        tables = []
        if any(t.startswith("ssh") for t in args.targets):
            sshd = servers.start_sshd(work, mp)
            started.append(sshd)
            for transfer in ("rsync", "sftp"):
                tables.append(f'[publish.ssh-{transfer}]\ntype = "ssh"\nhost = "127.0.0.1"\nport = {sshd.port}\n'
                              f'user = "root"\npath = "{work}/ssh-{transfer}"\nidentity_file = "{sshd.client_key}"\n'
                              f'transfer = "{transfer}"\n')
        if "s3" in args.targets:
            s3 = servers.start_rclone(work, mp)
            started.append(s3)
            tables.append(f'[publish.s3]\ntype = "s3"\nendpoint = "{s3.endpoint}"\nbucket = "topics"\n')
        tables.append(f'[publish.dir]\ntype = "dir"\npath = "{work}/dir"\n')
        site_toml.write_text(original_toml + "\n" + "\n".join(tables), encoding="utf-8")
        files = len(json.loads((root / "public/.zhuanti/manifest.json").read_text(encoding="utf-8"))["files"])

        rows = []
        for target in args.targets:
            seconds, cpu_s, sent, _ = publish(root, target)
            rows.append((target, "first publish", sent, seconds, cpu_s, sent / seconds if seconds else 0, load()))
            print(rows[-1], flush=True)

        page = sorted((root / "topics/bench").glob("topic-01/page-*.md"))[0]
        text = page.read_text(encoding="utf-8")
        page.write_text(text + f"\n补充说明 {time.time()}。\n", encoding="utf-8")
        try:
            t0 = time.perf_counter()
            report = build_site(root, BuildOptions())
            rebuild = time.perf_counter() - t0
            print(f"rebuild after the edit: {rebuild:.2f} s; written {sorted(report.written)}, removed "
                  f"{sorted(report.removed)}", flush=True)
            for target in args.targets:
                seconds, cpu_s, sent, _ = publish(root, target)
                rows.append((target, "republish, 1 page edited", sent, seconds, cpu_s,
                             sent / seconds if seconds else 0, load()))
                print(rows[-1], flush=True)
        finally:
            page.write_text(text, encoding="utf-8")

        print(f"\ncorpus: {args.pages} pages, {files} files in public/ (+ manifest); rebuild after the edit "
              f"{rebuild:.1f} s\n")
        print("| target | run | files sent | seconds | client CPU s | files/s | load |\n|---|---|---|---|---|---|---|")
        for target, run, sent, seconds, cpu_s, rate, ld in rows:
            print(f"| {target} | {run} | {sent} | {seconds:.2f} | {cpu_s:.2f} | {rate:.0f} | {ld} |")
    finally:
        for server in started:
            server.stop()
        mp.undo()
        site_toml.write_text(original_toml, encoding="utf-8")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
