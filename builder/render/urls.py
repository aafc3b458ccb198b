"""Directory-style URLs ("a/b/") and the relative links between them.

Pages link to each other with relative URLs so the site works under any deployment prefix
(base_url "https://host/zhuanti/") and the checker can resolve every link inside public/.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote


def relative(from_url: str, to: str) -> str:
    """Relative link from the page at directory URL ``from_url`` to the output path or URL ``to``."""
    rel = posixpath.relpath(to.rstrip("/") or ".", from_url.rstrip("/") or ".")
    if (to == "" or to.endswith("/")) and not rel.endswith("/"):
        rel += "/"
    return quote(rel, safe="/#?=&%:~+-_.!*'()")


def absolute(base_url: str, url: str) -> str:
    return base_url.rstrip("/") + "/" + quote(url, safe="/")
