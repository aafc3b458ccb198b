"""Runs every check family over a folder of HTML: find the pages, load each once, feed it to
every check, then let each check finish with its site-wide rules.

A page that cannot be read, is not text, or makes a check raise becomes a finding on that
page (``check.unreadable``, ``check.internal-error``); the other pages are still checked.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import sys
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

from builder.checks.base import Check, CheckResult, Finding, HtmlDoc, decode_html_utf8
from builder.config import SiteConfig
from builder.errors import ConfigError
from builder.i18n import tr
from builder.ui import progress

HTML_SUFFIXES = (".html", ".htm")
# Below this many pages a worker process (~0.8 s to start: imports, word lists loaded again) costs
# more than it saves.
PARALLEL_MIN_PAGES = 2000
MIN_PAGES_PER_WORKER = 50
MAX_AUTO_WORKERS = 8
GC_THRESHOLDS = (10_000, 50, 1000)  # while pages are checked (defaults: 700, 10, 10)
# Above this a page is still checked, but readers (on phones above all) wait for it.
LARGE_PAGE_BYTES = 5 * 1024 * 1024
_SNIFF_BYTES = 8192
# Magic numbers of files that are often misnamed .html in exports (images, PDFs, archives).
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"Rar!",
                 b"\x7fELF", b"MZ", b"\xd0\xcf\x11\xe0")


@dataclass
class CheckRun(CheckResult):
    """A CheckResult that also knows which pages were checked and what each check cost."""

    page_list: list[str] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # check class → seconds (pages + finish)
    messages: list[str] = field(default_factory=list)  # what the checks say about the run (not findings)
    screenshots: list = field(default_factory=list)  # browser.Screenshot, for the HTML report
    browser: bool = False  # the browser pass ran (asked for, and Chromium was there)


def find_pages(root: Path) -> list[Path]:
    """Every *.html / *.htm file under ``root``, sorted; dot-folders (.zhuanti/, .git/) are skipped."""
    root = Path(root)
    return [root / name for name in find_page_names(root)]


def find_page_names(root: Path) -> list[str]:
    """``find_pages`` as paths relative to ``root`` (posix), in the same order."""
    return walk_folder(root).pages


@dataclass
class Listing:
    """One walk of the checked folder: the pages to check, and every file and folder in it."""

    pages: list[str]  # *.html / *.htm outside dot-folders, relative (posix), sorted as Paths compare
    files: set[str]  # every file, dot-folders included, relative (posix, NFC): what a link may point at
    dirs: set[str]  # every folder below the root, the same way


def walk_folder(root: Path) -> Listing:
    """What ``os.walk`` finds under ``root`` (not following links to folders, unreadable folders left
    out), in one scandir per folder and without a Path per file; the link check takes its
    ``files``/``dirs`` from here instead of walking the folder again in every worker."""
    pages: list[str] = []
    files: set[str] = set()
    dirs: set[str] = set()
    nfc = unicodedata.normalize
    stack = [("", os.fspath(root), False)]
    while stack:
        rel, folder, hidden = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        plain = rel[:-1]
        if plain:
            dirs.add(plain if plain.isascii() else nfc("NFC", plain))
        prefix = rel if rel.isascii() else nfc("NFC", plain) + "/"
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                try:
                    link = entry.is_symlink()
                except OSError:
                    link = False
                if not link:
                    stack.append((rel + name + "/", entry.path, hidden or name.startswith(".")))
                continue
            files.add(prefix + (name if name.isascii() else nfc("NFC", name)))
            if not hidden and not name.startswith(".") and name.lower().endswith(HTML_SUFFIXES):
                pages.append(rel + name)
    pages.sort(key=_parts)
    return Listing(pages, files, dirs)


def _parts(rel: str) -> list[str]:
    return rel.split("/")


def page_checks(root: Path, *, site: SiteConfig | None, manifest: dict | None) -> list[Check]:
    """The families that judge each page on its own (links, hidden links, words, site rules).

    Their ``finish()`` needs nothing another process saw: pending anchors are read from disk,
    the site-wide rules come from the manifest, so each worker can run a share of the pages.
    """
    from builder.checks.hidden import HiddenLinkCheck
    from builder.checks.links import LinkCheck
    from builder.checks.site import SiteCheck
    from builder.checks.words import WordCheck

    words_dir = site.root / "site_src" / "words" if site is not None else None
    return [
        LinkCheck(root, manifest, site, anchors_from_disk=True),
        HiddenLinkCheck(site),
        WordCheck(words_dir if words_dir is not None and words_dir.is_dir() else None,
                  traditional_to_simplified=site.check.traditional_to_simplified if site else False),
        SiteCheck(site, manifest),
    ]


def whole_site_checks(root: Path, *, site: SiteConfig | None, external: bool, browser: bool,
                      cache_dir: Path) -> list[Check]:
    """The families that must see every page in one process: external links (the browser pass
    runs after all of them, see ``run_checks``)."""
    checks: list[Check] = []
    if external:
        from builder.checks.external import ExternalLinkCheck

        checks.append(ExternalLinkCheck(site, cache_dir))
    return checks


def run_checks(root: Path, *, site: SiteConfig | None, manifest: dict | None, external: bool,
               browser: bool, cache_dir: Path, jobs: int | None = None,
               browser_options: dict | None = None) -> CheckRun:
    """Run every check family on the HTML under ``root``; ``notes`` says which veto thresholds were hit.

    The browser pass (``browser_options``: sample, devices, screenshots) runs last, with its own
    progress bar, on the pages the runner found; without Chromium it is skipped with a message.
    """
    from builder.checks.site import veto_notes
    from builder.checks.sources import attach_sources

    root = Path(root)
    whole: list[Check] = whole_site_checks(root, site=site, external=external, browser=browser,
                                           cache_dir=cache_dir)
    sources = functools.partial(attach_sources, manifest=manifest, site_root=site.root if site is not None else None)
    pages = manifest.get("pages") if isinstance(manifest, dict) else None
    run = run_with(root, functools.partial(page_checks, root, site=site, manifest=manifest), jobs=jobs,
                   whole_site=whole, prepare=sources, expect_pages=len(pages) if isinstance(pages, list) else None)
    if browser:
        from builder.checks.browser import BrowserCheck

        check = BrowserCheck(root, pages=run.page_list, **(browser_options or {}))
        run.findings += _guarded(type(check).__name__, "", check.finish)
        run.findings.sort(key=lambda f: (f.page, f.line or 0, f.rule))
        run.screenshots = check.screenshots
        run.browser = not check.skipped
        whole.append(check)
    run.findings = sources(run.findings)  # those of the browser pass, finish() and this process
    run.notes = veto_notes(run.findings)
    run.messages = [n for n in (_note(c) for c in whole) if n]
    return run


def worker_count(jobs: int | None, pages: int) -> int:
    """Processes for ``pages`` pages: ``jobs`` when given, else one per CPU for large folders."""
    if jobs is not None:
        return max(1, min(jobs, pages // MIN_PAGES_PER_WORKER))
    if pages < PARALLEL_MIN_PAGES:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, MAX_AUTO_WORKERS))


def run_with(root: Path, checks: Sequence[Check] | Callable[[], Sequence[Check]], *, jobs: int | None = None,
             whole_site: Sequence[Check] = (),
             prepare: Callable[[list[Finding]], list[Finding]] | None = None,
             expect_pages: int | None = None) -> CheckRun:
    """Feed every page under ``root`` to the checks (in order), then call each ``finish()``.

    ``checks`` is either instances, all run in this process, or a picklable factory of fresh
    instances: then large folders are split over ``jobs`` worker processes (default: one per CPU),
    each checking an interleaved share of the pages and finishing on its own; identical
    site-wide findings from several workers count once. ``whole_site`` checks run here, on every page.
    ``prepare`` (picklable, applied to each finding on its own) is applied by the workers to
    their findings before sending them, so that work is shared too; the caller applies it to the
    rest (it must give the same result when applied again). ``expect_pages``: about how many pages
    the folder holds (e.g. from the build manifest), to start the workers before walking it.
    """
    if jobs is not None and jobs < 1:
        raise ConfigError(tr("--jobs 必须大于 0", "--jobs must be at least 1"), field="--jobs")
    started = time.perf_counter()
    root = Path(root)
    # Workers start before the progress bar does: that bar is a thread, and a process with one
    # thread only can fork its workers (warm, in milliseconds) instead of spawning fresh interpreters.
    # When the caller expects as many pages as make workers worth it, they start before the folder
    # is walked and get ready (word lists …) meanwhile; their shares follow.
    early = None
    if callable(checks) and expect_pages is not None and start_method() == "fork":
        guess = worker_count(jobs, expect_pages)
        if guess > 1:
            early = _Pool(root, checks, None, guess, prepare)
    try:
        listing = walk_folder(root)
        paths = listing.pages
        workers = worker_count(jobs, len(paths)) if callable(checks) else 1
        if early is not None and early.workers != workers:
            early.close()  # the guess was wrong: those workers stop unused
            early = None
        if early is not None:
            pool: _Pool | None = early
            early.hand_out(listing)
        else:
            pool = _Pool(root, checks, listing, workers, prepare) if workers > 1 else None
    except BaseException:
        if early is not None:
            early.close()  # (interrupted while walking): the waiting workers are told to stop
        raise
    try:
        with progress(tr("检查页面", "checking pages"), total=len(paths)) as advance:
            if pool is None:
                instances = list(checks() if callable(checks) else checks) + list(whole_site)
                _give_listing(instances, listing)
                findings, timings = _check_pages(root, paths, instances, advance)
                findings += _finish(instances, timings)
            else:
                findings, timings = _run_parallel(pool, whole_site, advance)
    finally:
        if pool is not None:
            pool.close()
    findings.sort(key=lambda f: (f.page, f.line or 0, f.rule))
    page_list = paths
    return CheckRun(root=str(root), pages=len(page_list), findings=findings, home_page=_home(page_list),
                    page_list=page_list, seconds=time.perf_counter() - started,
                    timings={k: round(v, 4) for k, v in timings.items()})


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Checking a page makes thousands of short-lived objects while the checks' memories (link
    tables, CSS matches) grow old: with the default thresholds the garbage collector walks those
    memories again and again (about 7 % of a run). Collect less often while pages are checked."""
    old = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _check_pages(root: Path, paths: Sequence[str], checks: Sequence[Check],
                 advance: Callable[[], object]) -> tuple[list[Finding], dict[str, float]]:
    """Each page (``paths``: relative to ``root``, posix) loaded once and given to every check;
    returns the findings and seconds per check."""
    names = [type(c).__name__ for c in checks]
    timings = dict.fromkeys(names, 0.0)
    findings: list[Finding] = []
    with _fewer_collections():
        base = os.fspath(root)
        for rel in paths:
            doc, problems = _load(root, os.path.join(base, rel), rel)
            findings.extend(problems)
            if doc is not None:
                for check, name in zip(checks, names, strict=True):
                    t = time.perf_counter()
                    findings.extend(_guarded(name, doc.rel, check.page, doc))
                    timings[name] += time.perf_counter() - t
            advance()
    return findings, timings


def _finish(checks: Sequence[Check], timings: dict[str, float]) -> list[Finding]:
    findings: list[Finding] = []
    for check in checks:
        name = type(check).__name__
        t = time.perf_counter()
        findings.extend(_guarded(name, "", check.finish))
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - t
    return findings


def _worker(wid: int, root: Path, task, results, current) -> None:
    """A worker process: take its share (``task``: the share itself, or a queue it comes through),
    check it, then send all its findings.

    ``current[wid]`` (shared memory, written before each page, so it survives a hard crash) is the
    index of the page being checked: the parent follows progress and knows which page killed a worker.
    """
    try:
        factory, paths, prepare, *later = task if isinstance(task, tuple) else task.get()
        checks = list(factory())
        if paths is None:  # started before the folder was walked: get ready, then wait for the share
            for check in checks:
                warm = getattr(check, "warm", None)
                if warm is not None:
                    warm()
            handed = later[0].recv()
            if handed is None:
                return  # not needed after all
            paths, files, dirs = (_unjoin(part) for part in handed)
            _give_listing(checks, Listing(paths, set(files), set(dirs)))
        position = iter(range(1, len(paths) + 1))
        current[wid] = 0

        def advance() -> None:
            current[wid] = next(position)

        findings, timings = _check_pages(root, paths, checks, advance)
        finished = _finish(checks, timings)
        if prepare is not None:
            findings, finished = prepare(findings), prepare(finished)
        results.put(("done", wid, findings, finished, timings))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which checks the share itself
        results.put(("failed", wid, f"{type(exc).__name__}: {exc}"))


def _given(checks: list[Check]) -> list[Check]:
    return checks


def _unjoin(joined: str) -> list[str]:
    return joined.split("\0") if joined else []


def _give_listing(checks: Iterable[Check], listing: Listing) -> None:
    """Checks that look at the folder's files (``use_listing``) take them from the runner's walk."""
    for check in checks:
        use = getattr(check, "use_listing", None)
        if use is not None:
            use(listing.files, listing.dirs)


def start_method() -> str:
    """``fork`` on Linux when this process runs a single thread (a forked worker starts warm: no new
    interpreter, imports, manifest or page list to send); else ``spawn`` (forking a process that
    holds threads can leave the child waiting on a lock another thread held)."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


class _Pool:
    """Worker processes, each with an interleaved share of the pages, started at once."""

    def __init__(self, root: Path, factory: Callable[[], Sequence[Check]], listing: Listing | None, workers: int,
                 prepare: Callable[[list[Finding]], list[Finding]] | None = None) -> None:
        """``listing`` None: the workers (forked) start now and wait for ``hand_out``."""
        paths = listing.pages if listing is not None else []
        self.root, self.factory, self.paths, self.workers = root, factory, paths, workers
        self.method = start_method()
        self.closed = False
        ctx = multiprocessing.get_context(self.method)
        self.results = ctx.Queue()
        self.current = ctx.Array("q", [-1] * workers, lock=False)  # page index per worker; -1 = not started
        self.shares = [paths[i::workers] for i in range(workers)]
        # With spawn the work goes through a queue, not the Process arguments: CPython's spawn blocks
        # forever writing arguments larger than a pipe buffer to a child that died while starting (e.g.
        # a script without the __main__ guard). A forked child inherits its arguments instead.
        self.tasks = [ctx.Queue() for _ in range(workers)] if self.method == "spawn" else []
        self.waiting: list = []  # early workers: where their shares go
        handed: list = list(self.tasks)
        if not self.tasks:
            for stream in (sys.stdout, sys.stderr):  # a child flushes what it inherits: print nothing twice
                if stream is not None:
                    stream.flush()
            # Built here, once: each child inherits a copy with every module already imported (and the
            # folder's listing: a spawned child's checks list the folder themselves).
            instances = list(factory())
            built = functools.partial(_given, instances)
            if listing is not None:
                _give_listing(instances, listing)
                handed = [(built, share, prepare) for share in self.shares]
            else:
                pipes = [ctx.Pipe(duplex=False) for _ in range(workers)]
                self.waiting = [send for _, send in pipes]
                handed = [(built, None, prepare, receive) for receive, _ in pipes]
            gc.freeze()  # the children's collections then never walk (and copy) what they inherited
        self.procs = [ctx.Process(target=_worker, args=(i, root, handed[i], self.results, self.current),
                                  daemon=True, name=f"zhuanti-check-{i}") for i in range(workers)]
        try:
            for i, proc in enumerate(self.procs):
                proc.start()
                if self.tasks:
                    self.tasks[i].put((factory, self.shares[i], prepare))
        finally:
            if not self.tasks:
                gc.unfreeze()

    def hand_out(self, listing: Listing) -> None:
        """The shares of workers started early (and the folder's listing for their link check)."""
        paths = listing.pages
        self.paths = paths
        self.shares = [paths[i::self.workers] for i in range(self.workers)]
        # one string per list (names hold no NUL): pickled as fast as the bytes can be copied
        files, dirs = "\0".join(listing.files), "\0".join(listing.dirs)
        for send, share in zip(self.waiting, self.shares, strict=True):
            try:
                send.send(("\0".join(share), files, dirs))
            except OSError:
                pass  # the worker died while getting ready: its share is checked here (_run_parallel)
        self.waiting = []

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for send in self.waiting:  # started early, never given a share
            try:
                send.send(None)
            except OSError:
                pass
        for q in self.tasks:
            q.cancel_join_thread()  # a task never taken must not hold up the exit
            q.close()
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()


def _run_parallel(pool: _Pool, whole_site: Sequence[Check], advance: Callable[[int], object]
                  ) -> tuple[list[Finding], dict]:
    root, factory, paths, workers = pool.root, pool.factory, pool.paths, pool.workers
    results, current, shares, procs = pool.results, pool.current, pool.shares, pool.procs
    done: dict[int, tuple] = {}
    ended: dict[int, str | None] = {}  # worker → why it stopped early (None: it died without a word)
    shown = 0

    def poll(block: bool = False) -> None:
        nonlocal shown
        try:
            msg = results.get(timeout=0.2) if block else results.get_nowait()
        except Empty:
            msg = None
        if msg is not None:
            if msg[0] == "done":
                done[msg[1]] = msg[2:]
            else:
                ended[msg[1]] = msg[2]
        seen = sum(max(0, current[i]) for i in range(workers))
        if seen > shown:
            advance(seen - shown)
            shown = seen

    findings: list[Finding] = []
    timings: dict[str, float] = {}
    try:
        if whole_site:
            # Whole-site checks read every page here while the workers run.
            findings, timings = _check_pages(root, paths, whole_site, poll)
        while len(done) + len(ended) < workers:
            poll(block=True)
            for wid, p in enumerate(procs):
                if wid not in done and wid not in ended and not p.is_alive():
                    poll()  # what it sent just before it stopped
                    if wid not in done and wid not in ended:
                        ended[wid] = None
    finally:
        pool.close()
    finished: list[list[Finding]] = []
    for wid in range(workers):
        if wid in done:
            page_findings, finish_findings, worker_timings = done[wid]
            findings += page_findings
            finished.append(finish_findings)
            for name, seconds in worker_timings.items():
                timings[name] = timings.get(name, 0.0) + seconds
            continue
        # A worker that failed or died: its remaining pages are checked here.
        at = max(0, current[wid])
        rest = shares[wid][at:]
        if ended[wid] is None and current[wid] >= 0 and rest:
            crashed = rest.pop(0)
            findings.append(Finding(
                "check.internal-error", "error", crashed,
                tr("检查此页面时工作进程意外退出，此页面未完整检查", "a worker process died while checking this "
                   "page, which was not fully checked"),
                suggestion=tr("请把此页面报告给 zhuanti 维护者；用 --jobs 1 可在单进程中检查",
                              "report this page to the zhuanti maintainers; --jobs 1 checks in one process")))
            advance(1)
        checks = list(factory())
        rest_findings, rest_timings = _check_pages(root, rest, checks, advance)
        findings += rest_findings
        finished.append(_finish(checks, rest_timings))
        for name, seconds in rest_timings.items():
            timings[name] = timings.get(name, 0.0) + seconds
    findings += _merge_finished(finished)
    findings += _finish(whole_site, timings)
    return findings, timings


def _merge_finished(lists: list[list[Finding]]) -> list[Finding]:
    """Site-wide findings of several workers: one that every worker made (from the manifest, from a
    word list) counts once; the most copies any one worker made are kept."""
    most: Counter[Finding] = Counter()
    order: dict[Finding, None] = {}
    for findings in lists:
        for f, n in Counter(findings).items():
            most[f] = max(most[f], n)
            order.setdefault(f)
    return [f for f in order for _ in range(most[f])]


def load_page(root: Path, path: Path) -> tuple[HtmlDoc | None, list[Finding]]:
    """The page as an HtmlDoc, or None with a ``check.unreadable`` finding; plus size/encoding warnings."""
    return _load(root, path, path.relative_to(root).as_posix())


def _load(root: Path, path: str | Path, rel: str) -> tuple[HtmlDoc | None, list[Finding]]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return None, [Finding("check.unreadable", "error", rel,
                              tr("无法读取文件：{e}", "cannot read the file: {e}", e=exc.strerror or exc),
                              suggestion=tr("检查文件权限，或是否为失效的链接文件", "check its permissions, "
                                            "or whether it is a broken symbolic link"))]
    if _is_binary(data):
        return None, [Finding("check.unreadable", "error", rel,
                              tr("文件扩展名是 .html，但内容不是网页文本（二进制文件）",
                                 "the file is named .html but is not HTML text (binary content)"),
                              suggestion=tr("改用正确的扩展名，或换成真正的网页", "give it its real extension, "
                                            "or replace it with the real page"))]
    findings: list[Finding] = []
    text, utf8 = decode_html_utf8(data)
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        findings.append(Finding(
            "check.encoding", "warning", rel,
            tr("页面含有按其编码无法识别的字节，读者会看到乱码", "the page has bytes that are invalid in "
               "its encoding; readers will see garbled text (乱码)"),
            line=text[:text.index("\ufffd")].count("\n") + 1,
            suggestion=tr("以 UTF-8 保存页面，并声明 <meta charset=\"utf-8\">",
                          "save the page as UTF-8 and declare <meta charset=\"utf-8\">")))
    if len(data) > LARGE_PAGE_BYTES:
        findings.append(Finding(
            "check.large-page", "warning", rel,
            tr("页面过大：{m} MB，打开缓慢（手机上尤甚）", "the page is {m} MB: slow to open, on phones above all",
               m=round(len(data) / 1048576, 1)),
            suggestion=tr("拆分页面，或把内嵌的数据和图片改为单独的文件", "split the page, or move inline "
                          "data and images into separate files")))
    return HtmlDoc(root, None, text, rel=rel, utf8=utf8), findings


def _is_binary(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text is full of NUL bytes
    return head.startswith(_BINARY_MAGIC) or b"\x00" in head


def _guarded(name: str, page: str, call, *args) -> list[Finding]:
    """Run one check step; an exception becomes a ``check.internal-error`` finding on that page."""
    out: list[Finding] = []
    try:
        for finding in call(*args) or ():
            out.append(finding)
    except ConfigError:
        raise  # a setup problem (e.g. no Chromium for --browser) is the user's to fix: exit 2
    except Exception as exc:  # noqa: BLE001 - one broken page or check must not end the run
        detail = f"{type(exc).__name__}: {exc}"[:500]
        if page:
            message = tr("检查 {c} 处理此页面时出错，此页面未完整检查：{e}",
                         "check {c} failed on this page, which was not fully checked: {e}", c=name, e=detail)
        else:
            message = tr("检查 {c} 的全站规则出错，未完整检查：{e}",
                         "the site-wide rules of check {c} failed and were not fully checked: {e}",
                         c=name, e=detail)
        out.append(Finding("check.internal-error", "error", page, message,
                           suggestion=tr("请把页面和这条信息报告给 zhuanti 维护者",
                                         "report the page and this message to the zhuanti maintainers")))
    return out


def _home(pages: Iterable[str]) -> str | None:
    present = set(pages)
    return next((p for p in ("index.html", "index.htm") if p in present), "index.html")


def _note(check: Check) -> str:
    note = getattr(check, "note", None)
    return note() if callable(note) else ""
