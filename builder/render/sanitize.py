"""Raw HTML in Markdown, cleaned with an allow-list (nh3, the Rust ``ammonia`` sanitizer).

What an author may write passes: headings, lists, tables, figures, inline ``style`` (the hidden-link
check reads it), images, audio and video, and iframes from the site's allowed domains. What runs
does not: ``<script>``/``<style>`` (removed with their content), ``on*`` handlers (also those
written with attr_list, ``{: onclick=… }``), ``javascript:``/``data:``/``vbscript:`` URLs, forms,
objects and embeds. This is what Hugo does by default (``markup.goldmark.renderer.unsafe = false``);
``[build] unsafe_html = true`` publishes raw HTML as written (``zhuanti check`` still runs on it).
"""

from __future__ import annotations

import re
from html import unescape as html_unescape
from urllib.parse import urlsplit

import nh3

TAGS = frozenset(nh3.ALLOWED_TAGS) | {
    "div", "span", "section", "article", "aside", "header", "footer", "nav", "main",
    "figure", "figcaption", "picture", "source", "img", "video", "audio", "track", "iframe",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
    "details", "summary", "mark", "time", "u", "s", "small", "sub", "sup", "hr", "br", "dl", "dt", "dd",
}
EVERYWHERE = {"id", "class", "style", "title", "lang", "dir", "role", "align", "hidden"}
ATTRIBUTES = {
    "*": EVERYWHERE,
    "a": {"href", "name", "target", "rel", "download", "hreflang", "type"},
    "img": {"src", "alt", "width", "height", "srcset", "sizes", "loading", "decoding", "data-zhuanti-media"},
    "source": {"src", "srcset", "type", "media", "sizes", "width", "height"},
    "video": {"src", "poster", "controls", "width", "height", "preload", "muted", "loop", "playsinline", "autoplay"},
    "audio": {"src", "controls", "preload", "muted", "loop"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "iframe": {"src", "width", "height", "allowfullscreen", "frameborder", "loading", "referrerpolicy", "allow"},
    "td": {"colspan", "rowspan", "headers"}, "th": {"colspan", "rowspan", "scope", "headers"},
    "col": {"span", "width"}, "colgroup": {"span"},
    "ol": {"start", "type", "reversed"}, "li": {"value"}, "time": {"datetime"}, "abbr": {"title"},
    "details": {"open"}, "blockquote": {"cite"}, "q": {"cite"}, "del": {"cite", "datetime"}, "ins": {"cite", "datetime"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
URL_ATTRS = {"src", "href", "poster", "srcset", "cite"}
# A start or end tag as a serializer writes it, and its attributes (name="value" or a bare name).
_TAG = re.compile(r'</?([A-Za-z][A-Za-z0-9-]*)((?:\s+[^\s"\'>/=]+(?:="[^"]*")?)*\s*/?)>')
_ATTR = re.compile(r'\s+([^\s"\'>/=]+)(?:="([^"]*)")?')
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
DANGEROUS_STYLE = re.compile(r"expression\s*\(|javascript:|vbscript:|behavior\s*:|-moz-binding|@import", re.IGNORECASE)


def _relative_or_allowed(url: str) -> bool:
    """A URL the sanitizer keeps as it is: relative (no colon before the first / ? #), or of an
    allowed scheme. Anything doubtful (spaces, control characters) says no."""
    if any(c <= " " or c == "\x7f" for c in url):
        return False
    head = url.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if ":" not in head:
        return True
    m = _SCHEME.match(head)
    return m is not None and m.group(1).lower() in URL_SCHEMES


class Sanitizer:
    """Cleans rendered Markdown of one site (iframes only from ``allowed_domains`` and the site's own host)."""

    def __init__(self, allowed_domains: list[str], site_domain: str = "") -> None:
        self.domains = [d.lower().lstrip(".") for d in allowed_domains if d] + ([site_domain.lower()] if site_domain else [])

    def allowed_host(self, url: str) -> bool:
        host = (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def _filter(self, tag: str, attr: str, value: str) -> str | None:
        if attr == "style" and DANGEROUS_STYLE.search(value):
            return None
        if tag == "iframe" and attr == "src":
            # an embedded page from elsewhere runs its own scripts: only from the allowed domains
            return value if value.startswith(("https://", "//")) and self.allowed_host(value) else None
        if attr in URL_ATTRS and re.match(r"\s*(?:javascript|vbscript|data):", value, re.IGNORECASE):
            return None
        return value

    def clean(self, html: str) -> str:
        return nh3.clean(html, tags=set(TAGS), clean_content_tags={"script", "style"},
                         attributes={k: set(v) for k, v in ATTRIBUTES.items()}, attribute_filter=self._filter,
                         strip_comments=True, link_rel=None, url_schemes=set(URL_SCHEMES))

    def clean_serialized(self, html: str) -> str:
        """``clean`` for HTML written by an HTML serializer (lexbor's: every attribute value
        double-quoted, ``"`` and ``&`` escaped in it, ``<`` escaped in text): returned as it is
        when the sanitizer would keep all of it, else cleaned. Pages without raw HTML (nearly all)
        skip the sanitizer's parse and re-serialization; anything unusual still goes through it."""
        return html if self.keeps(html) else self.clean(html)

    def keeps(self, html: str) -> bool:
        """True when every tag, attribute and value of this serialized HTML is allowed as it is."""
        if "<!" in html or "<?" in html:  # comments, doctypes, CDATA: the sanitizer's business
            return False
        seen = 0
        for m in _TAG.finditer(html):
            if html.count("<", seen, m.start()):
                return False  # a "<" that does not start a tag as written by a serializer
            seen = m.end()
            tag, attrs = m.group(1).lower(), m.group(2)
            if tag not in TAGS or tag in ("script", "style", "iframe"):
                return False
            if not attrs or attrs.isspace():
                continue
            allowed = ATTRIBUTES.get(tag, EVERYWHERE)
            end = 0
            for a in _ATTR.finditer(attrs):
                if attrs[end:a.start()].strip():
                    return False  # something the pattern does not know: not what a serializer writes
                end = a.end()
                name = a.group(1)
                if name not in allowed and name not in EVERYWHERE:
                    return False
                value = html_unescape(a.group(2)) if a.group(2) is not None else ""
                if self._filter(tag, name, value) != value:
                    return False
                if name in URL_ATTRS and not _relative_or_allowed(value):
                    return False
            if attrs[end:].strip(" /"):
                return False
        return "<" not in html[seen:]
