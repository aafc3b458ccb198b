"""zhuanti serve benchmark (issue 7): save → the browser shows the change, measured with Debian's
Chromium on the sample site and on the 10,000-page corpus; and the server's memory (RSS) after
0, 100 and 500 edits.

    .venv/bin/python bench/serve.py [--site sample corpus] [--edits 15] [--rss-edits 500]
                                    [--corpus DIR] [--pages 10000]

Each site is copied to a temporary folder (the sample site's photos and videos are generated there
with ``make_sample_media.py --quick``; the corpus is ../shared/bench/gen_corpus.py --flavor zhuanti
unless --corpus names one already generated). ``zhuanti serve --port 0`` runs as a subprocess,
exactly as staff start it. A detail page is opened in Chromium; each edit rewrites its title, and
the latency is from just before the file is written to the first animation frame after the
reloaded page's DOMContentLoaded whose <h1> shows the new title (both on this machine's clock).
The server's own rebuild time comes from its reload message. Memory: a second server on the sample
site, edited through the long-poll channel (a real client), /proc/PID/status VmRSS. Prints a
table with the machine load; nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GEN_CORPUS = REPO.parent.parent / "shared" / "bench" / "gen_corpus.py"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# Records when a page that just loaded is on screen, and what its <h1> says.
SHOWN = """document.addEventListener("DOMContentLoaded", () => requestAnimationFrame(() => {
  const h = document.querySelector("h1");
  window.__zt = {title: h ? h.textContent : "", at: Date.now()};
}));"""


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def prepare_sample(work: Path) -> Path:
    root = work / "sample"
    for name in ("site_src", "topics", "themes"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns(".zhuanti-cache", "public"))
    subprocess.run([sys.executable, str(REPO / "site_src/tools/make_sample_media.py"), "--root", str(root),
                    "--quick"], check=True, stdout=subprocess.DEVNULL)
    return root


def prepare_new_site(work: Path) -> Path:
    """A site as staff start one: ``zhuanti init`` and ``zhuanti new topic`` (small: memory runs fast)."""
    root = work / "new"
    for argv in (["init", str(root)], ["--root", str(root), "new", "topic", "zhuyou", "--title", "住有所居"]):
        subprocess.run([sys.executable, "-m", "builder.cli", *argv], check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return root


def prepare_corpus(work: Path, pages: int, given: str | None) -> Path:
    if given:
        source = Path(given)
    else:
        source = work / "corpus-src"
        gen = GEN_CORPUS if GEN_CORPUS.exists() else Path(os.environ.get("ZHUANTI_GEN_CORPUS", ""))
        subprocess.run([sys.executable, str(gen), "--pages", str(pages), "--out", str(source), "--flavor", "zhuanti"],
                       check=True, stdout=subprocess.DEVNULL)
    root = work / "corpus"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".zhuanti-cache", "public"))
    return root


class Server:
    """``zhuanti serve --port 0`` as a subprocess; ``url`` once it is ready."""

    def __init__(self, root: Path) -> None:
        env = {**os.environ, "ZHUANTI_QUIET": "1"}
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "builder.cli", "--root", str(root), "serve", "--port", "0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        self.lines: list[str] = []
        ready = threading.Event()

        def read() -> None:
            for line in self.proc.stderr:
                self.lines.append(line)
                if "127.0.0.1:" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(1800) or self.proc.poll() is not None:
            raise SystemExit("serve did not start:\n" + "".join(self.lines))
        self.startup = time.perf_counter() - t0
        line = next(x for x in self.lines if "127.0.0.1:" in x)
        self.port = int(re.search(r"127\.0\.0\.1:(\d+)/", line).group(1))
        self.url = f"http://127.0.0.1:{self.port}/"

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def poll(self, since: int, hello: bool = False) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        conn.request("GET", f"/_zhuanti/poll?since={since}" + ("&hello=1" if hello else ""))
        data = json.loads(conn.getresponse().read())
        conn.close()
        return data

    def stop(self) -> None:
        self.proc.send_signal(2)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def detail_page(root: Path) -> tuple[Path, str]:
    """A detail page's source and its URL, from the preview's manifest."""
    manifest = json.loads((root / ".zhuanti-cache/preview/.zhuanti/manifest.json").read_text(encoding="utf-8"))
    pages = sorted((p for p in manifest["pages"] if p["kind"] == "detail" and p["source"].endswith(".md")
                    and "#" not in p["source"]), key=lambda p: p["path"])
    page = pages[len(pages) // 2]
    return root / page["source"], page["path"][: -len("index.html")]


def retitle(path: Path, title: str) -> None:
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(r"(?m)^title:.*$", f"title: {title}", text, count=1)
    path.write_text(new if n else f"---\ntitle: {title}\n---\n" + text, encoding="utf-8")


def save_to_screen(root: Path, edits: int) -> dict:
    from playwright.sync_api import sync_playwright

    server = Server(root)
    latencies, rebuilds = [], []
    try:
        source, url = detail_page(root)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(locale="zh-CN")
            context.add_init_script(SHOWN)
            tab = context.new_page()
            tab.goto(server.url + url)
            tab.wait_for_selector("html[data-zhuanti-channel]", state="attached", timeout=60_000)
            since = server.poll(0, hello=True)["hello"]["version"]
            for i in range(edits):
                title = f"基准修改{i:03d}"
                time.sleep(0.3)  # between edits: not measured
                t0 = time.time()
                retitle(source, title)
                tab.wait_for_function("t => window.__zt && window.__zt.title.includes(t)", arg=title,
                                      timeout=600_000)
                latencies.append(tab.evaluate("window.__zt.at") - t0 * 1000)
                message = server.poll(since)["message"] or {}
                since = message.get("version", since)
                rebuilds.append(message.get("seconds", float("nan")) * 1000)
            browser.close()
    finally:
        server.stop()
    return {"startup": server.startup, "latencies": latencies, "rebuilds": rebuilds, "page": url}


def memory(root: Path, edits: int, marks: tuple[int, ...]) -> dict[int, int]:
    server = Server(root)
    rss = {0: server.rss_kib()}
    print(f"RSS after 0 edits: {rss[0] / 1024:.1f} MiB ({load()})", flush=True)
    try:
        source, _ = detail_page(root)
        since = server.poll(0, hello=True)["hello"]["version"]
        for i in range(1, edits + 1):
            retitle(source, f"内存测试{i}")
            while True:  # wait for the rebuild of this edit (a real long-poll client)
                message = server.poll(since)["message"]
                if message:
                    since = message["version"]
                    break
            if i in marks:
                rss[i] = server.rss_kib()
                print(f"RSS after {i} edits: {rss[i] / 1024:.1f} MiB ({load()})", flush=True)
    finally:
        server.stop()
    return rss


def summary(name: str, result: dict) -> str:
    lat, reb = result["latencies"], result["rebuilds"]
    serve = [a - b for a, b in zip(lat, reb, strict=True)]  # watching, telling, reloading, marking
    return (f"| {name} | {len(lat)} | {statistics.median(lat):.0f} | {max(lat):.0f} | {min(lat):.0f} | "
            f"{statistics.median(reb):.0f} | {statistics.median(serve):.0f} | {result['startup']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", nargs="*", choices=["sample", "corpus"], default=["sample", "corpus"],
                        help="where to measure save → browser (none: memory only)")
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--rss-edits", type=int, default=500)
    parser.add_argument("--rss-site", choices=["new", "sample"], default="new",
                        help="memory run on a new site (zhuanti init + new topic; default) or the sample site")
    parser.add_argument("--corpus", help="an already generated corpus folder (copied, never changed)")
    parser.add_argument("--pages", type=int, default=10_000)
    args = parser.parse_args()
    print(load())
    header = ("| site | edits | save → browser median ms | max | min | rebuild (engine) median ms | "
              "serve's own part median ms | first build + start s |\n|---|---|---|---|---|---|---|---|")
    rows = []
    with tempfile.TemporaryDirectory(prefix="zhuanti-bench-serve-") as tmp:
        work = Path(tmp)
        if "sample" in args.site:
            rows.append(summary("sample site", save_to_screen(prepare_sample(work), args.edits)))
            print(header, rows[-1], load(), sep="\n", flush=True)
        if "corpus" in args.site:
            corpus = prepare_corpus(work, args.pages, args.corpus)
            rows.append(summary(f"corpus ({args.pages:,} pages)", save_to_screen(corpus, args.edits)))
            print(header, rows[-1], load(), sep="\n", flush=True)
        rss = {}
        if args.rss_edits:
            marks = tuple(m for m in (50, 100, 250, 500, args.rss_edits) if m <= args.rss_edits)
            site = prepare_sample(work) if args.rss_site == "sample" else prepare_new_site(work)
            rss = memory(site, args.rss_edits, marks)
            print(load())
    print()
    if rows:
        print(header)
    for row in rows:
        print(row)
    if rss:
        print()
        print("| edits | " + " | ".join(str(k) for k in rss) + " |")
        print("|---|" + "---|" * len(rss))
        print("| RSS MiB | " + " | ".join(f"{v / 1024:.1f}" for v in rss.values()) + " |")


if __name__ == "__main__":
    main()
