"""Search tokens (检索词): CJK character bigrams and lower-cased Latin/digit words, no dictionary.

A Chinese word anywhere in a sentence is found because every pair of neighbouring characters is a
token; a query is split the same way (``themes/default/static/js/search.js`` repeats these rules,
keep both in step) and all its tokens must occur in a page. A CJK run of one character (between
punctuation) is a one-character token, so a lone character can still be searched where it stands.
"""

from __future__ import annotations

import re
from collections import Counter

# CJK Unified Ideographs, Extension A and the compatibility block; Latin letters and digits after
# full-width forms (ＡＢＣ１２３) are folded to ASCII and lower-cased. (Not NFKC: it costs more than
# the rest of the tokenizer on Chinese text, whose full-width punctuation it would rewrite for nothing.)
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
MAX_WORD = 32  # a longer Latin/digit run (a hash, a long number) is several words of at most 32
# Two regex passes yield every token (faster than splitting runs in Python): overlapping bigrams
# (a lookahead), then lone CJK characters and words.
BIGRAM = re.compile(f"(?=([{CJK}]{{2}}))")
SINGLE = re.compile(f"(?<![{CJK}])[{CJK}](?![{CJK}])|[a-z0-9]{{1,{MAX_WORD}}}")
FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
FOLD = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF5B)}
TITLE_WEIGHT = 5  # a token in the title counts as five in the body (the title boost)


def normalize(text: str) -> str:
    if FULL_WIDTH.search(text):
        text = text.translate(FOLD)
    return text.lower()


def tokens(text: str) -> list[str]:
    """Every token of ``text`` (bigrams first, then lone characters and words), repeats included."""
    text = normalize(text)
    return BIGRAM.findall(text) + SINGLE.findall(text)


def weights(title: str, body: str) -> dict[str, int]:
    """token → weight: occurrences in the body plus ``TITLE_WEIGHT`` per occurrence in the title."""
    body = normalize(body)
    counts = Counter(BIGRAM.findall(body))
    counts.update(SINGLE.findall(body))
    for t in tokens(title):
        counts[t] += TITLE_WEIGHT
    return counts
