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


class RelativeTo:
    """``relative(from_url, to)`` for one page, each answer remembered (a page links to the same
    few places — its topic, columns, static files — many times)."""

    __slots__ = ("from_url", "memo")

    def __init__(self, from_url: str) -> None:
        self.from_url = from_url
        self.memo: dict[str, str] = {}

    def __call__(self, to: str) -> str:
        out = self.memo.get(to)
        if out is None:
            out = self.memo[to] = relative(self.from_url, to)
        return out


def absolute(base_url: str, url: str) -> str:
    return base_url.rstrip("/") + "/" + quote(url, safe="/")
