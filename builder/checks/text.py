"""The text a reader sees on a page, with a map from every character back to the page's HTML.

Shared by the word check (错敏词) and the preview, which marks findings where they occur. A small
regex tokenizer is used instead of a DOM because it knows each text run's offset in the source.
"""

from __future__ import annotations

import bisect
import html as htmllib
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
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

_TAG = re.compile(r"""<(/?)([A-Za-z][^\t\n\f\r />]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ATTR = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_TOKEN = re.compile(r"[ \t\n\r\f]+|&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};?)")


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

    __slots__ = ("_starts", "_targets", "_len")

    def __init__(self, starts: array, targets: array, length: int) -> None:
        self._starts = starts
        self._targets = targets
        self._len = length

    @classmethod
    def identity(cls, length: int) -> OffsetMap:
        return cls(array("q", [0]), array("q", [0]), length)

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
        k = bisect.bisect_right(self._starts, i) - 1
        return self._targets[k] + (i - self._starts[k])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Source span ``[s, e)`` covering derived characters ``start..end-1``."""
        if end <= start:
            s = self[start] if start < self._len else (self[self._len - 1] + 1 if self._len else 0)
            return s, s
        return self[start], self[end - 1] + 1

    @property
    def segments(self) -> int:
        return len(self._starts)


class _Builder:
    """Collects text pieces and the source offset of each piece's first character."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.starts = array("q")
        self.targets = array("q")
        self.length = 0
        self.last = BLOCK_SEP  # last character emitted; a separator at the start drops leading space
        self.pending_space = -1  # source offset of collapsed whitespace not yet emitted

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
                self._append(" ", sp, True)
        if linear:
            self._append(text, src, True)
        else:
            for ch in text:
                self._append(ch, src, False)

    def _append(self, text: str, src: int, linear: bool) -> None:
        n = self.length
        if not (linear and self.starts and self.targets[-1] + (n - self.starts[-1]) == src):
            self.starts.append(n)
            self.targets.append(src)
        self.pieces.append(text)
        self.length = n + len(text)
        self.last = text[-1]

    def space(self, src: int) -> None:
        if self.last not in (" ", BLOCK_SEP) and self.pending_space < 0:
            self.pending_space = src

    def separator(self, src: int) -> None:
        self.pending_space = -1
        if self.last != BLOCK_SEP:
            self._append(BLOCK_SEP, src, False)


@dataclass(frozen=True, slots=True)
class VisibleText:
    text: str
    offsets: OffsetMap  # text position → position in the page's HTML
    truncated: bool = False  # the page was longer than the limit; only its start was read


def _add_text(b: _Builder, source: str, start: int, end: int) -> None:
    """Emit ``source[start:end]`` with whitespace collapsed and character references decoded."""
    first = _TOKEN.search(source, start, end)
    if first is None:  # the usual run of plain text
        b.add(source[start:end], start)
        return
    if first.start() == start and first.end() == end and source[start] != "&":  # whitespace between tags
        b.space(start)
        return
    pos = start
    for m in _TOKEN.finditer(source, start, end):
        if m.start() > pos:
            b.add(source[pos:m.start()], pos)
        tok = m.group()
        if tok[0] == "&":
            b.add(htmllib.unescape(tok), m.start(), linear=len(htmllib.unescape(tok)) == len(tok))
        else:
            b.space(m.start())
        pos = m.end()
    if end > pos:
        b.add(source[pos:end], pos)


def _attr_text(b: _Builder, source: str, m: re.Match, name: str) -> None:
    """Alt text, tooltips and meta descriptions: each one a block of its own."""
    attrs_at = m.start(3)
    attrs = m.group(3)
    found: dict[str, tuple[int, int]] = {}
    for a in _ATTR.finditer(attrs):
        key = a.group(1).lower()
        for g in (2, 3, 4):
            if a.group(g) is not None:
                found.setdefault(key, (attrs_at + a.start(g), attrs_at + a.end(g)))
                break
    wanted = [k for k in found if k in TEXT_ATTRS]
    if name == "input":
        kind = _attr_value(source, found.get("type")).lower()
        wanted += [k for k in found if k == "placeholder" or (k == "value" and kind in ("submit", "button", "reset"))]
    elif name == "meta" and _attr_value(source, found.get("name")).lower() == "description":
        wanted.append("content")
    for key in wanted:
        s, e = found[key]
        if source[s:e].strip():
            b.separator(s)
            _add_text(b, source, s, e)
            b.separator(e)


def _attr_value(source: str, span: tuple[int, int] | None) -> str:
    return source[span[0]:span[1]] if span else ""


def extract_visible_text(html: str, limit: int | None = None) -> VisibleText:
    """The text of ``html`` a reader sees, block-separated, with offsets into ``html``.

    ``limit`` caps how many characters of the HTML are read (huge pages); the result says so.
    """
    truncated = limit is not None and len(html) > limit
    n = limit if truncated else len(html)
    b = _Builder()
    closers: dict[str, re.Pattern] = {}
    pos = 0
    while pos < n:
        lt = html.find("<", pos, n)
        if lt < 0:
            lt = n
        if lt > pos:
            _add_text(b, html, pos, lt)
        if lt >= n:
            break
        if html.startswith("<!--", lt):
            end = html.find("-->", lt + 4, n)
            pos = n if end < 0 else end + 3
            continue
        m = _TAG.match(html, lt, n)
        if m is None:
            nxt = html[lt + 1:lt + 2]
            if nxt in ("!", "?", "/"):  # doctype, processing instruction, bogus comment
                end = html.find(">", lt, n)
                pos = n if end < 0 else end + 1
            else:  # a literal "<" in text
                _add_text(b, html, lt, lt + 1)
                pos = lt + 1
            continue
        pos = m.end()
        name = m.group(2).lower()
        if m.group(1):
            if name not in INLINE:
                b.separator(lt)
            continue
        if name not in INLINE:
            b.separator(lt)
        if m.group(3) and ("=" in m.group(3)):
            _attr_text(b, html, m, name)
        if name in SKIP or name in RCDATA:
            close = closers.get(name)
            if close is None:
                close = closers[name] = re.compile(rf"</{name}[\s/>]", re.IGNORECASE)
            c = close.search(html, pos, n)
            end = c.start() if c else n
            if name in RCDATA:
                _add_text(b, html, pos, end)
            b.separator(end)
            gt = html.find(">", end, n) if c else -1
            pos = n if gt < 0 else gt + 1
    text = "".join(b.pieces)
    if not b.starts:
        b.starts.append(0)
        b.targets.append(0)
    return VisibleText(text, OffsetMap(b.starts, b.targets, len(text)), truncated)


def visible_text(doc: HtmlDoc) -> tuple[str, OffsetMap]:
    """``(text, offsets)`` of a page: ``offsets[i]`` is the position of ``text[i]`` in ``doc.html``.

    Blocks (paragraphs, cells, list items, titles, alt texts) are separated by ``BLOCK_SEP``;
    inline tags (``<b>``, ``<a>``, ``<span>`` …) do not break a run of text.
    """
    vt = extract_visible_text(doc.html)
    return vt.text, vt.offsets
