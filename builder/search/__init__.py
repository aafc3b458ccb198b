"""Site search (站内搜索): the /search/ page and zhuanti's own static, incremental search index.

While a page renders, the render worker turns it into a search record (title, topic, date and the
tokens of the text the theme marks with ``data-search-body``; ``builder.search.tokens``). The build
writes a term-sharded base index under ``search-index/`` (``builder.search.index``) on a clean
build, and afterwards only a small ``delta.json`` of the pages changed since the base plus
tombstones of removed ones, until the delta passes its bound and is compacted into a new base. The
browser (the theme's search.js) fetches the entry, the delta and the shards of the query's terms.
See docs/search.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from builder.content.model import Page
from builder.search.index import (
    DELTA,
    ENTRY,
    FOLDER,
    Base,
    Doc,
    compact,
    decode,
    encode_base,
    encode_delta,
    pack,
    unpack,
)
from builder.search.store import SearchStore
from builder.search.tokens import weights

__all__ = ["INDEX_FOLDER", "SEARCH_URL", "SearchIndex", "decode", "page_record", "search_page"]

SEARCH_URL = "search/"
INDEX_FOLDER = FOLDER
SEARCH_TEMPLATE = "search.html"
MARKER = "data-search-body"  # the theme marks what is indexed; data-search-ignore inside it is left out
IGNORE = "data-search-ignore"
# Compaction bound: past 64 pages (changed, added or removed) or 256 KB of delta.json, the delta is
# folded into a new base. Every search fetches the delta whole, so it must stay small (256 KB of
# JSON is ~60 KB gzipped); a base rewrite after 64 edits costs about as much as one clean index.
MAX_DELTA_PAGES = 64
MAX_DELTA_BYTES = 256 * 1024
ENTRY_REL = f"{FOLDER}/{ENTRY}"
DELTA_REL = f"{FOLDER}/{DELTA}"

# (title, topic, date, weights packed as text by ``index.pack``, digest of what the weights were made
# from). Text, not a dict: 10,000 pages' dicts held at once cost ~500 MB, the text ~40 MB.
Record = tuple[str, str, str, str, str]


def search_page(renderer) -> bytes | None:
    """The /search/ page rendered through the theme (``search.html``), or None when the site has
    its own page at that address (it is then used as it is)."""
    if SEARCH_URL in renderer.by_url:
        return None
    cfg = renderer.cfg
    page = Page("site", cfg.root / "site_src" / "site.toml", "site_src/site.toml", SEARCH_URL, "站内搜索",
                meta={"template": SEARCH_TEMPLATE, "topics": [(t.slug, t.title) for t in renderer.site.topics]})
    from builder.render.pages import Job

    renderer.by_url[page.url] = page
    try:
        html, _, _ = renderer.render(Job("page", page.url))
    finally:
        del renderer.by_url[page.url]
    return html.encode("utf-8")


def page_record(renderer, url: str, html: str, variant: str = "") -> Record | None:
    """The search record of the page at ``url`` rendered as ``html`` (in the render worker), or None
    when it is not indexed: search off, a mobile copy, a page the theme does not mark (drafts, list
    pages after the first), a page not yet published (the preview shows it with a badge)."""
    if variant or not renderer.cfg.build.search or MARKER not in html:
        return None
    from builder.render.pages import day, preview_badge

    page = renderer.by_url.get(url)
    if page is None or preview_badge(page, renderer.now) is not None:
        return None
    body = LexborHTMLParser(html).css_first(f"[{MARKER}]")
    if body is None:  # the marker was text, not an attribute
        return None
    for node in body.css(f"[{IGNORE}]"):  # (even when the word is not in ``html``: DATA-SEARCH-IGNORE counts too)
        node.decompose()
    text = body.text(separator=" ")
    title, topic, date = page.title, page.topic or "", day(page.date)
    digest = hashlib.blake2b("\0".join((title, topic, date, text)).encode("utf-8"), digest_size=12).hexdigest()
    return title, topic, date, pack(weights(title, text)), digest


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _doc_json(rec: Record) -> str:
    return json.dumps([*rec[:3], unpack(rec[3])], ensure_ascii=False)


class SearchIndex:
    """The index of one output folder, updated by each build (``update``) and remembered after
    the build committed (``save``)."""

    def __init__(self, state, public: Path) -> None:
        """``state``: the build state (``builder.state.BuildState``) of the output folder ``public``."""
        self.store = SearchStore(state)
        self.public = public
        self.pending: tuple | None = None

    def update(self, records: dict[str, Record | None], full: bool, valid: Callable[[str, str], bool],
               others: Callable[[], dict[str, Record | None]]) -> tuple[dict[str, bytes], set[str]]:
        """``records``: url → record (None: not indexed, or gone) of every page this build rendered or
        removed; ``full``: a clean build; ``valid(rel, sha256)``: the output folder still holds that
        index file as the last build wrote it; ``others()``: the records of the pages this build
        did not render (read back from the output folder: only when the index must be made anew
        without a usable previous one). Returns (index files to write, index files kept as they are)."""
        files = {} if full else self.store.files()
        usable = bool(files) and ENTRY_REL in files and all(valid(rel, sha) for rel, sha in files.items())
        if usable:
            entry = json.loads((self.public / ENTRY_REL).read_bytes())
            base = self.store.base()
            usable = len(base) == entry["docs"]  # the record of the base is whole
        if not usable:
            every = {**({} if full else others()), **records}
            return self._compact({u: r[:4] for u, r in every.items() if r is not None},
                                 {u: r[4] for u, r in every.items() if r is not None})
        delta = self.store.delta()
        for url, rec in records.items():
            old = base.get(url)
            if rec is None:
                if old is not None:
                    delta[url] = (None, None)
                else:
                    delta.pop(url, None)
            elif old is not None and old[1] == rec[4]:
                delta.pop(url, None)  # back to what the base says
            elif url not in delta or delta[url][0] != rec[4]:
                delta[url] = (rec[4], _doc_json(rec))
        live: dict[str, Doc] = {u: tuple(json.loads(doc)) for u, (d, doc) in delta.items() if d is not None}
        dead = [base[u][0] for u in delta if u in base]
        data = encode_delta(entry["id"], dead, live)
        if len(delta) > MAX_DELTA_PAGES or len(data) > MAX_DELTA_BYTES:
            fresh = {u: r for u, r in records.items() if r is not None}
            if fresh.keys() >= {u for u in base if u not in delta} | live.keys():  # every page made again
                return self._compact({u: r[:4] for u, r in fresh.items()}, {u: r[4] for u, r in fresh.items()})
            folder = self.public / FOLDER
            gone = {u for u, (digest, _) in delta.items() if digest is None}
            new = compact(lambda rel: (folder / rel).read_bytes(), gone, live)
            digests = {u: base[u][1] for u in base if u not in delta}
            digests.update({u: delta[u][0] for u in live})
            return self._written(new, digests)
        files[DELTA_REL] = _sha(data)
        self.pending = (files, None, delta)
        return {DELTA_REL: data}, set(files) - {DELTA_REL}

    def _compact(self, docs: dict[str, Doc], digests: dict[str, str]) -> tuple[dict[str, bytes], set[str]]:
        return self._written(encode_base(docs), digests)

    def _written(self, base: Base, digests: dict[str, str]) -> tuple[dict[str, bytes], set[str]]:
        self.pending = (dict(base.sha256),
                        {u: (i, digests[u]) for u, i in base.ids.items()}, {})
        return base.files, set()

    def save(self) -> None:
        """Remember the index as written (after the build committed its output)."""
        if self.pending is not None:
            self.store.save(*self.pending)

    def clear(self) -> None:
        """No index any more (``[build] search = false``)."""
        self.store.clear()
