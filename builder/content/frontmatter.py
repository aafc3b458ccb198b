"""YAML front matter between ``---`` lines: parsed, typed, and checked key by key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from builder.config import closest
from builder.errors import ContentError
from builder.i18n import tr

# libyaml's C loader is ~10x faster than the pure-Python one; same safe subset.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CST = dt.timezone(dt.timedelta(hours=8), "CST")  # China Standard Time, no DST

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
    "required": "list", "fields": "list", "description": "str",
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
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8").replace("\r\n", "\n")
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
    try:
        data = yaml.load(raw, Loader=SAFE_LOADER) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark else None  # +1 for 0-based, +1 for the opening ---
        problem = exc.problem or str(exc)
        raise ContentError(tr("front matter 的 YAML 有误：{p}", "broken YAML front matter: {p}", p=problem),
                           path, line=line,
                           hint=tr("检查冒号后的空格、引号是否成对、缩进是否一致。",
                                   "check for a space after each colon, paired quotes and consistent indentation.")
                           ) from None
    except yaml.YAMLError as exc:
        raise ContentError(tr("front matter 的 YAML 有误：{p}", "broken YAML front matter: {p}", p=exc), path, line=2) from None
    if not isinstance(data, dict):
        raise ContentError(tr("front matter 应为“键: 值”形式", "front matter must be 'key: value' pairs"), path, line=2)
    fm = FrontMatter({}, body, body_line)
    for key, value in data.items():
        key = str(key)
        line = _line_of_key(raw, key)
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
        return parsed
    raise AssertionError(kind)


def parse_datetime(value: Any) -> dt.datetime | None:
    """A date or datetime from YAML or text, as an aware datetime in China Standard Time."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=CST)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=CST)
    if isinstance(value, str):
        text = value.strip().replace("/", "-").replace("T", " ")
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                return dt.datetime.strptime(text, fmt).replace(tzinfo=CST)
            except ValueError:
                continue
    return None
