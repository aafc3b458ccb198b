"""Search benchmark: what a browser fetches for one query on a built site (headless Debian Chromium).

    .venv/bin/python bench/search_query.py PUBLIC_FOLDER [--q "生态环境 基础设施"] [--topic SLUG]

Prints the index size, then each file fetched for the query (index files, and the result pages
whose excerpts are shown) with its size, the totals and the time to the result list. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("public", type=Path)
    ap.add_argument("--q", default="生态环境 基础设施")
    ap.add_argument("--topic", default="")
    args = ap.parse_args()
    from builder.search import INDEX_FOLDER
    from tests.test_theme_browser import DESKTOP, opened, served

    index = args.public / INDEX_FOLDER
    files = [p for p in index.rglob("*") if p.is_file()]
    print(f"index: {sum(p.stat().st_size for p in files) / 1e6:.2f} MB in {len(files)} files; "
          f"load {os.getloadavg()[0]:.2f}")
    with served(args.public) as (browser, base), opened(browser, DESKTOP) as page:
        got: list[tuple[str, int]] = []
        page.on("response", lambda r: got.append((r.url[len(base):], len(r.body())) if r.ok else None))
        query = urlencode({"q": args.q, **({"topic": args.topic} if args.topic else {})})
        t0 = time.perf_counter()
        page.goto(base + "search/?" + query)
        page.wait_for_function("(s => s && s.textContent && !s.textContent.includes('正在'))"
                               "(document.querySelector('[data-search-status]'))", timeout=60000)
        seconds = time.perf_counter() - t0
        page.wait_for_timeout(1500)  # the excerpts' pages
        status = page.inner_text("[data-search-status]")
    in_index = [(u, n) for u, n in got if u.startswith(INDEX_FOLDER + "/")]
    pages = [(u, n) for u, n in got if u.endswith("/") and not u.startswith("search/")]
    for u, n in in_index:
        print(f"  {n:>9,} B  {u}")
    print(f"{status}\nresults in {seconds:.2f} s; index files fetched: {len(in_index)}, "
          f"{sum(n for _, n in in_index):,} B; result pages fetched for excerpts: {len(pages)}, "
          f"{sum(n for _, n in pages):,} B")


if __name__ == "__main__":
    main()
