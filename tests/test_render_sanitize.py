"""Pages without raw HTML skip the sanitizer only when it would keep everything as it is
(builder/render/sanitize.py ``Sanitizer.keeps``): hostile Markdown that needs no raw HTML — script
URLs, heading attributes with handlers or styles — is still cleaned, and what is kept is what the
sanitizer would have written."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from builder.render.engines import CommonMarkRenderer, _pyromark
from builder.render.sanitize import Sanitizer
from tests.sitefactory import BASIC, md, write_site

HOSTILE = [
    "## 标题 {#t onclick=alert(1)}",
    '## 标题 {style="background: url(javascript:alert(1))"}',
    "## 标题 {style=x:expression(alert(1))}",
    "[链接](javascript:alert(1))",
    "[链接](JaVaScRiPt:alert(1))",
    "[链接](java&#x09;script:alert(1))",
    "[链接](&#106;avascript:alert(1))",
    "[链接](vbscript:msgbox(1))",
    "![图](data:image/svg+xml;base64,PHN2Zz4=)",
    "[链接](data:text/html;base64,PHNjcmlwdD4=)",
    "## 标题 {data-x=1 formaction=javascript:alert(1)}",
]

SAFE = [
    "## 小节 {#id .cls}\n\n正文 *强调* **加粗** ~~删除~~ `代码`",
    "[外部](https://www.gov.cn/a?b=c#d) [邮件](mailto:a@b.cn) [电话](tel:12345) [锚点](#x) [相对](../a/b.pdf)",
    "| 甲 | 乙 |\n|:-|-:|\n| 1 < 2 | \"引号\" & 符号 |",
    "1. 一\n2. 二\n\n3) 三\n\n> 引用\n\n---\n\n```python\nprint('<b>')\n```",
    "正文[^1]\n\n[^1]: 注释",
    '![图](a.png "标题 \\"引号\\"")',
]


def lexbor(markdown: str) -> str:
    return LexborHTMLParser("<body>" + _pyromark()(markdown)).body.inner_html


@pytest.mark.parametrize("markdown", HOSTILE)
def test_hostile_markdown_without_raw_html_is_still_sanitized(markdown):
    sanitizer = Sanitizer([])
    html = lexbor(markdown)
    assert not sanitizer.keeps(html)
    cleaned = sanitizer.clean_serialized(html)
    assert cleaned == sanitizer.clean(html)
    lowered = cleaned.lower()
    for bad in ("javascript", "vbscript", "data:", "onclick", "expression", "formaction"):
        assert bad not in lowered, (markdown, cleaned)


@pytest.mark.parametrize("markdown", SAFE)
def test_ordinary_markdown_is_kept_exactly_as_the_sanitizer_would_write_it(markdown):
    sanitizer = Sanitizer([])
    html = lexbor(markdown)
    assert sanitizer.keeps(html), html
    assert LexborHTMLParser(sanitizer.clean(html)).body.html == LexborHTMLParser(html).body.html


@pytest.mark.parametrize("html", [
    '<p><img src=x onerror="alert(1)"></p>',  # unquoted value: not what a serializer writes
    '<p>a <script>alert(1)</script></p>',
    '<p><!-- x --></p>',
    '<p><a href="x" onmouseover="y">a</a></p>',
    '<iframe src="https://evil.example/"></iframe>',
    '<p>1 < 2 <b onclick="x">b</b></p>',
    '<p><a href="https://ok.cn" <b>x</b></p>',
])
def test_anything_a_serializer_would_not_write_goes_through_the_sanitizer(html):
    assert not Sanitizer([]).keeps(html)


def test_a_built_page_loses_script_urls_and_handlers_written_without_raw_html(tmp_path):
    from builder.build import BuildOptions, build_site

    files = dict(BASIC)
    files["topics/demo/news/x.md"] = md("攻击", "## 小节 {#s onclick=alert(1)}\n\n[点我](javascript:alert(2))\n\n"
                                              "![图](data:image/svg+xml;base64,PHN2Zz4=)", date="2026-01-05")
    write_site(tmp_path, files)
    build_site(tmp_path, BuildOptions(jobs=1))
    html = (tmp_path / "public/demo/news/x/index.html").read_text(encoding="utf-8")
    inner = LexborHTMLParser(html).css_first(".prose").html
    assert "onclick" not in inner and "javascript:" not in inner and "data:image" not in inner
    assert 'id="s"' in inner or "id=s" in inner


def test_the_fast_engine_skips_the_sanitizer_only_for_html_it_would_keep(monkeypatch):
    calls = []
    renderer = CommonMarkRenderer("pyromark")
    monkeypatch.setattr(Sanitizer, "clean", lambda self, html: calls.append(html) or html)
    renderer.render("## 小节\n\n[链接](https://www.gov.cn/)", None)
    assert calls == []
    renderer.render("[链接](javascript:alert(1))", None)
    assert len(calls) == 1
