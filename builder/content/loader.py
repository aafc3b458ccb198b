"""Load a site from its folders: site_src/, topics/<slug>/…, themes/<theme>/static/.

Errors are collected (every broken file is named in one run) and raised together as BuildFailed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder import clock
from builder.config import COLUMN_TYPES, SiteConfig, TopicConfig, closest, confine, load_topic_config
from builder.content import attachments, frontmatter, yamlsafe
from builder.content.data import DataSource, load_records
from builder.content.model import Asset, Column, DataSpec, Page, Site, Topic
from builder.errors import BuildFailed, ConfigError, ContentError, ZhuantiError
from builder.i18n import tr
from builder.resources import builtin_theme_dir
from media_pipeline import MEDIA_EXTS

SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", "topic.toml"}
SKIP_DIRS = {"templates", "__pycache__"}
UNSAFE_SEGMENT = re.compile(r"[\x00-\x1f\x7f/\\?#%\"<>|*:]")
# Longest URL segment, in UTF-8 bytes: it becomes a folder name, and file systems stop at 255.
MAX_SEGMENT_BYTES = 200
# Files the build writes itself at the top of public/: no page may claim them.
GENERATED = ("sitemap.xml", ".zhuanti/manifest.json")
GENERATED_PART = re.compile(r"sitemap-[1-9][0-9]*\.xml")  # past 50,000 URLs (builder/build.py)
TIME_KEYS = ("publish_at", "expire_at", "date")


@dataclass
class LoadOptions:
    drafts: bool = False
    future: bool = False
    topics: list[str] | None = None  # None = all
    now: dt.datetime | None = None
    # The engine's parse cache (builder.engine_sources.SourceCache): unchanged files are not parsed again.
    sources: Any = None


@dataclass
class Loaded:
    """A site as its folders gave it, before the finishing steps (unused attachments left out,
    collisions checked), with what ``Loader.patch`` needs to bring it up to date when only pages
    changed: it reads those files again instead of the whole site.

    Warnings and assets are kept with their place in the load order (``tick``) and the detail
    page file that made them (``owner``), so a patched site lists them as a full load would."""

    site: Site  # its ``warnings`` and ``assets`` are made by ``Loader.finish``
    # page file → (topic slug, column name or None, parent URL, load order); a site_src/ page:
    # (None, None, its URL, load order)
    origins: dict[str, tuple[str, str | None, str, int]] = field(default_factory=dict)
    warnings: list[tuple[int, str | None, str]] = field(default_factory=list)  # (tick, owner, message)
    assets: list[tuple[int, str | None, Asset]] = field(default_factory=list)  # (tick, owner, asset)
    times: dict[str, tuple[float, ...]] = field(default_factory=dict)  # Markdown file → publish/expire/date
    targets: dict[str, tuple[str, set[str]]] = field(default_factory=dict)  # attachments.leave_out_unused memo

    @staticmethod
    def order(items: list[tuple]) -> list:
        """Warnings or assets in load order (a detail page's own before the rest of its tick)."""
        return [x[2] for x in sorted(items, key=lambda x: (x[0], x[1] is None))]


def theme_dir(site: SiteConfig) -> Path:
    local = site.root / "themes" / site.theme
    if local.is_dir():
        return local
    builtin = builtin_theme_dir(site.theme)
    if builtin.is_dir():
        return builtin
    raise ConfigError(tr("主题 “{t}” 不存在", "theme '{t}' not found", t=site.theme), site.root / "site_src/site.toml",
                      field="theme", hint=tr("请检查 themes/ 目录或改为 theme = \"default\"。",
                                             "check themes/ or set theme = \"default\"."))


def url_segment(name: str, source: Path, what: str = "slug") -> str:
    """A URL path segment from a file name or slug; refuses anything that could leave public/."""
    seg = unicodedata.normalize("NFC", name).strip().replace(" ", "-")
    if not seg or seg in (".", "..") or seg.startswith(".") or UNSAFE_SEGMENT.search(seg):
        raise ContentError(tr("“{s}” 不能用作网址（会越出输出目录或含有非法字符）",
                              "'{s}' cannot be used in a URL (it would escape the output folder or has unsafe characters)",
                              s=name), source, field=what,
                           hint=tr("只用字母、数字、汉字和连字符，不要用 / \\ .. 等。",
                                   "use letters, digits, Chinese characters and hyphens; no / \\ or '..'."))
    if len(seg.encode("utf-8")) > MAX_SEGMENT_BYTES:
        raise ContentError(tr("“{s}…” 太长，不能用作网址（最多 {n} 字节，约 {c} 个汉字）",
                              "'{s}…' is too long for a URL (at most {n} bytes, about {c} Chinese characters)",
                              s=seg[:20], n=MAX_SEGMENT_BYTES, c=MAX_SEGMENT_BYTES // 3), source, field=what,
                           hint=tr("请用更短的文件名或 slug。", "use a shorter file name or slug."))
    return seg


def slugify(value: str) -> str:
    """URL-safe form of a data value (e.g. 京规许〔2025〕001号 → 京规许-2025-001号)."""
    text = unicodedata.normalize("NFKC", value).strip()
    text = re.sub(r"[^\w\u4e00-\u9fff]+", "-", text, flags=re.UNICODE).strip("-_")
    return text.lower()


def parse_period(text: str | None, source: Path) -> int | None:
    """'14d', '2w', '6m', '1y' → days."""
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([dwmy天周月年])\s*", str(text))
    if not m:
        raise ConfigError(tr("stale_after 应写成如 14d、2w、6m、1y", "stale_after must look like 14d, 2w, 6m or 1y"),
                          source, field="stale_after")
    n, unit = int(m.group(1)), m.group(2)
    return n * {"d": 1, "天": 1, "w": 7, "周": 7, "m": 30, "月": 30, "y": 365, "年": 365}[unit]


class Loader:
    def __init__(self, site: SiteConfig, options: LoadOptions) -> None:
        self.cfg = site
        self.root = site.root
        self.opts = options
        self.now = options.now or clock.now(site.timezone)
        self.errors: list[ZhuantiError] = []
        self.site = Site(config=site, home=Page("home", site.root / "site_src/index.md", "site_src/index.md", "", site.title))
        self.loaded = Loaded(self.site)
        self.refused: set[Path] = set()  # symbolic links to outside the site, warned about once
        self.tick = 0  # bumped for every Markdown file read: the load order
        self.owner: str | None = None  # the detail page file being loaded (its warnings and bundle files)

    # ---- helpers -------------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def warn(self, message: str) -> None:
        self.loaded.warnings.append((self.tick, self.owner, message))

    def inside(self, path: Path) -> bool:
        """False (and a warning) for a symlink that leads outside the site root; such links are not followed."""
        if not path.is_symlink():
            return True
        target = path.resolve()
        if target.is_relative_to(self.root):
            return True
        if path in self.refused:
            return False
        self.refused.add(path)
        self.warn(tr("{p}：符号链接指向站点目录之外（{t}），未跟随", "{p}: symbolic link points outside the site ({t}); not followed",
                     p=self.rel(path), t=target))
        return False

    def page_file(self, path: Path) -> bool:
        """A page's Markdown file (index.md, _index.md) looked up by name rather than listed: a file,
        and not a symbolic link to outside the site."""
        return path.is_file() and self.inside(path)

    def dangling(self, path: Path) -> bool:
        """True (and an error) for a symbolic link whose target does not exist."""
        if path.is_symlink() and not path.exists():
            self.errors.append(ContentError(
                tr("符号链接指向不存在的文件：{t}", "symbolic link points to a file that does not exist: {t}",
                   t=os.readlink(path)), path,
                hint=tr("请删除这个链接，或恢复它指向的文件。", "remove the link or restore the file it points to.")))
            return True
        return False

    def children(self, folder: Path) -> list[Path]:
        out = []
        for p in sorted(folder.iterdir(), key=lambda q: q.name):
            if p.name.startswith((".", "~$")) or p.name in SKIP_NAMES or self.dangling(p) or not self.inside(p):
                continue
            out.append(p)
        return out

    def read_page(self, path: Path, kind: str, url: str, keys=frontmatter.PAGE_KEYS, **extra) -> Page | None:
        if not self.inside(path):
            return None
        self.tick += 1
        try:
            fm = self.opts.sources.front_matter(path, keys) if self.opts.sources else \
                frontmatter.parse(frontmatter.read_text(path), path, keys)
        except ContentError as exc:
            self.errors.append(exc)
            return None
        for w in fm.warnings:
            self.warn(w)
        meta = fm.values
        rel = self.rel(path)
        # When "now" passes one of these, what the site shows changes (the engine's time inputs).
        self.loaded.times[rel] = tuple(v.timestamp() for v in (meta.get(k) for k in TIME_KEYS)
                                       if v is not None and hasattr(v, "timestamp"))
        fallback = path.parent.name if path.stem in ("index", "_index") else path.stem
        title = str(meta.get("title") or "").strip() or fallback
        page = Page(kind, path, rel, url, title, meta, fm.body, fm.body_line,
                    date=meta.get("date"), weight=int(meta.get("weight") or 0), **extra)
        return page

    def visible(self, page: Page) -> bool:
        """Drafts and future pages are left out unless asked for; the link map remembers them."""
        meta = page.meta
        publish_at = meta.get("publish_at") or (page.date if page.kind in ("detail",) else None)
        if meta.get("draft") and not self.opts.drafts:
            self.site.excluded.add(page.rel_source)
            return False
        if publish_at and publish_at > self.now and not self.opts.future:
            self.site.excluded.add(page.rel_source)
            return False
        expire = meta.get("expire_at")
        if expire and expire <= self.now:
            page.archived = True
        return True

    # ---- loading -------------------------------------------------------------------------
    def load(self) -> Site:
        return self.finish(self.walk())

    def walk(self) -> Loaded:
        """Read the whole site (errors are collected; ``finish`` raises them)."""
        # Loading makes millions of objects that all stay alive and no cyclic garbage: the cyclic
        # collector would walk them again and again (36 % of loading 100,000 pages, 18 % of a
        # million-row data column). Reference counting still frees everything as usual.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._walk()
        finally:
            if collecting:
                gc.enable()

    def _walk(self) -> Loaded:
        site = self.site
        src = self.root / "site_src"
        home_md = src / "index.md"
        if self.page_file(home_md):
            page = self.read_page(home_md, "home", "")
            if page:
                page.title = page.meta.get("title") or self.cfg.title
                site.home = page
        site.links["site_src/index.md"] = ""
        if src.is_dir():
            for p in self.children(src):
                if p.is_file() and p.suffix == ".md" and p.name != "index.md":
                    try:
                        url = url_segment(p.stem, p) + "/"
                    except ContentError as exc:
                        self.errors.append(exc)
                        continue
                    self.add_site_page(p, url)
            assets = src / "assets"
            if assets.is_dir():
                self.add_asset_tree(assets, "assets/")
        self.add_asset_tree(theme_dir(self.cfg) / "static", "static/", media_ok=False)
        topics_dir = self.root / "topics"
        if topics_dir.is_dir():
            for d in self.children(topics_dir):
                if d.is_dir():
                    topic = self.load_topic(d)
                    if topic:
                        site.topics.append(topic)
        site.topics.sort(key=lambda t: (t.archived, t.config.weight == 0, t.config.weight,
                                        -(t.nav.date.timestamp() if t.nav.date else 0), t.slug))
        return self.loaded

    def finish(self, loaded: Loaded, collisions: bool = True) -> Site:
        """The site the build uses, made from ``loaded`` without changing it (a build changes its
        site's assets: each gets its own list and copies); raises the errors found."""
        site = dataclasses.replace(loaded.site, warnings=loaded.order(loaded.warnings), notes=list(loaded.site.notes),
                                   assets=[dataclasses.replace(a) for a in loaded.order(loaded.assets)])
        self.site = site
        attachments.leave_out_unused(site, self.root, loaded.targets)
        if collisions:
            self.check_collisions()
        if self.errors:
            raise BuildFailed(self.errors)
        return site

    def patch(self, loaded: Loaded, changed: Iterable[str]) -> Site | None:
        """Bring ``loaded`` up to date, in place, after the page files ``changed`` (detail pages
        and pages of site_src/, paths relative to the site) were edited, and return the finished
        site: exactly what a full load would give. None, with ``loaded`` untouched, when one of them
        is not such a page of it (a new file, or another kind): load the whole site instead. When a page cannot be read
        (``BuildFailed``), it is left out of ``loaded`` until it is patched in again."""
        site = loaded.site
        topics = {t.slug: t for t in site.topics}
        todo = []
        for rel in set(changed):
            origin = loaded.origins.get(rel)
            if origin is not None and origin[0] is None:  # a page of site_src/
                todo.append((origin[3], rel, None, None, origin[2]))
                continue
            topic = topics.get(origin[0]) if origin else None
            if topic is None:
                return None
            col = None
            if origin[1] is not None:
                col = next((c for c in topic.columns if c.name == origin[1]), None)
                if col is None or (col.data and col.data.date_field):
                    return None  # (a data column sorted by date has no Markdown pages)
            todo.append((origin[3], rel, topic, col, origin[2]))
        self.site = site
        self.loaded = loaded
        names = {t[1] for t in todo}
        loaded.warnings[:] = [w for w in loaded.warnings if w[1] not in names]
        loaded.assets[:] = [a for a in loaded.assets if a[1] not in names]
        moved = False  # an output appeared, went or moved: collisions are checked again
        for order, rel, topic, col, parent_url in sorted(todo, key=lambda t: t[0]):
            if topic is None:  # a page of site_src/ (parent_url: its URL)
                old = next((p for p in site.pages if p.rel_source == rel), None)
                if old is not None:
                    site.pages.remove(old)
                site.excluded.discard(rel)
                self.tick = order - 1
                self.add_site_page(self.root / rel, parent_url)
                new = next((p for p in site.pages if p.rel_source == rel), None)
                moved = moved or (old is None) != (new is None)
                continue
            into = col.pages if col else topic.pages
            old = next((p for p in into if p.rel_source == rel), None)
            if old is not None:
                into.remove(old)
            old_url = site.links.get(rel)
            site.excluded.discard(rel)
            path = self.root / rel
            self.tick = order - 1  # read_page bumps it back to the page's place in the load order
            try:
                self.add_detail(topic, col, path, parent_url, into)
            except ContentError as exc:
                self.errors.append(exc)
                continue
            new = next((p for p in into if p.rel_source == rel), None)
            bundle = path.name == "index.md"
            moved = moved or bundle or (old is None) != (new is None) or site.links.get(rel) != old_url
            if bundle:
                self.set_media_page(topic)
            into.sort(key=Page.sort_key)
        return self.finish(loaded, collisions=moved)

    def load_topic(self, d: Path) -> Topic | None:
        try:
            slug = url_segment(d.name, d, "topic")
        except ContentError as exc:
            self.errors.append(exc)
            return None
        toml = d / "topic.toml"
        try:
            if toml.is_symlink():  # the topic's settings (title, summary, cover …): never from outside the site
                confine(self.root, toml, toml, self.rel(toml))
            cfg = load_topic_config(toml) if toml.is_file() or toml.is_dir() else TopicConfig()
        except ConfigError as exc:
            self.errors.append(exc)  # BuildFailed carries exit code 2 when a configuration error is among its errors
            return None
        if cfg.draft and not self.opts.drafts:
            return None
        templates = d / "templates"
        if templates.is_symlink() or templates.is_dir():
            try:  # template overrides are code the build runs: never from outside the site
                confine(self.root, templates, templates, self.rel(templates))
            except ConfigError as exc:
                self.errors.append(exc)
                return None
        index = d / "index.md"
        if self.page_file(index):
            nav = self.read_page(index, "nav", slug + "/", topic=slug)
            if nav is None:
                return None
            if not nav.meta.get("title") and cfg.title:
                nav.title = cfg.title
        else:
            nav = Page("nav", toml if toml.is_file() else d, self.rel(toml if toml.is_file() else d), slug + "/",
                       cfg.title or slug, topic=slug)
        if cfg.title and not nav.meta.get("title"):
            nav.title = cfg.title
        if cfg.start and not nav.date:
            nav.date = frontmatter.parse_datetime(cfg.start)
        topic = Topic(slug, cfg, d, nav)
        expire = nav.meta.get("expire_at")
        # A topic past its end date is archived (已归档, pages say so), as an inspector expects of an ended 专题.
        topic.archived = cfg.archived or bool(expire and expire <= self.now) or bool(cfg.end and cfg.end < self.now.date())
        nav.archived = topic.archived
        self.site.links[nav.rel_source] = nav.url
        for child in self.children(d):
            try:
                if child.is_dir():
                    if child.name in SKIP_DIRS:
                        continue
                    if self.page_file(child / "_index.md"):
                        col = self.load_column(topic, child)
                        if col:
                            topic.columns.append(col)
                    elif self.page_file(child / "index.md"):
                        self.add_detail(topic, None, child / "index.md", slug + "/", topic.pages)
                    else:
                        self.add_asset_tree(child, f"{slug}/{url_segment(child.name, child, 'folder')}/")
                elif child.suffix == ".md":
                    if child.name != "index.md":
                        self.add_detail(topic, None, child, slug + "/", topic.pages)
                elif not child.name.endswith(".yaml") or child.with_suffix("").suffix.lower() not in MEDIA_EXTS:
                    self.add_asset(child, f"{slug}/{url_segment(child.name, child, 'file')}")
            except ContentError as exc:
                self.errors.append(exc)
        self.set_media_page(topic)
        if cfg.columns:
            order = {name: i for i, name in enumerate(cfg.columns)}
            topic.columns.sort(key=lambda c: (order.get(c.name, len(order)), c.name))
        topic.pages.sort(key=Page.sort_key)
        return topic

    def add_site_page(self, path: Path, url: str) -> None:
        """A page of site_src/ (关于本站 …): listed in load order, which is the order of the files."""
        self.owner = self.rel(path)
        try:
            page = self.read_page(path, "site", url)
            if page is None:
                return
            self.loaded.origins[page.rel_source] = (None, None, url, self.tick)
            self.site.links[page.rel_source] = page.url
            if self.visible(page):
                order = self.loaded.origins
                at = sum(1 for p in self.site.pages if order[p.rel_source][3] < self.tick)
                self.site.pages.insert(at, page)
        finally:
            self.owner = None

    def set_media_page(self, topic: Topic) -> None:
        """图片与视频: a topic with photos or videos gets a media index page."""
        d, nav = topic.dir, topic.nav
        topic.media_page = None
        if any(a.media and a.source.is_relative_to(d) for _, _, a in self.loaded.assets):
            topic.media_page = Page("media", nav.source, nav.rel_source, f"{topic.slug}/media/",
                                    f"{topic.title} · 图片与视频", topic=topic.slug, archived=topic.archived)

    def load_column(self, topic: Topic, d: Path) -> Column | None:
        name = url_segment(d.name, d, "column")
        url = f"{topic.slug}/{name}/"
        index = self.read_page(d / "_index.md", "column", url, frontmatter.COLUMN_KEYS, topic=topic.slug, column=name)
        if index is None:
            return None
        index.archived = topic.archived
        self.site.links[index.rel_source] = url
        meta = index.meta
        column_type = str(meta.get("column_type") or "其他")
        if column_type not in COLUMN_TYPES:
            self.warn(f"{index.rel_source}: " + tr("未知的栏目类型 “{t}”（可用：{a}）", "unknown column_type '{t}' (valid: {a})",
                                                    t=column_type, a="、".join(COLUMN_TYPES)))
        try:
            stale_after = parse_period(meta.get("stale_after"), index.source)
        except ConfigError as exc:
            self.errors.append(exc)
            stale_after = None
        col = Column(topic.slug, name, index, paginate=int(meta.get("paginate") or self.cfg.build.paginate),
                     column_type=column_type, stale_after_days=stale_after)
        if col.paginate < 1:
            raise ContentError(tr("paginate 必须大于 0", "paginate must be at least 1"), index.source, field="paginate")
        if meta.get("data"):
            self.load_data_column(col, d)
        for child in self.children(d):
            if child.name == "_index.md":
                continue
            if child.is_dir():
                if child.name in SKIP_DIRS:
                    continue
                if self.page_file(child / "index.md"):
                    self.add_detail(topic, col, child / "index.md", url, col.pages)
                else:
                    self.add_asset_tree(child, f"{url}{url_segment(child.name, child, 'folder')}/")
            elif child.suffix == ".md":
                self.add_detail(topic, col, child, url, col.pages)
            elif col.data and child.resolve() == col.data.file.resolve():
                continue  # the data file itself is a source, not a download
            elif not child.name.endswith(".yaml") or child.with_suffix("").suffix.lower() not in MEDIA_EXTS:
                self.add_asset(child, f"{url}{url_segment(child.name, child, 'file')}")
        if not col.data or not col.data.date_field:
            col.pages.sort(key=Page.sort_key)
        return col

    def add_detail(self, topic: Topic, col: Column | None, path: Path, parent_url: str, into: list[Page]) -> None:
        self.owner = self.rel(path)
        try:
            self._add_detail(topic, col, path, parent_url, into)
        finally:
            self.owner = None

    def _add_detail(self, topic: Topic, col: Column | None, path: Path, parent_url: str, into: list[Page]) -> None:
        bundle = path.name == "index.md"
        name = path.parent.name if bundle else path.stem
        page = self.read_page(path, "detail", "", topic=topic.slug, column=col.name if col else None,
                              bundle_dir=path.parent if bundle else None)
        if page is None:
            return
        self.loaded.origins[page.rel_source] = (topic.slug, col.name if col else None, parent_url, self.tick)
        slug = page.meta.get("slug")
        page.url = parent_url + url_segment(str(slug) if slug else name, path, "slug" if slug else "file") + "/"
        page.archived = topic.archived
        self.site.links[page.rel_source] = page.url
        if not self.visible(page):
            return
        into.append(page)
        if bundle:
            for f in sorted(path.parent.rglob("*")):
                if not f.name.startswith(".") and self.dangling(f):
                    continue
                if f.is_file() and f.name != "index.md" and not f.name.startswith(".") and self.inside(f) \
                        and not (f.suffix == ".yaml" and f.with_suffix("").suffix.lower() in MEDIA_EXTS):
                    rel = f.relative_to(path.parent).as_posix()
                    self.add_asset(f, page.url + "/".join(url_segment(s, f, "file") for s in rel.split("/")))

    def load_data_column(self, col: Column, d: Path) -> None:
        meta = col.index.meta
        src = col.index.source
        data_path = (d / str(meta["data"])).resolve()
        if not data_path.is_relative_to(self.root):
            raise ContentError(tr("data 文件在站点目录之外", "the data file is outside the site"), src, field="data")
        slug_field = meta.get("slug_field")
        title_field = meta.get("title_field")
        for key, value in (("slug_field", slug_field), ("title_field", title_field)):
            if not value:
                raise ContentError(tr("数据栏目必须声明 {k}", "a data column must declare {k}", k=key), src, field=key)
        source = self.opts.sources.records(data_path, sheet=meta.get("sheet"), field_source=src) \
            if self.opts.sources else load_records(data_path, sheet=meta.get("sheet"), field_source=src)
        self.site.notes.extend(f"{self.rel(data_path)}: {n}" for n in source.notes)
        declared = list(meta.get("fields") or source.fields)
        required = list(meta.get("required") or [])
        for name in {slug_field, title_field, meta.get("date_field"), *required, *declared} - {None, ""}:
            if name not in source.fields:
                guess = closest(name, source.fields)
                raise ContentError(
                    tr("数据文件没有字段 “{f}”（_index.md 中声明了它）", "the data file has no field '{f}' (declared in _index.md)",
                       f=name), data_path, row=1, sheet=source.sheet, field=name,
                    hint=(tr("是否想写 “{g}”？", "did you mean '{g}'?", g=guess) if guess else
                          tr("表头字段有：{a}", "the header has: {a}", a="、".join(source.fields))))
        col.data = DataSpec(data_path, slug_field, title_field, meta.get("date_field"), required, declared)
        self.add_records(col, source)

    def add_records(self, col: Column, source: DataSource) -> None:
        spec = col.data
        seen: dict[str, int] = {}
        problems: list[ZhuantiError] = []
        rel = self.rel(spec.file)  # one string shared by every record page
        for rec in source.records:
            values = rec.values  # unpacked once per row (builder.content.data.Record)
            def fail(message: str, field: str, hint: str | None = None, rec=rec) -> None:
                problems.append(ContentError(message, spec.file, row=rec.row, sheet=rec.sheet, field=field, hint=hint))

            missing = [f for f in spec.required if not values.get(f, "").strip()]
            for f in missing:
                fail(tr("必填字段为空", "required field is empty"), f, tr("请补全这一格。", "fill in this cell."))
            raw_slug = values.get(spec.slug_field, "")
            slug = slugify(raw_slug)
            if not slug:
                if spec.slug_field not in missing:
                    fail(tr("用作网址的字段为空或只含符号", "the field used for the page URL is empty or only symbols"),
                         spec.slug_field)
                continue
            if len(slug.encode("utf-8")) > MAX_SEGMENT_BYTES:
                fail(tr("用作网址的值太长（最多 {n} 字节，约 {c} 个汉字）", "the value used for the page URL is too long "
                        "(at most {n} bytes, about {c} Chinese characters)", n=MAX_SEGMENT_BYTES, c=MAX_SEGMENT_BYTES // 3),
                     spec.slug_field, tr("请缩短这一格，或改用较短的字段作 slug_field。",
                                         "shorten this cell or use a shorter field as slug_field."))
                continue
            if slug in seen:
                fail(tr("“{v}” 与第 {r} 行重复（网址必须唯一）", "'{v}' duplicates row {r} (page URLs must be unique)",
                        v=raw_slug, r=seen[slug]), spec.slug_field)
                continue
            seen[slug] = rec.row
            date = None
            if spec.date_field and values.get(spec.date_field):
                date = frontmatter.parse_datetime(values[spec.date_field])
                if date is not None and not yamlsafe.date_in_range(date):
                    fail(tr("日期超出可用范围（{a}–{b} 年）：“{v}”", "date out of range (years {a}–{b}): '{v}'",
                            a=yamlsafe.MIN_YEAR, b=yamlsafe.MAX_YEAR, v=values[spec.date_field]), spec.date_field)
                    continue
                if date is None:
                    fail(tr("日期格式不对：“{v}”", "not a date: '{v}'", v=values[spec.date_field]), spec.date_field,
                         tr("请写成 YYYY-MM-DD。", "write it as YYYY-MM-DD."))
                    continue
            title = values.get(spec.title_field, "").strip() or raw_slug
            page = Page("record", spec.file, rel, f"{col.url}{slug}/", title,
                        {"source": col.index.meta.get("source")}, topic=col.topic, column=col.name, date=date,
                        record=rec, archived=col.index.archived)
            col.pages.append(page)
        if problems:
            self.errors.extend(problems)
        if spec.date_field:
            col.pages.sort(key=lambda p: (-(p.date.timestamp() if p.date else 0), p.record.row))

    def add_asset(self, path: Path, output: str) -> None:
        self.loaded.assets.append((self.tick, self.owner, Asset(path, output, media=path.suffix.lower() in MEDIA_EXTS)))

    def add_asset_tree(self, folder: Path, prefix: str, media_ok: bool = True) -> None:
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            base = Path(dirpath)
            dirnames[:] = sorted(n for n in dirnames if not n.startswith(".") and self.inside(base / n))
            for name in sorted(filenames):  # a dangling symbolic link is listed here too
                p = base / name
                if name.startswith((".", "~$")) or name in SKIP_NAMES or self.dangling(p) or not self.inside(p):
                    continue
                if name.endswith(".yaml") and Path(name).with_suffix("").suffix.lower() in MEDIA_EXTS:
                    continue  # media sidecar: metadata, not content
                rel = p.relative_to(folder).as_posix()
                try:
                    out = prefix + "/".join(url_segment(s, p, "file") for s in rel.split("/"))
                except ContentError as exc:
                    self.errors.append(exc)
                    continue
                self.loaded.assets.append((self.tick, self.owner,
                                           Asset(p, out, media=media_ok and p.suffix.lower() in MEDIA_EXTS)))

    def check_collisions(self) -> None:
        owners: dict[str, str] = {out: tr("（构建生成的文件）", "(a file the build writes)") for out in GENERATED}
        for page in self.site.all_pages():
            self._claim(owners, page.output, page.rel_source + (f" (row {page.record.row})" if page.record else ""))
        for asset in self.site.assets:
            self._claim(owners, asset.output, self.rel(asset.source) if asset.source.is_relative_to(self.root)
                        else str(asset.source))
        # A file and a folder cannot share a path: a page "index.html.md" (→ index.html/index.html)
        # needs a folder where the home page is a file.
        for output, who in list(owners.items()):
            parts = output.split("/")
            for i in range(1, len(parts)):
                folder = "/".join(parts[:i])
                if GENERATED_PART.fullmatch(folder):
                    owners.setdefault(folder, owners["sitemap.xml"])
                if folder in owners and owners[folder] != who:
                    self.errors.append(ContentError(
                        tr("生成的 /{u} 与 {a} 生成的文件 /{f} 冲突（同一路径不能既是文件又是目录）",
                           "/{u} clashes with the file /{f} made by {a} (a path cannot be a file and a folder)",
                           u=output, f=folder, a=owners[folder]), who,
                        hint=tr("请给这个文件改名（例如去掉 .html、.xml 后缀），或设置不同的 slug。",
                                "rename the file (e.g. drop the .html or .xml in its name) or give it a different slug.")))
                    break

    def _claim(self, owners: dict[str, str], output: str, who: str) -> None:
        if GENERATED_PART.fullmatch(output):  # the parts of a large site's sitemap
            owners.setdefault(output, owners["sitemap.xml"])
        if output in owners and owners[output] != who:
            self.errors.append(ContentError(
                tr("与 {a} 生成同一个网址 /{u}", "maps to the same URL /{u} as {a}", a=owners[output], u=output), who,
                hint=tr("请修改其中一个文件名或 slug。", "rename one of the files or give it a different slug.")))
        owners[output] = who


def load_site(site: SiteConfig, options: LoadOptions | None = None) -> Site:
    return Loader(site, options or LoadOptions()).load()
