"""Directory-style URLs ("a/b/") and the relative links between them.

Pages link to each other with relative URLs so the site works under any deployment prefix
(base_url "https://host/zhuanti/") and the checker can resolve every link inside public/.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_SAFE = "/#?=&%:~+-_.!*'()"
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9/#?=&%:~+\-_.!*'()]")


def relative(from_url: str, to: str) -> str:
    """Relative link from the page at directory URL ``from_url`` to the output path or URL ``to``."""
    start = [s for s in from_url.split("/") if s]
    target = [s for s in to.split("/") if s]
    common = 0
    for a, b in zip(start, target, strict=False):
        if a != b:
            break
        common += 1
    parts = [".."] * (len(start) - common) + target[common:]
    rel = "/".join(parts) or "."
    if to == "" or to.endswith("/"):
        rel += "/"
    if _NEEDS_QUOTING.search(rel) is None:  # the usual case; quote() costs more than the rest
        return rel
    return quote(rel, safe=_SAFE)


# Links shared between pages: (the page's parent folder, its depth, target) → link. Two pages in one
# folder link to any place outside their own folders alike (the header, navigation, static files
# and footer of every page of a column), so each such link is worked out once per folder.
_SHARED: dict[tuple[str, int, str], str] = {}
_SHARED_MAX = 100_000


class RelativeTo:
    """``relative(from_url, to)`` for one page, each answer remembered (a page links to the same
    few places — its topic, columns, static files — many times), and shared with the other pages
    of its folder when ``to`` lies outside the page's own folder."""

    __slots__ = ("from_url", "memo", "own", "folder")

    def __init__(self, from_url: str) -> None:
        self.from_url = from_url
        self.memo: dict[str, str] = {}
        start = [s for s in from_url.split("/") if s]
        self.own = "/".join(start) + "/" if start else ""  # a target under it depends on the page itself
        self.folder = ("/".join(start[:-1]), len(start))

    def __call__(self, to: str) -> str:
        out = self.memo.get(to)
        if out is None:
            out = self.memo[to] = self._shared(to)
        return out

    def _shared(self, to: str) -> str:
        # Only plain targets ("a/b/", "static/x.css"): their path segments are the text between "/".
        if not self.own or (to + "/").startswith(self.own) or to.startswith("/") or "//" in to:
            return relative(self.from_url, to)
        key = (*self.folder, to)
        out = _SHARED.get(key)
        if out is None:
            if len(_SHARED) >= _SHARED_MAX:
                _SHARED.clear()
            out = _SHARED[key] = relative(self.from_url, to)
        return out


def absolute(base_url: str, url: str) -> str:
    return base_url.rstrip("/") + "/" + quote(url, safe="/")
