"""Attachments (spreadsheets, CSV, office documents) are published only when a page links to them.

A worksheet left in a content folder — the draft of a data column, a list with ID numbers — must not
appear on the public site just because it sits beside the pages. As Hugo does with a bundle's
resources, such a file is published when some published page's Markdown names it; the others are
left out and listed in the build summary. Photos and videos go through the media pipeline; other
files (PDF, images used by templates, site_src/assets/) are published as before.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from builder.content.model import Site
from builder.i18n import tr

ATTACHMENT_EXTS = frozenset({
    ".csv", ".tsv", ".xls", ".xlsx", ".xlsm", ".xlsb", ".ods", ".et",  # spreadsheets (WPS: .et)
    ".doc", ".docx", ".docm", ".odt", ".rtf", ".wps",                 # documents
    ".ppt", ".pptx", ".pptm", ".odp", ".dps",                          # presentations
})
# Where Markdown names a file: [text](target "title"), reference definitions, raw HTML href/src.
_INLINE = re.compile(r"\]\(\s*<?([^)\s>]+)")
_REFDEF = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:[ \t]*<?([^\s>]+)", re.MULTILINE)
_HTML = re.compile(r"""\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
# Code shows a path without linking it: fenced blocks and inline code spans are not links.
_FENCED = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)


def is_attachment(path: Path) -> bool:
    return path.suffix.lower() in ATTACHMENT_EXTS


def linked_targets(body: str, source_rel: str) -> set[str]:
    """Site-relative paths the Markdown ``body`` of the file ``source_rel`` links to."""
    base = posixpath.dirname(source_rel)
    out = set()
    body = _CODE_SPAN.sub("", _FENCED.sub("", body))
    hrefs = [m.group(1) for m in _INLINE.finditer(body)] + [m.group(1) for m in _REFDEF.finditer(body)]
    hrefs += [next(g for g in m.groups() if g is not None) for m in _HTML.finditer(body)]
    for href in hrefs:
        path = urlsplit(href).path
        if not path or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^/", href):
            continue
        out.add(posixpath.normpath(posixpath.join(base, unquote(path))))
    return out


def leave_out_unused(site: Site, root: Path, memo: dict[str, tuple[str, set[str]]] | None = None) -> list[str]:
    """Drop attachments under topics/ that no published page links to; returns their site-relative paths
    (also noted in ``site.notes`` for the build summary). ``memo`` (source → (body, targets)) keeps
    what each page links to between builds."""
    topics = root / "topics"
    candidates = [a for a in site.assets if not a.media and is_attachment(a.source) and a.source.is_relative_to(topics)]
    if not candidates:
        return []
    used: set[str] = set()
    memo = {} if memo is None else memo
    seen = set()
    for page in site.all_pages():
        if page.body:
            known = memo.get(page.rel_source)
            if known is None or known[0] != page.body:
                known = memo[page.rel_source] = (page.body, linked_targets(page.body, page.rel_source))
            used |= known[1]
            seen.add(page.rel_source)
    for gone in memo.keys() - seen:
        del memo[gone]
    left_out = [a for a in candidates if a.source.relative_to(root).as_posix() not in used]
    if left_out:
        dropped = {id(a) for a in left_out}
        site.assets = [a for a in site.assets if id(a) not in dropped]
        names = [a.source.relative_to(root).as_posix() for a in left_out]
        site.notes.append(tr("未发布 {n} 个没有页面链接的附件（表格、文档）：{f}",
                             "left out {n} attachment(s) no page links to (spreadsheets, documents): {f}",
                             n=len(names), f="、".join(names) if len(names) <= 10 else "、".join(names[:10]) + " …"))
        return names
    return []
