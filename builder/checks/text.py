"""The text a reader sees on a page, with a map from every character back to the page's HTML.

Shared by the word check (错敏词) and the preview, which marks findings where they occur. A regex
tokenizer is used instead of a DOM because it knows each text run's offset in the source. One
pattern (``_lexer``) steps over the page in C: each match is a run of text plus what follows it,
and runs of tags that only end a block (or nothing) are a single token, so Python works once per
text run, not once per tag. Tags with something to read (alt, title …) go the slow, general way.
"""

from __future__ import annotations

import bisect
import functools
import html as htmllib
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import overload

from builder.checks.base import HtmlDoc

# Put between block-level content so that words never join across paragraphs, cells or items.
BLOCK_SEP = "\n"

# Elements that flow within a line: text on both sides of them reads as one run.
INLINE = frozenset("""a abbr acronym b bdi bdo big cite code data del dfn em font i ins kbd label mark
nobr q s samp small span strike strong sub sup time tt u var wbr""".split())
# Elements whose content a reader never sees as page text (raw text up to the closing tag).
SKIP = frozenset("script style noscript template iframe xmp noembed noframes object".split())
# Raw text that is read (the browser tab title, a text area).
RCDATA = frozenset(("title", "textarea"))
# Attributes a reader sees: alternative text and tooltips; for inputs, button labels and hints.
TEXT_ATTRS = frozenset(("alt", "title"))
INPUT_ATTRS = frozenset(("value", "placeholder"))

# What _attr_text looks at: the text attributes and what decides whether they are read.
_READ_ATTRS = TEXT_ATTRS | INPUT_ATTRS | {"type", "name", "content"}

# A tag: its name, then attributes up to the first ">" outside quotes. The name may give back
# characters to the attributes when that is the only way to reach a ">" (<p"a b"c> is a p).
# Possessive attributes: giving back never finds a ">", and this keeps unclosed quotes cheap.
_TAG = r"""<(/?)([A-Za-z][^\t\n\f\r />]*)((?:[^>"']++|"[^"]*+"|'[^']*+')*+)>"""
_ATTR = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_TOKEN = re.compile(r"[ \t\n\r\f]+|&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};?)")


def _names(names: Iterable[str], any_case: bool = True) -> str:
    """A pattern for exactly one of these lower-case ASCII names; ``any_case``: in any letter case
    (ASCII only: no other case folding)."""
    trie: dict = {}
    for name in names:
        node = trie
        for c in name:
            node = node.setdefault(c, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [(f"[{c}{c.upper()}]" if any_case else c) + emit(child) for c, child in sorted(node.items()) if c]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return f"(?:{emit(trie)})"


def _lexer(any_case: bool) -> re.Pattern:
    """Text up to the next ``<``, ``&`` or space, then what stands there: one alternative each.

    Most tags only matter for whether a block ends: those with a plain ASCII name (lower case
    unless ``any_case``) that is not raw text (script, title …) and whose attributes, read the
    way ``_ATTR`` reads them, name no alt/title/placeholder/value (nor, on ``<meta>``, say
    name=description). A run of such tags and spaces is one token, a "gap": with a block tag in
    it, it separates; otherwise its spaces are one space. Every other tag is matched by ``_TAG``
    and read by ``_other_tag``. A gap form only matches where ``_TAG`` would match the same span
    with the same name, so the two ways never disagree on where a tag ends.
    """
    end = r"(?=[\t\n\f\r />])"  # where _TAG's name ends: the gap forms take the whole name
    name_char = r"""[^\s"'<>/=]"""  # an attribute name as _ATTR reads it
    # Attribute names are checked in any case; the first form skips the check for most names.
    said = rf"(?:{_names(TEXT_ATTRS | INPUT_ATTRS)}(?!{name_char}))"
    attr_name = rf"""(?:[^aAtTpPvV\s"'<>/=]{name_char}*+|(?!{said}){name_char}++)"""
    value = r"""(?:[^\s>"']++|"[^"]*+"|'[^']*+')"""
    desc = _names(["description"])
    meta_value = rf"""(?!"{desc}"|'{desc}'|{desc}(?![^\s>"'])){value}"""
    # Spaces, slashes and attributes (name, or name=value as _ATTR splits them; a quote anywhere
    # else is not a gap). The first form is the usual case, ' name=value', tried first.
    attrs, meta_attrs = (rf"(?:[ ]{attr_name}(?:={v}|\s*+=\s*+{v})?+|\s++|/|{attr_name}(?:\s*+=\s*+{v})?+)*+"
                         for v in (value, meta_value))
    end_attrs = r"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+"""  # an end tag's attributes are never read
    inline = rf"{_names(INLINE, any_case)}{end}"
    meta = rf"{_names(['meta'], any_case)}{end}"
    raw = rf"{_names(SKIP | RCDATA, any_case)}{end}"
    ascii_name = rf"[A-Za-z][A-Za-z0-9_:.-]*+{end}" if any_case else rf"[a-z][a-z0-9_:.-]*+{end}"
    inl = rf"<(?:/{inline}{end_attrs}|{inline}{attrs})>"
    blk = rf"<(?:/(?!{inline}){ascii_name}{end_attrs}|(?!{inline}|{raw}|{meta}){ascii_name}{attrs}|{meta}{meta_attrs})>"
    tag = rf"<(?:/{ascii_name}{end_attrs}|(?!{raw}|{meta}){ascii_name}{attrs}|{meta}{meta_attrs})>"
    ws = r"[ \t\n\r\f]++"
    # The number of the last group that took part tells what a gap does (see _ACTION): a block tag
    # (its group holds the first) separates; spaces alone (group: the first space) are one space.
    return re.compile(
        r"([^<& \t\n\r\f]*+)(?:"  # 1: text; a gap of inline tags alone ends the match with it
        + rf"(?:{inl})++(?:({ws})(?:{inl}|{ws})*+)?(?:({blk})(?:{tag}|{ws})*+)?"  # 2: a space, 3: a block tag
        + rf"|({blk})(?:{tag}|{ws})*+"  # 4: a gap from a block tag
        + rf"|({ws})(?:{inl}|{ws})*+(?:({blk})(?:{tag}|{ws})*+)?"  # 5: a space, 6: a block tag
        + r"|(&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};?)?)"  # 7: reference, or "&"
        + r"|(<!--(?:.*?-->|.*))"  # 8: comment (to the end when unclosed)
        + rf"|({_TAG})"  # 9: any other tag (10: "/", 11: name, 12: attributes)
        + r"|(<[!?/][^>]*+>?)"  # 13: doctype, processing instruction, bogus comment
        + r"|(<)"  # 14: a "<" that starts nothing
        + r"|(\Z))",  # 15: end
        re.DOTALL)


_LEX_LOWER = _lexer(any_case=False)  # where tag names are lower case: faster than the general one


@functools.cache
def _any_case_lexer() -> re.Pattern:
    """The lexer for pages with tag names in capitals: compiled (~15 ms) only when one turns up."""
    return _lexer(any_case=True)


_CLOSERS = {name: re.compile(rf"</{name}[\s/>]", re.IGNORECASE) for name in SKIP | RCDATA}
_REF, _OTHER_TAG, _LT, _END = 7, 9, 14, 15
_SEPARATE, _SPACE, _NOTHING, _OTHER = 0, 1, 2, 3
# What to do after the text, by the last group that took part (m.lastindex).
_ACTION = (_OTHER, _NOTHING, _SPACE, _SEPARATE, _SEPARATE, _SPACE, _SEPARATE, _OTHER, _NOTHING, _OTHER,
           _OTHER, _OTHER, _OTHER, _NOTHING, _OTHER, _OTHER)


def is_cjk(ch: str) -> bool:
    """A Han character (CJK unified or compatibility ideograph)."""
    return ("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"
            or "\U00020000" <= ch <= "\U0003134f")


class OffsetMap(Sequence[int]):
    """Position in a derived string → position in its source.

    Stored as piecewise-linear segments (start in the derived string, start in the source), so a
    20 MB page costs a few kilobytes instead of one integer per character. Behaves like a read-only
    list of ints: ``offsets[i]`` is the source position of character ``i``.
    """

    __slots__ = ("_starts", "_targets", "_len", "_pieces")

    def __init__(self, starts: Sequence[int], targets: Sequence[int], length: int) -> None:
        self._starts = starts
        self._targets = targets
        self._len = length
        self._pieces: list[str] | None = None

    @classmethod
    def identity(cls, length: int) -> OffsetMap:
        return cls(array("q", [0]), array("q", [0]), length)

    @classmethod
    def of_pieces(cls, pieces: list[str], targets: list[int], length: int) -> OffsetMap:
        """The map of ``"".join(pieces)`` (``length`` characters) where ``pieces[k]`` starts at ``targets[k]``.

        The segment starts are only summed up when a position is first asked for (most pages
        have no finding to place); until then the map holds on to the pieces.
        """
        omap = cls(array("q", [0]), array("q", [0]), length)
        if pieces:
            omap._pieces, omap._targets = pieces, targets
        return omap

    def _segments(self) -> tuple[Sequence[int], Sequence[int]]:
        if self._pieces is not None:
            starts = array("q", accumulate(map(len, self._pieces), initial=0))
            starts.pop()
            self._starts, self._targets, self._pieces = starts, array("q", self._targets), None
        return self._starts, self._targets

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, i: int) -> int: ...

    @overload
    def __getitem__(self, i: slice) -> list[int]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._len))]
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("offset out of range")
        starts, targets = self._segments()
        k = bisect.bisect_right(starts, i) - 1
        return targets[k] + (i - starts[k])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Source span ``[s, e)`` covering derived characters ``start..end-1``."""
        if end <= start:
            s = self[start] if start < self._len else (self[self._len - 1] + 1 if self._len else 0)
            return s, s
        return self[start], self[end - 1] + 1

    @property
    def segments(self) -> int:
        return len(self._segments()[0])


class _Builder:
    """Text pieces and the source offset of each piece's first character (the rest follow linearly).

    The tokenizer's loop appends to ``pieces``/``srcs`` itself; these methods serve the rarer paths.
    """

    __slots__ = ("pieces", "srcs", "pending_space")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.srcs: list[int] = []
        self.pending_space = -1  # source offset of collapsed whitespace not yet emitted

    @property
    def last(self) -> str:
        """Last character emitted; a separator before the start drops leading space."""
        return self.pieces[-1][-1] if self.pieces else BLOCK_SEP

    def add(self, text: str, src: int, linear: bool = True) -> None:
        """Append ``text`` whose characters sit at ``src, src+1, …`` (or all at ``src`` if not linear)."""
        if not text:
            return
        if self.pending_space >= 0:
            sp = self.pending_space
            self.pending_space = -1
            # A line break or space between two Han characters is source formatting, not a gap
            # a reader sees as separating words (CSS Text 3 segment-break rules).
            if not (is_cjk(self.last) and is_cjk(text[0])):
                self.pieces.append(" ")
                self.srcs.append(sp)
        if linear:
            self.pieces.append(text)
            self.srcs.append(src)
        else:
            for ch in text:
                self.pieces.append(ch)
                self.srcs.append(src)

    def space(self, src: int) -> None:
        if self.last not in (" ", BLOCK_SEP) and self.pending_space < 0:
            self.pending_space = src

    def separator(self, src: int) -> None:
        self.pending_space = -1
        if self.last != BLOCK_SEP:
            self.pieces.append(BLOCK_SEP)
            self.srcs.append(src)

    def reference(self, ref: str, src: int, cache: dict[str, str]) -> None:
        """A character reference (``&amp;``, ``&#20013;``): its characters all sit at the ``&``."""
        text = cache.get(ref)
        if text is None:
            text = cache[ref] = htmllib.unescape(ref)
        self.add(text, src, linear=len(text) == len(ref))

    def result(self, truncated: bool) -> VisibleText:
        text = "".join(self.pieces)
        return VisibleText(text, OffsetMap.of_pieces(self.pieces, self.srcs, len(text)), truncated)


@dataclass(frozen=True, slots=True)
class VisibleText:
    text: str
    offsets: OffsetMap  # text position → position in the page's HTML
    truncated: bool = False  # the page was longer than the limit; only its start was read


def _add_text(b: _Builder, source: str, start: int, end: int) -> None:
    """Emit ``source[start:end]`` with whitespace collapsed and character references decoded."""
    pos = start
    cache: dict[str, str] = {}
    for m in _TOKEN.finditer(source, start, end):
        if m.start() > pos:
            b.add(source[pos:m.start()], pos)
        tok = m.group()
        if tok[0] == "&":
            b.reference(tok, m.start(), cache)
        else:
            b.space(m.start())
        pos = m.end()
    if end > pos:
        b.add(source[pos:end], pos)


def _attr_text(b: _Builder, source: str, attrs_at: int, attrs: str, name: str) -> None:
    """Alt text, tooltips and meta descriptions: each one a block of its own."""
    found: dict[str, tuple[int, int]] = {}  # the first value of each attribute that may matter
    for a in _ATTR.finditer(attrs):
        g = a.lastindex  # 2-4: the value, 1: a name without one
        if g > 1:
            key = a.group(1).lower()
            if key in _READ_ATTRS and key not in found:
                found[key] = (attrs_at + a.start(g), attrs_at + a.end(g))
    wanted = [k for k in found if k in TEXT_ATTRS]
    if name == "input":
        kind = _attr_value(source, found.get("type")).lower()
        wanted += [k for k in found if k == "placeholder" or (k == "value" and kind in ("submit", "button", "reset"))]
    elif name == "meta" and "content" in found and _attr_value(source, found.get("name")).lower() == "description":
        wanted.append("content")
    for key in wanted:
        s, e = found[key]
        if source[s:e].strip():
            b.separator(s)
            _add_text(b, source, s, e)
            b.separator(e)


def _attr_value(source: str, span: tuple[int, int] | None) -> str:
    return source[span[0]:span[1]] if span else ""


def _other_tag(b: _Builder, html: str, m: re.Match, n: int) -> int:
    """A tag the fast forms leave alone (one with text attributes, raw text, an odd name).

    Returns where reading goes on: after the tag, or after the element's raw text.
    """
    lt, pos = m.start(_OTHER_TAG), m.end()
    name = m.group(_OTHER_TAG + 2).lower()
    if name not in INLINE:
        b.separator(lt)
    if m.group(_OTHER_TAG + 1):  # an end tag
        return pos
    attrs = m.group(_OTHER_TAG + 3)
    if attrs and "=" in attrs:
        _attr_text(b, html, m.start(_OTHER_TAG + 3), attrs, name)
    if name in SKIP or name in RCDATA:
        c = _CLOSERS[name].search(html, pos, n)
        end = c.start() if c else n
        if name in RCDATA:
            _add_text(b, html, pos, end)
        b.separator(end)
        gt = html.find(">", end, n) if c else -1
        pos = n if gt < 0 else gt + 1
    return pos


def extract_visible_text(html: str, limit: int | None = None) -> VisibleText:
    """The text of ``html`` a reader sees, block-separated, with offsets into ``html``.

    ``limit`` caps how many characters of the HTML are read (huge pages); the result says so.
    """
    truncated = limit is not None and len(html) > limit
    n = limit if truncated else len(html)
    b = _Builder()
    # The common steps (text, gaps) are written out here on local names; the rest goes through b.
    pieces, srcs = b.pieces, b.srcs
    piece, src = pieces.append, srcs.append
    pending = -1  # b.pending_space
    cache: dict[str, str] = {}
    lexer = _LEX_LOWER  # until a tag name in capitals turns up
    pos = kind = 0
    while kind != _END:
        for m in lexer.finditer(html, pos, n):
            text = m.group(1)
            if text:
                if pending >= 0:
                    if not (is_cjk(pieces[-1][-1]) and is_cjk(text[0])):
                        piece(" ")
                        src(pending)
                    pending = -1
                piece(text)
                src(m.start())
            kind = m.lastindex
            action = _ACTION[kind]
            if action == _SEPARATE:
                pending = -1
                if pieces and pieces[-1][-1] != BLOCK_SEP:
                    piece(BLOCK_SEP)
                    src(m.start(kind))
            elif action == _SPACE:
                if pending < 0 and pieces and pieces[-1][-1] not in (" ", BLOCK_SEP):
                    pending = m.start(kind)
            elif action == _NOTHING:  # inline tags only, a comment, a doctype
                pass
            elif kind == _END:
                break
            else:
                b.pending_space = pending
                if kind == _REF:
                    ref = m.group(kind)
                    if ref == "&":  # not a character reference: text
                        b.add(ref, m.start(kind))
                    else:
                        b.reference(ref, m.start(kind), cache)
                elif kind == _LT:
                    lt = m.start(kind)
                    # At the limit a "<!--" or "<!" still starts a comment (as when read whole).
                    if not (html.startswith("<!--", lt) or html[lt + 1:lt + 2] in ("!", "?", "/")):
                        b.add("<", lt)
                elif lexer is _LEX_LOWER and not m.group(_OTHER_TAG + 2).islower():
                    lexer, pos = _any_case_lexer(), m.start(kind)  # names in capitals: read on with the other lexer
                    break
                else:
                    after = _other_tag(b, html, m, n)
                    if after != m.end():  # after an element's raw text: tokenize afresh from there
                        pos, pending = after, b.pending_space
                        break
                pending = b.pending_space
        else:
            break  # never reached: the last match is the end
    return b.result(truncated)


def visible_text(doc: HtmlDoc) -> tuple[str, OffsetMap]:
    """``(text, offsets)`` of a page: ``offsets[i]`` is the position of ``text[i]`` in ``doc.html``.

    Blocks (paragraphs, cells, list items, titles, alt texts) are separated by ``BLOCK_SEP``;
    inline tags (``<b>``, ``<a>``, ``<span>`` …) do not break a run of text.
    """
    vt = extract_visible_text(doc.html)
    return vt.text, vt.offsets
