"""The Markdown engines (``[build] markdown_engine``) render the same pages: link rewriting, media
marking, heading ids, table of contents and footnotes as Python-Markdown does; golden comparison
page by page on the shipped sample site; a bad engine name is a usage error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from builder.build import BuildOptions, build_site
from builder.cli import main
from builder.config import load_site_config
from builder.content.loader import load_site
from builder.errors import ConfigError, ContentError
from builder.render.engines import DEFAULT_ENGINE, ENGINES, make_renderer
from builder.render.markdown import MEDIA_ATTR, LinkContext
from builder.render.pages import PageRenderer
from tests.sitefactory import BASIC, SITE_TOML, md, write_site

REPO = Path(__file__).resolve().parents[1]
FAST = [e for e in ENGINES if e != "python-markdown"]


def canonical(html: str) -> list[str]:
    """Elements with sorted attributes and text with runs of white space made one space; text that
    is only white space (between block elements) dropped. ``text-align: left;`` equals ``…left``."""
    out: list[str] = []

    def walk(node) -> None:
        for child in node.iter(include_text=True):
            if child.tag == "-text":
                text = re.sub(r"\s+", " ", child.text_content or "")
                if text.strip():
                    out.append(text)
            elif child.is_element_node:
                attrs = sorted((k, (v or "").rstrip(";")) for k, v in child.attributes.items())
                out.append(f"<{child.tag} {attrs}>")
                walk(child)
                out.append(f"</{child.tag}>")

    walk(LexborHTMLParser("<body>" + html).body)
    return out


def context(root: Path, body: str, **kw) -> LinkContext:
    source = root / "topics/demo/news/a.md"
    defaults = dict(links={"topics/demo/news/b.md": "demo/news/b/", "topics/demo/index.md": "demo/"},
                    excluded={"topics/demo/news/draft.md"},
                    assets={"topics/demo/news/file.pdf": "demo/news/file.pdf"},
                    media_sources={"topics/demo/news/photo.jpg"})
    defaults.update(kw)
    return LinkContext(root, source, body, 5, "demo/news/a/", **defaults)


def render_all(root: Path, body: str, **kw) -> dict[str, tuple]:
    out = {}
    for engine in ENGINES:
        ctx = context(root, body, **kw)
        html, toc = make_renderer(engine).render(body, ctx)
        out[engine] = (canonical(html), toc, ctx.used_links, ctx.used_media, ctx.warnings,
                       [str(e) for e in ctx.errors])
    return out


FEATURES = """\
## 总体要求 {#yaoqiu}

见[乙新闻](b.md#小节)、[导航](../index.md)、[附件](file.pdf)和[外部](https://www.gov.cn/)。
草稿[不发布](draft.md)。脚注[^law]再引[^law]，另一个[^two]。

![现场照片](photo.jpg)

### 重点 & 任务

| 指标 | 目标 |
|:--|--:|
| 一 | 1 |

#### 第四级

## 总体要求

> 第一段引文。

> 第二段引文。

- 甲
- 乙

```python
print("代码")
```

[TOC]

[^law]: 《城乡规划法》。
[^two]: 第二个脚注，见[乙](b.md)。
"""


def test_every_engine_renders_the_features_like_python_markdown(tmp_path):
    results = render_all(tmp_path, FEATURES)
    reference = results["python-markdown"]
    html = "".join(reference[0])
    # the reference really exercises what the engines must match
    assert 'demo/news/b/' not in html and "../b/#小节" in html  # relative page URL + fragment
    assert MEDIA_ATTR in html and "fn:law" in html and "fnref2:law" in html and "yaoqiu" in html
    assert reference[2] == {"topics/demo/news/b.md": "demo/news/b/", "topics/demo/index.md": "demo/"}
    assert reference[3] == ["topics/demo/news/photo.jpg"]
    assert len(reference[4]) == 1 and "draft.md" in reference[4][0]
    for engine in FAST:
        for a, b, what in zip(reference, results[engine], ("html", "toc", "links", "media", "warnings", "errors"),
                              strict=True):
            assert a == b, f"{engine}: {what} differs"


def test_heading_ids_are_unique_and_unicode(tmp_path):
    body = "## 总体 要求\n\n## 总体 要求\n\n### A & B\n"
    for engine in ENGINES:
        html, toc = make_renderer(engine).render(body, None)
        ids = re.findall(r'id="([^"]+)"', html)
        assert ids == ["总体-要求", "总体-要求_1", "a-b"], engine
        assert '<a href="#a-b">A &amp; B</a>' in toc, engine


def test_a_missing_source_fails_with_the_same_message_and_line(tmp_path):
    body = "第一行。\n\n见[缺失](nope.md)。\n"
    results = render_all(tmp_path, body)
    errors = {engine: r[5] for engine, r in results.items()}
    assert len(errors["python-markdown"]) == 1 and "nope.md" in errors["python-markdown"][0]
    assert ":7" in errors["python-markdown"][0]  # body starts on line 5; the link is on its third line
    for engine in FAST:
        assert errors[engine] == errors["python-markdown"], engine
    lenient = render_all(tmp_path, body, strict=False)
    for engine in FAST:
        assert lenient[engine][4] == lenient["python-markdown"][4] != [], engine


def test_the_sample_site_renders_the_same_with_every_engine_page_by_page():
    """Golden test: every page of the shipped sample site, Markdown layer (html, toc, the links and
    media it recorded, warnings). The sample's photos and videos are generated, not committed, so
    links to them are warnings here (identical across engines too)."""
    cfg = load_site_config(REPO)
    cfg.build.source_link_errors = "warning"
    rendered: dict[str, dict[str, tuple]] = {}
    for engine in ENGINES:
        cfg.build.markdown_engine = engine
        site = load_site(cfg)
        renderer = PageRenderer(site, minify=False)
        rendered[engine] = {}
        for p in site.all_pages():
            recorded, warnings = {}, []
            html, toc = renderer.markdown_for(p, p.url, recorded, warnings, None)
            rendered[engine][p.url] = (canonical(html), toc, recorded, warnings)
    reference = rendered["python-markdown"]
    assert len(reference) > 300 and sum(1 for v in reference.values() if v[0]) > 80  # records have no body
    for engine in FAST:
        differing = [url for url, value in reference.items() if rendered[engine][url] != value]
        assert differing == [], f"{engine} renders these sample pages differently: {differing}"


def test_python_markdown_and_pyromark_builds_give_the_same_pages(tmp_path):
    files = {**BASIC, "topics/demo/news/b.md": md("乙新闻", FEATURES.replace("photo.jpg", "file.pdf")
                                                  .replace("draft.md", "c.md"), date="2026-01-02")}
    pages = {}
    for engine in ("python-markdown", "pyromark"):
        root = write_site(tmp_path / engine, files, SITE_TOML + f'\n[build]\nmarkdown_engine = "{engine}"\n')
        build_site(root, BuildOptions(jobs=1))
        pages[engine] = {p.relative_to(root / "public").as_posix(): p.read_text(encoding="utf-8")
                         for p in sorted((root / "public").rglob("*.html"))}
    assert pages["python-markdown"].keys() == pages["pyromark"].keys()
    for name, text in pages["python-markdown"].items():
        assert canonical(text) == canonical(pages["pyromark"][name]), name
    assert "fn:law" in pages["pyromark"]["demo/news/b/index.html"]


def test_the_default_engine_is_pyromark():
    assert DEFAULT_ENGINE == "pyromark"
    assert load_site_config(REPO).build.markdown_engine == DEFAULT_ENGINE


RAW_HTML = """\
正文见<a href="b.md">原始链接</a>。

<figure><img src="photo.jpg" alt="示意"><figcaption>图注</figcaption></figure>

<div>
*not emphasis in Python-Markdown*
</div>

![现场照片](photo.jpg)
"""


def test_a_page_with_raw_html_renders_exactly_as_python_markdown(tmp_path):
    """Raw HTML has other block rules in CommonMark, and Python-Markdown leaves links and images in
    it alone (a raw <img> is no media embed): such pages go through Python-Markdown whatever the engine."""
    results = {}
    for engine in ENGINES:
        ctx = context(tmp_path, RAW_HTML)
        html, toc = make_renderer(engine).render(RAW_HTML, ctx)
        results[engine] = (html, toc, ctx.used_links, ctx.used_media)
    reference = results["python-markdown"]
    assert 'href="b.md"' in reference[0] and reference[3] == ["topics/demo/news/photo.jpg"]  # only the ![]()
    for engine in FAST:
        assert results[engine] == reference, engine


def test_an_unknown_engine_is_a_usage_error_naming_the_setting(tmp_path, capsys):
    root = write_site(tmp_path, BASIC, SITE_TOML + '\n[build]\nmarkdown_engine = "pyromak"\n')
    with pytest.raises(ConfigError) as info:
        load_site_config(root)
    assert info.value.field == "build.markdown_engine"
    assert main(["build", "--root", str(root), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "site.toml" in err and "markdown_engine" in err and "pyromark" in err and "cmarkgfm" in err


def test_a_non_string_engine_is_a_usage_error(tmp_path):
    root = write_site(tmp_path, BASIC, SITE_TOML + "\n[build]\nmarkdown_engine = 3\n")
    with pytest.raises(ConfigError, match="markdown_engine"):
        load_site_config(root)


def test_content_errors_keep_their_type(tmp_path):
    ctx = context(tmp_path, "[x](missing.md)")
    make_renderer("pyromark").render("[x](missing.md)", ctx)
    assert isinstance(ctx.errors[0], ContentError)


def test_attr_list_outside_headings_is_python_markdown_only():
    """A known difference (docs/performance.md): ``{: .class}`` after a paragraph or an image is
    Python-Markdown's attr_list; the CommonMark engines leave it as text. Headings work in all."""
    body = "一段文字。\n{: .note }\n"
    assert 'class="note"' in make_renderer("python-markdown").render(body, None)[0]
    for engine in FAST:
        assert "{: .note }" in make_renderer(engine).render(body, None)[0], engine
