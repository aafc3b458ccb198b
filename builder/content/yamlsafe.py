"""YAML for user files (front matter, data YAML, media sidecars): safe, bounded, with line numbers.

``yaml.safe_load`` expands aliases without limit (443 bytes of "billion laughs" front matter grew
to 19.5 GB) and lets a bad value such as ``date: 2026-02-30`` escape as a bare ValueError. Here the
document is composed first (aliases stay shared nodes, so composing is linear in the file), the
size it would have once expanded is counted against a budget, and only then is it constructed —
node by node, so a value that cannot be built names its line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from builder import clock
from builder.errors import ContentError
from builder.i18n import tr

# libyaml's C parser is ~10x faster than the pure-Python one; same safe subset.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Nodes a document may have once every alias is expanded. Real front matter has tens, a data
# file of 10,000 records × 20 fields about 200,000; an alias bomb has billions.
MAX_EXPANDED_NODES = 1_000_000
MIN_YEAR, MAX_YEAR = clock.MIN_YEAR, clock.MAX_YEAR


class _Constructor(SafeConstructor):
    """SafeConstructor that names the node a value could not be built from."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            if isinstance(exc, _NodeError):
                raise
            raise _NodeError(node, exc) from None


class _NodeError(ValueError):
    def __init__(self, node: yaml.Node, exc: Exception) -> None:
        super().__init__(str(exc))
        self.node = node
        self.reason = exc


def compose(text: str, path: Path, first_line: int = 1) -> yaml.Node | None:
    """Parse ``text`` into a node graph and check its expanded size; ``first_line`` is the file line of
    the text's first line (front matter starts on line 2)."""
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ContentError(tr("YAML 语法错误：{p}", "YAML syntax error: {p}", p=exc.problem or exc),
                           path, line=mark.line + first_line if mark else None,
                           hint=tr("检查冒号后的空格、引号是否成对、缩进是否一致。",
                                   "check for a space after each colon, paired quotes and consistent indentation.")
                           ) from None
    except yaml.YAMLError as exc:
        raise ContentError(tr("YAML 语法错误：{p}", "YAML syntax error: {p}", p=exc), path, line=first_line) from None
    if node is not None and not _small_without_aliases(text):
        _check_size(node, path, first_line)
    return node


def _small_without_aliases(text: str) -> bool:
    """True when the document cannot expand past the limit: no anchor or alias (no ``&``/``*`` at
    all) and too short to hold that many nodes (each node but an empty value takes a character).
    The usual front matter; the walk below is for the rest."""
    return "&" not in text and "*" not in text and 2 * len(text) + 1 <= MAX_EXPANDED_NODES


def _check_size(root: yaml.Node, path: Path, first_line: int) -> None:
    """Count the nodes of the expanded document without expanding it (shared nodes counted once per use)."""
    size: dict[int, int] = {}
    # iterative post-order walk: deep nesting must not hit Python's recursion limit
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(size[id(c)] for c in _children(node))
            size[key] = total
            if total > MAX_EXPANDED_NODES:
                raise ContentError(
                    tr("YAML 别名（&/*）展开后过大（超过 {n} 个值），已拒绝", "YAML aliases (&/*) expand to more than {n} values; refused",
                       n=f"{MAX_EXPANDED_NODES:,}"),
                    path, line=node.start_mark.line + first_line,
                    hint=tr("请不要用锚点和别名层层引用；直接写出需要的值。",
                            "do not nest anchors and aliases; write the values out."))
            continue
        if key in size:
            continue
        if key in on_path:  # a recursive alias (e.g. &a [*a]) cannot be expanded at all
            raise ContentError(tr("YAML 别名引用了自身", "a YAML alias refers to itself"), path,
                               line=node.start_mark.line + first_line)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def construct(node: yaml.Node | None, path: Path, first_line: int = 1) -> Any:
    """Build Python values from a composed node; a value that cannot be built (2026-02-30) names its line."""
    if node is None:
        return None
    try:
        return _Constructor().construct_document(node)
    except _NodeError as exc:
        if exc.node.tag.endswith(":timestamp"):
            raise ContentError(tr("日期不存在：{v}", "no such date: {v}", v=exc.node.value), path,
                               line=exc.node.start_mark.line + first_line,
                               hint=tr("请检查日期是否存在（如 2 月没有 30 日），写成 YYYY-MM-DD。",
                                       "check that the date exists (February has no 30th); write YYYY-MM-DD.")) from None
        raise ContentError(tr("无法识别的值：{e}", "value cannot be read: {e}", e=exc.reason), path,
                           line=exc.node.start_mark.line + first_line,
                           hint=tr("请检查日期是否存在（如 2 月没有 30 日），写成 YYYY-MM-DD。",
                                   "check that the date exists (February has no 30th); write YYYY-MM-DD.")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(tr("YAML 有误：{e}", "broken YAML: {e}", e=getattr(exc, "problem", None) or exc), path,
                           line=mark.line + first_line if mark else first_line) from None


def load(text: str, path: Path, first_line: int = 1) -> Any:
    """compose + construct: the safe, bounded replacement for ``yaml.safe_load`` on user files."""
    return construct(compose(text, path, first_line), path, first_line)


def line_of(node: yaml.Node | None, key: str, first_line: int = 1) -> int | None:
    """File line of ``key`` in a mapping node (None when absent)."""
    if isinstance(node, yaml.MappingNode):
        for k, _v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k.start_mark.line + first_line
    return None


def date_in_range(value: dt.date) -> bool:
    return clock.in_range(value)
