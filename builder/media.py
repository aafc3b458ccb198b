"""The build's side of the media pipeline: what the build hands ``media_pipeline`` (its settings and
the photos and videos of the site as the build sees them) and what it takes back (page snippets,
rendition files, the media catalogs), plus ``zhuanti media``.

``media_pipeline`` imports nothing of ``builder``; its ``MediaError`` becomes a ``ContentError``
(a ``ConfigError`` for a bad ``[media]`` setting) here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path

from builder import ui
from builder.config import SiteConfig, closest, load_site_config
from builder.content.loader import LoadOptions, load_site
from builder.content.model import Site
from builder.errors import BuildFailed, ConfigError, ContentError, ZhuantiError
from builder.i18n import tr
from media_pipeline.config import MediaItem, MediaSettings
from media_pipeline.errors import MediaConfigError, MediaError
from media_pipeline.images import sniff_image, strip_metadata

STRIPPED_DIR = "stripped"  # under the media cache: metadata-free copies of theme images


def media_settings(cfg: SiteConfig) -> MediaSettings:
    """The site's ``[media]`` and folders, as the pipeline's own settings type."""
    return MediaSettings(root=cfg.root, cache_dir=cfg.cache_dir / "media",
                         config_file=cfg.root / "site_src" / "site.toml", **dataclasses.asdict(cfg.media))


def library_for(cfg: SiteConfig):
    from media_pipeline.library import MediaLibrary

    return MediaLibrary(media_settings(cfg))


def build_error(exc: MediaError) -> ZhuantiError:
    """The build's error for a pipeline error: ConfigError (exit 2) for a setting, else ContentError."""
    kind = ConfigError if isinstance(exc, MediaConfigError) else ContentError
    return kind(exc.message, exc.path, line=exc.line, field=exc.field, hint=exc.hint)


def build_errors(errors: list[MediaError]) -> list[ZhuantiError]:
    return [build_error(e) for e in errors]


def media_items(site: Site, topics: list[str] | None = None) -> list[MediaItem]:
    """The photos and videos the build publishes (drafts and future pages only when the load
    included them), each with the topic it belongs to."""
    dirs = [(t.slug, os.path.abspath(t.dir) + os.sep) for t in site.topics]
    items = []
    for a in site.assets:
        if not a.media:
            continue
        path = os.path.abspath(a.source)
        topic = next((slug for slug, d in dirs if path.startswith(d)), None)
        if topics is None or topic in topics:
            items.append(MediaItem(Path(path), a.output, topic))
    return items


@dataclass
class MediaHtml:
    """What pages need from the media step, as plain picklable data for render workers."""

    entries: dict = field(default_factory=dict)  # rel source → media_pipeline MediaEntry
    catalogs: dict = field(default_factory=dict)  # topic slug → media index data

    def __call__(self, source: str, alt: str, page_url: str) -> str | None:
        entry = self.entries.get(source)
        return entry.page_html(alt, page_url) if entry is not None else None

    def key(self, source: str) -> str:
        """The value of a page's ``m|<source>`` dependency: changes whenever the snippet would."""
        entry = self.entries.get(source)
        return entry.snippet_key() if entry is not None else "absent"


def drop_caption_files(site: Site) -> None:
    """A .srt/.vtt beside a video becomes the video's WebVTT track (the pipeline reads it); the file
    itself is not published."""
    from media_pipeline import IMAGE_EXTS
    from media_pipeline.video import find_captions

    root = site.config.root
    captions = {find_captions(a.source, root) for a in site.assets
                if a.media and a.source.suffix.lower() not in IMAGE_EXTS}
    captions.discard(None)
    if captions:
        site.assets = [a for a in site.assets if a.source not in captions]


# ---------------------------------------------------------------- images that skip the pipeline

def screen_assets(cfg: SiteConfig, site: Site) -> list[ZhuantiError]:
    """No image is ever published raw with its metadata (EXIF/GPS, XMP, IPTC, comments).

    Decided by content, not by extension: an image among the files copied as they are is either a
    theme's own picture (``static/``: published as a metadata-free copy, same format and name) or
    a photo under a name the pipeline does not take for one (an error naming it: rename it).
    ``asset.source`` is pointed at the clean copy, so the copy step publishes that.
    """
    errors: list[ZhuantiError] = []
    stripped = cfg.cache_dir / "media" / STRIPPED_DIR
    for asset in site.assets:
        if asset.media:
            continue
        fmt = sniff_image(asset.source)
        if fmt is None:
            continue
        rel = _rel(cfg, asset.source)
        if not asset.output.startswith("static/"):
            errors.append(ContentError(
                tr("这是一张 {f} 图片，但扩展名 “{e}” 不是图片扩展名：它会绕过图片处理（去除 GPS 等元数据）原样发布",
                   "this is a {f} image, but '{e}' is not an image extension: it would be published as is, "
                   "bypassing the photo pipeline (which strips GPS and other metadata)",
                   f=fmt, e=asset.source.suffix or "-"), rel,
                hint=tr("请把扩展名改为与格式一致（如 .jpg、.png），它就会按图片处理。",
                        "rename it with the extension of its format (e.g. .jpg, .png) so it is processed as a photo.")))
            continue
        try:
            asset.source = _clean_copy(asset.source, stripped)
        except MediaError as exc:
            exc.path = rel
            errors.append(build_error(exc))
    return errors


def _clean_copy(source: Path, folder: Path) -> Path:
    """The file itself when it carries no metadata, else a stripped copy in the cache (by content)."""
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:32]
    target = folder / f"{digest}{source.suffix.lower()}"
    marker = folder / f"{digest}.clean"  # the source had nothing to strip
    if marker.exists():
        return source
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    if strip_metadata(source, tmp):
        os.replace(tmp, target)
        return target
    marker.touch()
    return source


def _rel(cfg: SiteConfig, path: Path) -> str:
    try:
        return Path(path).relative_to(cfg.root).as_posix()
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- the build's media step

def process_media(cfg: SiteConfig, site: Site, jobs: int | None, notes: list[str],
                  executor: str | None = None) -> tuple[MediaHtml | None, list]:
    """Photos and videos go through the media pipeline (cached by content). Returns what pages
    need and the rendition files to publish — never the original file. Raises BuildFailed
    naming every file that failed (the others are processed and cached first)."""
    from builder.build import PlannedFile  # the build's own record of a file to place
    from media_pipeline.catalog import catalog_for_topic

    drop_caption_files(site)
    problems = screen_assets(cfg, site)
    items = media_items(site)
    if not items:
        if problems:
            raise BuildFailed(problems)
        return None, []
    library = library_for(cfg)
    try:
        report = library.process([i.source for i in items], jobs, raise_errors=False,
                                 executor=executor or cfg.build.executor)
    except MediaError as exc:
        raise build_error(exc) from None
    problems.extend(build_errors(report.failed))
    if problems:  # every other file was processed and cached first
        raise BuildFailed(problems)
    notes.extend(report.notes)
    notes.append(report.line())
    entries = library.lookup_many(items)
    media = MediaHtml()
    files = []
    for item in items:
        entry = entries[item.source]
        media.entries[_rel(cfg, item.source)] = entry
        files.extend(PlannedFile(out, Path(cached), {"media": entry.key}) for cached, out in entry.files())
    for topic in site.topics:
        if topic.media_page:
            mine = [i for i in items if i.topic == topic.slug]
            media.catalogs[topic.slug] = catalog_for_topic(library, mine, topic.media_page.url, topic.media_page.title,
                                                           topic.config.groups)
    return media, files


# ---------------------------------------------------------------- zhuanti media

def _usage(args: Namespace) -> None:
    listing = bool(getattr(args, "list", False))
    for flag, value in (("--tag", getattr(args, "tag", None)), ("--group", getattr(args, "group", None))):
        if value is not None and not listing:
            raise ConfigError(tr("{f} 只能与 --list 一起使用", "{f} only works with --list", f=flag),
                              hint=tr("例如：zhuanti media --list {f} 值", "e.g. zhuanti media --list {f} VALUE", f=flag))
    if getattr(args, "format", "text") != "text" and not listing:
        raise ConfigError(tr("--format 只能与 --list 一起使用", "--format only works with --list"))
    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 1:
        raise ConfigError(tr("--jobs 必须是大于 0 的整数", "--jobs must be a whole number above 0"))
    check_executor(getattr(args, "executor", None))


def check_executor(spec: str | None) -> None:
    """``--executor``: ``local`` or ``dask://HOST[:PORT]`` (exit 2 otherwise, before any work)."""
    from media_pipeline.executor import dask_address

    try:
        dask_address(spec)
    except MediaError as exc:
        raise build_error(exc) from None


def _check_topics(root: Path, topics: list[str] | None) -> None:
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


def site_media(cfg: SiteConfig, topics: list[str] | None = None) -> list[MediaItem]:
    """Every photo and video of the site as the build loads it, drafts and future pages included
    (``zhuanti media`` prepares them; publishing decides later), limited to ``topics``."""
    site = load_site(cfg, LoadOptions(drafts=True, future=True, topics=topics))
    return media_items(site, topics)


def media_command(args: Namespace) -> int:
    """``zhuanti media``: exit 0 when every file is fine, 1 when any failed (all others still
    processed), 2 on bad usage."""
    _usage(args)
    cfg = load_site_config(args.root)
    topics = list(args.topic) if getattr(args, "topic", None) else None
    _check_topics(cfg.root, topics)
    items = site_media(cfg, topics)
    library = library_for(cfg)
    if getattr(args, "list", False):
        return _list(library, items, args)
    try:
        report = library.process([i.source for i in items], args.jobs, raise_errors=False,
                                 executor=getattr(args, "executor", None) or cfg.build.executor)
    except MediaError as exc:
        raise build_error(exc) from None
    for note in report.notes:
        ui.warn(note)
    for err in report.failed:
        ui.error(str(err))
    ui.summary(report.line(), ok=report.ok)
    return 0 if report.ok else 1


def _list(library, items: list[MediaItem], args: Namespace) -> int:
    from media_pipeline.catalog import build_catalog, filter_catalog

    errors: list[MediaError] = []
    everything = build_catalog(library, items, errors=errors)
    if args.tag:
        known = sorted({t for e in everything for t in e.tags})
        entries = filter_catalog(everything, args.tag, None)
        if not entries:
            raise ConfigError(tr("没有标签为 “{t}” 的图片或视频", "no photo or video is tagged '{t}'", t=args.tag), "--tag",
                              hint=tr("现有标签：{a}", "known tags: {a}", a="、".join(known) or "-"))
    else:
        entries = everything
    entries = filter_catalog(entries, None, args.group)
    if args.format == "json":
        sys.stdout.write(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2) + "\n")
    else:
        _print_table(entries)
    for err in errors:
        ui.error(str(err))
    ui.summary(tr("共 {n} 个图片和视频", "{n} photo(s) and video(s)", n=len(entries)), ok=not errors)
    return 1 if errors else 0


def _print_table(entries) -> None:
    """A table on a terminal; tab-separated columns, one line per file, when piped (no wrapping)."""
    headers = (tr("文件", "source"), tr("标题", "title"), tr("分组", "group"), tr("标签", "tags"),
               tr("尺寸", "size"), tr("时长", "duration"), tr("版本", "renditions"))
    rows = []
    for e in entries:
        size = f"{e.width}×{e.height}" if e.width else "-"
        duration = f"{e.duration:.1f}s" if e.duration else ""
        state = str(len(e.renditions)) if e.processed else (tr("出错", "error") if e.error else tr("未处理", "not yet"))
        rows.append((e.source, e.title, e.group, "、".join(e.tags), size, duration, state))
    if not sys.stdout.isatty():
        def cell(text: str) -> str:  # a tab or newline in a title must not shift the columns
            return " ".join(str(text).split())

        sys.stdout.write("\t".join(headers) + "\n")
        sys.stdout.writelines("\t".join(cell(c) for c in row) + "\n" for row in rows)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_lines=False, highlight=False)
    for title in headers:
        table.add_column(title, overflow="fold")
    for row in rows:
        table.add_row(*(escape(c) for c in row))  # a title such as 图[/] is text, not markup
    Console(highlight=False, soft_wrap=False).print(table)


