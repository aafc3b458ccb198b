"""Property: after any sequence of edits, an incremental build equals a clean build, byte for byte.

Seeded random edit sequences over a small site that has every kind of input: pages (titles, dates,
drafts, weights, bodies with links to pages, drafts and files), added, deleted and renamed pages
and columns, topic.toml, site.toml, a local theme's templates, a topic's own templates/detail.html
listing ``column.pages``, data rows (inserted, swapped, edited), a photo's sidecar, assets replaced
with ``cp -p`` semantics, publish_at / expire_at around a moving "now". After every step the whole
output tree (manifest included, built_at pinned by SOURCE_DATE_EPOCH) must equal a clean build's.

ZHUANTI_PROPERTY_STEPS=200 runs longer sequences.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from builder import engine_sources
from builder.build import BuildOptions, Engine, build_site
from builder.clock import get_zone
from tests.engine_support import clean_reference, diff, outcome, tree
from tests.sitefactory import write_files

STEPS = int(os.environ.get("ZHUANTI_PROPERTY_STEPS", "12"))
START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=get_zone("Asia/Shanghai"))

SITE_TOML = """title = "{title}"
base_url = "https://www.example.gov.cn/zhuanti/"
language = "zh-CN"
theme = "local"

[identity]
site_code = "1100000088"
icp = "京ICP备00000000号"
police_record = "京公网安备 11000000000000号"
organizer = "{organizer}"

[build]
source_link_errors = "warning"
paginate = 3

[media]
image_widths = [64]
"""

LIST_TEMPLATE = """<ul class="item-list">
{% for item in items %}
  <li><a href="{{ url(item.url) }}">{{ item.title }}</a>{% if item.archived %}<span>已归档</span>{% endif %}
  {% if item.date %}<time>{{ item.date | day }}</time>{% endif %}{MARK}</li>
{% endfor %}
</ul>
"""

RELATED_TEMPLATE = """{% extends "base.html" %}
{% block content %}
<h1>{{ page.title }}</h1>{% if archived %}<span>已归档</span>{% endif %}
<div class="prose">{{ content }}</div>
<aside>{MARK}<ul>{% for p in column.pages if column %}<li><a href="{{ url(p.url) }}">{{ p.title }}</a>
{{ p.weight }}</li>{% endfor %}</ul></aside>
{% include "partials/prevnext.html" %}
{% endblock %}
"""


def png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), color).save(buf, "PNG")
    return buf.getvalue()


def md(title: str, body: str = "正文。", **front) -> str:
    lines = ["---", f"title: {title}"] + [f"{k}: {v}" for k, v in front.items()] + ["---", "", body, ""]
    return "\n".join(lines)


def initial_site() -> dict[str, str | bytes]:
    return {
        "site_src/site.toml": SITE_TOML.format(title="测试网站", organizer="测试委员会"),
        "site_src/index.md": md("首页", "欢迎。"),
        "site_src/about.md": md("关于本站", "关于。"),
        "themes/local/templates/partials/list.html": LIST_TEMPLATE.replace("{MARK}", ""),
        "themes/local/static/css/zhuanti.css": "body{color:#000}",
        "topics/demo/topic.toml": 'title = "示范专题"\nsummary = "摘要"\ncolumns = ["news", "policy"]\n',
        "topics/demo/index.md": md("示范专题", "导航页。"),
        "topics/demo/news/_index.md": md("工作动态", column_type="工作动态", paginate=2),
        "topics/demo/news/a.md": md("甲新闻", "链接到[乙](b.md)。", date="2026-01-03"),
        "topics/demo/news/b.md": md("乙新闻", "## 小节\n\n内容。", date="2026-01-02"),
        "topics/demo/news/c.md": md("丙新闻", "见[文件](../files/a.pdf)。", date="2026-01-01"),
        "topics/demo/policy/_index.md": md("政策文件", column_type="政策文件"),
        "topics/demo/policy/doc/index.md": md("捆绑页面", "附件：[下载](file.pdf)", date="2025-12-01"),
        "topics/demo/policy/doc/file.pdf": b"%PDF-1.4 test",
        "topics/demo/data/_index.md": md("许可", data="r.csv", slug_field="id", title_field="name",
                                         column_type="行政许可"),
        "topics/demo/data/r.csv": "id,name,note\n1,甲许可,a\n2,乙许可,b\n3,丙许可,c\n",
        "topics/demo/images/p.png": png((200, 30, 30)),
        "topics/demo/images/p.png.yaml": "title: 照片\ntags: [开幕]\n",
        "topics/other/index.md": md("另一个专题", "另一个。"),
        "topics/other/col/_index.md": md("栏目"),
        "topics/other/col/x.md": md("其他页", "链接[甲](../../demo/news/a.md)。", date="2026-01-05"),
    }


class Editor:
    """Random edits to a site on disk (each returns a short description for the failure message)."""

    def __init__(self, root: Path, rnd: random.Random) -> None:
        self.root = root
        self.rnd = rnd
        self.now = START
        self.counter = 0

    # ---- helpers -----------------------------------------------------------------------
    def pages(self, details_only: bool = False) -> list[Path]:
        out = []
        for p in sorted((self.root / "topics").rglob("*.md")):
            if "templates" in p.parts:
                continue
            if details_only and p.name in ("_index.md",) or details_only and p.parent.name in ("demo", "other") \
                    and p.name == "index.md":
                continue
            out.append(p)
        if not details_only:
            out += sorted((self.root / "site_src").glob("*.md"))
        return out

    def columns(self) -> list[Path]:
        return sorted(p.parent for p in (self.root / "topics").rglob("_index.md") if "templates" not in p.parts)

    def set_front(self, path: Path, key: str, value: str | None) -> None:
        text = path.read_text(encoding="utf-8")
        head, _, rest = text.partition("\n---\n")
        lines = [line for line in head.split("\n")[1:] if not line.startswith(f"{key}:")]
        if value is not None:
            lines.append(f"{key}: {value}")
        path.write_text("---\n" + "\n".join(lines) + "\n---\n" + rest, encoding="utf-8")

    def set_body(self, path: Path, body: str) -> None:
        text = path.read_text(encoding="utf-8")
        head, _, _ = text.partition("\n---\n")
        path.write_text(head + "\n---\n\n" + body + "\n", encoding="utf-8")

    def when(self) -> str:
        t = self.now + dt.timedelta(hours=self.rnd.choice([-30, -2, 3, 20, 50]))
        return t.strftime("%Y-%m-%d %H:%M")

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def rel(self, page: Path, target: Path) -> str:
        return os.path.relpath(target, page.parent).replace(os.sep, "/")

    # ---- edits -------------------------------------------------------------------------
    def title(self):
        p = self.rnd.choice(self.pages())
        self.set_front(p, "title", self.rnd.choice(["甲", "乙", "新标题", "改过的标题", self.fresh("标题")]))
        return f"title {p.relative_to(self.root)}"

    def date(self):
        p = self.rnd.choice(self.pages(True))
        self.set_front(p, "date", self.rnd.choice(["2026-01-01", "2026-01-04", "2025-11-30", "2026-02-10"]))
        return f"date {p.relative_to(self.root)}"

    def draft(self):
        p = self.rnd.choice(self.pages(True))
        self.set_front(p, "draft", self.rnd.choice(["true", None]))
        return f"draft {p.relative_to(self.root)}"

    def weight(self):
        p = self.rnd.choice(self.pages(True))
        self.set_front(p, "weight", self.rnd.choice(["1", "2", None]))
        return f"weight {p.relative_to(self.root)}"

    def schedule(self):
        p = self.rnd.choice(self.pages(True) + [self.root / "topics/demo/index.md"])
        if not p.exists():
            return "schedule (none)"
        key = self.rnd.choice(["publish_at", "expire_at"])
        self.set_front(p, key, self.rnd.choice([self.when(), None]))
        return f"{key} {p.relative_to(self.root)}"

    def time_passes(self):
        self.now += dt.timedelta(hours=self.rnd.choice([1, 5, 26]))
        return f"now = {self.now}"

    def body(self):
        p = self.rnd.choice(self.pages())
        choices = ["新的正文。", "## 标题\n\n段落。"]
        others = self.pages(True)
        if others:
            choices.append(f"见[另一页]({self.rel(p, self.rnd.choice(others))})。")
        choices.append(f"见[文件]({self.rel(p, self.root / 'topics/demo/files/a.pdf')})。")
        choices.append(f"![照片]({self.rel(p, self.root / 'topics/demo/images/p.png')})")
        self.set_body(p, self.rnd.choice(choices))
        return f"body {p.relative_to(self.root)}"

    def add_page(self):
        col = self.rnd.choice(self.columns())
        if (col / "_index.md").read_text(encoding="utf-8").find("data:") >= 0:
            return "add (data column)"
        name = self.fresh("new")
        (col / f"{name}.md").write_text(md(f"新页{name}", "新内容。", date=self.rnd.choice(["2026-01-02", "2026-02-01"])),
                                        encoding="utf-8")
        return f"add {col.relative_to(self.root)}/{name}.md"

    def delete_page(self):
        pages = [p for p in self.pages(True) if p.name != "index.md"]
        if not pages:
            return "delete (none)"
        p = self.rnd.choice(pages)
        p.unlink()
        return f"delete {p.relative_to(self.root)}"

    def rename_page(self):
        pages = [p for p in self.pages(True) if p.name != "index.md"]
        if not pages:
            return "rename (none)"
        p = self.rnd.choice(pages)
        target = p.with_name(self.fresh("renamed") + ".md")
        p.rename(target)
        return f"rename {p.relative_to(self.root)} → {target.name}"

    def rename_column(self):
        col = self.rnd.choice(self.columns())
        target = col.with_name(self.fresh("col"))
        col.rename(target)
        return f"rename column {col.relative_to(self.root)} → {target.name}"

    def add_or_delete_column(self):
        cols = [c for c in self.columns() if c.name not in ("data",)]
        if len(cols) > 2 and self.rnd.random() < 0.5:
            col = self.rnd.choice(cols)
            shutil.rmtree(col)
            return f"delete column {col.relative_to(self.root)}"
        topic = self.rnd.choice(["demo", "other"])
        name = self.fresh("lanmu")
        write_files(self.root, {f"topics/{topic}/{name}/_index.md": md(f"栏目{name}"),
                                f"topics/{topic}/{name}/one.md": md("一篇", date="2026-01-07")})
        return f"add column topics/{topic}/{name}"

    def topic_toml(self):
        title = self.rnd.choice(["示范专题", "改名的专题"])
        order = self.rnd.choice(['["news", "policy"]', '["policy", "news"]', "[]"])
        (self.root / "topics/demo/topic.toml").write_text(
            f'title = "{title}"\nsummary = "{self.fresh("摘要")}"\ncolumns = {order}\n', encoding="utf-8")
        return "topic.toml"

    def site_toml(self):
        (self.root / "site_src/site.toml").write_text(SITE_TOML.format(
            title=self.rnd.choice(["测试网站", "改名网站"]), organizer=self.rnd.choice(["测试委员会", "另一委员会"])),
            encoding="utf-8")
        return "site.toml"

    def theme_template(self):
        mark = self.rnd.choice(["", "<i>新</i>", self.fresh("<b>")])
        path = self.root / "themes/local/templates/partials/list.html"
        path.write_text(LIST_TEMPLATE.replace("{MARK}", mark), encoding="utf-8")
        footer = self.root / "themes/local/templates/partials/footer.html"
        if self.rnd.random() < 0.3:
            if footer.exists():
                footer.unlink()
            else:
                footer.write_text("<footer>{{ site.title }} {% for p in site_pages %}{{ p.title }}{% endfor %}</footer>",
                                  encoding="utf-8")
        return "theme template"

    def topic_template(self):
        path = self.root / "topics/demo/templates/detail.html"
        if path.exists() and self.rnd.random() < 0.3:
            path.unlink()
            return "remove topic template"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RELATED_TEMPLATE.replace("{MARK}", self.rnd.choice(["相关文章", "延伸阅读"])), encoding="utf-8")
        return "topic template (lists column.pages)"

    def data_rows(self):
        csvs = sorted((self.root / "topics").rglob("r.csv"))
        if not csvs:
            return "data (none)"
        path = csvs[0]
        header, *rows = path.read_text(encoding="utf-8").strip("\n").split("\n")
        op = self.rnd.choice(["insert", "swap", "edit", "delete"])
        if op == "insert":
            n = self.fresh("")
            rows.insert(self.rnd.randint(0, len(rows)), f"{n}0,新许可{n},x")
        elif op == "swap" and len(rows) > 1:
            i, j = self.rnd.sample(range(len(rows)), 2)
            rows[i], rows[j] = rows[j], rows[i]
        elif op == "edit" and rows:
            i = self.rnd.randrange(len(rows))
            rows[i] = re.sub(r",[^,]*$", "," + self.fresh("备注"), rows[i])
        elif op == "delete" and len(rows) > 1:
            rows.pop(self.rnd.randrange(len(rows)))
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return f"data {op}"

    def sidecar(self):
        path = self.root / "topics/demo/images/p.png.yaml"
        path.write_text(f"title: {self.rnd.choice(['照片', '新照片'])}\ntags: [{self.rnd.choice(['开幕', '闭幕'])}]\n",
                        encoding="utf-8")
        return "sidecar"

    def asset(self):
        path = self.root / "topics/demo/files/a.pdf"
        if path.exists() and self.rnd.random() < 0.3:
            path.unlink()
            return "delete files/a.pdf"
        if path.exists():
            # cp -p: other content of the same size, same mtime
            st = path.stat()
            data = path.read_bytes()
            path.write_bytes(bytes(reversed(data)) if data != bytes(reversed(data)) else data.upper())
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
            return "replace files/a.pdf (same size, same mtime)"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 " + self.fresh("a").encode())
        return "add files/a.pdf"

    EDITS = ("title", "date", "draft", "weight", "schedule", "time_passes", "body", "add_page", "delete_page",
             "rename_page", "rename_column", "add_or_delete_column", "topic_toml", "site_toml", "theme_template",
             "topic_template", "data_rows", "sidecar", "asset")


def run_sequence(tmp_path: Path, seed: int, long_lived: bool) -> None:
    root = tmp_path / "site"
    write_files(root, initial_site())
    rnd = random.Random(seed)
    editor = Editor(root, rnd)
    engine = Engine(root, BuildOptions(now=editor.now)) if long_lived else None

    def incremental():
        if engine is not None:
            engine.options.now = editor.now
            return engine.build()
        return build_site(root, BuildOptions(now=editor.now))

    log: list[str] = []
    try:
        for step in range(STEPS):
            edits = rnd.sample(Editor.EDITS, rnd.choice([1, 1, 2, 3]))
            log.extend(f"{step}: {getattr(editor, e)()}" for e in edits)
            status, result = outcome(incremental, root)
            if engine is not None and status == "failed":
                pass  # the engine stays usable after a failed build
            ref_status, ref_result, ref_tree = clean_reference(root, tmp_path / "ref", now=editor.now)
            assert status == ref_status, (log, result, ref_result)
            if status == "failed":
                assert result == [r.replace("/ref", "/site") for r in ref_result] or len(result) == len(ref_result), \
                    (log, result, ref_result)
                continue
            got = tree(root / "public")
            assert got == ref_tree, (log, diff(got, ref_tree))
    finally:
        if engine is not None:
            engine.close()


@pytest.fixture(autouse=True)
def pinned_manifest_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")


@pytest.mark.parametrize("seed", [1, 2])
def test_long_lived_engine_equals_clean_build(tmp_path, seed):
    run_sequence(tmp_path, seed, long_lived=True)


@pytest.mark.parametrize("seed", [3])
def test_fresh_build_per_edit_equals_clean_build(tmp_path, seed, monkeypatch):
    # Trust file signatures at once (no racy window), as builds minutes apart do.
    monkeypatch.setattr(engine_sources, "RACY_NS", 0)
    run_sequence(tmp_path, seed, long_lived=False)
