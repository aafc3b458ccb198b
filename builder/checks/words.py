"""Wrong and sensitive words (错敏词): the site's word lists, a matcher over normalised text, the check.

Lists live in ``site_src/words/`` (defaults ship as the ``zhuanti_words`` package). Matching is
Aho-Corasick (``ahocorasick_rs``) over the text a reader sees, NFKC-folded (full-width → half-width,
case-folded) and optionally converted from traditional to simplified characters, with every match
mapped back to the original text and the page's HTML line.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import ahocorasick_rs

from builder.checks.base import Finding, HtmlDoc
from builder.checks.text import BLOCK_SEP, OffsetMap, extract_visible_text
from builder.i18n import tr
from builder.resources import default_words_dir

RULE_TYPO = "word.typo"  # 错别字: a known wrong word, with the right one
RULE_EXPRESSION = "word.expression"  # 严重表述错误: a wrong country/organ/office name or political wording
RULE_SENSITIVE = "word.sensitive"  # 敏感词: a word the site must not publish
RULE_LIST = "word.list"  # a problem in a word list file itself
RULE_LIMIT = "word.limit"  # part of a page was not checked (size or finding cap)

# 一般错别字 are deductions; 严重表述错误 and 敏感词 are 单项否决 material (GOVWEB_CHECKS C4).
SEVERITY = {RULE_TYPO: "warning", RULE_EXPRESSION: "error", RULE_SENSITIVE: "error"}
# When one word sits in several lists, the most serious reading wins.
PRIORITY = {RULE_EXPRESSION: 3, RULE_SENSITIVE: 2, RULE_TYPO: 1}
# File (top level) or folder (categories) name → what its lines mean. None = allow list.
KINDS: dict[str, str | None] = {"typos": RULE_TYPO, "expressions": RULE_EXPRESSION,
                                "sensitive": RULE_SENSITIVE, "allow": None}
PAIRED = (RULE_TYPO, RULE_EXPRESSION)  # lines are "wrong<TAB>right"

MAX_PAGE_CHARS = 20_000_000  # HTML characters read per page; beyond this an info finding says so
MAX_FINDINGS_PER_PAGE = 200
CONTEXT_CHARS = 30
PACKAGE = "zhuanti_words"  # how the packaged defaults are named in messages
# Code points whose folding is considered: the BMP and planes 1-2 (math alphanumerics, enclosed
# forms, CJK compatibility ideographs); nothing above folds under NFKC or case folding.
FOLD_SCAN_LIMIT = 0x30000


@dataclass(frozen=True, slots=True)
class WordEntry:
    """One listed word: what it is, what to write instead, and where it was listed."""

    word: str
    rule: str
    suggestion: str | None = None
    category: str | None = None  # e.g. 政治 for sensitive/政治.txt
    source: str = ""  # list file, relative to the words folder
    line: int = 0

    @property
    def severity(self) -> str:
        return SEVERITY[self.rule]


@dataclass(frozen=True, slots=True)
class Match:
    """A listed word found in a text: ``text[start:end]`` (positions in the text given to ``find``)."""

    start: int
    end: int
    text: str
    entry: WordEntry


@dataclass(frozen=True, slots=True)
class ListProblem:
    path: str
    line: int | None
    message: str


@dataclass
class WordLists:
    entries: list[WordEntry] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    problems: list[ListProblem] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Loading the lists


def load_word_lists(words_dir: Path | None) -> WordLists:
    """Read every list under ``words_dir`` (None: the packaged defaults). Never raises on bad lines."""
    out = WordLists()
    label = PACKAGE
    if words_dir is None:
        words_dir = default_words_dir()
    else:
        label = words_dir.as_posix()
        if not words_dir.is_dir():
            out.problems.append(ListProblem(label, None, tr(
                "找不到词表目录，改用 zhuanti 自带的默认词表",
                "word list folder not found; using zhuanti's default lists")))
            words_dir, label = default_words_dir(), PACKAGE
    for rel, kind, category, node in _list_files(words_dir, label, out.problems):
        _read_list(node, f"{label}/{rel}", rel, kind, category, out)
    return out


def _list_files(root: Path, label: str, problems: list[ListProblem]
                ) -> Iterator[tuple[str, str | None, str | None, Path]]:
    """(relative path, kind, category, file) for every list; unknown top-level files are reported."""
    for node in sorted(root.iterdir(), key=lambda n: n.name):
        name = node.name
        if node.is_file() and name.endswith(".txt"):
            stem = name[:-4]
            if stem in KINDS:
                yield name, KINDS[stem], None, node
            else:
                problems.append(ListProblem(f"{label}/{name}", None, tr(
                    "未使用的词表文件：顶层只认 typos.txt、expressions.txt、sensitive.txt、allow.txt；"
                    "其他分类请放入子目录，如 sensitive/{s}.txt",
                    "word list not used: the top level only holds typos.txt, expressions.txt, sensitive.txt "
                    "and allow.txt; put other categories in a folder, e.g. sensitive/{s}.txt", s=stem)))
        elif node.is_dir() and not name.startswith((".", "_")):
            # sensitive/政治.txt → a 政治 category of sensitive words; an unknown folder name
            # (广告/极限词.txt) is a category of sensitive words named after folder and file.
            kind = KINDS.get(name, RULE_SENSITIVE)
            for rel, child in _walk_txt(node, name):
                stem = rel[len(name) + 1:-4]
                yield rel, kind, stem if name in KINDS else rel[:-4], child


def _walk_txt(node: Path, rel: str) -> Iterator[tuple[str, Path]]:
    for child in sorted(node.iterdir(), key=lambda n: n.name):
        if child.is_dir() and not child.name.startswith((".", "_")):
            yield from _walk_txt(child, f"{rel}/{child.name}")
        elif child.is_file() and child.name.endswith(".txt"):
            yield f"{rel}/{child.name}", child


def _read_list(node: Path, path: str, rel: str, kind: str | None, category: str | None,
               out: WordLists) -> None:
    try:
        data = node.read_bytes()
    except OSError as exc:
        out.problems.append(ListProblem(path, None, tr("无法读取词表：{e}", "cannot read word list: {e}", e=exc)))
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
        out.problems.append(ListProblem(path, None, tr(
            "词表不是 UTF-8 编码，已按 GB18030 读取；请另存为 UTF-8",
            "word list is not UTF-8; read as GB18030 — save it as UTF-8")))
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip(" \r\n\ufeff\u3000")  # not tabs: they separate the fields
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if kind is None:
            out.allow.append(line.split("\t", 1)[0].strip())
            continue
        parts = [p.strip() for p in line.split("\t")]
        word = parts[0]
        right = next((p for p in parts[1:] if p), None)
        if kind in PAIRED:
            if len(parts) < 2:
                out.problems.append(ListProblem(path, lineno, tr(
                    "格式错误：缺少 Tab 分隔的正确写法（应为“错误写法<Tab>正确写法”），本行已忽略",
                    "malformed line: no tab-separated correct form (expected 'wrong<TAB>right'); line ignored")))
                continue
            if not word or not right:
                out.problems.append(ListProblem(path, lineno, tr(
                    "格式错误：错误写法或正确写法为空，本行已忽略",
                    "malformed line: the wrong or the correct form is empty; line ignored")))
                continue
            if fold(word) == fold(right):
                out.problems.append(ListProblem(path, lineno, tr(
                    "错误写法与正确写法相同（“{w}”），本行已忽略",
                    "the wrong and the correct form are the same ('{w}'); line ignored", w=word)))
                continue
        elif not word:
            continue
        out.entries.append(WordEntry(word, kind, right, category, rel, lineno))


# ---------------------------------------------------------------------------------------------
# Normalisation and matching


def fold(s: str) -> str:
    """NFKC (full-width → half-width, compatibility forms) and case folding, one character at a time."""
    if unicodedata.is_normalized("NFKC", s):  # then every character is too, on its own: case folding is left
        return s.casefold()
    return "".join(unicodedata.normalize("NFKC", c).casefold() for c in s)


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _char_class(chars: Iterable[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def _fold_expanding(text: str, present: dict[str, str]) -> tuple[str, OffsetMap]:
    """Fold ``text`` when some character folds to several (ﬁ → fi, ㍿ → 株式会社) or to none.

    Each folded piece maps back to its source character.
    """
    simple = str.maketrans({c: f for c, f in present.items() if len(f) == 1})
    expanding = re.compile(_char_class(c for c, f in present.items() if len(f) != 1))
    pieces: list[str] = []
    starts, targets = array("q"), array("q")
    n = pos = 0
    for m in expanding.finditer(text):
        i = m.start()
        if i > pos:
            chunk = text[pos:i].translate(simple)
            starts.append(n)
            targets.append(pos)
            pieces.append(chunk)
            n += len(chunk)
        for ch in present[m.group()]:
            starts.append(n)
            targets.append(i)
            pieces.append(ch)
            n += 1
        pos = i + 1
    if pos < len(text):
        chunk = text[pos:].translate(simple)
        starts.append(n)
        targets.append(pos)
        pieces.append(chunk)
        n += len(chunk)
    if not starts:
        starts.append(0)
        targets.append(0)
    return "".join(pieces), OffsetMap(starts, targets, n)


class WordMatcher:
    """All lists in one automaton; ``find(text)`` returns matches in ``text``'s own positions.

    Built once and reused for every page (and by the preview). Allowed phrases suppress a match
    that lies inside them; every correct form (the right side of a wrong→right pair) is allowed too,
    so a correct word that happens to contain a listed wrong word is never reported.
    """

    def __init__(self, entries: Iterable[WordEntry], allow: Iterable[str] = (),
                 traditional_to_simplified: bool = False, problems: Iterable[ListProblem] = ()) -> None:
        self.t2s = traditional_to_simplified
        self.problems = list(problems)
        chosen: dict[str, WordEntry] = {}
        for e in entries:
            key = self._norm_pattern(e.word)
            if not key.strip():
                continue
            old = chosen.get(key)
            if old is None or PRIORITY[e.rule] > PRIORITY[old.rule]:
                chosen[key] = e
        self._patterns = list(chosen)
        self.entries = list(chosen.values())
        allowed = {self._norm_pattern(a) for a in allow if a.strip()}
        allowed |= {self._norm_pattern(e.suggestion) for e in self.entries if e.rule in PAIRED and e.suggestion}
        self._allow = sorted(a for a in allowed if a.strip())
        self._allow_len = max(map(len, self._allow), default=0)
        self._t2s_cache: dict[str, str] = {}

    @classmethod
    def from_dir(cls, words_dir: Path | None, traditional_to_simplified: bool = False) -> WordMatcher:
        lists = load_word_lists(words_dir)
        return cls(lists.entries, lists.allow, traditional_to_simplified, lists.problems)

    def __len__(self) -> int:
        return len(self._patterns)

    # The Rust automata cannot be pickled: workers rebuild them on first use.
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for key in ("_ac", "_allow_ac", "_opencc", "_fold_search"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @cached_property
    def _ac(self):
        if not self._patterns:
            return None
        # The contiguous NFA finds the same matches as the DFA as fast on page-sized texts, and is
        # built in a third of the time (20,000 words: ~30 ms instead of ~90, in every worker).
        return ahocorasick_rs.AhoCorasick(self._patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                                          implementation=ahocorasick_rs.Implementation.ContiguousNFA)

    @cached_property
    def _allow_ac(self):
        return ahocorasick_rs.AhoCorasick(self._allow) if self._allow else None

    @cached_property
    def _opencc(self):
        import opencc

        return opencc.OpenCC("t2s")

    def _norm_pattern(self, word: str) -> str:
        s = fold(word.strip())
        if self.t2s:
            converted = self._opencc.convert(s)
            s = converted if len(converted) == len(s) else s
        return s

    # -- text normalisation -----------------------------------------------------------------

    @cached_property
    def _folding(self) -> dict[str, str]:
        """Characters worth folding in a text: those whose folded form can be part of a listed word.

        Chinese text is full of full-width punctuation that NFKC would change; folding only what
        can matter keeps the common page on the fast path (no copy, positions unchanged).
        """
        alphabet = {c for p in self._patterns + self._allow for c in p}
        table: dict[str, str] = {}
        is_nfkc, nfkc = unicodedata.is_normalized, unicodedata.normalize
        for cp in range(FOLD_SCAN_LIMIT):
            c = chr(cp)
            f = c.casefold() if is_nfkc("NFKC", c) else nfkc("NFKC", c).casefold()
            if f != c and (not alphabet.isdisjoint(f) or (self.t2s and not alphabet.isdisjoint(self._t2s_char(f)))):
                table[c] = f
        return table

    @cached_property
    def _fold_search(self) -> re.Pattern | None:
        """Finds the characters of a text that fold, in C (a set of every character costs more).

        One character class: the BMP characters of the table as a bitmap, the rest as one range
        whose characters are checked against the table afterwards.
        """
        table = self._folding
        if not table:
            return None
        bmp = "".join(re.escape(c) for c in sorted(table) if c <= "\uffff")
        return re.compile(f"[{bmp}\U00010000-\U0010ffff]")

    def normalize(self, text: str) -> tuple[str, OffsetMap | None]:
        """The matching form of ``text`` and a map back to ``text`` (None: positions are unchanged)."""
        table = self._folding
        norm, omap = text, None
        if self.t2s:  # the conversion needs every character of the text anyway
            chars = set(text)
            present = {c: table[c] for c in chars.intersection(table)}
        else:
            search = self._fold_search
            chars = set()
            present = {c: table[c] for c in set(search.findall(text)).intersection(table)} if search else {}
        if present:
            if all(len(f) == 1 for f in present.values()):
                if present.keys().isdisjoint(present.values()):  # a few replaces in C beat a translate
                    for c, f in present.items():
                        norm = norm.replace(c, f)
                else:
                    norm = text.translate(str.maketrans(present))
            else:
                norm, omap = _fold_expanding(text, present)
            chars = chars.difference(present).union(*present.values())
        if self.t2s:
            norm = self._to_simplified(norm, chars)
        return norm, omap

    def _t2s_char(self, c: str) -> str:
        t = self._t2s_cache.get(c)
        if t is None:
            t = self._t2s_cache[c] = self._opencc.convert(c)
        return t

    def _to_simplified(self, s: str, chars: set[str]) -> str:
        """Traditional → simplified, keeping every character at its position (``chars``: those in ``s``)."""
        changed = {c: t for c in chars if (t := self._t2s_char(c)) != c}
        if not changed:
            return s
        rx = re.compile(_char_class(changed))
        by_char = str.maketrans({c: t for c, t in changed.items() if len(t) == 1})
        out: list[str] = []
        pos = 0
        # Convert only the blocks that hold a traditional character, phrase-aware (乾燥 → 干燥 but
        # 乾隆 stays); when a phrase changes the length, fall back to character by character.
        while (m := rx.search(s, pos)) is not None:
            lo = s.rfind(BLOCK_SEP, pos, m.start()) + 1 or pos
            hi = s.find(BLOCK_SEP, m.end())
            hi = len(s) if hi < 0 else hi
            block = s[lo:hi]
            converted = self._opencc.convert(block)
            out.append(s[pos:lo])
            out.append(converted if len(converted) == len(block) else block.translate(by_char))
            pos = hi
        out.append(s[pos:])
        return "".join(out)

    # -- matching -----------------------------------------------------------------------------

    def find(self, text: str) -> list[Match]:
        """Every listed word in ``text`` (leftmost-longest, non-overlapping), allowed phrases removed."""
        ac = self._ac
        if ac is None or not text:
            return []
        norm, omap = self.normalize(text)
        raw = ac.find_matches_as_indexes(norm)
        if not raw:
            return []
        out: list[Match] = []
        latin, entries, allow = self._latin_edges, self.entries, self._allow_ac is not None
        for idx, s, e in raw:
            if (latin[idx] and not self._word_bounded(norm, s, e)) or (allow and self._allowed(norm, s, e)):
                continue
            if omap is not None:
                s, e = omap.span(s, e)
            out.append(Match(s, e, text[s:e], entries[idx]))
        return out

    @cached_property
    def _latin_edges(self) -> list[bool]:
        """Per pattern: does it start or end with a Latin letter or digit (so word edges matter)?"""
        return [_is_latin(p[0]) or _is_latin(p[-1]) for p in self._patterns]

    @staticmethod
    def _word_bounded(norm: str, s: int, e: int) -> bool:
        """Latin-script entries match whole words only ("sex" is not in "Essex")."""
        if _is_latin(norm[s]) and s > 0 and _is_latin(norm[s - 1]):
            return False
        return not (_is_latin(norm[e - 1]) and e < len(norm) and _is_latin(norm[e]))

    def _allowed(self, norm: str, s: int, e: int) -> bool:
        ac = self._allow_ac
        if ac is None or e - s > self._allow_len:
            return False
        lo = max(0, e - self._allow_len)
        window = norm[lo:min(len(norm), s + self._allow_len)]
        return any(a + lo <= s and b + lo >= e
                   for _, a, b in ac.find_matches_as_indexes(window, overlapping=True))


# ---------------------------------------------------------------------------------------------
# The check


class WordCheck:
    """``zhuanti check`` family for word.typo / word.expression / word.sensitive."""

    def __init__(self, words_dir: Path | None, traditional_to_simplified: bool = False) -> None:
        self.words_dir = words_dir
        self.traditional_to_simplified = traditional_to_simplified

    @cached_property
    def matcher(self) -> WordMatcher:
        return WordMatcher.from_dir(self.words_dir, self.traditional_to_simplified)

    def page(self, doc: HtmlDoc) -> Iterator[Finding]:
        vt = extract_visible_text(doc.html, limit=MAX_PAGE_CHARS)
        if vt.truncated:
            yield Finding(RULE_LIMIT, "info", doc.rel, tr(
                "页面过大（{n} 个字符），只检查了前 {m} 个字符的错敏词",
                "page too large ({n} characters): words were checked in the first {m} only",
                n=len(doc.html), m=MAX_PAGE_CHARS))
        matches = self.matcher.find(vt.text)
        for m in matches[:MAX_FINDINGS_PER_PAGE]:
            yield self._finding(doc, vt.text, vt.offsets, m)
        if len(matches) > MAX_FINDINGS_PER_PAGE:
            yield Finding(RULE_LIMIT, "info", doc.rel, tr(
                "本页另有 {n} 处错敏词未逐一列出", "{n} more word findings on this page are not listed",
                n=len(matches) - MAX_FINDINGS_PER_PAGE))

    def finish(self) -> Iterator[Finding]:
        for p in self.matcher.problems:
            yield Finding(RULE_LIST, "warning", p.path, p.message, line=p.line)

    @staticmethod
    def _finding(doc: HtmlDoc, text: str, offsets: OffsetMap, m: Match) -> Finding:
        e = m.entry
        where = tr("词表 {src} 第 {line} 行", "list {src}, line {line}", src=e.source, line=e.line)
        if e.category:
            where = tr("类别：{c}；", "category: {c}; ", c=e.category) + where
        if e.rule == RULE_TYPO and e.category:  # e.g. an outdated organ name, not a misspelling
            msg = tr("“{w}”应改为“{s}”", "'{w}' should be '{s}'", w=m.text, s=e.suggestion)
        elif e.rule == RULE_TYPO:
            msg = tr("疑似错别字“{w}”，应为“{s}”", "probable typo '{w}': write '{s}'", w=m.text, s=e.suggestion)
        elif e.rule == RULE_EXPRESSION:
            msg = tr("严重表述错误“{w}”，应为“{s}”", "serious wording error '{w}': the correct form is '{s}'",
                     w=m.text, s=e.suggestion)
        else:
            msg = tr("敏感词“{w}”", "sensitive word '{w}'", w=m.text)
            if e.suggestion:
                msg += tr("，{s}", " ({s})", s=e.suggestion)
        return Finding(e.rule, e.severity, doc.rel, tr("{m}（{w}）", "{m} ({w})", m=msg, w=where),
                       line=doc.line_of(offsets[m.start]), target=m.text, context=context(text, m.start, m.end),
                       suggestion=e.suggestion)


def context(text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> str:
    """Up to ``width`` characters either side of a match within its block, with … where cut."""
    block_lo = text.rfind(BLOCK_SEP, max(0, start - width), start) + 1 or max(0, start - width)
    block_hi = text.find(BLOCK_SEP, end, end + width)
    lo = max(block_lo, start - width, 0)
    hi = block_hi if block_hi >= 0 else min(len(text), end + width)
    cut_lo = lo > 0 and text[lo - 1] != BLOCK_SEP
    cut_hi = hi < len(text) and text[hi] != BLOCK_SEP
    return ("…" if cut_lo else "") + text[lo:hi].strip() + ("…" if cut_hi else "")
