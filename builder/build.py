"""The build as one readable sequence of timed steps, run by a long-lived ``Engine``:

lock the site → finish what a killed build left → scan the sources (nothing changed and no
publish/expire time passed: stop, the output stays as it is) → load content (parsing only the
changed files) → process media (cached) → plan: every recorded dependency whose value changed
names the outputs to render again → render them and copy changed files into a staging folder →
sitemap → manifest → commit into the output folder → save the build state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import json
import multiprocessing
import os
import pickle
import re
import sqlite3
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from builder import __version__, clock, ui
from builder.config import SiteConfig, load_site_config
from builder.content.loader import GENERATED_PART, Loaded, Loader, LoadOptions, theme_dir
from builder.content.model import Site
from builder.deps import Resolver, covering_keys
from builder.engine_sources import Inputs, SourceCache, load_snapshot, save_snapshot, settle
from builder.errors import BuildFailed, ConfigError, ZhuantiError
from builder.i18n import tr
from builder.lock import SiteLock
from builder.manifest import MANIFEST_REL, SCHEMA, dump_manifest, sha256_file
from builder.media import MediaHtml, check_executor, process_media
from builder.notes import fresh_notes
from builder.output import Sink, check_output_folder, recover
from builder.render import payload
from builder.render.engines import make_renderer
from builder.render.pages import Job, PageRenderer, make_templates
from builder.render.urls import absolute
from builder.resources import builtin_theme_dir
from builder.search import SEARCH_URL, SearchIndex, page_record, search_page
from builder.state import BuildState, OutputRecord

STATE_FILE = "build-state.sqlite"
SOURCES_FILE = "sources.sqlite"
PARALLEL_THRESHOLD = 400  # below this many pages a process pool costs more than it saves
# The loaded site is written to disk again (at Engine.close) when this many detail page files were
# patched into it since it was last written.
SNAPSHOT_AFTER = 200
SITEMAP = "sitemap.xml"
SITEMAP_URLS = 50_000  # the sitemap protocol's limit for one file
SITEMAP_PART = GENERATED_PART  # sitemap-1.xml, sitemap-2.xml…: no page or file may claim them


@dataclass
class BuildOptions:
    drafts: bool = False
    future: bool = False
    topics: list[str] | None = None
    jobs: int | None = None
    minify: bool = True
    clean: bool = False
    # "Now" for publish_at / expire_at (default: the clock, in China Standard Time). Time is an
    # input: a page whose publish_at or expire_at passed since the last build is built again.
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
    patched: list[str] | None = None  # the site was the last one with these page files read again (None: read whole)


def _h(value) -> str:
    data = value if isinstance(value, bytes) else json.dumps(value, sort_keys=True, ensure_ascii=False,
                                                               default=str).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# ---- workers (one renderer per process, built once by the pool initializer) --------------------

_worker: dict = {}  # process-local: the renderer and staging folder of a pool worker


def _init_worker(payload: bytes, minify: bool, staging: str, preview: bool = False, now=None) -> None:
    """A fresh worker process: the site without its page bodies (``builder.render.payload``)."""
    site, media_html = pickle.loads(payload)
    _worker["renderer"] = PageRenderer(site, media_html=media_html, minify=minify, preview=preview, now=now)
    _worker["staging"] = staging
    _worker["made"] = set()
    gc.freeze()  # the site lives as long as the worker: keep the collector off it


def _render_jobs(jobs: list[Job]) -> list[tuple]:
    """Render and write jobs; returns (output, sha256, size, mtime_ns, keys, warnings, search record)
    or (output, error)."""
    renderer: PageRenderer = _worker["renderer"]
    staging = str(_worker["staging"])
    made: set[str] = _worker.setdefault("made", set())  # folders this process made in the staging folder
    out = []
    for job in jobs:
        try:
            html, keys, warnings = renderer.render(job)
        except ZhuantiError as exc:
            out.append((job.output, exc))
            continue
        data = html.encode("utf-8")
        path = f"{staging}/{job.output}"
        folder = path.rpartition("/")[0]
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        record = page_record(renderer, job.page_url, html, job.variant)  # site search (builder/search)
        out.append((job.output, hashlib.sha256(data).hexdigest(), len(data), write_file(path, data), sorted(keys),
                    warnings, record))
    return out


def meeting_chunks(todo: list, jobs: int, largest: int = 200, smallest: int = 16) -> list[list]:
    """``todo`` in chunks for ``render_parallel``, where the workers take chunks from the front and
    the build process from the back: large at both ends, smaller towards the middle where the two
    meet, so that neither side is left with a long chunk while the other has nothing to do."""
    def halve(items: list) -> list[list]:  # chunks of ``items``, getting smaller towards its end
        out, i = [], 0
        while i < len(items):
            size = max(smallest, min(largest, (len(items) - i) // (jobs * 4)))
            out.append(items[i:i + size])
            i += size
        return out

    middle = len(todo) * (jobs - 1) // jobs  # the workers' share: jobs - 1 of every jobs pages
    tail = [list(reversed(c)) for c in halve(list(reversed(todo[middle:])))]
    return halve(todo[:middle]) + list(reversed(tail))


def write_file(path: str, data: bytes) -> int:
    """Write a new file (no Path objects, one open, write and fstat); its mtime_ns."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        return os.fstat(fd).st_mtime_ns
    finally:
        os.close(fd)


# ---- the build ---------------------------------------------------------------------------

@dataclass
class PlannedFile:
    """A non-page output: an asset copied from ``source``, or a media rendition linked from the cache.
    ``deps`` says what the file is made from (compared with the previous build's); ``key`` is the
    dependency key serve's reverse index knows it by."""

    output: str
    source: Path
    deps: dict[str, str]
    key: str | None = None


@dataclass
class Plan:
    todo: list[Job] = field(default_factory=list)  # pages to render
    keep: list[OutputRecord] = field(default_factory=list)  # previous outputs still valid (pages and files)
    place: list[PlannedFile] = field(default_factory=list)  # files to copy or link
    carried: list[OutputRecord] = field(default_factory=list)  # --topic: kept although their inputs changed
    removed: list[str] = field(default_factory=list)
    changed_keys: list[str] = field(default_factory=list)


@dataclass
class KeptSite:
    """The engine's loaded site (``Loader.patch`` brings it up to date) and where it stands against
    its copy on disk (``.zhuanti-cache/build-state*.site``, for the next ``zhuanti build`` run)."""

    loaded: Loaded
    header: tuple  # what the load depended on besides the files (version, options, time zone)
    ident: str | None = None  # the copy on disk it comes from (None: not written yet)
    since: set[str] = field(default_factory=set)  # detail page files patched in since that copy
    pending: set[str] = field(default_factory=set)  # … of which not yet in ``loaded`` (read from disk)

    def info(self) -> str:
        return json.dumps({"id": self.ident, "since": sorted(self.since)}, ensure_ascii=False)


class Builder:
    """One build of ``engine``'s site (the engine keeps what may be reused between builds)."""

    def __init__(self, engine: Engine, cfg: SiteConfig, options: BuildOptions) -> None:
        self.engine = engine
        self.cfg = cfg
        self.opts = dataclasses.replace(options, minify=options.minify and cfg.build.minify)  # [build] minify = false
        if options.preview:
            self.opts.drafts = self.opts.future = True
            self.opts.minify = False
        self.public = options.output.resolve() if options.output else cfg.output_dir
        self.public_prefix = str(self.public) + os.sep
        self.report = BuildReport(self.public)
        self.state = engine.state_for(cfg, self.public)
        self.records: dict[str, OutputRecord] = {}  # outputs made by this build
        self.read: dict[str, set[str]] = {}  # output → the keys it read
        self.files: dict[str, tuple[str, int]] = {}  # every output → (sha256, size), for the manifest
        self.search_records: dict[str, tuple | None] = {}  # rendered output → its search record
        self.search_index = SearchIndex(self.state, self.public)
        self.now = options.now or clock.now(cfg.timezone)
        self.options_key = _h([self.opts.drafts, self.opts.future, self.opts.minify, self.opts.preview])

    def step(self, name: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.report.timings[name] = time.perf_counter() - t0

    def run(self, changed: Iterable[Path] | None = None) -> BuildReport:
        t0 = time.perf_counter()
        check_output_folder(self.cfg.root, self.public)
        self.report.notes.extend(recover(self.public))
        meta = {} if self.opts.clean else self.state.meta()
        inputs = self.step("scan", Inputs, self.cfg.root, self.input_roots(), self.state.files())
        if changed is not None:  # what a file watcher saw: compare contents even if the stat looks the same
            inputs.changed.update(inputs.key(Path(p).resolve()) for p in changed)
            self.engine.sources.forget(inputs.key(Path(p).resolve()) for p in changed)
        # (what a build with nothing to do checks: not read when a source changed)
        stats = [] if self.opts.clean or inputs.changed else self.state.output_stats()
        if self.skip(meta, stats, inputs):
            # Nothing to write: the output is already this build, byte for byte (manifest included).
            self.reuse_all(stats, meta)
            self.state.save_meta(self.meta(meta.get("times", "[]"), meta), inputs.store())
            self.report.seconds = time.perf_counter() - t0
            return self.report
        previous = {} if self.opts.clean else self.step("state", self.state.outputs)
        site = self.step("load", self.load, inputs)
        unknown = sorted(set(self.opts.topics or []) - {t.slug for t in site.topics})
        if unknown:
            raise ConfigError(tr("没有名为 {s} 的专题（现有：{a}）", "no topic named {s} (there are: {a})",
                                 s="、".join(unknown), a=", ".join(t.slug for t in site.topics)), "--topic")
        self.report.warnings.extend(site.warnings)
        self.report.notes.extend(fresh_notes(self.cfg.root, self.cfg.cache_dir, site.notes))  # once per file version
        self.site = site
        media_html, media_files = self.step("media", self.process_media)
        if media_html is not None:  # renditions are known to the reverse index by their source
            made_from = {out: "m|" + rel for rel, entry in media_html.entries.items() for _, out in entry.files()}
            for f in media_files:
                f.key = getattr(f, "key", None) or made_from.get(f.output)
        templates, markdown = self.engine.warm(self.cfg, inputs)
        renderer = PageRenderer(site, media_html=media_html, minify=self.opts.minify, preview=self.opts.preview,
                                templates=templates, markdown=markdown, now=self.now)
        renderer.check_mobile_prefix()
        resolver = Resolver(site, renderer, self.options_key, inputs.digest, __version__)
        jobs = renderer.jobs()
        plan = self.step("plan", self.plan, renderer, resolver, previous, media_files, inputs, jobs)
        sitemap = self.step("sitemap", self.sitemap, renderer, jobs)
        sink = Sink(self.public, journal=self.opts.output is None)
        try:
            self.step("assets", self.place_files, plan, sink, inputs)
            self.step("render", self.render, site, renderer, plan.todo, previous, sink, media_html)
            self.keep(plan)
            for rel, data in sitemap.items():
                self.write_extra(sink, rel, data, previous)
            plan.removed.extend(sorted(p for p in previous if SITEMAP_PART.fullmatch(p) and p not in sitemap))
            self.step("search", self.search, renderer, sink, previous, plan)
            manifest, identity = self.step("manifest", self.manifest, site, renderer, jobs)
            self.write_extra(sink, MANIFEST_REL, manifest, previous, identity)
            complete = not previous
            self.step("commit", sink.commit, plan.removed, complete)
            self.search_index.save()
        except BaseException:
            sink.abort()
            raise
        self.report.removed = sorted(plan.removed)
        keys = set(plan.changed_keys).union(*self.read.values())
        said = {"warnings": json.dumps(site.warnings, ensure_ascii=False),
                "notes": json.dumps(site.notes, ensure_ascii=False),
                "media": str(sum(1 for a in site.assets if a.media)), "site": self.kept.info()}
        self.step("save", self.state.save, meta=self.meta(json.dumps(self.times(site)), said),
                  outputs=self.records,
                  written=self.read, removed=plan.removed, keyvals={k: resolver.value(k) for k in keys},
                  files=inputs.store(everything=not previous), full=not previous,
                  collect=bool(plan.removed) or len(self.read) > len(previous) // 10)
        if self.read_sources:
            self.engine.sources.save()
        self.report.seconds = time.perf_counter() - t0
        return self.report

    # ---- inputs ------------------------------------------------------------------------------
    def input_roots(self) -> list[Path]:
        root = self.cfg.root
        roots = [root / "site_src", root / "topics", builtin_theme_dir("default")]
        try:
            roots.append(theme_dir(self.cfg))
        except ConfigError:
            pass  # reported by the loader
        return roots

    def load(self, inputs: Inputs) -> Site:
        """The site: the engine's (in memory, or from disk), with the changed detail pages read
        again, when nothing else the loader reads changed (``Loader.patch``); else read whole
        (parsing again only the files whose signature changed, ``SourceCache``)."""
        engine = self.engine
        header = (__version__, loader_code(), self.opts.drafts, self.opts.future, str(clock.zone()))
        options = LoadOptions(self.opts.drafts, self.opts.future, self.opts.topics, self.now)
        self.read_sources = False
        kept = None if self.opts.clean or self.time_passed else engine.kept_site(self.state, header, self.cfg,
                                                                                 self.previous_meta)
        pages = self.loader_changes(inputs, kept.loaded) if kept is not None else None
        if pages is not None:
            try:
                site = Loader(self.cfg, options).patch(kept.loaded, pages | kept.pending)
            except BuildFailed:
                kept.pending |= pages  # left out of the site until they load: patched in again next time
                raise
            except BaseException:
                engine.drop_site(self.state)
                raise
            if site is not None:
                self.report.patched = sorted(pages | kept.pending)
                kept.since |= pages | kept.pending
                kept.pending = set()
                self.kept = kept
                return site
        engine.drop_site(self.state)
        sources = engine.sources
        self.step("sources", sources.begin, inputs)
        self.read_sources = True
        loader = Loader(self.cfg, dataclasses.replace(options, sources=sources))
        loaded = loader.walk()
        site = loader.finish(loaded)
        self.kept = engine.keep_site(self.state, KeptSite(loaded, header))
        settle(len(loaded.times))
        return site

    def loader_changes(self, inputs: Inputs, loaded: Loaded) -> set[str] | None:
        """The detail page files among the changed inputs, when every other changed input is one
        the loader does not read (templates, word lists, site.toml — the configuration is compared
        as a whole); None when the site must be loaded whole."""
        try:
            static = inputs.key(theme_dir(self.cfg) / "static") + "/"
        except ConfigError:
            return None
        local_theme = f"themes/{self.cfg.theme}/"
        pages = set()
        for path in inputs.changed:
            if path in loaded.origins and path in inputs.files:
                pages.add(path)
            elif path.startswith(static) or path + "/" == static:
                return None
            elif path.startswith("themes/"):
                if path in ("themes/", local_theme):  # which theme folder is used
                    return None
            elif path.startswith("/"):
                continue  # a theme outside the site: only its static/ is loaded
            elif path.startswith("site_src/"):
                parts = path.split("/")
                if path == "site_src/" or (len(parts) == 2 and path.endswith(".md")) or \
                        (len(parts) > 2 and parts[1] == "assets"):
                    return None
            else:
                parts = path.split("/")
                if not (len(parts) > 3 and parts[0] == "topics" and parts[2] == "templates" and parts[3]):
                    return None
        return pages

    def times(self, site: Site) -> list[float]:
        """The moments at which what the sources say changes: publish_at / expire_at / dates of
        every page (drafts and future pages included), and the day after each topic's end."""
        out = {t for ts in self.kept.loaded.times.values() for t in ts}
        zone = clock.get_zone(self.cfg.timezone)
        for t in site.topics:
            if t.config.end:
                after = t.config.end + dt.timedelta(days=1)
                out.add(dt.datetime(after.year, after.month, after.day, tzinfo=zone).timestamp())
        return sorted(out)

    def meta(self, times: str, said: dict[str, str]) -> dict[str, str]:
        """What the build state remembers of this build (``said``: its site-wide warnings and notes,
        repeated by a build that finds nothing to do)."""
        return {"options": self.options_key, "version": __version__, "now": repr(self.now.timestamp()),
                "times": times, "warnings": said.get("warnings", "[]"), "notes": said.get("notes", "[]"),
                "media": said.get("media", "0"), "site": said.get("site", "{}")}

    def skip(self, meta: dict, stats: list[tuple], inputs: Inputs) -> bool:
        """True when this build would write nothing: the same sources and options as the last one,
        no publish_at/expire_at passed in between, and every output still the file we wrote."""
        self.previous_meta = meta
        try:
            last = float(meta["now"])
            times = json.loads(meta["times"])
        except (KeyError, ValueError):
            self.time_passed = True
            return False
        lo, hi = sorted((last, self.now.timestamp()))
        self.time_passed = any(lo < t <= hi for t in times)
        if not stats or inputs.changed or self.time_passed or meta.get("options") != self.options_key or \
                meta.get("version") != __version__:
            return False
        base = str(self.public) + os.sep
        stat = os.stat
        try:
            for path, _kind, size, mtime_ns, dirty in stats:
                st = stat(base + path)
                if dirty or st.st_size != size or st.st_mtime_ns != mtime_ns:
                    return False
        except OSError:
            return False
        return any(p == MANIFEST_REL for p, *_ in stats)

    def reuse_all(self, stats: list[tuple], meta: dict[str, str]) -> None:
        self.report.warnings.extend(json.loads(meta.get("warnings", "[]")))
        self.report.notes.extend(fresh_notes(self.cfg.root, self.cfg.cache_dir, json.loads(meta.get("notes", "[]"))))
        media = int(meta.get("media", "0"))
        if media:
            from media_pipeline.library import MediaReport

            self.report.notes.append(MediaReport(reused=[""] * media).line())
        self.report.warnings.extend(self.state.output_warnings())
        for _path, kind, *_ in stats:
            if kind == "page":
                self.report.pages_reused += 1
            elif kind == "file":
                self.report.files_reused += 1

    def process_media(self) -> tuple[MediaHtml | None, list]:
        """Photos and videos through the media pipeline (builder/media.py): what pages need and the renditions."""
        return process_media(self.cfg, self.site, self.opts.jobs, self.report.notes, self.opts.executor)

    # ---- plan --------------------------------------------------------------------------------
    def plan(self, renderer: PageRenderer, resolver: Resolver, previous: dict[str, OutputRecord],
             media_files: list[PlannedFile], inputs: Inputs, jobs: list[Job]) -> Plan:
        """Decide, without writing anything, which outputs are still valid and which must be made:
        every stored key is computed again from the loaded site; the outputs that read a key whose
        value changed are made again (with new outputs, and outputs edited or removed by hand)."""
        plan = Plan()
        touched = self.touched(renderer, inputs) if previous else None
        if touched is not None:
            # Only page files changed: the keys about other pages, other columns and other files
            # are what they were; those about these pages, their columns and their files, and the
            # site-wide ones (templates, files, media, the site's lists) are computed again.
            gone = {p[:-len("index.html")] for p, r in previous.items() if r.kind == "page"} - set(renderer.by_url)
            pages = touched | gone
            columns = {u[:u.rstrip("/").rfind("/") + 1] for u in pages} & renderer.columns.keys()
            sources = {p for p in inputs.changed if not p.endswith("/")}
            folders = {p[:-len("/index.md")] for p in sources if p.endswith("/index.md")}
            stored = self.state.keyvals_near(pages, columns, sources, folders)
        else:
            stored = self.state.keyvals() if previous else {}
        plan.changed_keys = [k for k, v in stored.items() if resolver.value(k) != v]
        affected = self.state.outputs_for(plan.changed_keys) if plan.changed_keys else set()
        selected = set(self.opts.topics or [])
        current: set[str] = set()
        for job in jobs:
            current.add(job.output)
            rec = previous.get(job.output)
            if rec is not None and not rec.dirty and job.output not in affected and self.still_ours(rec):
                plan.keep.append(rec)
                continue
            topic = job.url.split("/", 1)[0] if job.url else None
            if selected and topic not in selected and topic in renderer.topics and rec is not None \
                    and self.still_ours(rec):
                # --topic: other topics stay as they were, and are made again by the next full build.
                plan.carried.append(dataclasses.replace(rec, dirty=True))
                continue
            plan.todo.append(job)
        files = [PlannedFile(a.output, a.source, {"file": inputs.digest(inputs.key(a.source))},
                             "f|" + inputs.key(a.source)) for a in self.site.assets if not a.media]
        for f in files + media_files:
            current.add(f.output)
            rec = previous.get(f.output)
            if rec and rec.source == _h(f.deps) and not rec.dirty and self.still_ours(rec):
                plan.keep.append(rec)
            else:
                plan.place.append(f)
        plan.removed = [p for p, r in previous.items() if r.kind in ("page", "file") and p not in current]
        return plan

    def touched(self, renderer: PageRenderer, inputs: Inputs) -> set[str] | None:
        """URLs of the pages made from the changed files, when nothing but such files changed
        (no file added or removed, no topic.toml/site.toml, no navigation or column index page,
        no publish/expire time passed, the same options); None otherwise."""
        if inputs.added or inputs.gone or self.time_passed or self.previous_meta.get("options") != self.options_key \
                or self.previous_meta.get("version") != __version__:
            return None
        for path in inputs.changed:
            name = path.rsplit("/", 1)[-1]
            if path.endswith((".toml", "/")) or name == "_index.md" or \
                    (name == "index.md" and path.count("/") <= 2):  # site_src/index.md, topics/<slug>/index.md
                return None
        return {p.url for p in renderer.by_url.values() if p.rel_source in inputs.changed}

    def still_ours(self, rec: OutputRecord) -> bool:
        """The previous output is still the file we wrote (not edited or removed by hand since)."""
        try:
            st = os.stat(self.public_prefix + rec.path)
        except OSError:
            return False
        return st.st_size == rec.size and st.st_mtime_ns == rec.mtime_ns

    # ---- writing -----------------------------------------------------------------------------
    def keep(self, plan: Plan) -> None:
        for rec in plan.keep + plan.carried:
            self.files[rec.path] = (rec.sha256, rec.size)
            self.report.warnings.extend(rec.warnings)
            if rec.kind == "page":
                self.report.pages_reused += 1
            else:
                self.report.files_reused += 1
        for rec in plan.carried:
            self.records[rec.path] = rec

    def place_files(self, plan: Plan, sink: Sink, inputs: Inputs) -> None:
        """Copy changed assets; link media renditions from the cache (same content, no copy)."""
        for f in plan.place:
            target = sink.place(f.output, f.source, link="media" in f.deps)
            st = target.stat()
            sha = sha256_file(target)
            self.records[f.output] = OutputRecord(f.output, "file", sha, st.st_size, st.st_mtime_ns, source=_h(f.deps))
            self.read[f.output] = {f.key} if f.key else set()
            self.files[f.output] = (sha, st.st_size)
            self.report.written.append(f.output)
            self.report.files_written += 1

    def render(self, site: Site, renderer: PageRenderer, todo: list[Job], previous: dict[str, OutputRecord],
               sink: Sink, media_html) -> None:
        if not todo:
            return
        jobs = self.opts.jobs or (min(os.cpu_count() or 1, 4) if len(todo) >= PARALLEL_THRESHOLD else 1)
        errors: list[ZhuantiError] = []
        _worker["renderer"] = renderer  # this process renders too, with the engine's warm templates
        _worker["staging"] = sink.staging
        _worker["made"] = set()
        with ui.progress(tr("渲染页面", "rendering pages"), len(todo)) as advance:
            if jobs <= 1:
                results = []
                for job in todo:
                    results.extend(_render_jobs([job]))
                    advance()
            else:
                results = self.render_parallel(todo, jobs, site, media_html, sink, advance)
        for item in results:
            if isinstance(item[1], ZhuantiError):
                errors.extend(item[1].errors if isinstance(item[1], BuildFailed) else [item[1]])
                continue
            output, sha, size, mtime_ns, keys, warnings, self.search_records[item[0]] = item
            self.report.warnings.extend(warnings)
            self.read[output] = set(keys)
            self.files[output] = (sha, size)
            old = previous.get(output)
            if old is not None and old.sha256 == sha and self.still_ours(old):
                # Made again (an input changed) but the same bytes: leave the published file alone.
                self.records[output] = dataclasses.replace(old, dirty=False, warnings=warnings)
                self.report.pages_reused += 1
                continue
            self.records[output] = OutputRecord(output, "page", sha, size, mtime_ns, warnings=warnings)
            sink.written.append(output)
            self.report.written.append(output)
            self.report.pages_written += 1
        if errors:
            unique = {str(e): e for e in errors}  # a broken template fails every page that uses it: say it once
            raise BuildFailed(list(unique.values()))

    def render_parallel(self, todo: list[Job], jobs: int, site: Site, media_html, sink: Sink, advance) -> list:
        """Render with ``jobs - 1`` worker processes and this one, taking chunks from both ends of
        the list. The workers are fresh processes ("spawn": no copy of this process's memory) that
        get the site once without its page bodies, and read each body from one file when needed
        (builder/render/payload.py). Results come back in the order of ``todo``."""
        chunks = meeting_chunks(todo, jobs)
        done: list[list | None] = [None] * len(chunks)
        for leftover in self.cfg.cache_dir.glob("render-bodies-*.bin"):  # of a killed build (we hold the lock)
            leftover.unlink(missing_ok=True)
        bodies = self.cfg.cache_dir / f"render-bodies-{os.getpid()}.bin"
        try:
            payload = worker_payload(site, media_html, bodies)
            with ProcessPoolExecutor(jobs - 1, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=_init_worker,
                                     initargs=(payload, self.opts.minify, str(sink.staging), self.opts.preview,
                                               self.now)) as pool:
                del payload
                front, back = 0, len(chunks)  # workers take from the front, this process from the back
                running: dict = {}
                while front < back or running:
                    while front < back and len(running) < 2 * (jobs - 1):  # keep every worker busy
                        running[pool.submit(_render_jobs, chunks[front])] = front
                        front += 1
                    if front < back:
                        back -= 1
                        done[back] = _render_jobs(chunks[back])
                        advance(len(chunks[back]))
                        finished = [f for f in running if f.done()]
                    else:
                        finished = wait(running, return_when=FIRST_COMPLETED).done
                    for future in finished:
                        i = running.pop(future)
                        done[i] = future.result()
                        advance(len(chunks[i]))
        finally:
            bodies.unlink(missing_ok=True)
        return [item for chunk in done for item in chunk]

    def write_extra(self, sink: Sink, rel: str, data: bytes, previous: dict[str, OutputRecord],
                    identity: str | None = None, kind: str = "extra", same_bytes: bool = False) -> None:
        """The sitemap, the manifest, the search files: written only when their content changed
        (``same_bytes``: the same bytes under a new identity are not written again either)."""
        sha = hashlib.sha256(data).hexdigest()
        ident = identity or sha
        old = previous.get(rel)
        if rel != MANIFEST_REL:
            self.files[rel] = (sha, len(data))
        if old is not None and (old.source == ident or same_bytes and old.sha256 == sha) and self.still_ours(old):
            if old.source != ident:
                self.records[rel] = dataclasses.replace(old, source=ident)
            return
        st = sink.write(rel, data)
        self.records[rel] = OutputRecord(rel, kind, sha, len(data), st.st_mtime_ns, source=ident)
        self.report.written.append(rel)

    def search(self, renderer: PageRenderer, sink: Sink, previous: dict[str, OutputRecord], plan: Plan) -> None:
        """The search page and index (builder/search): the records of the pages rendered now update
        the previous index (a small delta), or make it anew on a clean build."""
        old = {p for p, r in previous.items() if r.kind == "search"}
        made: set[str] = set()
        if self.cfg.build.search:
            page = search_page(renderer)
            if page is not None:
                self.write_extra(sink, SEARCH_URL + "index.html", page, previous, kind="search", same_bytes=True)
                made.add(SEARCH_URL + "index.html")
            mobile = self.cfg.mobile.prefix + "/" if self.cfg.mobile.separate else None
            records = {rel[:-len("index.html")]: rec for rel, rec in self.search_records.items()
                       if not (mobile and rel.startswith(mobile))}
            records.update((rel[:-len("index.html")], None) for rel in plan.removed if rel.endswith("index.html"))

            def valid(rel: str, sha: str) -> bool:
                rec = previous.get(rel)
                return rec is not None and rec.sha256 == sha and self.still_ours(rec)

            def others() -> dict:  # pages kept from the last build, read back (no usable previous index)
                out = {}
                for rec in plan.keep + plan.carried:
                    url = rec.path[:-len("index.html")]
                    if rec.kind == "page" and url not in records and not (mobile and rec.path.startswith(mobile)):
                        out[url] = page_record(renderer, url, (self.public / rec.path).read_text(encoding="utf-8"))
                return out

            write, keep = self.search_index.update(records, self.opts.clean or not previous, valid, others)
            for rel in keep:
                self.files[rel] = (previous[rel].sha256, previous[rel].size)
            for rel, data in sorted(write.items()):
                self.write_extra(sink, rel, data, previous, kind="search", same_bytes=True)
            made.update(keep, write)
        else:
            self.search_index.clear()
        plan.removed.extend(sorted(old - made))

    def sitemap(self, renderer: PageRenderer, jobs: list[Job]) -> dict[str, bytes]:
        """``sitemap.xml``; past the protocol's 50,000 URLs a file, a sitemap index of that name
        and the URLs in ``sitemap-1.xml``, ``sitemap-2.xml``… (sitemaps.org)."""
        def document(root: str, items: list[str]) -> bytes:
            head = ['<?xml version="1.0" encoding="UTF-8"?>',
                    f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
            return "\n".join([*head, *items, f"</{root}>\n"]).encode()

        base = escape(self.cfg.base_url.rstrip("/") + "/", quote=False)
        dates = LocalDates()
        urls = []
        for out in sorted(j.output for j in jobs if not j.variant):  # canonical URLs only
            path = out[: -len("index.html")]
            url = base + path if _URL_SAFE(path) else escape(absolute(self.cfg.base_url, path), quote=False)
            page = renderer.by_url.get(path)
            lastmod = f"<lastmod>{dates.day(page.date)}</lastmod>" if page and page.date else ""
            urls.append(f"<url><loc>{url}</loc>{lastmod}</url>")
        if len(urls) <= SITEMAP_URLS:
            return {SITEMAP: document("urlset", urls)}
        parts = {f"sitemap-{n + 1}.xml": document("urlset", urls[i:i + SITEMAP_URLS])
                 for n, i in enumerate(range(0, len(urls), SITEMAP_URLS))}
        index = [f"<sitemap><loc>{base}{rel}</loc></sitemap>" for rel in parts]
        return {**parts, SITEMAP: document("sitemapindex", index)}

    def manifest(self, site: Site, renderer: PageRenderer, jobs: list[Job]) -> tuple[bytes, str]:
        """The manifest, and what identifies its content (everything but built_at)."""
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        built = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch and epoch.isdigit() else clock.now("UTC")
        pages = []
        dates = LocalDates()
        for job in jobs:
            if job.kind == "list":
                col = renderer.columns[job.url]
                pages.append({"path": job.output, "source": col.index.rel_source, "kind": "column", "title": col.title,
                              "date": None, "topic": col.topic, "column": col.name})
                continue
            p = renderer.by_url[job.url]
            pages.append({"path": job.output, "source": p.rel_source + (f"#row={p.record.row}" if p.record else ""),
                          "kind": "detail" if p.kind == "record" else p.kind, "title": p.title,
                          "date": dates.minute(p.date) if p.date else None,
                          "topic": p.topic, "column": p.column})
        columns = [{"path": c.index.output, "topic": c.topic, "name": c.name, "title": c.title,
                    "column_type": c.column_type, "stale_after_days": c.stale_after_days, "pages": len(c.pages),
                    "latest": dates.day(c.latest) or None} for t in site.topics for c in t.columns]
        topics = [{"slug": t.slug, "title": t.title, "start": str(t.config.start) if t.config.start else None,
                   "end": str(t.config.end) if t.config.end else None, "archived": t.archived} for t in site.topics]
        data = {
            "schema": SCHEMA, "tool": "zhuanti", "version": __version__, "base_url": self.cfg.base_url,
            "identity": dataclasses.asdict(self.cfg.identity),
            "files": [{"path": p, "sha256": s, "size": n} for p, (s, n) in sorted(self.files.items())],
            "pages": pages, "columns": columns, "topics": topics,
        }
        stamp = built.strftime("%Y-%m-%dT%H:%M:%SZ")
        rows = {"files": _file_rows(data["files"]), "pages": _page_rows(pages)}
        parts = manifest_parts({k: v for k, v in data.items() if rows.get(k) is None})
        if parts is not None:
            parts.update((k, f' "{k}": ' + ("[]" if not v else "[\n  " + ",\n  ".join(v) + "\n ]"))
                         for k, v in rows.items() if v is not None)
        if parts is None:  # not the usual shape: the plain writer
            identity = _h(data)
            data["built_at"] = stamp
            return dump_manifest(data).encode("utf-8"), identity
        identity = _h("\n".join(parts.values()).encode())
        parts["built_at"] = f' "built_at": {_json_str(stamp)}'
        return join_manifest(parts).encode("utf-8"), identity


def worker_payload(site: Site, media_html, bodies: Path) -> bytes:
    """The site and media snippets for render workers, page bodies written to ``bodies`` instead."""
    return payload.dumps((site, media_html), payload.write_bodies(site.all_pages(), bodies))


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*\Z").match  # nothing to percent-encode (urllib's safe set)


class LocalDates:
    """Dates as pages show them, in the site's time zone (``render.pages.day`` and ``pubdate``
    without strftime, for the 10,000 lines of a sitemap or manifest)."""

    def __init__(self) -> None:
        self.zone = clock.zone()

    def day(self, value: dt.datetime | None) -> str:
        if not value:
            return ""
        d = value.astimezone(self.zone)
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"

    def minute(self, value: dt.datetime) -> str:
        d = value.astimezone(self.zone)
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}"


_json_str = json.encoder.encode_basestring  # a str as JSON with ensure_ascii=False (the C encoder)
_json_any = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def _json_flat(v) -> str | None:
    """A JSON scalar as ``json.dumps`` writes it (None for a dict or list)."""
    t = type(v)
    if t is str:
        return _json_str(v)
    if t is int:
        return int.__repr__(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is dict or t is list or isinstance(v, dict | list):
        return None
    return _json_any(v)


def manifest_parts(data: dict) -> dict[str, str] | None:
    """Each top-level entry of the manifest as ``dump_manifest`` writes it (None when a value is
    not a scalar, a flat object or a list of flat objects)."""
    keys: dict[str, str] = {}

    def flat(obj: dict, pad: str) -> str | None:
        if not obj:
            return "{}"
        items = []
        for k in sorted(obj):
            v = _json_flat(obj[k])
            if v is None:
                return None
            name = keys.get(k)
            if name is None:
                name = keys[k] = f"{pad} {_json_str(k)}: " if type(k) is str else None
                if name is None:
                    return None
            items.append(name + v)
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"

    parts = {}
    for key in sorted(data):
        value = data[key]
        if isinstance(value, dict):
            text = flat(value, " ")
            keys.clear()
        elif isinstance(value, list):
            rows = [flat(v, "  ") if isinstance(v, dict) else None for v in value]
            keys.clear()
            text = None if None in rows else ("[]" if not rows else "[\n  " + ",\n  ".join(rows) + "\n ]")
        else:
            text = _json_any(value)
        if text is None or type(key) is not str:
            return None
        parts[key] = f" {_json_str(key)}: {text}"
    return parts


def _file_rows(files: list[dict]) -> list[str] | None:
    """The manifest's files, as ``manifest_parts`` writes them, without looking at each value's type."""
    s = _json_str
    r = int.__repr__
    try:
        return [f'{{\n   "path": {s(f["path"])},\n   "sha256": {s(f["sha256"])},\n   "size": {r(f["size"])}\n  }}'
                for f in files]
    except TypeError:  # not a str or an int somewhere: the general writer
        return None


def _page_rows(pages: list[dict]) -> list[str] | None:
    """The manifest's pages, as ``manifest_parts`` writes them."""
    s = _json_str

    def n(v):
        return "null" if v is None else s(v)

    try:
        return [f'{{\n   "column": {n(p["column"])},\n   "date": {n(p["date"])},\n   "kind": {s(p["kind"])},\n'
                f'   "path": {s(p["path"])},\n   "source": {s(p["source"])},\n   "title": {s(p["title"])},\n'
                f'   "topic": {n(p["topic"])}\n  }}' for p in pages]
    except TypeError:
        return None


def join_manifest(parts: dict[str, str]) -> str:
    return "{\n" + ",\n".join(parts[k] for k in sorted(parts)) + "\n}\n"


def fast_dump_manifest(data: dict) -> str:
    """``manifest.dump_manifest(data)``, byte for byte, without the pure-Python indenting encoder
    (30× faster on 10,000 pages): lists of flat objects are written line by line."""
    parts = manifest_parts(data)
    return dump_manifest(data) if parts is None else join_manifest(parts)


class Engine:
    """A build that stays alive between runs (``zhuanti serve``; ``zhuanti build`` makes one for a
    single run). ``build(changed)`` brings the output up to date; parsed sources, templates and the
    Markdown renderer stay warm between builds. The engine holds the site lock until ``close()``.
    """

    def __init__(self, root: Path, options: BuildOptions | None = None) -> None:
        self.root = Path(root).resolve()
        self.options = dataclasses.replace(options) if options else BuildOptions()
        if self.options.preview:
            self.options.drafts = self.options.future = True
            self.options.minify = False
        self.lock: SiteLock | None = None
        self._states: dict[Path, BuildState] = {}
        self._sources: SourceCache | None = None
        self._templates = None
        self._templates_key = None
        self._markdown = None
        self._last_site: Site | None = None
        self._last_state: BuildState | None = None
        self._kept: dict[Path, KeptSite] = {}  # the loaded site, by build state (one per output folder)

    def build(self, changed: Iterable[Path] | None = None) -> BuildReport:
        """Bring the output up to date. ``changed``: source paths a watcher saw change (a hint;
        the engine compares every source with the last build anyway)."""
        cfg = load_site_config(self.root)
        notes = []
        if self.lock is None:
            lock = SiteLock(cfg.cache_dir).acquire()
            self.lock = lock
            if lock.took_over:
                notes.append(tr("接管了已退出进程 {pid} 留下的锁", "took over the lock of exited process {pid}",
                                pid=lock.took_over.get("pid")))
        builder = Builder(self, cfg, dataclasses.replace(self.options))
        builder.report.notes.extend(notes)
        report = builder.run(changed)
        self._last_site = getattr(builder, "site", self._last_site)
        self._last_state = builder.state
        return report

    def state_for(self, cfg: SiteConfig, public: Path) -> BuildState:
        # One build state per output folder: the preview's outputs are not public/'s.
        name = STATE_FILE if self.options.output is None else f"build-state-{_h(str(public))[:12]}.sqlite"
        path = cfg.cache_dir / name
        if path not in self._states:
            self._states[path] = BuildState(path)
        return self._states[path]

    def kept_site(self, state: BuildState, header: tuple, cfg: SiteConfig, meta: dict[str, str]) -> KeptSite | None:
        """The loaded site of the last build into ``state``'s output: kept in memory, else written
        to disk by an earlier run (with the pages patched in since, still to read again)."""
        kept = self._kept.get(state.path)
        if kept is None:
            try:
                info = json.loads(meta.get("site") or "{}")
                ident, since = info.get("id"), set(info.get("since") or [])
            except (ValueError, AttributeError):
                return None
            loaded = load_snapshot(snapshot_path(state), ident, header) if ident else None
            if not isinstance(loaded, Loaded):
                return None
            kept = self._kept[state.path] = KeptSite(loaded, header, ident, since, set(since))
        if kept.header != header or kept.loaded.site.config != cfg:
            return None
        return kept

    def keep_site(self, state: BuildState, kept: KeptSite) -> KeptSite:
        self._kept[state.path] = kept
        return kept

    def drop_site(self, state: BuildState) -> None:
        self._kept.pop(state.path, None)

    def save_sites(self) -> None:
        """Write the loaded sites that changed much since they were last written (or never were),
        for the next run."""
        for path, kept in self._kept.items():
            if kept.ident is not None and len(kept.since) < SNAPSHOT_AFTER or kept.pending:
                continue  # (pending: pages that failed to load are missing from it)
            state = self._states.get(path)
            if state is None:
                continue
            ident = save_snapshot(snapshot_path(state), kept.header, kept.loaded)
            kept.ident, kept.since = ident, set()
            try:
                state.set_meta("site", kept.info())
            except sqlite3.Error:
                pass  # (a cache: the next run loads the site whole)

    @property
    def sources(self) -> SourceCache:
        if self._sources is None:
            self._sources = SourceCache(load_site_config(self.root).cache_dir / SOURCES_FILE)
        return self._sources

    def warm(self, cfg: SiteConfig, inputs: Inputs) -> tuple:
        """The warm templates and Markdown renderer, made again when a template, the theme or
        site.toml changed."""
        key = (cfg.theme, str(cfg.root))
        touched = any("templates/" in p or p.startswith("themes/") or p == "site_src/site.toml" or p.startswith("/")
                      for p in inputs.changed)
        if self._templates is None or key != self._templates_key or touched:
            self._templates = make_templates(cfg)
            self._markdown = make_renderer(cfg.build.markdown_engine, cfg)
            self._templates_key = key
        return self._templates, self._markdown

    def outputs_for(self, keys: Iterable[str]) -> set[str]:
        """The outputs of the last build that read any of these dependency keys (``builder.deps``);
        ``source:<path>`` stands for the pages made from that source file."""
        state = self._last_state
        if state is None:
            return set()
        keys = list(keys)
        site = self._last_site
        expanded = [k for k in keys if not k.startswith("source:")]
        wanted = {k[len("source:"):] for k in keys if k.startswith("source:")}
        if wanted and site is not None:
            expanded += [f"p|{p.url}|*" for p in site.all_pages() if p.rel_source in wanted]
        return state.outputs_for(covering_keys(site, expanded))

    def close(self) -> None:
        if self._sources is not None and self._sources.dirty:
            self._sources.save()
        self.save_sites()
        for state in self._states.values():
            state.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@functools.cache
def loader_code() -> str:
    """What the loader's code is: a copy of a loaded site made by other code (a development
    checkout between two commits of one version) is not used."""
    from builder.content import attachments, frontmatter, loader, model

    h = hashlib.blake2b(digest_size=8)
    for module in (loader, model, frontmatter, attachments):
        try:
            h.update(Path(module.__file__).read_bytes())
        except (OSError, TypeError):
            h.update(b"?")
    return h.hexdigest()


def snapshot_path(state: BuildState) -> Path:
    return state.path.with_suffix(".site")


def build_site(root: Path, options: BuildOptions | None = None) -> BuildReport:
    engine = Engine(root, options)
    try:
        return engine.build()
    finally:
        engine.close()


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
    if report.warnings:  # one print: a large site may repeat hundreds of them on every build
        ui.warn("\n".join(tr("警告：", "warning: ") + w for w in report.warnings))
    for n in report.notes:
        ui.say(n)
    ui.summary(tr("构建完成：写入 {w} 页，复用 {r} 页，文件 {f} 个（复用 {fr}），用时 {t:.2f} 秒 → {o}",
                  "built: {w} pages written, {r} reused, {f} files ({fr} reused) in {t:.2f}s → {o}",
                  w=report.pages_written, r=report.pages_reused, f=report.files_written + report.files_reused,
                  fr=report.files_reused, t=report.seconds, o=report.output))
    return 0


