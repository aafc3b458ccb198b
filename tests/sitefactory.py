"""Small sites in tmp_path for tests: write files from a dict, build, read pages back."""

from __future__ import annotations

import textwrap
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

SITE_TOML = """
title = "测试委员会专题网站"
base_url = "https://www.example.gov.cn/zhuanti/"
language = "zh-CN"

[identity]
site_code = "1100000088"
icp = "京ICP备12345678号"
police_record = "京公网安备 11000000000000号"
organizer = "测试市规划和自然资源委员会"
"""


def write_files(root: Path, files: dict[str, str | bytes], dedent: bool = False) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root`` (text as UTF-8)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n") if dedent else content, encoding="utf-8")
    return root


def write_site(root: Path, files: dict[str, str | bytes], site_toml: str = SITE_TOML) -> Path:
    """Write a site; string values are dedented. ``site_src/site.toml`` defaults to SITE_TOML."""
    return write_files(root, {"site_src/site.toml": site_toml, **files}, dedent=True)


def page(path: Path) -> LexborHTMLParser:
    return LexborHTMLParser(path.read_text(encoding="utf-8"))


def md(title: str, body: str = "正文。", **front) -> str:
    lines = ["---", f"title: {title}"] + [f"{k}: {v}" for k, v in front.items()] + ["---", "", body, ""]
    return "\n".join(lines)


BASIC = {
    "topics/demo/topic.toml": 'title = "示范专题"\nsummary = "示范专题摘要"\ncolumns = ["news", "policy"]\n',
    "topics/demo/index.md": md("示范专题", "导航页。见[新闻](news/_index.md)。"),
    "topics/demo/news/_index.md": md("工作动态", column_type="工作动态", paginate=2),
    "topics/demo/news/a.md": md("甲新闻", "链接到[乙](b.md#小节)。", date="2026-01-03"),
    "topics/demo/news/b.md": md("乙新闻", "## 小节\n\n内容。", date="2026-01-02"),
    "topics/demo/news/c.md": md("丙新闻", date="2026-01-01"),
    "topics/demo/policy/_index.md": md("政策文件", column_type="政策文件"),
    "topics/demo/policy/doc/index.md": md("捆绑页面", "附件：[下载](file.pdf)", date="2025-12-01"),
    "topics/demo/policy/doc/file.pdf": b"%PDF-1.4 test",
}
