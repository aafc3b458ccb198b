"""YAML front matter between ``---`` lines: parsed, typed, and checked key by key."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder import clock
from builder.config import closest
from builder.content import yamlsafe
from builder.errors import ContentError
from builder.i18n import tr

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# key → expected type; "date" accepts YYYY-MM-DD[ HH:MM[:SS]]
PAGE_KEYS: dict[str, str] = {
    "title": "str", "date": "date", "weight": "int", "tags": "list", "draft": "bool",
    "publish_at": "date", "expire_at": "date", "template": "str", "summary": "str",
    "cover": "str", "slug": "str",
    # Beyond SPEC's list: the page-specification meta ContentSource (来源) and keywords.
    "source": "str", "keywords": "list",
}
COLUMN_KEYS: dict[str, str] = {
    **PAGE_KEYS, "column_type": "str", "paginate": "int", "stale_after": "str",
    "data": "str", "slug_field": "str", "title_field": "str", "date_field": "str",
    "required": "list", "fields": "list", "description": "str", "sheet": "str",
}


@dataclass
class FrontMatter:
    values: dict[str, Any]
    body: str
    body_line: int  # 1-based line of the first body line in the file
    warnings: list[str] = field(default_factory=list)


def read_text(path: Path) -> str:
    """Read a Markdown source as UTF-8; a non-UTF-8 file is an error that names the encoding found."""
    data = path.read_bytes()
    while data.startswith(b"\xef\xbb\xbf"):  # editors that add a BOM to a file that has one already
        data = data[3:]
    try:
        # Windows (CRLF) and classic Mac (CR only) line endings both become LF.
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        found = guess_encoding(data)
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError(
            tr("文件不是 UTF-8 编码（看起来是 {enc}）", "file is not UTF-8 (it looks like {enc})", enc=found),
            path, line=line,
            hint=tr("请用 UTF-8 编码另存此文件（记事本：另存为 → 编码选 UTF-8）。",
                    "save the file as UTF-8 (e.g. Notepad: Save As → Encoding: UTF-8).")) from None


def guess_encoding(data: bytes) -> str:
    for enc in ("gb18030", "big5", "utf-16"):
        try:
            data.decode(enc)
            return enc.upper()
        except UnicodeDecodeError:
            continue
    return tr("未知编码", "an unknown encoding")


def split(text: str, path: Path) -> tuple[str | None, str, int]:
    """Return (yaml_text or None, body, body_line)."""
    if not text.startswith("---"):
        return None, text, 1
    first_nl = text.find("\n")
    if first_nl == -1 or text[:first_nl].strip() != "---":
        return None, text, 1
    pos = first_nl + 1
    line = 2
    while True:
        nl = text.find("\n", pos)
        current = text[pos: nl if nl != -1 else len(text)]
        if current.rstrip() in ("---", "..."):
            body_start = nl + 1 if nl != -1 else len(text)
            return text[first_nl + 1: pos], text[body_start:], line + 1
        if nl == -1:
            raise ContentError(tr("front matter 没有结束的 --- 行", "front matter has no closing '---' line"),
                               path, line=1, hint=tr("请在元数据后加一行 ---。", "add a '---' line after the metadata."))
        pos = nl + 1
        line += 1


def parse(text: str, path: Path, keys: dict[str, str] = PAGE_KEYS) -> FrontMatter:
    raw, body, body_line = split(text, path)
    if raw is None:
        return FrontMatter({}, body, body_line)
    node = yamlsafe.compose(raw, path, first_line=2)  # line 1 is the opening ---
    data = yamlsafe.construct(node, path, first_line=2) or {}
    if not isinstance(data, dict):
        raise ContentError(tr("front matter 应为“键: 值”形式", "front matter must be 'key: value' pairs"), path, line=2)
    fm = FrontMatter({}, body, body_line)
    for key, value in data.items():
        key = str(key)
        line = yamlsafe.line_of(node, key, first_line=2) or _line_of_key(raw, key)
        if key not in keys:
            guess = closest(key, keys)
            fm.warnings.append(
                f"{path}:{line}: " + tr("未知的 front matter 键 “{k}”，已忽略", "unknown front matter key '{k}', ignored", k=key)
                + (tr("；是否想写 “{g}”？", "; did you mean '{g}'?", g=guess) if guess else ""))
            continue
        fm.values[key] = _coerce(value, keys[key], key, path, line)
    return fm


def _line_of_key(raw: str, key: str) -> int:
    for i, line in enumerate(raw.split("\n")):
        if line.startswith(f"{key}:") or line.startswith(f'"{key}":'):
            return i + 2
    return 2


def _coerce(value: Any, kind: str, key: str, path: Path, line: int) -> Any:
    def bad(expected: str) -> ContentError:
        return ContentError(tr("“{k}” 应为 {e}，实际是 {v!r}", "'{k}' must be {e}, got {v!r}", k=key, e=expected, v=value),
                            path, line=line, field=key)

    if value is None:
        return None
    if kind == "str":
        if isinstance(value, bool | list | dict):
            raise bad(tr("文本", "text"))
        return str(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(tr("整数", "an integer"))
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true/false")
        return value
    if kind == "list":
        if isinstance(value, str):
            return [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
        if not isinstance(value, list):
            raise bad(tr("列表", "a list"))
        return [str(v) for v in value]
    if kind == "date":
        parsed = parse_datetime(value)
        if parsed is None:
            raise bad(tr("日期（YYYY-MM-DD 或 YYYY-MM-DD HH:MM）", "a date (YYYY-MM-DD or YYYY-MM-DD HH:MM)"))
        if not yamlsafe.date_in_range(parsed):
            raise ContentError(tr("日期 {v} 超出可用范围（{a}–{b} 年）", "date {v} is out of range (years {a}–{b})",
                                  v=value, a=yamlsafe.MIN_YEAR, b=yamlsafe.MAX_YEAR), path, line=line, field=key,
                               hint=tr("请填写真实的发布日期。", "write the real date."))
        return parsed
    raise AssertionError(kind)


def parse_datetime(value: Any) -> dt.datetime | None:
    """A date or datetime from YAML or text, as an aware datetime (naive values are in the site's
    time zone, ``builder.clock``). None when it is not a date; years outside
    ``yamlsafe.MIN_YEAR..MAX_YEAR`` are returned as they are for the caller to refuse."""
    zone = clock.zone()
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=zone)
    if isinstance(value, str):
        if len(value) == 10 and _DAY.match(value):  # the usual data-column cell: 5× faster than strptime
            try:
                return dt.datetime(int(value[:4]), int(value[5:7]), int(value[8:]), tzinfo=zone)
            except ValueError:
                return None  # 2026-02-30: strptime refuses it too
        text = value.strip().replace("/", "-").replace("T", " ")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        for fmt in ("%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    return None
