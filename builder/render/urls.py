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


def absolute(base_url: str, url: str) -> str:
    return base_url.rstrip("/") + "/" + quote(url, safe="/")
