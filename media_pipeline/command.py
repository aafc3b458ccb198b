"""``zhuanti media``: process every photo and video into the cache, or print the media catalog."""

from __future__ import annotations

import json
import sys
from argparse import Namespace

from builder import ui
from builder.config import closest, load_site_config
from builder.errors import ConfigError, ZhuantiError
from builder.i18n import tr
from media_pipeline.catalog import CatalogEntry, build_catalog, discover_media, filter_catalog
from media_pipeline.executor import dask_address
from media_pipeline.library import MediaLibrary


def _usage(args: Namespace) -> None:
    listing = bool(getattr(args, "list", False))
    for flag, value in (("--tag", getattr(args, "tag", None)), ("--group", getattr(args, "group", None))):
        if value is not None and not listing:
            raise ConfigError(tr("{f} 只能与 --list 一起使用", "{f} only works with --list", f=flag),
                              hint=tr("例如：zhuanti media --list {f} 值", "e.g. zhuanti media --list {f} VALUE", f=flag))
    if getattr(args, "format", "text") != "text" and not listing:
        raise ConfigError(tr("--format 只能与 --list 一起使用", "--format only works with --list"))
    if getattr(args, "executor", None):
        dask_address(args.executor)
    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 1:
        raise ConfigError(tr("--jobs 必须是大于 0 的整数", "--jobs must be a whole number above 0"))


def _check_topics(root, topics: list[str] | None) -> None:
    if not topics:
        return
    folder = root / "topics"
    known = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")) if folder.is_dir() else []
    for slug in topics:
        if slug not in known:
            guess = closest(slug, known)
            raise ConfigError(tr("没有名为 “{s}” 的专题", "there is no topic '{s}'", s=slug), folder,
                              hint=tr("是否想写 “{g}”？", "did you mean '{g}'?", g=guess) if guess else
                              tr("现有专题：{a}", "topics: {a}", a="、".join(known) or "-"))


def media_command(args: Namespace) -> int:
    """Exit 0 when every file is fine, 1 when any failed (all others still processed), 2 on bad usage."""
    _usage(args)
    site = load_site_config(args.root)
    topics = list(args.topic) if getattr(args, "topic", None) else None
    _check_topics(site.root, topics)
    library = MediaLibrary(site)
    if getattr(args, "list", False):
        return _list(site, library, topics, args)
    sources = discover_media(site.root, topics)
    report = library.process(sources, args.jobs, raise_errors=False, announce=False,
                             executor=getattr(args, "executor", None) or site.build.executor)
    for err in report.failed:
        ui.error(str(err))
    ui.summary(report.line(), ok=report.ok)
    return 0 if report.ok else 1


def _list(site, library: MediaLibrary, topics: list[str] | None, args: Namespace) -> int:
    errors: list[ZhuantiError] = []
    entries = filter_catalog(build_catalog(site.root, topics, site=site, errors=errors, library=library),
                             args.tag, args.group)
    if args.format == "json":
        sys.stdout.write(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2) + "\n")
    else:
        _print_table(entries)
    for err in errors:
        ui.error(str(err))
    ui.summary(tr("共 {n} 个图片和视频", "{n} photo(s) and video(s)", n=len(entries)), ok=not errors)
    return 1 if errors else 0


def _print_table(entries: list[CatalogEntry]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, highlight=False)
    for title in (tr("文件", "source"), tr("标题", "title"), tr("分组", "group"), tr("标签", "tags"),
                  tr("尺寸", "size"), tr("时长", "duration"), tr("版本", "renditions")):
        table.add_column(title, overflow="fold")
    for e in entries:
        size = f"{e.width}×{e.height}" if e.width else "-"
        duration = f"{e.duration:.1f}s" if e.duration else ""
        state = str(len(e.renditions)) if e.processed else (tr("出错", "error") if e.error else tr("未处理", "not yet"))
        table.add_row(e.source, e.title, e.group, "、".join(e.tags), size, duration, state)
    Console(highlight=False, soft_wrap=False).print(table)
