"""The shared nouns of every check family: Finding, the page being checked, the run's result.

Every family module (links, hidden, words, site, browser) exposes a class with
``page(doc) -> Iterable[Finding]`` (per page, may run in a worker process) and
``finish() -> Iterable[Finding]`` (site-wide rules after all pages were seen).
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)



class Memo(dict):
    """``memo[key]``: what ``make(key)`` gave the first time (None included), remembered; emptied
    when it holds ``limit`` entries. For what pages repeat from page to page (links, hosts, style
    sheets): a hit is one dict lookup."""

    def __init__(self, make, limit: int) -> None:
        super().__init__()
        self.make = make
        self.limit = limit

    def __missing__(self, key):
        if len(self) >= self.limit:
            self.clear()
        value = self[key] = self.make(key)
        return value

@dataclass(frozen=True, slots=True)
class Finding:
    """One problem on one page. ``page`` is the path under the checked folder (posix)."""

    rule: str
    severity: str
    page: str
    message: str
    line: int | None = None
    target: str | None = None
    context: str | None = None
    suggestion: str | None = None
    # For pages zhuanti built: the source file (site-relative, ``#row=N`` for a data record) and line.
    source: str | None = None
    source_line: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# The elements the families read on every page (links, media, scripts, styles, meta tags).
QUERIED_TAGS = ("a", "area", "img", "source", "video", "audio", "track", "link", "script", "iframe", "frame",
                "object", "embed", "form", "input", "meta", "style")
_TAGS_QUERY = ",".join(QUERIED_TAGS)


class HtmlDoc:
    """A built page: its text, a lazily parsed selectolax tree and offset → line lookup."""

    def __init__(self, root: Path, path: Path | None, html: str, rel: str | None = None,
                 utf8: bytes | None = None) -> None:
        """``path`` or ``rel`` (the page relative to ``root``, posix): one of them is enough.
        ``utf8``: ``html`` encoded as UTF-8, when the caller has it (the file's bytes): parsed as is."""
        self.root = root
        if path is not None:
            self.path = path
        self.rel = rel if rel is not None else path.relative_to(root).as_posix()
        self.html = html
        self._utf8 = utf8

    @cached_property
    def path(self) -> Path:
        return Path(self.root) / self.rel

    @classmethod
    def load(cls, root: Path, path: Path) -> HtmlDoc:
        text, utf8 = decode_html_utf8(path.read_bytes())
        return cls(root, path, text, utf8=utf8)

    @cached_property
    def tree(self):
        from selectolax.lexbor import LexborHTMLParser

        data, self._utf8 = self._utf8, None
        return LexborHTMLParser(data if data is not None else self.html)  # the parser reads UTF-8 bytes

    @cached_property
    def _queried(self) -> list[tuple[str, object]]:
        # type selectors only: no element is listed twice
        queried, by_tag = [], {}
        for node in self.tree.css(_TAGS_QUERY):
            tag = node.tag
            queried.append((tag, node))
            same = by_tag.get(tag)
            if same is None:
                by_tag[tag] = [node]
            else:
                same.append(node)
        self.__dict__["_by_tag"] = by_tag  # sorted by tag in the same pass
        return queried

    @cached_property
    def _by_tag(self) -> dict[str, list]:
        self._queried  # noqa: B018 - fills it in
        return self.__dict__["_by_tag"]

    def elements(self, *tags: str) -> list:
        """The page's elements with one of ``tags`` (from ``QUERIED_TAGS``), in document order; with
        no tags, ``(tag, element)`` of every element of ``QUERIED_TAGS``.

        The families ask for these on every page: one query of the tree answers all of them.
        """
        if not tags:
            return self._queried
        if len(tags) == 1:
            return self._by_tag.get(tags[0], [])
        wanted = frozenset(tags)
        return [node for tag, node in self._queried if tag in wanted]

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        find = self.html.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        return starts

    def line_of(self, offset: int) -> int:
        """1-based line of a character offset in ``html``."""
        return bisect.bisect_right(self._line_starts, max(offset, 0))

    def line_of_text(self, needle: str, start: int = 0) -> int | None:
        """Line of the first occurrence of ``needle`` (None when absent)."""
        if not needle:
            return None
        i = self.html.find(needle, start)
        return self.line_of(i) if i >= 0 else None

    @property
    def is_home(self) -> bool:
        return self.rel == "index.html"


_UTF8_DECLARED = re.compile(rb"charset\s*=\s*[\"']?\s*utf-?8", re.IGNORECASE)


def decode_html(data: bytes) -> str:
    """Decode page bytes: BOM (UTF-8/UTF-16), then UTF-8, then the charset the page declares, then GB18030.

    A page that declares UTF-8 but has a stray invalid byte stays UTF-8 (U+FFFD where the byte was)
    instead of being read whole as GB18030, which would garble every Chinese character.
    """
    return decode_html_utf8(data)[0]


def decode_html_utf8(data: bytes) -> tuple[str, bytes | None]:
    """``decode_html``, and ``data`` again when it is exactly the text's UTF-8 (valid UTF-8, no BOM)."""
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-8"), data
        except UnicodeDecodeError:
            pass
    return _decode_other(data), None


def _decode_other(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _UTF8_DECLARED.search(data[:2048]):
        return data.decode("utf-8", errors="replace")
    head = data[:2048].lower()
    for enc in ("gb18030", "gbk", "gb2312", "big5"):
        if enc.encode() in head:
            return data.decode("gb18030" if enc.startswith("gb") else enc, errors="replace")
    return data.decode("gb18030", errors="replace")


class Check(Protocol):
    def page(self, doc: HtmlDoc) -> Iterable[Finding]: ...

    def finish(self) -> Iterable[Finding]: ...


@dataclass
class CheckResult:
    """What a check run produced; reporters and the publish gate read it."""

    root: str
    pages: int
    findings: list[Finding] = field(default_factory=list)
    home_page: str | None = "index.html"
    notes: list[str] = field(default_factory=list)  # e.g. inspection veto thresholds reached

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def summary(self) -> dict:
        by_rule = Counter(f.rule for f in self.findings)
        home = Counter(f.rule for f in self.findings if f.page == self.home_page)
        return {
            "pages": self.pages,
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "by_rule": dict(sorted(by_rule.items())),
            "home_by_rule": dict(sorted(home.items())),
            "other_by_rule": {r: n - home.get(r, 0) for r, n in sorted(by_rule.items())},
            "notes": list(self.notes),
        }

    def failed(self, fail_on: str = "error") -> bool:
        bar = severity_rank(fail_on)
        return any(severity_rank(f.severity) >= bar for f in self.findings)
