"""Markdown engines behind one ``render(text, ctx) -> (html, toc_html)`` interface.

``python-markdown`` is builder.render.markdown's renderer (Python-Markdown with our extensions).
``pyromark`` (pulldown-cmark) and ``cmarkgfm`` (GitHub's cmark) are CommonMark engines, 20-100×
faster; their HTML goes through the same steps as Python-Markdown's tree: links to sources and
assets rewritten and photos/videos marked by the very same ``LinkRewriter.rewrite``, heading ids
made by Python-Markdown's ``slugify_unicode``/``unique`` (so anchors do not move when the engine
changes), the table of contents of levels 2-4, and footnotes rewritten into Python-Markdown's
markup (``fn:``/``fnref:`` ids, one ``div.footnote`` at the end, numbered in definition order).
What still differs between the engines is listed in docs/performance.md.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from markdown.extensions.toc import nest_toc_tokens, slugify_unicode, unique
from selectolax.lexbor import LexborHTMLParser, LexborNode

from builder.config import MARKDOWN_ENGINES
from builder.render.markdown import LinkContext, LinkRewriter, MarkdownRenderer, guard, make_sanitizer

ENGINES = MARKDOWN_ENGINES
DEFAULT_ENGINE = "pyromark"
TOC_LEVELS = (2, 4)  # as Python-Markdown's toc_depth "2-4"
TOC_MARKER = "[TOC]"
BACKREF_TITLE = "Jump back to footnote {n} in the text"  # Python-Markdown's default title


def make_renderer(engine: str = DEFAULT_ENGINE, site_cfg=None):
    """The renderer for a ``[build] markdown_engine`` value (validated by builder.config); its HTML is
    sanitized unless the site sets ``[build] unsafe_html``."""
    if engine == "python-markdown":
        return MarkdownRenderer(site_cfg)
    if engine in ENGINES:
        return CommonMarkRenderer(engine, site_cfg)
    raise ValueError(f"unknown Markdown engine {engine!r}; one of {', '.join(ENGINES)}")


def _pyromark() -> Callable[[str], str]:
    import pyromark

    options = _pyromark_options()
    return lambda text: pyromark.html(text, options=options)


def _pyromark_options() -> int:
    import pyromark

    o = pyromark.Options
    return o.ENABLE_TABLES | o.ENABLE_FOOTNOTES | o.ENABLE_HEADING_ATTRIBUTES | o.ENABLE_STRIKETHROUGH


def _pyromark_raw_html(text: str) -> bool:
    import pyromark

    return any("Html" in event or "InlineHtml" in event for event in pyromark.events(text, options=_pyromark_options())
               if isinstance(event, dict))


def _cmark_raw_html(text: str) -> bool:
    import cmarkgfm

    # without CMARK_OPT_UNSAFE cmark replaces every piece of raw HTML by this comment
    return "<!-- raw HTML omitted -->" in cmarkgfm.markdown_to_html_with_extensions(
        text, extensions=["table", "strikethrough"])


def _cmarkgfm() -> Callable[[str], str]:
    import cmarkgfm
    from cmarkgfm.cmark import Options as O  # noqa: N817 - cmark's own name

    # UNSAFE keeps raw HTML as Python-Markdown does (the page sanitizer, not the engine, decides).
    options = O.CMARK_OPT_UNSAFE | O.CMARK_OPT_FOOTNOTES | O.CMARK_OPT_TABLE_PREFER_STYLE_ATTRIBUTES
    return lambda text: cmarkgfm.markdown_to_html_with_extensions(text, options=options,
                                                                   extensions=["table", "strikethrough"])


NON_ASCII_ESCAPES = re.compile(r"(?:%[89a-fA-F][0-9a-fA-F])+")


def _utf8(m: re.Match) -> str:
    try:
        return unquote_to_bytes(m.group(0)).decode("utf-8")
    except UnicodeDecodeError:
        return m.group(0)


class _Element:
    """The slice of ElementTree's element API that ``LinkRewriter.rewrite`` uses, over a lexbor node."""

    def __init__(self, node: LexborNode) -> None:
        self.node = node
        self.tag = node.tag
        self.attrib = self

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.node.attributes.get(name)
        return default if value is None else value

    def set(self, name: str, value: str) -> None:
        self.node.attrs[name] = value

    def pop(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name, default)
        if name in self.node.attributes:
            del self.node.attrs[name]
        return value


def _fragment(markup: str) -> LexborNode:
    """The first node of an HTML fragment (to insert into another tree)."""
    return LexborHTMLParser("<body>" + markup).body.child


class CommonMarkRenderer:
    """A CommonMark engine plus the post-processing that makes its HTML match Python-Markdown's."""

    def __init__(self, engine: str, site_cfg=None) -> None:
        self.engine = engine
        self.convert = _pyromark() if engine == "pyromark" else _cmarkgfm()
        self.has_raw_html = _pyromark_raw_html if engine == "pyromark" else _cmark_raw_html
        self.sanitizer = make_sanitizer(site_cfg)
        self.site_cfg = site_cfg
        self.fallback: MarkdownRenderer | None = None  # made on the first page that needs it

    def render(self, text: str, ctx: LinkContext | None) -> tuple[str, str]:
        """(html, toc_html)."""
        # The same per-page limits as Python-Markdown's path, so a page builds (or not) whatever the engine.
        guard(text, *((ctx.source, ctx.body_line) if ctx else (None, 1)))
        # Raw HTML follows different block rules in CommonMark and Python-Markdown, and Python-Markdown
        # leaves links and images inside it alone: such a page goes through Python-Markdown, so every
        # page renders as it always did (pages with raw HTML are few; the rest stay fast).
        if "<" in text and self.has_raw_html(text):
            if self.fallback is None:
                self.fallback = MarkdownRenderer(self.site_cfg)
            return self.fallback.render(text, ctx)
        # An explicit <body> keeps head-only tags written in the Markdown (<meta>, <style>) in place.
        raw = self.convert(text)
        body = LexborHTMLParser("<body>" + raw).body
        # Each step looks for its markup in the text first: CSS queries cost more than the engine.
        if 'class="footnote' in raw:
            footnotes = self._footnotes_pyromark(body) if self.engine == "pyromark" else self._footnotes_cmark(body)
            if footnotes:
                self._write_footnotes(body, *footnotes)
        if self.engine == "cmarkgfm" and "}</h" in raw:
            _heading_attributes(body)
        if "</blockquote>" in raw:
            _merge_blockquotes(body)
        if ctx is not None or "%" in raw:
            for node in body.css("a[href], img[src]"):
                attr = "href" if node.tag == "a" else "src"
                value = node.attributes.get(attr) or ""
                if "%" in value:  # pulldown-cmark percent-encodes non-ASCII; Python-Markdown keeps it
                    decoded = NON_ASCII_ESCAPES.sub(_utf8, value)
                    if decoded != value:
                        node.attrs[attr] = decoded
                if ctx is not None:
                    LinkRewriter.rewrite(_Element(node), attr, ctx)
        toc = self._heading_ids(body)
        for p in body.css("p") if TOC_MARKER in raw else ():  # Python-Markdown's toc marker paragraph
            if p.text(deep=True) == TOC_MARKER and p.child is not None and p.child.tag == "-text" \
                    and p.child.next is None:
                p.replace_with(_fragment(toc))
        html = body.inner_html.strip("\n")
        # lexbor wrote this HTML (no raw HTML reaches this point): the sanitizer is skipped when it
        # would keep everything as it is (builder/render/sanitize.py).
        return (self.sanitizer.clean_serialized(html) if self.sanitizer is not None else html), toc

    # ---- footnotes --------------------------------------------------------------------------
    # Both engines' markup becomes: refs {label: [sup nodes]}, definitions [(label, inner html)].

    @staticmethod
    def _footnotes_pyromark(body: LexborNode) -> tuple[dict, list] | None:
        definitions = []
        for div in body.css("div.footnote-definition"):
            label_sup = div.css_first("sup.footnote-definition-label")
            if label_sup is not None:
                label_sup.decompose()
            definitions.append((div.attributes.get("id") or "", div.inner_html.strip()))
            div.decompose()
        refs: dict[str, list] = {}
        for sup in body.css("sup.footnote-reference"):
            a = sup.css_first("a")
            label = (a.attributes.get("href") or "#")[1:] if a is not None else ""
            refs.setdefault(label, []).append(sup)
        return (refs, definitions) if definitions or refs else None

    @staticmethod
    def _footnotes_cmark(body: LexborNode) -> tuple[dict, list] | None:
        section = body.css_first("section.footnotes")
        definitions = []
        if section is not None:
            for li in section.css("li[id]"):
                for back in li.css("a.footnote-backref"):
                    back.decompose()
                inner = li.inner_html.strip().replace(" </p>", "</p>")  # the space cmark puts before ↩
                definitions.append((li.attributes["id"].removeprefix("fn-"), inner))
            section.decompose()
        refs: dict[str, list] = {}
        for sup in body.css("sup.footnote-ref"):
            a = sup.css_first("a")
            label = (a.attributes.get("href") or "#fn-")[len("#fn-"):] if a is not None else ""
            refs.setdefault(label, []).append(sup)
        return (refs, definitions) if definitions or refs else None

    @staticmethod
    def _write_footnotes(body: LexborNode, refs: dict, definitions: list) -> None:
        numbers = {label: n for n, (label, _) in enumerate(definitions, start=1)}
        for label, sups in refs.items():
            n = numbers.get(label)
            for k, sup in enumerate(sups, start=1):
                if n is None:  # no definition: Python-Markdown leaves the text as written
                    sup.replace_with(f"[^{label}]")
                    continue
                ref_id = f"fnref:{label}" if k == 1 else f"fnref{k}:{label}"
                sup.replace_with(_fragment(
                    f'<sup id="{html.escape(ref_id)}"><a class="footnote-ref" href="#fn:{html.escape(label)}">{n}</a></sup>'))
        items = []
        for label, inner in definitions:
            n = numbers[label]
            count = max(1, len(refs.get(label, ())))
            backs = "".join(
                f'<a class="footnote-backref" href="#{html.escape(f"fnref:{label}" if k == 1 else f"fnref{k}:{label}")}"'
                f' title="{BACKREF_TITLE.format(n=n)}">&#8617;</a>' for k in range(1, count + 1))
            if inner.endswith("</p>"):
                inner = inner[: -len("</p>")] + "&#160;" + backs + "</p>"
            else:
                inner += f"\n<p>{backs}</p>"
            items.append(f'<li id="fn:{html.escape(label)}">\n{inner}\n</li>\n')
        if items:
            body.insert_child(_fragment('<div class="footnote">\n<hr>\n<ol>\n' + "".join(items) + "</ol>\n</div>"))

    # ---- heading ids and table of contents -----------------------------------------------

    @staticmethod
    def _heading_ids(body: LexborNode) -> str:
        used = {n.attributes["id"] for n in body.css("[id]") if n.attributes.get("id")}
        counters: dict[str, int] = {}
        tokens = []
        for h in body.css("h1, h2, h3, h4, h5, h6"):
            if h.css_first("sup[id^='fnref']") is None:
                name = h.text(deep=True)
            else:
                copy = _fragment(h.html)
                for ref in copy.css("sup[id^='fnref']"):  # as Python-Markdown's remove_fnrefs
                    ref.decompose()
                name = copy.text(deep=True)
            if not h.attributes.get("id"):
                h.attrs["id"] = unique(slugify_unicode(name, "-"), used, counters)
            level = int(h.tag[1])
            if TOC_LEVELS[0] <= level <= TOC_LEVELS[1]:
                tokens.append({"level": level, "id": h.attributes["id"], "name": html.escape(name, quote=False)})
        return _toc_html(nest_toc_tokens(tokens))


HEADING_ATTRS = re.compile(r"\s*\{:?\s*((?:[#.][^\s}]+\s*|[\w-]+=[^\s}]+\s*)+)\}\s*$")


def _heading_attributes(body: LexborNode) -> None:
    """``## Title {#id .class}`` (attr_list on headings), which pulldown-cmark knows and cmark does not."""
    for h in body.css("h1, h2, h3, h4, h5, h6"):
        last = h.last_child
        m = HEADING_ATTRS.search(last.text_content or "") if last is not None and last.tag == "-text" else None
        if m is None:
            continue
        last.replace_with((last.text_content or "")[: m.start()])
        classes = []
        for token in m.group(1).split():
            if token.startswith("#"):
                h.attrs["id"] = token[1:]
            elif token.startswith("."):
                classes.append(token[1:])
            else:
                key, _, value = token.partition("=")
                h.attrs[key] = value.strip("\"'")
        if classes:
            h.attrs["class"] = " ".join(classes)


def _merge_blockquotes(body: LexborNode) -> None:
    """Quotes separated only by blank lines are one quote in Python-Markdown, two in CommonMark."""

    def next_quote(quote: LexborNode) -> tuple[list, LexborNode | None]:
        between, node = [], quote.next
        while node is not None and node.tag == "-text" and not (node.text_content or "").strip():
            between.append(node)
            node = node.next
        return between, (node if node is not None and node.tag == "blockquote" else None)

    # A fresh query after every merge: a merge frees nodes an older query result would still name.
    while True:
        for quote in body.css("blockquote"):
            between, following = next_quote(quote)
            if following is not None:
                quote.inner_html = quote.inner_html.rstrip("\n") + "\n" + following.inner_html.lstrip("\n")
                for n in [*between, following]:
                    n.decompose()
                break
        else:
            return


def _toc_html(tokens: list) -> str:
    """Python-Markdown's toc div, serialized the way its prettifier does."""

    def ul(items: list) -> str:
        if not items:
            return "<ul></ul>"
        parts = []
        for item in items:
            link = f'<li><a href="#{html.escape(item["id"])}">{item["name"]}</a>'
            parts.append(link + (ul(item["children"]) + "\n" if item["children"] else "") + "</li>\n")
        return "<ul>\n" + "".join(parts) + "</ul>"

    return f'<div class="toc">\n{ul(tokens)}\n</div>\n'
