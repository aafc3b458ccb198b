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
DANGEROUS_STYLE = re.compile(r"expression\s*\(|javascript:|vbscript:|behavior\s*:|-moz-binding|@import", re.IGNORECASE)


def _kept_as_is() -> re.Pattern:
    """HTML the sanitizer keeps exactly as it is, as a serializer writes it: text without "<", and
    tags of ``TAGS`` with only their allowed attributes, every value double-quoted; URL values
    relative (no ":" before the first / ? #) or http(s)/mailto/tel; ``style`` only as the table
    alignment Markdown writes. Narrower than the sanitizer on purpose: whatever this does not
    match (comments, scripts, iframes, other styles, other schemes, control characters) goes
    through nh3. Possessive quantifiers keep it linear."""
    url = r'"(?:[^"\x00-\x20\x7f:/?#]*+(?:[/?#][^"\x00-\x20\x7f]*+)?+|(?:https?|mailto|tel):[^"\x00-\x20\x7f]*+)"'

    def attr(name: str) -> str | None:
        if name == "srcset":
            return None
        if name in URL_ATTRS:
            return f"{name}={url}"
        if name == "style":
            return 'style="text-align: (?:left|right|center)"'
        return f'{name}(?:="[^"]*+")?+'

    groups: dict[tuple[str, ...], list[str]] = {}
    for tag in sorted(TAGS - {"script", "style", "iframe"}):
        groups.setdefault(tuple(sorted(ATTRIBUTES.get(tag, set()) | EVERYWHERE)), []).append(tag)
    starts = []
    for names, tags in groups.items():
        attrs = "|".join(a for a in map(attr, sorted(names, key=len, reverse=True)) if a)
        starts.append(f"(?:{'|'.join(sorted(tags, key=len, reverse=True))})(?:\\s++(?:{attrs}))*+")
    names = "|".join(sorted(TAGS - {"script", "style", "iframe"}, key=len, reverse=True))
    return re.compile(f"(?:[^<]++|<(?:{'|'.join(starts)})\\s*+/?>|</(?:{names})>)*+")


_KEPT = _kept_as_is()


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
        return _KEPT.fullmatch(html) is not None
