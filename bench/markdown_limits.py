"""Pathological Markdown (issue 9, item 8): how long Python-Markdown takes on each shape, with and
without zhuanti's guard (``builder.render.markdown.guard``), one fresh renderer per case.

    .venv/bin/python bench/markdown_limits.py [--raw] [--timeout 120]

``--raw`` parses without the guard (the "before" figures; the largest cases take minutes or end in
RecursionError). Each case runs in a child process so a runaway parse is stopped at --timeout.
Prints a table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

CASES = {
    "20 KB line of '['": "[" * 20_000,
    "1,000 '[' in a paragraph": "[" * 1_000,
    "2,000 '[' in a paragraph": "[" * 2_000,
    "4 KB *…*x*…*": "*" * 2_000 + "x" + "*" * 2_000,
    "1,000-level nested list": "".join("    " * i + "- a\n" for i in range(1_000)),
    "50-level nested list": "".join("    " * i + "- a\n" for i in range(50)),
    "2,000-row table of links": "| a | b |\n|---|---|\n" + "| [x](https://a.gov.cn/) | [z](https://b.gov.cn/) |\n" * 2_000,
}


def _run(text: str, raw: bool, out) -> None:
    from builder.errors import ContentError
    from builder.render import markdown

    renderer = markdown.MarkdownRenderer()
    if raw:
        markdown.guard = lambda *a, **k: None  # the parse as it was before the guard
    t0 = time.perf_counter()
    try:
        renderer.render(text, None)
        result = "parsed"
    except ContentError as exc:
        result = "refused: " + exc.message
    except RecursionError:
        result = "RecursionError"
    out.send((result, time.perf_counter() - t0))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    print(f"{'case':32} {'seconds':>8}  result")
    for name, text in CASES.items():
        parent, child = multiprocessing.Pipe()
        proc = multiprocessing.Process(target=_run, args=(text, args.raw, child))
        proc.start()
        proc.join(args.timeout)
        if proc.is_alive():
            proc.terminate()
            print(f"{name:32} {'>' + str(int(args.timeout)):>8}  stopped")
            continue
        result, seconds = parent.recv() if parent.poll() else ("crashed", 0.0)
        print(f"{name:32} {seconds:8.2f}  {result[:70]}")


if __name__ == "__main__":
    main()
