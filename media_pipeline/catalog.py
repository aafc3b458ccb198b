"""The media catalog (媒体目录): every photo and video with its sidecar metadata and renditions.

A sidecar ``<file>.yaml`` beside a photo or video (``clip.mov.yaml``) holds its title, tags,
group (分组) and description. ``build_catalog`` serves ``zhuanti media --list``;
``catalog_for_topic`` gives the per-topic media index page its template data. Both list exactly
the items the build hands them (its own view of the site: no drafts unless asked for), never a
second walk of the disk.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup

from media_pipeline import media_kind
from media_pipeline.config import MediaItem
from media_pipeline.errors import MediaError, MediaFailed
from media_pipeline.i18n import tr

SIDECAR_SUFFIX = ".yaml"
SIDECAR_KEYS = ("title", "tags", "group", "description", "photographer")
UNGROUPED = "未分组"
# libyaml when PyYAML was built with it: ~10× faster on a site with hundreds of sidecars.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# ---------------------------------------------------------------- sidecars

@dataclass(frozen=True)
class Sidecar:
    """Metadata a content editor wrote for one photo or video."""

    title: str = ""
    tags: tuple[str, ...] = ()
    group: str = ""
    description: str = ""
    photographer: str = ""  # 摄影: credited under the photo on the media page and in the lightbox
    internal_tags: tuple[str, ...] = ()  # tags written as {name: 竖屏, internal: true}: for staff, never shown


def sidecar_path(media: Path) -> Path:
    return media.with_name(media.name + SIDECAR_SUFFIX)


def load_sidecar(media: Path) -> Sidecar | None:
    """The sidecar of ``media``, None when there is none; a broken one is a MediaError with its line."""
    path = sidecar_path(Path(media))
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise MediaError(tr("说明文件不是 UTF-8 编码", "the sidecar is not UTF-8"), path,
                         hint=tr("请用 UTF-8 编码保存。", "save it as UTF-8.")) from None
    except OSError as exc:
        raise MediaError(tr("无法读取说明文件：{e}", "cannot read the sidecar: {e}", e=exc.strerror or exc), path) from exc
    return parse_sidecar(text, path)


def parse_sidecar(text: str, path: Path) -> Sidecar:
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or str(exc)
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            problem += tr("（{c}，始于第 {l} 行）", " ({c}, from line {l})", c=exc.context, l=exc.context_mark.line + 1)
        raise MediaError(tr("YAML 语法错误：{p}", "YAML syntax error: {p}", p=problem), path,
                         line=mark.line + 1 if mark else None,
                         hint=tr("请检查缩进、冒号后的空格和引号；列表写成 [a, b] 或每行 “- a”。",
                                 "check indentation, the space after ':' and quotes; lists are [a, b] or '- a' lines.")
                         ) from None
    except yaml.YAMLError as exc:
        raise MediaError(tr("YAML 语法错误：{p}", "YAML syntax error: {p}", p=exc), path) from None
    if node is None:
        return Sidecar()
    if not isinstance(node, yaml.MappingNode):
        raise MediaError(tr("说明文件应为 “键: 值” 的形式", "the sidecar must be a 'key: value' mapping"), path,
                         line=node.start_mark.line + 1,
                         hint=tr("例如：title: 标题", "for example: title: My title"))
    loader = _LOADER(text)
    values: dict[str, Any] = {}
    seen: dict[str, int] = {}
    try:
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = str(loader.construct_object(key_node, deep=True))
            if key in seen:
                raise MediaError(tr("“{k}” 重复出现（第 {l} 行已写过）", "'{k}' appears twice (already on line {l})",
                                    k=key, l=seen[key]), path, line=line, field=key)
            seen[key] = line
            if key not in SIDECAR_KEYS:
                guess = next(iter(difflib.get_close_matches(key, SIDECAR_KEYS, n=1, cutoff=0.5)), None)
                raise MediaError(tr("未知的键 “{k}”", "unknown key '{k}'", k=key), path, line=line, field=key,
                                 hint=tr("是否想写 “{g}”？", "did you mean '{g}'?", g=guess) if guess else
                                 tr("可用的键：{a}", "valid keys: {a}", a=", ".join(SIDECAR_KEYS)))
            value = loader.construct_object(value_node, deep=True)
            if key == "tags":
                values[key], values["internal_tags"] = _tags(value, path, line)
            else:
                values[key] = _text(key, value, path, line)
    except yaml.YAMLError as exc:  # e.g. a bad !!tag or timestamp
        mark = getattr(exc, "problem_mark", None)
        raise MediaError(tr("YAML 值无法读取：{p}", "cannot read a YAML value: {p}", p=getattr(exc, "problem", exc)),
                         path, line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    return Sidecar(**values)


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return tr("列表", "a list")
    if isinstance(value, dict):
        return tr("映射", "a mapping")
    if isinstance(value, bool):
        return tr("布尔值 {v}", "the boolean {v}", v=value)
    return type(value).__name__


def _text(key: str, value: Any, path: Path, line: int) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float | dt.date) and not isinstance(value, bool):
        return str(value)
    raise MediaError(tr("“{k}” 应为一段文字，实际是{t}", "'{k}' must be text, got {t}", k=key, t=_type_name(value)),
                     path, line=line, field=key,
                     hint=tr("例如：{k}: 某某文字（含冒号等符号时请加引号）", "for example: {k}: some text (quote it if it has a colon)",
                             k=key))


def _tags(value: Any, path: Path, line: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(tags, internal tags). A tag may be written ``{name: 竖屏, internal: true}``: it stays in the
    catalog (``zhuanti media --list --tag 竖屏``) but pages never show it."""
    if value is None:
        return (), ()
    if isinstance(value, str):
        items: list[Any] = [t for t in re.split(r"[,，、;；]", value)]
    elif isinstance(value, list):
        items = value
    else:
        items = [value] if isinstance(value, int | float) and not isinstance(value, bool) else None
        if items is None:
            raise MediaError(tr("“tags” 应为标签列表，实际是{t}", "'tags' must be a list of tags, got {t}", t=_type_name(value)),
                             path, line=line, field="tags", hint=tr("例如：tags: [会议, 2025]", "for example: tags: [meeting, 2025]"))
    out: list[str] = []
    internal: list[str] = []
    for item in items:
        if isinstance(item, dict) and set(item) <= {"name", "internal"} and isinstance(item.get("name"), str | int) \
                and isinstance(item.get("internal", False), bool):
            if item.get("internal"):
                internal.append(str(item["name"]).strip())
            item = item["name"]
        if isinstance(item, list | dict) or isinstance(item, bool) or item is None:
            raise MediaError(tr("标签应为文字，实际是{t}", "each tag must be text, got {t}", t=_type_name(item)),
                             path, line=line, field="tags", hint=tr("例如：tags: [会议, {name: 竖屏, internal: true}]", "for example: tags: [meeting, {name: portrait, internal: true}]"))
        tag = str(item).strip()
        if tag and tag not in out:
            out.append(tag)
    return tuple(out), tuple(internal)


# ---------------------------------------------------------------- the catalog

@dataclass
class CatalogEntry:
    """One line of ``zhuanti media --list``; paths are relative to the site root / the output."""

    source: str
    kind: str
    topic: str | None
    title: str
    tags: list[str] = field(default_factory=list)
    group: str = ""
    description: str = ""
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    renditions: list[str] = field(default_factory=list)  # output paths under public/
    poster: str | None = None
    processed: bool = False  # renditions are in the cache
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def build_catalog(library: Any, items: list[MediaItem], *,
                  errors: list[MediaError] | None = None) -> list[CatalogEntry]:
    """Every photo and video of ``items`` with its metadata and cached renditions.

    Unprocessed files are measured from their headers. Broken sidecars and unreadable files are
    appended to ``errors`` when given (the entry is still listed), else raised together.
    """
    found_errors: list[MediaError] = []
    entries = library.lookup_many(items)
    out = []
    for it in items:
        src = Path(it.source)
        rel = library.rel(src)
        kind = media_kind(src) or ""
        try:
            side = library.sidecar(src) or Sidecar()
        except MediaError as exc:
            found_errors.append(library.relative_error(exc))
            side = Sidecar()
        item = CatalogEntry(rel, kind, it.topic, side.title or src.stem, list(side.tags), side.group,
                            side.description)
        entry = entries.get(Path(os.path.abspath(src)))
        if entry is not None:
            item.processed = True
            item.width, item.height = entry.width, entry.height
            item.duration = getattr(entry, "duration", None)
            item.renditions = entry.rendition_paths()
            item.poster = entry.poster_path()
        else:
            try:
                item.width, item.height, item.duration = library.measure(src)
            except MediaError as exc:
                item.error = exc.message
                found_errors.append(library.relative_error(exc))
        out.append(item)
    if found_errors:
        if errors is None:
            raise MediaFailed(found_errors)
        errors.extend(found_errors)
    return out


def filter_catalog(entries: list[CatalogEntry], tag: str | None = None, group: str | None = None) -> list[CatalogEntry]:
    def norm(s: str) -> str:
        return unicodedata.normalize("NFKC", s).strip().casefold()

    out = entries
    if tag:
        out = [e for e in out if norm(tag) in {norm(t) for t in e.tags}]
    if group:
        out = [e for e in out if norm(e.group) == norm(group)]
    return out


def _duration_text(seconds: float | None) -> str:
    if not seconds:
        return ""
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _anchor(prefix: str, name: str, index: int) -> str:
    slug = re.sub(r"[^\w\u4e00-\u9fff-]+", "-", unicodedata.normalize("NFKC", name)).strip("-").lower()
    return f"{prefix}-{index}-{slug}" if slug else f"{prefix}-{index}"


# The media index shows a grid of ~320 px cells: a phone's full width, else one cell.
GRID_SIZES = "(max-width: 480px) 100vw, 320px"


def catalog_for_topic(library: Any, items: list[MediaItem], page_url: str, page_title: str,
                      groups: list[str] | tuple[str, ...] = ()) -> dict:
    """Template data for a topic's media index page rendered at ``page_url``: the ``items`` the
    build publishes for that topic, grouped in the order ``groups`` declares (then by name).

    Returns plain dicts: ``title``, ``count``, ``tags`` (name, count) and ``groups`` (name, id,
    items); each item has title, description, kind, tags, ``html`` (the <picture>/<video>
    snippet, ready to print), href, duration, width, height.
    """
    from media_pipeline.library import url_prefix

    entries = library.lookup_many(items)
    by_group: dict[str, list[dict]] = {}
    tag_counts: Counter[str] = Counter()
    for it in items:
        src = Path(os.path.abspath(it.source))
        try:
            side = library.sidecar(src) or Sidecar()
        except MediaError:
            side = Sidecar()  # reported by the media step of the build
        entry = entries.get(src)
        title = side.title or src.stem
        item: dict[str, Any] = {"title": title, "description": side.description, "kind": media_kind(src),
                                "tags": [t for t in side.tags if t not in side.internal_tags],
                                "photographer": side.photographer, "source": library.rel(src),
                                "html": Markup(""), "href": "", "duration": "", "width": None, "height": None}
        if entry is not None:
            prefix = url_prefix(page_url, entry.url_dir)
            item["html"] = Markup(entry.html(title, prefix, sizes=GRID_SIZES))
            item["href"] = prefix + entry.main_name(quoted=True)
            item["duration"] = _duration_text(getattr(entry, "duration", None))
            item["width"], item["height"] = entry.width, entry.height
        tag_counts.update(t for t in side.tags if t not in side.internal_tags)
        by_group.setdefault(side.group or UNGROUPED, []).append(item)
    order = {name: i for i, name in enumerate(groups)}
    names = sorted(by_group, key=lambda g: (g == UNGROUPED, order.get(g, len(order)), g))
    tags = [{"name": t, "count": c} for t, c in sorted(tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"title": page_title, "count": len(items), "tags": tags,
            "groups": [{"name": g, "id": _anchor("group", g, i), "items": by_group[g]} for i, g in enumerate(names)]}
