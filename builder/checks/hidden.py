"""Hidden links (暗链/黑链, C3): off-site links a reader cannot see but a search engine can, and
scripts that write, obfuscate or cloak links. ``HiddenLinkCheck(site)`` reports ``link.hidden``.

Decisions, so that a reader of a finding knows what it rests on:
- Candidates are off-site ``a``/``area`` links and ``iframe`` sources; a collapsed menu of internal
  links is never a hidden link. Severity is error; it is a warning when the link goes to an allowed
  domain (check.allowed_domains), because a hidden list of government links is a collapsed menu far
  more often than a 暗链.
- Styles come from inline ``style``, ``<style>`` elements and the page's stylesheets inside the
  checked folder (each file parsed once). Selectors are matched by selectolax's CSS engine, with a
  simple cascade (``!important``, specificity, source order; inline last). Rules inside ``@media``
  count only when the query holds on every screen (``all``/``screen`` without a feature test):
  responsive and print rules hide mobile menus and page chrome, not links. Pseudo-element rules are
  ignored.
- ``display:none``, ``visibility:hidden``, ``opacity:0``, ``hidden`` and zero height are also how
  menus, tabs and accordions work, so a container hidden that way is not reported when the page can
  show it: a ``:hover``/``:focus`` or state-class (``.active``, ``.show`` …) rule reveals it, a control
  names its id (``href="#id"``, ``aria-controls``, ``data-target``, a script), it has a visible sibling
  of the same tag and class (tab panels), or it is a sub-list inside a ``li`` (drop-down menus).
  Off-screen positioning, ``font-size:0``, negative ``text-indent``, ``clip`` and text coloured like
  its background have no such innocent use for an off-site link and are always reported.
- Text colour is compared with the nearest declared background; when none is declared, with white,
  but only if every stylesheet of the page was read (otherwise the real background is unknown).
"""

from __future__ import annotations

import functools
import html as htmllib
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from builder.checks.base import Finding, HtmlDoc, Memo
from builder.checks.links import MEMO_SIZE, Locator, _climbing, ancestors, shown
from builder.checks.urls import (
    MAX_URL_LENGTH,
    Classified,
    DomainPolicy,
    SiteOrigin,
    classify,
    decode_path,
    normal_host,
    split,
)
from builder.config import SiteConfig
from builder.i18n import tr

OFFSCREEN_PX = 999.0
MARQUEE_MAX_SCROLLAMOUNT = 200
_MAX_CACHED_STYLES = 256
_MAX_STYLESHEET_BYTES = 4 * 1024 * 1024
_RELEVANT = frozenset({
    "display", "visibility", "opacity", "font-size", "font", "width", "height", "max-width", "max-height",
    "overflow", "overflow-x", "overflow-y", "position", "left", "top", "right", "bottom", "margin",
    "margin-left", "margin-top", "text-indent", "color", "background", "background-color",
    "background-image", "clip", "clip-path", "transform"})
_COLOUR_PROPS = frozenset({"color", "background", "background-color", "background-image"})
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
_STRUCTURE = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|[{};]")
_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_DECL = re.compile(r"""([-a-zA-Z]+)\s*:\s*((?:[^;("']|\([^)]*\)?|"[^"]*"?|'[^']*'?)*)""")
_LENGTH = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+))(px|pt|em|rem|vw|vh|%|)?$")
_DYNAMIC = re.compile(r":(?:hover|focus-within|focus-visible|focus|active|target|checked|visited)\b")
_STATE_CLASS = re.compile(r"\.(?:active|on|show|shown|current|cur|open|opened|selected|in|visible|expanded"
                          r"|hover|is-active|is-open|is-visible)(?![-\w])")
_PSEUDO_ELEMENT = re.compile(r"::|:(?:before|after|first-line|first-letter)\b")
_NOT_STATE = re.compile(r":not\(\s*" + _STATE_CLASS.pattern + r"\s*\)")
_HIDING_CLASSES = {"hidden": True, "hide": True, "d-none": True, "invisible": True, "sr-only": False,
                   "visually-hidden": False}
_DISPLAY_TOGGLES = frozenset({"ul", "ol", "div", "dl", "dd", "nav", "section"})

# Scripts (JS injection, cloaking)
_WRITE = re.compile(r"document\s*\.\s*write(?:ln)?\s*\(|\.\s*(?:inner|outer)HTML\s*\+?=|insertAdjacentHTML\s*\(",
                    re.I)
_LINK_TAG = re.compile(r"<a[\s>]", re.I)
# the host of a link written as markup: <a href="http://host…", also inside JS strings (\" quotes)
_LINK_HREF_HOST = re.compile(r"""<a\s[^>]*?href\s*=\s*\\?["']?\s*(?:https?:)?//((?:[a-z0-9-]+\.)+[a-z]{2,})""", re.I)
_SCRIPT_HOST = re.compile(r"(?:https?:)?//((?:[a-z0-9-]+\.)+[a-z]{2,})", re.I)
_FROM_CHAR_CODE = re.compile(r"fromCharCode\s*\(\s*((?:\d+\s*,\s*){7,}\d+)\s*\)", re.I)
_REFERRER = re.compile(r"document\s*\.\s*referrer", re.I)
_LOCATION_SET = re.compile(r"location(?:\s*\.\s*href)?\s*=(?!=)|location\s*\.\s*(?:replace|assign)\s*\("
                           r"|window\s*\.\s*open\s*\(", re.I)
# a search engine named in a string or regex literal ("baidu", /google|bing/), not in a URL (hm.baidu.com)
_SEARCH_ENGINE = re.compile(r"""(?:["'/|(]\s*)(?:www\.)?(?:baidu|google|sogou|so\.com|sm\.cn|bing|soso|yahoo|youdao"""
                            r"|haosou|360|spider)", re.I)
_TESTS_TEXT = re.compile(r"\.\s*(?:indexOf|match|test|search|includes)\s*\(", re.I)
_USER_AGENT = re.compile(r"navigator\s*\.\s*userAgent", re.I)
_CRAWLER = re.compile(r"spider|googlebot|bingbot|baiduspider|sogou", re.I)
_EVAL = re.compile(r"\beval\s*\(", re.I)
_ESCAPE_X = re.compile(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})")
_SCRIPT_MARKERS = ("write", "innerhtml", "outerhtml", "insertadjacenthtml", "fromcharcode", "referrer",
                   "useragent")

_NAMED_COLORS = {
    "white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255),
    "yellow": (255, 255, 0), "gray": (128, 128, 128), "grey": (128, 128, 128), "silver": (192, 192, 192),
    "orange": (255, 165, 0), "purple": (128, 0, 128), "navy": (0, 0, 128), "maroon": (128, 0, 0),
    "lime": (0, 255, 0), "aqua": (0, 255, 255), "fuchsia": (255, 0, 255), "teal": (0, 128, 128),
    "olive": (128, 128, 0), "whitesmoke": (245, 245, 245),
}
_LINK_COLOR = (0, 0, 238)  # browsers' default link colour
_WHITE = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class Rule:
    """One selector of a style rule with the declarations that matter for visibility."""

    selector: str
    decls: tuple[tuple[str, str, bool], ...]  # (property, value, important)
    specificity: tuple[int, int, int]
    order: int
    key: tuple[str, str]  # what the rightmost compound needs: ("class", c), ("id", i), ("tag", t) or ("any", "")
    reveal: bool = False  # matched elements can be shown by interaction (hover, focus, state class)


# -- CSS --------------------------------------------------------------------------------------------


def parse_declarations(body: str) -> list[tuple[str, str, bool]]:
    out = []
    for m in _DECL.finditer(body):
        prop = m.group(1).lower()
        if prop not in _RELEVANT:
            continue
        value = m.group(2).strip().lower()
        important = value.endswith("!important")
        if important:
            value = value[: -len("!important")].strip()
        out.append((prop, value, important))
    return out


def _media_applies(query: str) -> bool:
    for part in query.split(","):
        words = part.strip().lower().split()
        if words and words[0] == "only":
            words = words[1:]
        if words in ([], ["all"], ["screen"]):
            return True
    return False


def _split_selectors(prelude: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(prelude):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(prelude[start:i])
            start = i + 1
    parts.append(prelude[start:])
    return [p.strip() for p in parts if p.strip()]


def _specificity(selector: str) -> tuple[int, int, int]:
    ids = selector.count("#")
    classes = selector.count(".") + selector.count("[") + len(re.findall(r"(?<!:):(?!:)", selector))
    tags = len(re.findall(r"(?:^|[\s>+~])[a-zA-Z][\w-]*", selector))
    return ids, classes, tags


def _key(selector: str) -> tuple[str, str]:
    bare = re.sub(r"\[[^\]]*\]|\([^)]*\)", "", selector.strip())  # attribute values may hold "." or " "
    compound = re.split(r"[\s>+~]+", bare)[-1] if bare else ""
    m = re.search(r"#([-\w]+)", compound)
    if m:
        return "id", m.group(1)
    m = re.search(r"\.([-\w]+)", compound)
    if m:
        return "class", m.group(1)
    m = re.match(r"([a-zA-Z][\w-]*)", compound)
    if m:
        return "tag", m.group(1).lower()
    return "any", ""


def _reveals(decls: list[tuple[str, str, bool]]) -> bool:
    for prop, value, _ in decls:
        if prop == "display" and value != "none":
            return True
        if prop == "visibility" and value == "visible":
            return True
        if prop == "opacity" and (_number(value) or 0) > 0.1:
            return True
        if prop in ("height", "max-height") and (_px(value) is None or _px(value) > 1):
            return True
    return False


def _rules_for(prelude: str, decls: list[tuple[str, str, bool]], order: int) -> list[Rule]:
    rules = []
    for selector in _split_selectors(prelude):
        if _PSEUDO_ELEMENT.search(selector):
            continue
        plain = _DYNAMIC.sub("", selector)
        dynamic = plain != selector
        stateless = _STATE_CLASS.sub("", plain)
        reveals = _reveals(decls)
        if dynamic or stateless != plain:
            if reveals:
                base = stateless.strip() or "*"
                rules.append(Rule(base, (), (0, 0, 0), order, _key(base), reveal=True))
            if dynamic:
                continue  # what a rule does while hovered or focused says nothing about the resting page
        rules.append(Rule(selector, tuple(decls), _specificity(selector), order, _key(selector)))
        if _NOT_STATE.search(selector):
            rules.append(Rule(selector, (), (0, 0, 0), order, _key(selector), reveal=True))
    return rules


def parse_css(text: str) -> list[Rule]:
    """Style rules that bear on visibility; malformed CSS yields what could be read, never an error."""
    text = _COMMENT.sub("", text)
    rules: list[Rule] = []
    stack: list[tuple] = []  # ("group", applies) | ("rule", prelude, body_start, applies) | ("skip",)
    start = 0
    order = 0

    def applies() -> bool:
        return all(item[-1] for item in stack if item[0] == "group")

    for m in _STRUCTURE.finditer(text):
        tok = m.group(0)
        if tok[0] in "\"'":
            continue
        if tok == "{":
            prelude = text[start:m.start()].strip()
            if stack and stack[-1][0] in ("rule", "skip"):
                stack.append(("skip",))
            elif prelude.startswith("@"):
                name = re.match(r"@([-\w]*)", prelude).group(1).lower()
                if name == "media":
                    stack.append(("group", _media_applies(prelude[6:])))
                elif name in ("supports", "layer", "scope", "document", "-moz-document"):
                    stack.append(("group", True))
                else:
                    stack.append(("skip",))
            else:
                stack.append(("rule", prelude, m.end(), applies()))
            start = m.end()
        elif tok == "}":
            if stack:
                item = stack.pop()
                if item[0] == "rule" and item[3]:
                    decls = parse_declarations(text[item[2]:m.start()])
                    if decls:
                        rules.extend(_rules_for(item[1], decls, order))
                        order += 1
            start = m.end()
        elif not stack or stack[-1][0] == "group":
            start = m.end()  # a statement at-rule (@import, @charset) or a stray semicolon
    for item in stack:  # unclosed rules: read their declarations up to any nested block
        if item[0] == "rule" and item[3]:
            end = text.find("{", item[2])
            decls = parse_declarations(text[item[2]:end if end >= 0 else len(text)])
            if decls:
                rules.extend(_rules_for(item[1], decls, order))
                order += 1
    return rules


def _number(value: str) -> float | None:
    try:
        return float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
    except ValueError:
        return None


def _px(value: str) -> float | None:
    """A CSS length in px (em and rem at 16px, vw/vh at 10px); None when it is not a plain length."""
    m = _LENGTH.match(value.strip())
    if not m:
        return None
    n = float(m.group(1))
    unit = m.group(2) or ""
    if unit == "%":
        return None if n else 0.0
    return n * {"": 1, "px": 1, "pt": 4 / 3, "em": 16, "rem": 16, "vw": 10, "vh": 10}[unit]


@functools.lru_cache(maxsize=4096)  # a theme uses a few colours on every page
def parse_color(value: str) -> tuple[int, ...] | None:
    """(r, g, b) or (r, g, b, 0) for a transparent colour; None when unknown (var(), gradients …)."""
    v = value.strip().lower()
    if v == "transparent":
        return (0, 0, 0, 0)
    if v in _NAMED_COLORS:
        return _NAMED_COLORS[v]
    if v.startswith("#"):
        h = v[1:]
        if len(h) in (3, 4):
            h = "".join(c * 2 for c in h)
        if len(h) in (6, 8) and all(c in "0123456789abcdef" for c in h):
            rgb = tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
            if len(h) == 8 and int(h[6:], 16) == 0:
                return (*rgb, 0)
            return rgb
        return None
    m = re.match(r"rgba?\(\s*([\d.]+%?)[\s,]+([\d.]+%?)[\s,]+([\d.]+%?)(?:[\s,/]+([\d.]+%?))?\s*\)$", v)
    if m:
        try:
            rgb = tuple(round(float(x[:-1]) * 2.55) if x.endswith("%") else round(float(x)) for x in m.groups()[:3])
            alpha = m.group(4)
            if alpha is not None and (_number(alpha) or 0) == 0:
                return (*rgb, 0)
            return rgb
        except ValueError:
            return None
    return None


def _background_color(decls: dict[str, str]) -> tuple[int, ...] | None:
    if "background-color" in decls:
        return parse_color(decls["background-color"])
    bg = decls.get("background")
    return _shorthand_color(bg) if bg else None


@functools.lru_cache(maxsize=4096)
def _shorthand_color(bg: str) -> tuple[int, ...] | None:
    """The first colour of a ``background`` shorthand."""
    for token in re.findall(r"rgba?\([^)]*\)|#[0-9a-f]{3,8}\b|[a-z]+", bg):
        color = parse_color(token)
        if color is not None:
            return color
    return None


def _has_background_image(decls: dict[str, str]) -> bool:
    return "url(" in decls.get("background-image", "") or "url(" in decls.get("background", "")


_TECHNIQUES: dict[frozenset, tuple[str, bool] | None] = {}
_MAX_TECHNIQUES = 10_000


def hiding_technique(decls: dict[str, str]) -> tuple[str, bool] | None:
    """(technique, toggleable) when these computed declarations hide an element, else None."""
    if not decls:
        return None
    key = frozenset(decls.items())  # pages of one template repeat the same few styles
    found = _TECHNIQUES.get(key, _TECHNIQUES)
    if found is _TECHNIQUES:
        if len(_TECHNIQUES) >= _MAX_TECHNIQUES:
            _TECHNIQUES.clear()
        found = _TECHNIQUES[key] = _hiding_technique(decls)
    return found


def _hiding_technique(decls: dict[str, str]) -> tuple[str, bool] | None:
    if decls.keys() <= _COLOUR_PROPS:  # the common case: only colours were declared
        color = parse_color(decls["color"]) if "color" in decls else None
        return ("color:transparent", False) if color is not None and len(color) == 4 else None
    if decls.get("display") == "none":
        return "display:none", True
    if decls.get("visibility") in ("hidden", "collapse"):
        return "visibility:" + decls["visibility"], True
    if "opacity" in decls and (_number(decls["opacity"]) if _number(decls["opacity"]) is not None else 1) <= 0.05:
        return "opacity:" + decls["opacity"], True
    size = _px(decls["font-size"]) if "font-size" in decls else _font_shorthand_size(decls.get("font", ""))
    if size is not None and size <= 1:
        return "font-size:0", False
    overflow = " ".join(decls.get(k, "") for k in ("overflow", "overflow-x", "overflow-y"))
    if "hidden" in overflow or "clip" in overflow:
        for prop in ("height", "max-height", "width", "max-width"):
            px = _px(decls.get(prop, ""))
            if px is not None and px <= 1:
                return f"{prop}:{decls[prop]} + overflow:hidden", True
    if decls.get("position") in ("absolute", "fixed", "relative"):
        for prop in ("left", "top", "right", "bottom"):
            px = _px(decls.get(prop, ""))
            if px is not None and px <= -OFFSCREEN_PX:
                return f"position:{decls['position']}; {prop}:{decls[prop]}", False
        clip = decls.get("clip", "")
        if clip.startswith("rect(") and all((_px(x) or 0) <= 1 for x in re.split(r"[\s,]+", clip[5:-1]) if x):
            return "clip:" + clip, False
    for prop in ("margin-left", "margin-top"):
        px = _px(decls.get(prop, ""))
        if px is not None and px <= -OFFSCREEN_PX:
            return f"{prop}:{decls[prop]}", False
    margin = decls.get("margin", "").split()
    if margin and any((_px(x) or 0) <= -OFFSCREEN_PX for x in margin):
        return "margin:" + decls["margin"], False
    indent = _px(decls.get("text-indent", ""))
    if indent is not None and (indent <= -OFFSCREEN_PX or (indent >= OFFSCREEN_PX and "hidden" in overflow)):
        if not _has_background_image(decls):  # image replacement shows a picture in place of the text
            return "text-indent:" + decls["text-indent"], False
    clip_path = decls.get("clip-path", "")
    if re.match(r"inset\(\s*50%|circle\(\s*0", clip_path):
        return "clip-path:" + clip_path, False
    m = re.search(r"translate[xy]?\(\s*(-[\d.]+(?:px|em|rem)?)", decls.get("transform", ""))
    if m and (_px(m.group(1)) or 0) <= -OFFSCREEN_PX:
        return "transform:" + decls["transform"], False
    color = parse_color(decls.get("color", ""))
    if color is not None and len(color) == 4:
        return "color:transparent", False
    return None


def _font_shorthand_size(font: str) -> float | None:
    for token in font.split():
        px = _px(token.split("/", 1)[0])
        if px is not None:
            return px
    return None


# -- per page styles --------------------------------------------------------------------------------


@dataclass
class _PageStyles:
    """The cascaded declarations of the elements that matter (ancestors of off-site links)."""

    decls: dict[int, dict[str, str]] = field(default_factory=dict)
    revealable: set[int] = field(default_factory=set)
    complete: bool = True  # every stylesheet of the page was read

    def of(self, node) -> dict[str, str]:
        return self.decls.get(node.mem_id, {})


def _root(node):
    while node.parent is not None:
        node = node.parent
    return node


# Selectors whose match depends only on the element and its ancestors (their names and the attributes
# the selector reads): no sibling combinators, no structural or state pseudo-classes, no namespaces.
_ATTR_SELECTOR = re.compile(r"""\[\s*([-\w]+)\s*(?:[~|^$*]?=\s*(?:"[^"]*"|'[^']*'|[^\]\s"']*)\s*[iIsS]?\s*)?\]""")
_PSEUDO_CLASS = re.compile(r":([-\w]*)")
_LOCAL_PSEUDO = frozenset({"root", "not", "is", "where"})
_MAX_SIGNATURES = 100_000
# "<!doctype html>" (any case) is the doctype of no-quirks mode; other pages are cascaded without the index.
_STANDARDS_MODE = re.compile(r"\ufeff?[ \t\n\r\f]*<!doctype html>", re.IGNORECASE)
_NO_STYLE: dict = {}


def local_attributes(selector: str) -> frozenset[str] | None:
    """The attribute names ``selector`` reads when whether an element matches depends only on that
    element and its ancestors (tag names, ``id``, ``class`` and those attributes); None otherwise
    (sibling combinators, ``:first-child``, ``:has()``, namespaces, escapes …)."""
    names = {m.group(1).lower() for m in _ATTR_SELECTOR.finditer(selector)}
    rest = _ATTR_SELECTOR.sub("", selector)
    if any(ch in rest for ch in "[]+~|\\\"'"):
        return None
    if any(name.lower() not in _LOCAL_PSEUDO for name in _PSEUDO_CLASS.findall(rest)):
        return None
    return frozenset(names)


class _RuleIndex:
    """The rules of one set of page styles, prepared for the cascade of many pages.

    Rules with an ancestor-only selector (``local_attributes``) give the same result on every element
    with the same *signature* (its tag and the attributes those selectors read, and its parent's
    signature): each signature is matched once and remembered for the following pages. The other
    rules are matched on every page.
    """

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.local: dict[tuple[str, str], list[Rule]] = {}
        self.live: list[Rule] = []
        names = {"id", "class"}
        for rule in rules:
            attrs = local_attributes(rule.selector)
            if attrs is None:
                self.live.append(rule)
            else:
                names |= attrs
                self.local.setdefault(rule.key, []).append(rule)
        self.names = frozenset(names)
        self.live_keys = frozenset(rule.key for rule in self.live)
        self._signatures: dict[tuple, int] = {}
        self._results: dict[int, tuple[dict[str, tuple], bool]] = {}

    def signature(self, node, memo: dict[int, int]) -> int:
        """A number naming the node's tag and read attributes, and those of every ancestor."""
        mid = node.mem_id
        sig = memo.get(mid)
        if sig is None:
            parent = node.parent
            names = self.names
            key = (node.tag, tuple((k, v) for k, v in node.attributes.items() if k in names),
                   self.signature(parent, memo) if parent is not None else -1)
            sig = self._signatures.get(key)
            if sig is None:
                if len(self._signatures) >= _MAX_SIGNATURES:
                    self._signatures.clear()
                    self._results.clear()
                sig = self._signatures[key] = len(self._signatures)
            memo[mid] = sig
        return sig

    def local_styles(self, node, sig: int, matched: dict[str, set[int]]) -> tuple[dict[str, tuple], bool]:
        """(winning local declarations: property → (value, rank), revealable) of a node."""
        hit = self._results.get(sig)
        if hit is None:
            attrs = node.attributes
            keys = {("any", ""), ("tag", node.tag)}
            if attrs.get("id"):
                keys.add(("id", attrs["id"]))
            keys.update(("class", c) for c in (attrs.get("class") or "").split())
            winners: dict[str, tuple] = {}
            reveal = False
            for key in keys:
                for rule in self.local.get(key, ()):
                    if _matches(node, rule.selector, matched):
                        if rule.reveal:
                            reveal = True
                        else:
                            _apply(winners, rule)
            hit = self._results[sig] = (winners, reveal)
        return hit


# "… li.x > a:first-child": the type the parent of a matching element must have (child combinator
# before the rightmost compound, whose left side is a compound that starts with a type selector).
_CHILD_OF_TYPE = re.compile(r"(?:^|[\s>+~])([a-zA-Z][a-zA-Z0-9-]*)[^\s>+~,]*\s*>\s*[^\s>+~,]+$")


@functools.lru_cache(maxsize=4096)
def required_parent_tag(selector: str) -> str | None:
    """The tag name (lower case) the parent of an element matching ``selector`` must have, when the
    selector says so plainly; None when it does not or cannot be read that simply."""
    if any(ch in selector for ch in "\\|\"'[("):
        return None  # attribute values, functional pseudo-classes, escapes, namespaces: not guessed at
    m = _CHILD_OF_TYPE.search(selector.strip())
    return m.group(1).lower() if m else None


def _matches(node, selector: str, matched: dict[str, set[int]]) -> bool:
    """Whether ``node`` itself matches ``selector`` (False for a selector lexbor cannot parse)."""
    try:
        # css_matches is true when the node *or anything inside it* matches: a cheap
        # filter only; the node itself must be among the selector's matches.
        if not node.css_matches(selector):
            return False
        if selector not in matched:
            matched[selector] = {n.mem_id for n in _root(node).css(selector)}
    except Exception:  # noqa: BLE001 - selectolax raises its own error on selectors it cannot parse
        return False
    return node.mem_id in matched[selector]


def _apply(winners: dict[str, tuple], rule: Rule) -> None:
    for prop, value, important in rule.decls:
        rank = (important, rule.specificity, rule.order)
        old = winners.get(prop)
        if old is None or rank >= old[1]:
            winners[prop] = (value, rank)


def _cascade(rules: list[Rule], nodes: dict[int, object], index: _RuleIndex | None = None) -> _PageStyles:
    """Cascade the declarations of ``rules`` onto ``nodes`` (the ancestors of off-site links).

    Each rule is only tried on the nodes its rightmost part can match (``Rule.key``), with
    selectolax's ``css_matches``: the cost follows the number of links, not the size of the page.
    With an ``index`` of the same rules, ancestor-only rules come from its memory of earlier pages
    (only pass one for standards-mode pages: quirks mode matches class names in any case).
    """
    live = rules if index is None else index.live
    wanted = None if index is None else index.live_keys  # None: every key
    by_key: dict[tuple[str, str], list] = {("any", ""): list(nodes.values())}
    attributes = {}
    for mid, node in nodes.items():
        attrs = attributes[mid] = node.attributes
        if wanted is not None and not wanted:
            continue  # every rule came from the index: no buckets needed
        keys = [("tag", node.tag)]
        if attrs.get("id"):
            keys.append(("id", attrs["id"]))
        keys += [("class", cls) for cls in (attrs.get("class") or "").split()]
        for key in keys:
            if wanted is None or key in wanted:
                by_key.setdefault(key, []).append(node)
    styles = _PageStyles()
    winners: dict[int, dict[str, tuple]] = {}
    matched: dict[str, set[int]] = {}  # selector → the nodes it matches themselves
    if index is not None:
        memo: dict[int, int] = {}
        for mid, node in nodes.items():
            local, reveal = index.local_styles(node, index.signature(node, memo), matched)
            if reveal:
                styles.revealable.add(mid)
            if local:
                winners[mid] = local  # shared with the index: copied before a live rule adds to it
    copied: set[int] = set()
    for rule in live:
        parent_tag = required_parent_tag(rule.selector)
        for node in by_key.get(rule.key, ()):
            if parent_tag is not None:  # "li > a:first-child": no need to ask the CSS engine about an <a> in a <p>
                parent = node.parent
                if parent is None or (parent.tag or "").lower() != parent_tag:
                    continue
            if not _matches(node, rule.selector, matched):
                continue
            mid = node.mem_id
            if rule.reveal:
                styles.revealable.add(mid)
                continue
            current = winners.get(mid)
            if current is None:
                current = winners[mid] = {}
                copied.add(mid)
            elif mid not in copied:
                current = winners[mid] = dict(current)
                copied.add(mid)
            _apply(current, rule)
    for mid, node in nodes.items():
        won = winners.get(mid, _NO_STYLE)
        merged = {prop: v for prop, (v, _) in won.items()}
        attrs = attributes[mid]
        if node.tag == "font" and attrs.get("color"):
            merged.setdefault("color", attrs["color"].lower())
        if attrs.get("bgcolor"):
            merged.setdefault("background-color", attrs["bgcolor"].lower())
        inline = attrs.get("style")
        if inline:
            for prop, value, important in parse_declarations(inline):
                if important or prop not in won or not won[prop][1][0]:
                    merged[prop] = value
        if merged:
            styles.decls[mid] = merged
    return styles


@dataclass(slots=True)
class _Candidate:
    node: object
    url: str
    host: str
    kind: str  # "a" or "iframe"
    carriers: list = field(default_factory=list)  # _colour_carriers(node)


class HiddenLinkCheck:
    """link.hidden: off-site links hidden by CSS, attributes, size or position; injected or cloaked links."""

    def __init__(self, site: SiteConfig | None) -> None:
        self.origin = SiteOrigin.of(site)
        self.policy = DomainPolicy.of(site)
        self._style_cache: dict[tuple, tuple[list[Rule], bool, _RuleIndex]] = {}
        self._sheet_cache: dict[Path, list[Rule] | None] = {}
        self._classified = Memo(self._classify_new, MEMO_SIZE)  # links repeat from page to page
        self._offsite = Memo(self._offsite_target, MEMO_SIZE)  # raw URL → (URL, host) or None
        self._sheet_paths = Memo(self._sheet_file, MEMO_SIZE)  # (root, folder, path) → file or None

    def page(self, doc: HtmlDoc) -> Iterable[Finding]:
        findings: list[Finding] = []
        candidates = self._candidates(doc)
        locator = Locator(doc)
        if candidates:
            findings.extend(self._hidden_links(doc, candidates, locator))
        if "<script" in doc.html or "<SCRIPT" in doc.html:
            for node in doc.elements("script"):
                if node.attributes.get("src"):
                    continue
                finding = self._script(doc, node.text() or "")
                if finding is not None:
                    findings.append(finding)
        return findings

    def finish(self) -> Iterable[Finding]:
        return ()

    # -- links ------------------------------------------------------------------------------------

    def _classify(self, raw: str) -> Classified:
        """classify(), remembered (links repeat from page to page)."""
        return self._classified[raw]

    def _classify_new(self, raw: str) -> Classified:
        return classify(raw, self.origin)

    def _candidates(self, doc: HtmlDoc) -> list[_Candidate]:
        out = []
        offsite = self._offsite
        # every off-site URL has "//" (http://, https://, //host): let the CSS engine skip the rest
        for node in doc.elements("a", "area", "iframe"):
            tag = node.tag
            raw = node.attrs.get("src" if tag == "iframe" else "href") or ""
            if "//" not in raw:
                continue
            found = offsite[raw]
            if found is not None:
                out.append(_Candidate(node, found[0], found[1], "iframe" if tag == "iframe" else "a"))
        return out

    def _offsite_target(self, raw: str) -> tuple[str, str] | None:
        """(URL, host) when ``raw`` leads off the site, else None."""
        if not raw.lstrip()[:6].lower().startswith(("http:", "https:", "//")):
            return None
        c = self._classify(raw)
        parts = c.parts
        if c.kind == "invalid":  # absurdly long or with control characters, but still a link
            parts = split(c.url[:MAX_URL_LENGTH])
        host = normal_host(parts.hostname or "") if parts is not None else ""
        if c.kind == "external" or (c.kind == "invalid" and host and host != self.origin.host):
            return c.url, host
        return None

    def _rules(self, doc: HtmlDoc) -> tuple[list[Rule], bool, _RuleIndex]:
        """Rules of the page's <style> elements and local stylesheets, in document order; whether
        every stylesheet could be read; and their index. Pages of one template share the result."""
        sources: list[object] = []
        for node in doc.elements("style", "link"):  # a link without rel is no stylesheet
            attrs = node.attributes
            if attrs.get("media") and not _media_applies(attrs["media"]):
                continue
            if node.tag == "style":
                sources.append(node.text() or "")
            elif "stylesheet" in (attrs.get("rel") or "").lower().split():
                sources.append(self._stylesheet_path(doc, attrs.get("href") or ""))
        key = tuple(sources)
        cached = self._style_cache.get(key)
        if cached is None:
            rules: list[Rule] = []
            complete = True
            for source in sources:
                if isinstance(source, str):
                    rules.extend(parse_css(source))
                elif source is None:
                    complete = False
                else:
                    sheet = self._stylesheet(source)
                    if sheet is None:
                        complete = False
                    else:
                        rules.extend(sheet)
            if len(self._style_cache) >= _MAX_CACHED_STYLES:
                self._style_cache.clear()
            # rules of different sources carry their own order numbers: re-number in document order
            renumbered = [_renumber(r, i) for i, r in enumerate(rules)]
            cached = self._style_cache[key] = (renumbered, complete, _RuleIndex(renumbered))
        return cached

    def _stylesheet_path(self, doc: HtmlDoc, href: str) -> Path | None:
        """The local file of a stylesheet link (None when it is elsewhere or leaves the folder)."""
        c = self._classify(href)
        if c.kind != "internal":
            return None
        path = c.parts.path
        folder = "" if path.startswith("/") else posixpath.dirname(doc.rel)
        up, rest = _climbing(path)
        if up:
            above = ancestors(folder)
            if up < len(above):  # ../../static/x.css: one file for every page that deep below a folder
                folder, path = above[up], rest
        return self._sheet_paths[(doc.root, folder, path)]

    def _sheet_file(self, key: tuple[Path, str, str]) -> Path | None:
        root, folder, path = key
        path = decode_path(path)
        if path.startswith("/"):
            prefix = self.origin.prefix
            path = path[len(prefix):] if prefix != "/" and path.startswith(prefix) else path.lstrip("/")
        else:
            path = posixpath.join(folder, path)
        norm = posixpath.normpath(path) if path else ""
        if not norm or norm == "." or norm.startswith(".."):
            return None
        return root / norm

    def _stylesheet(self, file: Path) -> list[Rule] | None:
        if file not in self._sheet_cache:
            try:
                data = file.read_bytes()[:_MAX_STYLESHEET_BYTES] if file.is_file() else None
            except OSError:
                data = None
            self._sheet_cache[file] = parse_css(data.decode("utf-8", errors="replace")) if data is not None else None
        return self._sheet_cache[file]

    def _hidden_links(self, doc: HtmlDoc, candidates: list[_Candidate], locator: Locator) -> list[Finding]:
        chains: list[list] = []
        nodes: dict[int, object] = {}
        for cand in candidates:
            chain = []
            node = cand.node
            while node is not None and node.tag and not node.tag.startswith("-"):
                chain.append(node)
                nodes.setdefault(node.mem_id, node)
                node = node.parent
            # descendants of a link can carry its text colour (<a><font color=…>)
            cand.carriers = _colour_carriers(cand.node)
            for inner in cand.carriers:
                nodes.setdefault(inner.mem_id, inner)
            chains.append(chain)
        rules, complete, index = self._rules(doc)
        styles = _cascade(rules, nodes, index if _STANDARDS_MODE.match(doc.html) else None)
        styles.complete = complete
        page = _PageContext(doc)
        verdicts: dict[int, tuple[str, object] | None] = {}
        findings = []
        for cand, chain in zip(candidates, chains, strict=True):
            offset = locator.find(cand.node.attributes.get("src" if cand.kind == "iframe" else "href") or "")
            technique = self._technique(cand, chain, styles, page, verdicts)
            if technique is None:
                continue
            what, element = technique
            severity = "warning" if self.policy.allows(cand.host) else "error"
            findings.append(Finding(
                "link.hidden", severity, doc.rel,
                tr("隐藏的外部链接（暗链）：{t}，读者看不到但搜索引擎能看到", "hidden off-site link (暗链): {t}; "
                   "readers cannot see it but search engines can", t=what),
                line=locator.line(offset), target=shown(cand.url), context=_describe(element),
                suggestion=tr("删除此链接并排查页面是否被篡改", "remove the link and check whether the page "
                              "was tampered with") if severity == "error" else
                tr("确认这是可展开的菜单；否则删除此链接", "make sure this is a menu readers can open; "
                   "otherwise remove the link")))
        return findings

    def _technique(self, cand: _Candidate, chain: list, styles: _PageStyles, page: _PageContext,
                   verdicts: dict) -> tuple[str, object] | None:
        anchor = cand.node
        if cand.kind == "iframe":
            size = _tiny_box(anchor, styles.of(anchor))
            if size:
                return size, anchor
        for element in chain:
            mid = element.mem_id
            if mid not in verdicts:
                verdicts[mid] = self._element_verdict(element, styles, page)
            if verdicts[mid] is not None:
                return verdicts[mid]
        if cand.kind == "a":
            text = anchor.text(deep=True) or ""
            if _ZERO_WIDTH.search(text):
                return tr("链接文字中含有零宽字符", "zero-width characters in the link text"), anchor
            same = _same_colour(anchor, chain, styles, cand.carriers)
            if same:
                return same, anchor
        return None

    def _element_verdict(self, element, styles: _PageStyles, page: _PageContext) -> tuple[str, object] | None:
        attrs = element.attributes
        found: tuple[str, bool] | None = None
        if "hidden" in attrs:
            found = ("hidden", True)
        else:
            found = hiding_technique(styles.of(element))
        if found is None:
            for cls in (attrs.get("class") or "").split():
                if cls in _HIDING_CLASSES:
                    found = (f"class=\"{cls}\"", _HIDING_CLASSES[cls])
                    break
        if found is None and element.tag == "marquee":
            found = _marquee(element, styles.of(element))
        if found is None:
            return None
        technique, toggleable = found
        if toggleable and page.can_show(element, styles):
            return None
        return technique, element

    # -- scripts ----------------------------------------------------------------------------------

    def _script(self, doc: HtmlDoc, text: str) -> Finding | None:
        low = text.lower()
        if not any(marker in low for marker in _SCRIPT_MARKERS):
            return None
        decoded = _decode_script(text)
        linked = [h for h in map(normal_host, _LINK_HREF_HOST.findall(decoded)) if h != self.origin.host]
        foreign = linked or [h for h in map(normal_host, _SCRIPT_HOST.findall(decoded)) if h != self.origin.host]
        what = None
        severity = "error"
        if linked and _WRITE.search(decoded):
            what = tr("脚本写入外部链接（document.write/innerHTML）", "a script writes off-site links "
                      "(document.write/innerHTML)")
            if all(self.policy.allows(h) for h in linked):
                severity = "warning"
        charcodes = _FROM_CHAR_CODE.search(text)
        if what is None and charcodes:
            hidden_text = _from_char_codes(charcodes.group(1))
            if _LINK_TAG.search(hidden_text) or "http" in hidden_text.lower() or _WRITE.search(text) or _EVAL.search(text):
                what = tr("用 String.fromCharCode 混淆的脚本（隐藏链接或跳转）",
                          "a script obfuscated with String.fromCharCode (hidden link or redirect)")
        if (what is None and _REFERRER.search(decoded) and _LOCATION_SET.search(decoded)
                and _TESTS_TEXT.search(decoded) and _SEARCH_ENGINE.search(decoded)):
            what = tr("按来源页（document.referrer）跳转：从搜索引擎来的访问者被带到别处",
                      "a redirect by document.referrer: visitors from search engines are sent elsewhere")
        if what is None and _USER_AGENT.search(decoded) and _CRAWLER.search(decoded) and (
                _WRITE.search(decoded) or _LOCATION_SET.search(decoded)):
            what = tr("按 User-Agent 区别对待搜索引擎爬虫（cloaking）", "the script treats search-engine crawlers "
                      "differently by user agent (cloaking)")
        if what is None:
            return None
        snippet = text.strip()[:60]
        line = doc.line_of_text(snippet) if snippet else None
        target = foreign[0] if foreign else None
        return Finding("link.hidden", severity, doc.rel, tr("可疑脚本：{w}", "suspicious script: {w}", w=what),
                       line=line, target=target, context=re.sub(r"\s+", " ", text.strip())[:200],
                       suggestion=tr("删除此脚本并排查页面是否被篡改", "remove the script and check whether the "
                                     "page was tampered with"))


def _renumber(rule: Rule, order: int) -> Rule:
    return Rule(rule.selector, rule.decls, rule.specificity, order, rule.key, rule.reveal)


class _PageContext:
    """Lazily computed facts about a page that tell toggled UI (menus, tabs) from hidden content."""

    def __init__(self, doc: HtmlDoc) -> None:
        self.doc = doc
        self._controls: set[str] | None = None
        self._scripts: str | None = None

    def _referenced(self) -> tuple[set[str], str]:
        if self._controls is None:
            controls: set[str] = set()
            texts: list[str] = []
            for node in self.doc.tree.css("[aria-controls],[data-target],[data-bs-target],a[href^='#'],"
                                          "label[for],script"):
                attrs = node.attributes
                if node.tag == "script":
                    texts.append(node.text() or "")
                    continue
                for key in ("aria-controls", "data-target", "data-bs-target", "href", "for"):
                    value = attrs.get(key)
                    if value:
                        controls.update(v.lstrip("#") for v in value.split())
            texts.extend(re.findall(r"\son[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*')", self.doc.html))
            self._controls, self._scripts = controls, "\n".join(texts)
        return self._controls, self._scripts or ""

    def can_show(self, element, styles: _PageStyles) -> bool:
        """Whether interaction can show ``element``: a reveal rule, a control naming it, tab siblings, a menu."""
        if element.mem_id in styles.revealable:
            return True
        attrs = element.attributes
        if (attrs.get("role") or "") in ("tabpanel", "menu", "dialog", "tooltip", "listbox"):
            return True
        controls, scripts = self._referenced()
        ident = attrs.get("id")
        if ident and (ident in controls or any(q in scripts for q in (f'"{ident}"', f"'{ident}'", f"#{ident}"))):
            return True
        classes = (attrs.get("class") or "").split()
        for cls in classes:
            if len(cls) >= 3 and re.search(r"\." + re.escape(cls) + r"(?![-\w])", scripts):
                return True
        parent = element.parent
        if parent is not None and parent.tag in ("li", "dd") and element.tag in _DISPLAY_TOGGLES:
            return True
        return bool(classes) and _visible_sibling(element, set(classes), styles)


def _visible_sibling(element, classes: set[str], styles: _PageStyles) -> bool:
    """A sibling with the same tag and a shared class that is not hidden: tab panels, slides."""
    for step in ("prev", "next"):
        node = getattr(element, step)
        seen = 0
        while node is not None and seen < 50:
            if node.tag == element.tag:
                seen += 1
                attrs = node.attributes
                sibling_classes = (attrs.get("class") or "").split()
                if classes & set(sibling_classes) and "hidden" not in attrs:
                    decls = styles.decls.get(node.mem_id)
                    if decls is None:  # not cascaded (no off-site link inside): its inline style at least
                        decls = {p: v for p, v, _ in parse_declarations(attrs.get("style") or "")}
                    if hiding_technique(decls) is None and not any(c in _HIDING_CLASSES for c in sibling_classes):
                        return True
            node = getattr(node, step)
    return False


def _tiny_box(node, decls: dict[str, str]) -> str | None:
    attrs = node.attributes
    for prop in ("width", "height"):
        value = (attrs.get(prop) or "").strip().lower()
        px = _px(value) if value else None
        if px is None and prop in decls:
            px = _px(decls[prop])
            value = decls[prop]
        if px is not None and px <= 1:
            return tr("{p}={v} 的 iframe", "an iframe with {p}={v}", p=prop, v=value)
    return None


def _marquee(node, decls: dict[str, str]) -> tuple[str, bool] | None:
    attrs = node.attributes
    amount = _number(attrs.get("scrollamount") or "")
    if amount is not None and amount >= MARQUEE_MAX_SCROLLAMOUNT:
        return f"<marquee scrollamount={attrs['scrollamount']}>", False
    for prop in ("width", "height"):
        value = (attrs.get(prop) or decls.get(prop) or "").strip()
        px = _px(value) if value else None
        if px is not None and px < 10:
            return f"<marquee {prop}={value}>", False
    return None


def _colour_carriers(node) -> list:
    """``node`` and its descendants that can set a text colour: ``font[color]``, ``[style]``."""
    child = node.child
    if child is None or (child.tag == "-text" and child.next is None):  # the usual link: text only
        return [node] if "style" in node.attributes or (node.tag == "font" and "color" in node.attributes) else []
    return node.css("font[color],[style]")


def _same_colour(anchor, chain: list, styles: _PageStyles, carriers: list) -> str | None:
    """Text coloured like its background (white on white …); ``carriers``: ``_colour_carriers(anchor)``."""
    color = None
    for inner in carriers:
        if inner.mem_id != anchor.mem_id and "color" in styles.of(inner):
            color = parse_color(styles.of(inner)["color"])
            break
    if color is None:
        for i, element in enumerate(chain):
            value = styles.of(element).get("color")
            if value and value not in ("inherit", "currentcolor"):
                color = parse_color(value)
                break
            if i == 0 and not value:
                color = _LINK_COLOR  # a link does not inherit its colour unless told to
                break
    if color is None or len(color) == 4:
        return None
    for element in chain:
        decls = styles.of(element)
        if _has_background_image(decls):
            return None
        bg = _background_color(decls)
        if bg is not None and len(bg) == 3:
            return tr("文字颜色与背景相同", "text colour equals the background") if bg == color else None
    if styles.complete and color == _WHITE:
        return tr("白色文字在白色（默认）背景上", "white text on the (default) white background")
    return None


def _describe(element) -> str:
    attrs = element.attributes
    shown_attrs = " ".join(f'{k}="{v}"' if v is not None else k for k, v in attrs.items()
                           if k in ("id", "class", "style", "hidden", "width", "height", "scrollamount"))
    text = f"<{element.tag}{' ' + shown_attrs if shown_attrs else ''}>"
    return text[:200]


def _decode_script(text: str) -> str:
    """The script plus its escaped strings decoded (%3C, \\x3c, \\u003c, &#60;), so hidden markup shows."""
    parts = [text]
    if "%" in text:
        parts.append(decode_path(text))
    if "\\x" in text or "\\u" in text:
        parts.append(_ESCAPE_X.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text))
    if "&#" in text or "&lt;" in text:
        parts.append(htmllib.unescape(text))
    for m in _FROM_CHAR_CODE.finditer(text):
        parts.append(_from_char_codes(m.group(1)))
    return "\n".join(parts)


def _from_char_codes(numbers: str) -> str:
    chars = []
    for n in numbers.split(","):
        try:
            code = int(n.strip())
        except ValueError:
            continue
        if 0 <= code < 0x110000:
            chars.append(chr(code))
    return "".join(chars)
