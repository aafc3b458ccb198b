"""Preview check speed (moved out of tests/test_checks_preview.py: tests never assert on time):
``fast_findings`` on a realistic 150-paragraph page with a 20,000-word sensitive list, ms per page.

    .venv/bin/python bench/checks_preview.py [--runs 20]

Prints one line; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from builder.checks.preview import fast_findings  # noqa: E402
from builder.checks.words import WordMatcher  # noqa: E402
from builder.config import IdentityConfig, SiteConfig  # noqa: E402

FOOTER = ("<footer><p>主办单位：测试市规划和自然资源委员会</p><p>网站标识码：1100000088</p>"
          "<p>京ICP备12345678号</p><p>京公网安备 11000000000000号</p></footer>")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        words = root / "words"
        words.mkdir()
        (words / "sensitive.txt").write_text("\n".join(f"测试敏感词{i:05d}" for i in range(20_000)), encoding="utf-8")
        matcher = WordMatcher.from_dir(words)
        out = root / "out"
        out.mkdir()
        site = SiteConfig(base_url="https://www.example.gov.cn/zhuanti/", root=root,
                          identity=IdentityConfig(site_code="1100000088", icp="京ICP备12345678号",
                                                  police_record="京公网安备 11000000000000号",
                                                  organizer="测试市规划和自然资源委员会"))
        body = "".join(f'<p>第{i}段：各级政府要认真落实<a href="../a/">相关政策</a>，推进测试敏感词00042。</p>\n'
                       for i in range(150))
        html = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>t</title></head><body>'
                f"{body}{FOOTER}</body></html>")
        fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out)  # warm up
        t = time.perf_counter()
        for _ in range(args.runs):
            fast_findings(html, "news/b/index.html", site=site, matcher=matcher, root=out)
        ms = (time.perf_counter() - t) * 1000 / args.runs
    print(f"fast_findings: {len(html) / 1024:.0f} KB page, 20,000 words: {ms:.2f} ms/page ({args.runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
