"""The build as one readable sequence of timed steps:

load config → load content → process media (cached) → plan against the build state (nothing
changed: stop, public/ stays as it is) → link unchanged outputs into staging → copy assets, link
renditions → render pages → sitemap → manifest → swap public/ → save the build state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from builder import __version__, clock, ui
from builder.config import SiteConfig, load_site_config
from builder.content.loader import LoadOptions, load_site
from builder.content.model import Page, Site
from builder.errors import BuildFailed, ConfigError, ZhuantiError
from builder.i18n import tr
from builder.manifest import MANIFEST_REL, SCHEMA, dump_manifest, sha256_file
from builder.media import check_executor, process_media
from builder.notes import fresh_notes
from builder.output import check_output_folder, discard, new_staging, swap_in
from builder.render.pages import Job, PageRenderer, day, page_count
from builder.render.urls import absolute
from builder.search import build_search
from builder.state import BuildState, OutputRecord

STATE_FILE = "build-state.sqlite"
PARALLEL_THRESHOLD = 400  # below this many pages a process pool costs more than it saves


@dataclass
class BuildOptions:
    drafts: bool = False
    future: bool = False
    topics: list[str] | None = None
    jobs: int | None = None
    minify: bool = True
    clean: bool = False
    now: dt.datetime | None = None
    # Where to write instead of site.toml's output (serve writes its preview under .zhuanti-cache/).
    output: Path | None = None
    # Preview mode (zhuanti serve): drafts and future pages shown with a badge, HTML unminified.
    preview: bool = False
    # Where media jobs run: "local" or "dask://HOST[:PORT]"; None: site.toml's [build] executor.
    executor: str | None = None


@dataclass
class BuildReport:
    output: Path
    pages_written: int = 0
    pages_reused: int = 0
    files_written: int = 0
    files_reused: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # outputs (re)written by this build, under output
    removed: list[str] = field(default_factory=list)  # outputs of the previous build that are gone


def _h(value) -> str:
    data = value if isinstance(value, bytes) else json.dumps(value, sort_keys=True, ensure_ascii=False,
                                                               default=str).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _listing(p: Page | None) -> list | None:
    """What a list or a neighbour shows of a page."""
    if p is None:
        return None
    return [p.url, p.title, p.date.isoformat() if p.date else None, p.weight, p.summary, p.tags, p.archived,
            p.meta.get("cover")]


class Digests:
    """Current digest of every input key a page may depend on (compared with the build state)."""

    def __init__(self, site: Site, renderer: PageRenderer, options_key: str) -> None:
        self.site = site
        self.r = renderer
        self.root = site.config.root
        self.options_key = options_key
        self._cache: dict[str, str] = {}

    def value(self, key: str) -> str:
        v = self._cache.get(key)
        if v is None:
            v = self._cache[key] = self._compute(key)
        return v

    def _compute(self, key: str) -> str:
        kind, _, arg = key.partition(":")
        r = self.r
        if kind == "src":
            p = self.root / arg
            return _h(p.read_bytes()) if p.is_file() else "absent"
        if kind == "tpl":
            topic_dir, _, name = arg.partition("|")
            return r.templates.digest(name, Path(topic_dir) if topic_dir else None)
        if kind == "site":
            return _h([self.options_key, __version__, self.value("src:site_src/site.toml")])
        if kind == "sitepages":
            return _h([[p.url, p.title] for p in self.site.pages])
        if kind == "topic":
            t = r.topics.get(arg)
            return _h([dataclasses.asdict(t.config), t.title, t.url, t.archived,
                       [[c.title, c.url, c.column_type] for c in t.columns],
                       t.media_page.title if t.media_page else None]) if t else "absent"
        if kind == "navitems":
            t = r.topics.get(arg)
            return _h([[[_listing(p) for p in c.pages[:5]] for c in t.columns], [_listing(p) for p in t.pages]]) \
                if t else "absent"
        if kind == "topics":
            return _h([[t.slug, t.title, t.archived, t.config.summary, t.config.cover] for t in self.site.topics])
        if kind == "list":
            url, _, n = arg.rpartition("|")
            c = r.columns.get(url)
            if c is None:
                return "absent"
            start = (int(n) - 1) * c.paginate
            return _h([[_listing(p) for p in c.pages[start:start + c.paginate]], page_count(c), len(c.pages)])
        if kind == "nb":
            prev, nxt = r.neighbours.get(arg, (None, None))
            return _h([_listing(prev), _listing(nxt)])
        if kind == "rec":
            p = r.by_url.get(arg)
            c = r.columns.get(f"{p.topic}/{p.column}/") if p else None
            return _h([p.record.values, c.data.fields, _listing(p)]) if p and c and c.data else "absent"
        if kind == "url":
            return self.site.links.get(arg, "absent") if arg not in self.site.excluded else "absent"
        if kind == "media":
            return r.media_html.key(arg) if r.media_html else "absent"
        if kind == "catalog":
            return _h(r.media_html.catalogs.get(arg)) if r.media_html else "absent"
        return "unknown"

    def structural(self, job: Job) -> list[str]:
        """The inputs a job reads by its kind (what it reads beyond these is recorded while rendering)."""
        r = self.r
        name, topic_dir = r.template_for(job)
        keys = ["site", "sitepages", f"tpl:{topic_dir or ''}|{name}"]
        if job.kind == "list":
            col = r.columns[job.url]
            keys += [f"src:{col.index.rel_source}", f"topic:{col.topic}", f"list:{job.url}|{job.number}"]
            return keys
        page = r.by_url[job.url]
        if page.topic:
            keys.append(f"topic:{page.topic}")
        column_index = r.columns[f"{page.topic}/{page.column}/"].index if page.column else None
        extra = {
            "detail": [f"src:{page.rel_source}", f"nb:{page.url}"],
            "record": [f"rec:{page.url}", f"nb:{page.url}", f"src:{column_index.rel_source if column_index else ''}"],
            "nav": [f"src:{page.rel_source}", f"navitems:{page.topic}"],
            "home": [f"src:{page.rel_source}", "topics"],
            "site": [f"src:{page.rel_source}"],
            "media": [f"catalog:{page.topic}"],  # its content is the topic's media catalog
        }[page.kind]
        return keys + extra


# ---- workers (one renderer per process, built once by the pool initializer) --------------------

_worker: dict = {}  # process-local: the renderer and staging folder of a pool worker


def _init_worker(site: Site, minify: bool, staging: str, media_html, preview: bool = False) -> None:
    _worker["renderer"] = PageRenderer(site, media_html=media_html, minify=minify, preview=preview)
    _worker["staging"] = Path(staging)


def _render_jobs(jobs: list[Job]) -> list[tuple]:
    """Render and write jobs; returns (output, sha256, size, mtime_ns, recorded, warnings) or (output, error)."""
    renderer: PageRenderer = _worker["renderer"]
    staging: Path = _worker["staging"]
    out = []
    for job in jobs:
        try:
            html, recorded, warnings = renderer.render(job)
        except ZhuantiError as exc:
            out.append((job.output, exc))
            continue
        data = html.encode("utf-8")
        target = staging / job.output
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        out.append((job.output, hashlib.sha256(data).hexdigest(), len(data), target.stat().st_mtime_ns, recorded,
                    warnings))
    return out


# ---- the build ---------------------------------------------------------------------------

@dataclass
class PlannedFile:
    """A non-page output: an asset copied from ``source``, or a media rendition linked from the cache."""

    output: str
    source: Path
    deps: dict[str, str]


@dataclass
class Plan:
    todo: list[Job] = field(default_factory=list)  # pages to render
    keep: list[OutputRecord] = field(default_factory=list)  # previous outputs still valid (pages and files)
    keep_pages: list[OutputRecord] = field(default_factory=list)
    place: list[PlannedFile] = field(default_factory=list)  # files to copy or link


def _stat_key(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


class Builder:
    def __init__(self, cfg: SiteConfig, options: BuildOptions) -> None:
        self.cfg = cfg
        self.opts = dataclasses.replace(options, minify=options.minify and cfg.build.minify)  # [build] minify = false
        if options.preview:
            self.opts.drafts = self.opts.future = True
            self.opts.minify = False
        self.public = options.output.resolve() if options.output else cfg.output_dir
        self.report = BuildReport(self.public)
        # One build state per output folder: the preview's outputs are not public/'s.
        self.state = BuildState(cfg.cache_dir / (STATE_FILE if options.output is None else
                                                 f"build-state-{_h(str(self.public))[:12]}.sqlite"))
        self.records: dict[str, OutputRecord] = {}
        self.files: dict[str, tuple[str, int]] = {}  # output → (sha256, size)

    def step(self, name: str, fn, *args):
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.report.timings[name] = time.perf_counter() - t0

    def run(self) -> BuildReport:
        t0 = time.perf_counter()
        check_output_folder(self.cfg.root, self.public)
        site = self.step("load", load_site, self.cfg, LoadOptions(self.opts.drafts, self.opts.future,
                                                                   self.opts.topics, self.opts.now))
        unknown = sorted(set(self.opts.topics or []) - {t.slug for t in site.topics})
        if unknown:
            raise ConfigError(tr("没有名为 {s} 的专题（现有：{a}）", "no topic named {s} (there are: {a})",
                                 s="、".join(unknown), a=", ".join(t.slug for t in site.topics)), "--topic")
        self.report.warnings.extend(site.warnings)
        self.report.notes.extend(fresh_notes(self.cfg.root, self.cfg.cache_dir, site.notes))  # once per file version
        self.site = site
        previous = {} if self.opts.clean else self.state.load()
        media_html, media_files = self.step("media", self.process_media)
        renderer = PageRenderer(site, media_html=media_html, minify=self.opts.minify, preview=self.opts.preview)
        digests = Digests(site, renderer, _h([self.opts.drafts, self.opts.future, self.opts.minify,
                                              self.opts.preview]))
        plan = self.step("plan", self.plan, renderer, digests, previous, media_files)
        sitemap = self.sitemap(renderer)
        if self.unchanged(plan, previous, sitemap):
            # Nothing to write: public/ is already this build, byte for byte (manifest included).
            self.report.pages_reused = len(plan.keep_pages)
            self.report.files_reused = len(plan.keep) - len(plan.keep_pages)
            self.report.seconds = time.perf_counter() - t0
            return self.report
        staging = new_staging(self.public)
        try:
            self.step("link", self.link_unchanged, plan, staging)
            self.step("assets", self.place_files, plan, staging)
            self.step("render", self.render, site, plan.todo, digests, staging, media_html)
            self._write(staging, "sitemap.xml", sitemap)
            self.step("search", build_search, renderer, staging, lambda rel, data: self._write(staging, rel, data))
            self.step("manifest", self.write_manifest, site, renderer, staging)
            self.step("swap", swap_in, staging, self.public)
        except BaseException:
            discard(staging)
            raise
        self.state.save(self.records)
        self.report.removed = sorted(set(previous) - set(self.records))
        self.report.seconds = time.perf_counter() - t0
        return self.report

    def process_media(self) -> tuple:
        """Photos and videos through the media pipeline (builder/media.py): what pages need and the renditions."""
        return process_media(self.cfg, self.site, self.opts.jobs, self.report.notes, self.opts.executor)

    def plan(self, renderer: PageRenderer, digests: Digests, previous: dict, media_files: list) -> Plan:
        """Decide, without writing anything, which outputs are still valid and which must be made."""
        plan = Plan()
        selected = set(self.opts.topics or [])
        for job in renderer.jobs():
            rec = previous.get(job.output)
            page_topic = job.url.split("/", 1)[0] if job.url else None
            carry = bool(selected) and page_topic not in selected and job.url != ""
            if rec and (carry or self.fresh(rec, digests.structural(job), digests)) and self.still_ours(rec):
                plan.keep.append(rec)
                plan.keep_pages.append(rec)
            else:
                plan.todo.append(job)
        files = [PlannedFile(a.output, a.source, {"stat:" + str(a.source): _stat_key(a.source)})
                 for a in self.site.assets if not a.media]
        for f in files + media_files:
            rec = previous.get(f.output)
            if rec and rec.deps == f.deps and self.still_ours(rec):
                plan.keep.append(rec)
            else:
                plan.place.append(f)
        return plan

    def fresh(self, rec: OutputRecord, structural: list[str], digests: Digests) -> bool:
        if any(k not in rec.deps for k in structural):
            return False
        return all(digests.value(k) == v for k, v in rec.deps.items())

    def still_ours(self, rec: OutputRecord) -> bool:
        """The previous output is still the file we wrote (not edited or removed by hand since)."""
        try:
            st = (self.public / rec.path).stat()
        except OSError:
            return False
        return st.st_size == rec.size and st.st_mtime_ns == rec.mtime_ns

    def unchanged(self, plan: Plan, previous: dict, sitemap: bytes) -> bool:
        if plan.todo or plan.place or set(previous) != {r.path for r in plan.keep}:
            return False
        try:
            return (self.public / "sitemap.xml").read_bytes() == sitemap and \
                (self.public / MANIFEST_REL).is_file()
        except OSError:
            return False

    def link_unchanged(self, plan: Plan, staging: Path) -> None:
        """Hard-link every still-valid output of the previous build into staging."""
        made: set[Path] = set()
        for rec in plan.keep:
            target = staging / rec.path
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            try:
                os.link(self.public / rec.path, target)
            except OSError:
                shutil.copy2(self.public / rec.path, target)
            self.records[rec.path] = rec
            self.files[rec.path] = (rec.sha256, rec.size)
        self.report.pages_reused += len(plan.keep_pages)
        self.report.files_reused += len(plan.keep) - len(plan.keep_pages)

    def place_files(self, plan: Plan, staging: Path) -> None:
        """Copy changed assets; link media renditions from the cache (same content, no copy)."""
        for f in plan.place:
            target = staging / f.output
            target.parent.mkdir(parents=True, exist_ok=True)
            if "media" in f.deps:
                try:
                    os.link(f.source, target)
                except OSError:
                    shutil.copyfile(f.source, target)
            else:
                shutil.copyfile(f.source, target)
            st = target.stat()
            sha = sha256_file(target)
            self.records[f.output] = OutputRecord(f.output, f.deps, sha, st.st_size, st.st_mtime_ns)
            self.files[f.output] = (sha, st.st_size)
            self.report.written.append(f.output)
            self.report.files_written += 1

    def render(self, site: Site, todo: list[Job], digests: Digests, staging: Path, media_html) -> None:
        if not todo:
            return
        jobs = self.opts.jobs or (min(os.cpu_count() or 1, 4) if len(todo) >= PARALLEL_THRESHOLD else 1)
        errors: list[ZhuantiError] = []
        with ui.progress(tr("渲染页面", "rendering pages"), len(todo)) as advance:
            if jobs <= 1:
                _init_worker(site, self.opts.minify, str(staging), media_html, self.opts.preview)
                results = []
                for job in todo:
                    results.extend(_render_jobs([job]))
                    advance()
            else:
                size = max(16, min(200, len(todo) // (jobs * 8) or 1))
                chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
                results = []
                with ProcessPoolExecutor(jobs, initializer=_init_worker,
                                         initargs=(site, self.opts.minify, str(staging), media_html,
                                                   self.opts.preview)) as pool:
                    for chunk, result in zip(chunks, pool.map(_render_jobs, chunks), strict=True):
                        results.extend(result)
                        advance(len(chunk))
        by_output = {j.output: j for j in todo}
        for item in results:
            if isinstance(item[1], ZhuantiError):
                errors.extend(item[1].errors if isinstance(item[1], BuildFailed) else [item[1]])
                continue
            output, sha, size, mtime_ns, recorded, warnings = item
            self.report.warnings.extend(warnings)
            deps = {k: digests.value(k) for k in digests.structural(by_output[output])}
            deps.update(recorded)
            self.records[output] = OutputRecord(output, deps, sha, size, mtime_ns)
            self.files[output] = (sha, size)
            self.report.written.append(output)
            self.report.pages_written += 1
        if errors:
            unique = {str(e): e for e in errors}  # a broken template fails every page that uses it: say it once
            raise BuildFailed(list(unique.values()))

    def sitemap(self, renderer: PageRenderer) -> bytes:
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        for out in sorted(j.output for j in renderer.jobs()):
            url = absolute(self.cfg.base_url, out[: -len("index.html")])
            page = renderer.by_url.get(out[: -len("index.html")])
            lastmod = f"<lastmod>{day(page.date)}</lastmod>" if page and page.date else ""
            lines.append(f"<url><loc>{xml_escape(url)}</loc>{lastmod}</url>")
        lines.append("</urlset>\n")
        return "\n".join(lines).encode()

    def _write(self, staging: Path, rel: str, data: bytes) -> None:
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.files[rel] = (hashlib.sha256(data).hexdigest(), len(data))

    def write_manifest(self, site: Site, renderer: PageRenderer, staging: Path) -> None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        built = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch and epoch.isdigit() else clock.now("UTC")
        pages = []
        for job in renderer.jobs():
            if job.kind == "list":
                col = renderer.columns[job.url]
                pages.append({"path": job.output, "source": col.index.rel_source, "kind": "column", "title": col.title,
                              "date": None, "topic": col.topic, "column": col.name})
                continue
            p = renderer.by_url[job.url]
            pages.append({"path": job.output, "source": p.rel_source + (f"#row={p.record.row}" if p.record else ""),
                          "kind": "detail" if p.kind == "record" else p.kind, "title": p.title,
                          "date": clock.local(p.date).strftime("%Y-%m-%d %H:%M") if p.date else None,
                          "topic": p.topic, "column": p.column})
        columns = [{"path": c.index.output, "topic": c.topic, "name": c.name, "title": c.title,
                    "column_type": c.column_type, "stale_after_days": c.stale_after_days, "pages": len(c.pages),
                    "latest": day(c.latest) or None} for t in site.topics for c in t.columns]
        topics = [{"slug": t.slug, "title": t.title, "start": str(t.config.start) if t.config.start else None,
                   "end": str(t.config.end) if t.config.end else None, "archived": t.archived} for t in site.topics]
        data = {
            "schema": SCHEMA, "tool": "zhuanti", "version": __version__,
            "built_at": built.strftime("%Y-%m-%dT%H:%M:%SZ"), "base_url": self.cfg.base_url,
            "identity": dataclasses.asdict(self.cfg.identity),
            "files": [{"path": p, "sha256": s, "size": n} for p, (s, n) in sorted(self.files.items())],
            "pages": pages, "columns": columns, "topics": topics,
        }
        target = staging / MANIFEST_REL
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_manifest(data), encoding="utf-8")


class Engine:
    """A build that stays alive between runs (``zhuanti serve``): ``build(changed)`` brings the
    output up to date after the given source paths changed (``None``: look at everything)."""

    def __init__(self, root: Path, options: BuildOptions | None = None) -> None:
        self.root = root
        self.options = options or BuildOptions()

    def build(self, changed=None) -> BuildReport:
        cfg = load_site_config(self.root)
        return Builder(cfg, dataclasses.replace(self.options)).run()

    def close(self) -> None:
        pass


def build_site(root: Path, options: BuildOptions | None = None) -> BuildReport:
    cfg = load_site_config(root)
    return Builder(cfg, options or BuildOptions()).run()


def build_command(args) -> int:
    options = BuildOptions(drafts=args.drafts, future=args.future, topics=args.topic, jobs=args.jobs,
                           minify=not args.no_minify, clean=args.clean, executor=getattr(args, "executor", None))
    if options.jobs is not None and options.jobs < 1:
        raise ConfigError(tr("--jobs 必须大于 0", "--jobs must be at least 1"), "--jobs")
    check_executor(options.executor)
    try:
        report = build_site(args.root, options)
    except BuildFailed as exc:
        for e in exc.errors:
            ui.error(str(e))
        ui.summary(tr("构建失败：{n} 个错误，public/ 保持不变", "build failed: {n} error(s); public/ left unchanged",
                      n=len(exc.errors)), ok=False)
        return exc.exit_code
    for w in report.warnings:
        ui.warn(tr("警告：", "warning: ") + w)
    for n in report.notes:
        ui.say(n)
    ui.summary(tr("构建完成：写入 {w} 页，复用 {r} 页，文件 {f} 个（复用 {fr}），用时 {t:.2f} 秒 → {o}",
                  "built: {w} pages written, {r} reused, {f} files ({fr} reused) in {t:.2f}s → {o}",
                  w=report.pages_written, r=report.pages_reused, f=report.files_written + report.files_reused,
                  fr=report.files_reused, t=report.seconds, o=report.output))
    return 0
