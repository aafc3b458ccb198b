"""For the live preview: one rendered page's fast findings (links, anchors, words, footer identity)
and the same page with each finding marked where it occurs, plus a small panel listing them all.

``zhuanti serve`` runs ``FastChecks.page`` then ``mark_findings`` on every page it serves, so content
staff see a wrong word where they typed it. The page's HTML is taken as given (the served text);
the output folder is only read (which files exist, the anchors of linked pages), never written.
"""

from __future__ import annotations

import bisect
import html as htmllib
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

from builder.checks.base import Finding, HtmlDoc, severity_rank
from builder.checks.links import LinkCheck
from builder.checks.site import RULE_IDENTITY, SiteCheck
from builder.checks.text import extract_visible_text
from builder.checks.words import WordCheck, WordMatcher
from builder.config import SiteConfig
from builder.i18n import tr

ATTR = "data-zhuanti-finding"
PANEL_ID = "zhuanti-findings"
# Start tags that carry a link attribute a link finding can point at.
_LINK_TAG = re.compile(r"""<(a|area|img|source|video|audio|track|link|script|iframe|frame|object|embed|form|input)\b"""
                       r"""((?:[^>"']|"[^"]*"|'[^']*')*)>""", re.IGNORECASE)
_ATTR_VALUE = re.compile(r"""([^\s"'<>/=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_ANY_TAG = re.compile(r"""<[A-Za-z/!?](?:[^>"']|"[^"]*"|'[^']*')*>""")
# Separators inside attribute values that hold several URLs (srcset, style url(), refresh content).
_TOKENS = re.compile(r"""[\s,()'";=]+""")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
# Text of these elements is not rendered as HTML: a <mark> inside would show as literal text.
_RAW_TEXT = ("title", "textarea")


class FastChecks:
    """The checks ``zhuanti serve`` runs on a page as it is served: links and anchors (against the
    output folder as it is now), words (skipped when ``matcher`` is None) and the footer identity.

    Make a new one after every rebuild: the folder's file list and the anchors of the pages a link
    points at are read once per instance. Build the matcher once (``WordMatcher.from_dir``) and reuse it.
    """

    def __init__(self, root: Path, *, site: SiteConfig | None, matcher: WordMatcher | None,
                 manifest: dict | None = None, files: Iterable[str] | None = None) -> None:
        self.root = Path(root)
        # The manifest names each page's source file, so link messages say where to fix them.
        # ``files`` (the folder's files, when the caller keeps that list) spares a scan of the folder.
        self.links = LinkCheck(self.root, manifest if manifest is not None else {}, site, files=files)
        self.words: WordCheck | None = None
        if matcher is not None:
            self.words = WordCheck(None)
            self.words.matcher = matcher  # a cached_property: the instance value wins over loading the lists
        self.site = SiteCheck(site, None)

    def page(self, page_rel: str, html: str, source: str | None = None) -> list[Finding]:
        """Findings of one page (``page_rel`` under the output folder; ``html`` as served; ``source``
        its source file, named in link messages, when the manifest given to the constructor did not)."""
        if source:
            self.links.sources[page_rel] = source
        doc = memory_doc(self.root, page_rel, html)
        findings = list(self.links.page(doc))
        findings.extend(self.links.finish())  # anchors on other pages, read from the folder
        if self.words is not None:
            findings.extend(self.words.page(doc))
        findings.extend(f for f in self.site.page(doc) if f.rule == RULE_IDENTITY)
        findings.sort(key=lambda f: (f.line or 0, f.rule))
        return findings


def memory_doc(root: Path, page_rel: str, html: str) -> HtmlDoc:
    """An HtmlDoc for a page whose text is already in memory (``rel`` is ``page_rel``)."""
    return HtmlDoc(Path(root), Path(root) / page_rel, html)


def fast_findings(html: str, page_rel: str, *, root: Path, site: SiteConfig | None,
                  matcher: WordMatcher | None, manifest: dict | None = None,
                  files: Iterable[str] | None = None) -> list[Finding]:
    """Findings of one rendered page of the output folder ``root`` (see ``FastChecks``)."""
    return FastChecks(root, site=site, matcher=matcher, manifest=manifest, files=files).page(page_rel, html)


def source_line(text: str, finding: Finding) -> int | None:
    """The line of the page's source file where the finding's target was written, if it can be found.

    Words are found as typed; a link was usually rewritten by the build (``b.md`` → ``../b/``), so its
    last path segment is looked for too.
    """
    target = (finding.target or "").removesuffix("…").strip()
    if not target:
        return None
    needles = [target]
    if finding.rule.startswith("link."):
        bare = unquote(target.split("#", 1)[0].split("?", 1)[0]).rstrip("/")
        last = bare.rsplit("/", 1)[-1]
        needles += [bare, last] if last not in (".", "..") else [bare]
    for needle in needles:
        i = text.find(needle) if needle else -1
        if i >= 0:
            return text.count("\n", 0, i) + 1
    return None


# ---------------------------------------------------------------- marking


def mark_findings(html: str, findings: Iterable[Finding], *, source: str | None = None,
                  source_text: str | None = None) -> str:
    """``html`` with each finding marked in place where possible, and a panel listing all of them.

    A word finding wraps the matched text in ``<mark data-zhuanti-finding="word.typo" title="…">``
    (one mark per text piece when the word runs across inline tags); a link finding adds
    ``data-zhuanti-finding="link.broken"`` to the <a>/<img>/… that holds the link. Findings that
    cannot be placed (in the <title>, site-wide ones) are only listed in the panel. ``source`` names
    the page's source file (``source_text`` its text): the panel says where to fix each finding.
    """
    findings = list(findings)
    if not findings:
        return html
    edits: list[tuple[int, int, str]] = []  # (position, order, text to insert)
    placed: set[int] = set()
    _mark_words(html, findings, edits, placed)
    _mark_links(html, findings, edits, placed)
    out = html
    for pos, _order, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:pos] + text + out[pos:]
    panel = _panel(findings, placed, source, source_text)
    ends = list(_BODY_END.finditer(out))
    at = ends[-1].start() if ends else len(out)
    return out[:at] + panel + out[at:]


def _tip(f: Finding) -> str:
    tip = f.message
    if f.suggestion:
        tip += tr("；建议：{s}", "; suggestion: {s}", s=f.suggestion)
    return tip


def _esc(text: object) -> str:
    return htmllib.escape("" if text is None else str(text), quote=True)


def _mark_words(html: str, findings: list[Finding], edits: list, placed: set[int]) -> None:
    wanted = [(i, f) for i, f in enumerate(findings) if f.rule.startswith("word.") and f.target]
    if not wanted:
        return
    vt = extract_visible_text(html)
    text = vt.text
    line_starts = [0] + [m.end() for m in re.finditer("\n", html)]
    lower = html.lower()
    used: list[tuple[int, int]] = []  # html spans already marked
    for i, f in wanted:
        spans = []
        start = text.find(f.target)
        while start >= 0:
            s, e = vt.offsets.span(start, start + len(f.target))
            spans.append((s, _entity_end(html, s, e)))
            start = text.find(f.target, start + len(f.target))
        # Prefer the occurrence on the finding's own line; each finding marks one occurrence.
        spans.sort(key=lambda span: (bisect.bisect_right(line_starts, span[0]) != f.line, span[0]))
        for s, e in spans:
            if any(s < ue and us < e for us, ue in used) or not _in_body_text(html, lower, s):
                continue
            pieces = _text_pieces(html, s, e)
            if not pieces:
                continue
            used.append((s, e))
            placed.add(i)
            for n, (ps, pe) in enumerate(pieces):
                open_tag = f'<mark {ATTR}="{_esc(f.rule)}" data-zhuanti-index="{i}" title="{_esc(_tip(f))}">'
                edits.append((ps, 2 * n + 1, open_tag))
                edits.append((pe, 0, "</mark>"))
            break


def _entity_end(html: str, s: int, e: int) -> int:
    """A span ending inside a character reference (``&amp;``) is extended past its ``;``."""
    amp = html.rfind("&", s, e)
    if amp >= 0 and ";" not in html[amp:e]:
        semi = html.find(";", e, e + 32)
        if semi >= 0 and "<" not in html[e:semi]:
            return semi + 1
    return e


def _in_body_text(html: str, lower: str, pos: int) -> bool:
    """Whether ``pos`` is in element content (not inside a tag or a <title>/<textarea>)."""
    if html.rfind("<", 0, pos) > html.rfind(">", 0, pos):
        return False  # inside a tag: an alt or title attribute
    return all(lower.rfind(f"<{t}", 0, pos) <= lower.rfind(f"</{t}", 0, pos) for t in _RAW_TEXT)


def _text_pieces(html: str, s: int, e: int) -> list[tuple[int, int]]:
    """The text runs of ``html[s:e]`` between tags (a word across ``<b>`` is two runs)."""
    pieces, pos = [], s
    for m in _ANY_TAG.finditer(html, s, e):
        if m.start() > pos:
            pieces.append((pos, m.start()))
        pos = m.end()
    if pos < e:
        pieces.append((pos, e))
    return [(a, b) for a, b in pieces if html[a:b].strip()]


def _mark_links(html: str, findings: list[Finding], edits: list, placed: set[int]) -> None:
    wanted = [(i, f) for i, f in enumerate(findings) if f.rule.startswith("link.") and f.target]
    if not wanted:
        return
    tags = []
    for m in _LINK_TAG.finditer(html):
        values, names = set(), set()
        for a in _ATTR_VALUE.finditer(m.group(2)):
            names.add(a.group(1).lower())
            values.add(htmllib.unescape(next(g for g in a.groups()[1:] if g is not None)).strip())
        tags.append((m, values, names))
    line_starts = [0] + [m.end() for m in re.finditer("\n", html)]
    marked: dict[int, list[str]] = {}  # tag end → rules already marked there
    # The most serious finding of an element goes on the element itself.
    for i, f in sorted(wanted, key=lambda item: -severity_rank(item[1].severity)):
        target = f.target.removesuffix("…")
        cut = f.target.endswith("…")  # the finding shows a long URL shortened
        candidates = [(m, names) for m, values, names in tags
                      if target in values or any(target in _TOKENS.split(v) for v in values)
                      or (cut and any(v.startswith(target) for v in values))]
        # The same link may appear several times: the one on the finding's line first.
        candidates.sort(key=lambda c: (bisect.bisect_right(line_starts, c[0].start()) != f.line, c[0].start()))
        for m, names in candidates:
            end = m.end() - (2 if m.group(0).endswith("/>") else 1)
            rules = marked.setdefault(end, [])
            if f.rule in rules:
                continue
            if not rules:
                title = "" if "title" in names else f' title="{_esc(_tip(f))}"'
                edits.append((end, 100, f' {ATTR}="{_esc(f.rule)}" data-zhuanti-index="{i}"{title}'))
            elif m.group(1).lower() == "a":
                # A second rule on the same link: a small badge inside it carries that rule too.
                edits.append((m.end(), 101, f'<span {ATTR}="{_esc(f.rule)}" data-zhuanti-index="{i}" '
                                            f'title="{_esc(_tip(f))}">⚠</span>'))
            else:
                continue
            rules.append(f.rule)
            placed.add(i)
            break


_PANEL_CSS = (
    "position:fixed;right:12px;bottom:12px;z-index:2147483647;max-width:min(420px,calc(100vw - 24px));"
    "max-height:45vh;overflow:auto;background:#fff;color:#222;border:2px solid #e03131;border-radius:6px;"
    "box-shadow:0 2px 12px rgba(0,0,0,.25);font:13px/1.5 sans-serif;text-align:left;padding:0;margin:0"
)
# Marks in the page; the panel's own items (li) are styled inline.
_MARK_CSS = (
    f"mark[{ATTR}]{{background:#ffe066;color:#000;outline:2px solid #e03131}}"
    f"[{ATTR}]:not(li):not(mark):not(span){{outline:3px dashed #e03131;outline-offset:2px}}"
    f"span[{ATTR}]{{color:#e03131;font-weight:bold}}"
)


def _where(f: Finding, source: str | None, source_text: str | None) -> str:
    """Page line, and the source file (with its line when the target is found in it)."""
    parts = [tr("页面第 {n} 行", "page line {n}", n=f.line)] if f.line else []
    if source:
        line = source_line(source_text, f) if source_text else None
        parts.append(tr("源文件 {s} 第 {n} 行", "source {s}, line {n}", s=source, n=line) if line
                     else tr("源文件 {s}", "source {s}", s=source))
    return " · ".join(parts)


def _panel(findings: list[Finding], placed: set[int], source: str | None = None,
           source_text: str | None = None) -> str:
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    colors = {"error": "#c92a2a", "warning": "#e8590c", "info": "#1864ab"}
    items = []
    for i, f in enumerate(findings):
        where = _where(f, source, source_text)
        here = "" if i in placed else tr("（未能在页面中标出）", " (not marked in the page)")
        items.append(
            f'<li {ATTR}="{_esc(f.rule)}" data-zhuanti-index="{i}" style="margin:0;padding:6px 10px;'
            f'border-top:1px solid #eee;list-style:none;cursor:pointer">'
            f'<b style="color:{colors.get(f.severity, "#222")}">{_esc(f.rule)}</b> '
            f'<span style="color:#666">{_esc(where)}{_esc(here)}</span><br>{_esc(f.message)}'
            + (f'<br><span style="color:#2b8a3e">{_esc(tr("建议：", "suggestion: "))}{_esc(f.suggestion)}</span>'
               if f.suggestion else "")
            + "</li>")
    title = tr("本页发现 {n} 个问题（{e} 个错误，{w} 个警告）", "{n} finding(s) on this page ({e} errors, {w} warnings)",
               n=len(findings), e=counts["error"], w=counts["warning"])
    script = (
        "(function(){var p=document.getElementById('" + PANEL_ID + "');if(!p)return;"
        "p.addEventListener('click',function(ev){var li=ev.target.closest('li[data-zhuanti-index]');if(!li)return;"
        "var el=document.querySelector('[data-zhuanti-index=\"'+li.getAttribute('data-zhuanti-index')+'\"]:not(li)');"
        "if(el&&el.scrollIntoView)el.scrollIntoView({block:'center',behavior:'smooth'});});})();"
    )
    return (f"<style>{_MARK_CSS}</style>"
            f'<div id="{PANEL_ID}" role="complementary" aria-label="{_esc(tr("检查结果", "check findings"))}" '
            f'style="{_PANEL_CSS}"><details open><summary style="cursor:pointer;padding:6px 10px;'
            f'background:#e03131;color:#fff;font-weight:bold">{_esc(title)}</summary>'
            f'<ul style="margin:0;padding:0">{"".join(items)}</ul></details></div><script>{script}</script>')
