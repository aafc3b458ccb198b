"""The search index files (站内搜索索引) under ``search-index/`` and their decoder.

* ``index.json`` (the entry, fixed name): format, base id (a digest of the rest), number of
  documents, number of term shards, the content hashes of the term shards and document shards;
* ``t/<i>-<hash>.json``: term shard ``i`` = every term whose FNV-1a hash modulo the shard count is
  ``i``, term → ``[id, weight, Δid, weight, …]`` (document ids ascending, gaps after the first);
  ``#<topic>`` terms list the documents of a topic (the topic filter);
* ``d/<i>-<hash>.json``: documents ``i*256 … i*256+255`` as ``[url, title, topic, date]``;
* ``delta.json`` (fixed name): what changed since the base — ``{"base": id, "dead": [base ids no
  longer valid], "docs": [[url, title, topic, date, {term: weight}], …]}``; the browser merges it.

Every file is a pure function of the documents (ids are positions in URL order, keys sorted), so a
clean build and an incremental build that compacted its delta write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate, chain, compress, repeat
from json.encoder import encode_basestring
from operator import sub

FOLDER = "search-index"
ENTRY = "index.json"
DELTA = "delta.json"
FORMAT = 1
DOCS_PER_SHARD = 256
POSTINGS_PER_SHARD = 8192  # ~40 KB of JSON per term shard; a query fetches one shard per token
MAX_SHARDS = 4096

# url → (title, topic slug, date "YYYY-MM-DD" or "", {term: weight}); the encoders also take the
# weights packed as text (``pack``; unpacked one document at a time: the build keeps them so)
Doc = tuple[str, str, str, dict[str, int] | str]


# The text of the weights most tokens have (a dict lookup is about twice as fast as ``str``)
_WEIGHT_TEXT = {i: str(i) for i in range(256)}
_NOT_DROPPED = (-1).__ne__  # an id that ``compact`` keeps (as a C-level predicate)


def _texts(weights: Iterable[int]) -> list[str]:
    """``[str(w) for w in weights]``, about twice as fast."""
    weights = weights if isinstance(weights, list) else list(weights)
    try:
        return list(map(_WEIGHT_TEXT.__getitem__, weights))
    except KeyError:  # a weight of 256 or more
        return list(map(str, weights))


def pack(terms: dict[str, int]) -> str:
    """``{"口袋": 2, "5g": 1}`` → ``"口袋 5g\t2 1"`` (tokens never hold a space or a tab)."""
    return " ".join(terms) + "\t" + " ".join(_texts(terms.values()))


def unpack(text: str | dict[str, int]) -> dict[str, int]:
    return text if isinstance(text, dict) else dict(pairs(text))


def pairs(text: str | dict[str, int]) -> Iterable[tuple[str, int]]:
    """(term, weight) of packed or unpacked weights, without making a dict."""
    if isinstance(text, dict):
        return text.items()
    terms, _, counts = text.partition("\t")
    return zip(terms.split(" "), map(int, counts.split(" ")), strict=True) if terms else ()


def fnv1a(term: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes (search.js computes the same to find a term's shard)."""
    h = 0x811C9DC5
    for b in term.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def shard_count(postings: int) -> int:
    n = 1
    while postings > n * POSTINGS_PER_SHARD and n < MAX_SHARDS:
        n *= 2
    return n


@dataclass
class Base:
    files: dict[str, bytes]  # path under the site root → bytes (the entry included)
    ids: dict[str, int]  # url → document id
    base_id: str  # names this base in delta.json
    sha256: dict[str, str]  # path → sha256 (hex) of its bytes (the shards are named by its first 12 digits)


def encode_base(docs: dict[str, Doc]) -> Base:
    """The base index of ``docs`` (and an empty delta)."""
    urls = sorted(docs)
    # term → [id, weight, id, weight, …] (ids ascending; weights as text). Filled a document at a
    # time by C-level ``map`` calls rather than a Python loop per posting (3.7 million postings on
    # the 10,000-page corpus). The id of a document is one int object shared by all its postings
    # and a one-digit weight (98 % of them) is one of Python's cached one-character strings, so a
    # posting costs about two pointers.
    postings: defaultdict[str, list] = defaultdict(list)
    lists = postings.__getitem__
    append = list.append
    for i, url in enumerate(urls):
        _title, topic, _date, terms = docs[url]
        if isinstance(terms, dict):
            keys, values = list(terms), _texts(terms.values())
        else:
            text, _, counts = terms.partition("\t")
            keys, values = (text.split(" "), counts.split(" ")) if text else ([], [])
            if len(keys) != len(values):
                raise ValueError(f"{url}: packed weights do not pair up")
        if topic:
            keys.append("#" + topic)
            values.append("1")
        found = list(map(lists, keys))
        deque(map(append, found, repeat(i)), 0)
        deque(map(append, found, values), 0)
    return _base([[u, *docs[u][:3]] for u in urls], postings)


def compact(read: Callable[[str], bytes], gone: set[str], docs: dict[str, Doc]) -> Base:
    """``encode_base`` of the base read through ``read`` (a file under ``search-index/``) without
    the pages ``gone`` and with ``docs`` (new or changed pages, which replace their base copies),
    worked out on the base's postings rather than page by page (about 3× faster)."""
    entry = json.loads(read(ENTRY))
    if entry.get("format") != FORMAT:
        raise SearchIndexError(f"unknown search index format {entry.get('format')!r}")
    old: list[list[str]] = []
    for i, name in enumerate(entry["d"]):
        old.extend(json.loads(read(f"d/{i}-{name}.json")))
    kept = [m for m in old if m[0] not in gone and m[0] not in docs]
    metas = sorted(kept + [[u, *d[:3]] for u, d in docs.items()])
    new_id = {m[0]: i for i, m in enumerate(metas)}
    remap = [-1 if m[0] in docs else new_id.get(m[0], -1) for m in old]  # old id → new id, -1: dropped
    new_of = remap.__getitem__
    lists: dict[str, tuple[list[int], list[int]]] = {}
    for i, name in enumerate(entry["t"]):
        for term, flat in json.loads(read(f"t/{i}-{name}.json")).items():
            ids = list(map(new_of, accumulate(flat[0::2])))
            weights = flat[1::2]
            if -1 in ids:
                alive = list(map(_NOT_DROPPED, ids))
                ids, weights = list(compress(ids, alive)), list(compress(weights, alive))
                if not ids:
                    continue
            lists[term] = (ids, weights)
    for url, (_title, topic, _date, terms) in docs.items():
        doc = new_id[url]
        for term, weight in chain(pairs(terms), [("#" + topic, 1)] if topic else ()):
            ids, weights = lists.setdefault(term, ([], []))
            at = bisect_left(ids, doc)
            ids.insert(at, doc)
            weights.insert(at, weight)
    postings: dict[str, list] = {}
    for term, (ids, weights) in lists.items():
        flat = ids + weights  # the right length; interleaved next
        flat[0::2] = ids
        flat[1::2] = _texts(weights)
        postings[term] = flat
    return _base(metas, postings)


def _term_shard(terms: list[str], postings: dict[str, list], numbers: list[str]) -> bytes:
    """``dumps({term: [first id, weight, gap, weight, …]})`` of ``terms`` (sorted) taken out of
    ``postings`` (term → [id, weight, id, weight, …]: ids ascending, weights as text; popped, so
    that their memory is freed shard by shard), written directly: the same bytes in less than half
    the time (``numbers``: the text of 0…n, every id and gap)."""
    text = numbers.__getitem__
    parts = []
    for term in terms:
        flat = postings.pop(term)
        ids = flat[0::2]
        flat[0::2] = map(text, map(sub, ids, chain((0,), ids)))
        parts.append(f"{encode_basestring(term)}:[{','.join(flat)}]")
    return ("{" + ",".join(parts) + "}").encode("utf-8")


def _base(metas: list[list[str]], postings: dict[str, list]) -> Base:
    """The files of a base: ``metas`` ([url, title, topic, date] in URL order: ids are positions),
    ``postings`` (term → [id, weight, id, weight, …]: ids ascending, weights as text; emptied)."""
    shards = shard_count(sum(map(len, postings.values())) // 2)
    grouped: list[list[str]] = [[] for _ in range(shards)]
    for term in sorted(postings):
        grouped[fnv1a(term) % shards].append(term)
    numbers = list(map(str, range(len(metas))))  # every id and gap
    files: dict[str, bytes] = {}
    sha: dict[str, str] = {}
    t_names = []
    for i, group in enumerate(grouped):
        data = _term_shard(group, postings, numbers)
        full = hashlib.sha256(data).hexdigest()
        t_names.append(full[:12])
        rel = f"{FOLDER}/t/{i}-{t_names[-1]}.json"
        files[rel], sha[rel] = data, full
    d_names = []
    for start in range(0, max(len(metas), 1), DOCS_PER_SHARD):
        data = dumps(metas[start:start + DOCS_PER_SHARD])
        full = hashlib.sha256(data).hexdigest()
        d_names.append(full[:12])
        rel = f"{FOLDER}/d/{start // DOCS_PER_SHARD}-{d_names[-1]}.json"
        files[rel], sha[rel] = data, full
    base_id = _digest(dumps([len(metas), shards, t_names, d_names]))
    files[f"{FOLDER}/{ENTRY}"] = dumps({"format": FORMAT, "id": base_id, "docs": len(metas), "per": DOCS_PER_SHARD,
                                        "shards": shards, "t": t_names, "d": d_names})
    files[f"{FOLDER}/{DELTA}"] = encode_delta(base_id, [], {})
    for rel in (f"{FOLDER}/{ENTRY}", f"{FOLDER}/{DELTA}"):
        sha[rel] = hashlib.sha256(files[rel]).hexdigest()
    return Base(files, {m[0]: i for i, m in enumerate(metas)}, base_id, sha)


def encode_delta(base_id: str, dead: list[int], docs: dict[str, Doc]) -> bytes:
    rows = []
    for u in sorted(docs):
        title, topic, date, terms = docs[u]
        rows.append([u, title, topic, date, unpack(terms)])
    return dumps({"base": base_id, "dead": sorted(dead), "docs": rows})


class SearchIndexError(ValueError):
    """The index files do not fit together (a damaged or half-copied index)."""


def decode_base(read: Callable[[str], bytes]) -> tuple[str, list[tuple[str, Doc]]]:
    """(base id, documents in id order) of the base index; ``read(rel)`` returns a file's bytes by
    its path under ``search-index/``."""
    entry = json.loads(read(ENTRY))
    if entry.get("format") != FORMAT:
        raise SearchIndexError(f"unknown search index format {entry.get('format')!r}")
    if entry["id"] != _digest(dumps([entry["docs"], entry["shards"], entry["t"], entry["d"]])):
        raise SearchIndexError("the entry's id does not match its shards")
    meta: list[list[str]] = []
    for i, name in enumerate(entry["d"]):
        meta.extend(json.loads(read(f"d/{i}-{name}.json")))
    if len(meta) != entry["docs"]:
        raise SearchIndexError(f"{len(meta)} documents in the shards, the entry says {entry['docs']}")
    terms: list[dict[str, int]] = [{} for _ in meta]
    topics: list[str] = ["" for _ in meta]
    for i, name in enumerate(entry["t"]):
        for term, flat in json.loads(read(f"t/{i}-{name}.json")).items():
            if fnv1a(term) % entry["shards"] != i:
                raise SearchIndexError(f"term {term!r} in shard {i}")
            ids = accumulate(flat[0::2])
            if term.startswith("#"):
                for doc in ids:
                    topics[doc] = term[1:]
            else:
                for doc, weight in zip(ids, flat[1::2], strict=True):
                    terms[doc][term] = weight
    docs = []
    for i, (url, title, topic, date) in enumerate(meta):
        if topics[i] != topic:
            raise SearchIndexError(f"{url}: topic {topic!r} but listed under {topics[i]!r}")
        docs.append((url, (title, topic, date, terms[i])))
    return entry["id"], docs


def decode(read: Callable[[str], bytes]) -> dict[str, Doc]:
    """The documents a browser searches: the base without its dead documents, plus the delta's
    (a changed page is dead in the base and whole in the delta). ``read(rel)``: a file under
    ``search-index/``. Raises ``SearchIndexError`` where the files do not fit together."""
    base_id, docs = decode_base(read)
    delta = json.loads(read(DELTA))
    if delta["base"] != base_id:
        raise SearchIndexError(f"delta.json belongs to base {delta['base']}, the entry is {base_id}")
    dead = set(delta["dead"])
    out = {url: doc for i, (url, doc) in enumerate(docs) if i not in dead}
    for url, title, topic, date, terms in delta["docs"]:
        if url in out:  # the browser would show both: the base's stale page and the delta's
            raise SearchIndexError(f"{url} is in the delta but its base document is not dead")
        out[url] = (title, topic, date, terms)
    return out
