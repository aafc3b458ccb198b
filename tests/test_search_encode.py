"""Search index encoder (builder/search/index.py): the term shards are written directly rather
than through ``json.dumps``; every file must still be exactly the canonical JSON of its content
(sorted keys, no spaces, UTF-8), named by its hash, and decode to the documents encoded."""

import datetime as dt
import hashlib
import json
import random
from types import SimpleNamespace

import pytest

from builder.search import decode, page_record
from builder.search.index import FOLDER, compact, encode_base, pack, unpack

# Terms a JSON writer must escape or that sort unusually, next to ordinary ones.
ODD = ['a"b', "back\\slash", "ctl\x01", "tab\there", "😀表情", "\u2028sep", "é", "口袋", "公园", "5g", "x" * 32]


def canonical(data: bytes) -> bytes:
    return json.dumps(json.loads(data), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def random_docs(rnd: random.Random, n: int, packed: bool) -> dict:
    docs = {}
    for i in range(n):
        terms = {t: rnd.choice([1, 2, 9, 10, 99, 123456]) for t in rnd.sample(ODD, rnd.randint(0, len(ODD)))}
        if packed and any(" " in t or "\t" in t for t in terms):  # a packed token never holds either
            terms = {t: w for t, w in terms.items() if " " not in t and "\t" not in t}
        docs[f"p/{rnd.randint(0, 3 * n)}/{i}"] = (f"页{i}", rnd.choice(["", "demo", "其他"]), "2026-01-02",
                                                  pack(terms) if packed else terms)
    return docs


def test_every_index_file_is_the_canonical_json_of_what_it_holds_and_named_by_its_hash():
    rnd = random.Random(11)
    for n in (0, 1, 7, 300, 1200):  # 1200: several document shards; ids and gaps past 256
        for packed in (False, True):
            docs = random_docs(rnd, n, packed)
            base = encode_base(docs)
            assert base.sha256 == {rel: hashlib.sha256(data).hexdigest() for rel, data in base.files.items()}
            for rel, data in base.files.items():
                assert data == canonical(data), rel
                if rel.startswith((f"{FOLDER}/t/", f"{FOLDER}/d/")):
                    assert rel.endswith(f"-{base.sha256[rel][:12]}.json")
            files = {p[len(FOLDER) + 1:]: b for p, b in base.files.items()}
            assert decode(files.__getitem__) == {u: (*d[:3], unpack(d[3])) for u, d in docs.items()}


def test_packed_and_unpacked_weights_encode_to_the_same_bytes_and_compaction_agrees():
    rnd = random.Random(5)
    docs = random_docs(rnd, 400, packed=False)
    docs = {u: (*d[:3], {t: w for t, w in d[3].items() if " " not in t and "\t" not in t}) for u, d in docs.items()}
    base = encode_base(docs)
    assert base.files == encode_base({u: (*d[:3], pack(d[3])) for u, d in docs.items()}).files
    files = {p[len(FOLDER) + 1:]: b for p, b in base.files.items()}
    gone = set(rnd.sample(sorted(docs), 40))
    changed = random_docs(rnd, 30, packed=True)
    got = compact(files.__getitem__, gone - changed.keys(), changed)
    want = {u: d for u, d in docs.items() if u not in gone} | changed
    assert got.files == encode_base(want).files
    assert got.sha256 == encode_base(want).sha256


def test_packed_weights_that_do_not_pair_up_are_refused_with_the_page_named():
    with pytest.raises(ValueError, match="a/: packed weights do not pair up"):
        encode_base({"a/": ("甲", "", "", "口袋 公园\t1")})


def test_parts_marked_ignore_in_any_letter_case_are_left_out_of_a_record():
    page = SimpleNamespace(title="口袋公园", topic="demo", date=None, meta={}, kind="single")
    renderer = SimpleNamespace(cfg=SimpleNamespace(build=SimpleNamespace(search=True)), by_url={"a/": page},
                               now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    html = ("<!DOCTYPE html><html><body><header>页头导航</header><main data-search-body><p>新增的口袋公园共有十二处</p>"
            "<nav DATA-Search-Ignore>上一篇下一篇</nav></main></body></html>")
    title, topic, date, packed, _digest = page_record(renderer, "a/", html)
    terms = unpack(packed)
    assert (title, topic, date) == ("口袋公园", "demo", "")
    assert terms["口袋"] == 1 + 5 and terms["十二"] == 1  # body once, title five times
    assert not {"上一", "一篇", "页头"} & terms.keys()
