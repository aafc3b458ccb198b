"""The preview between rebuilds: the engine, the outcome of the last rebuild (problems to show in the
browser, outputs it changed), and each page as served — findings marked, the reload client added,
and the error overlay while the last rebuild failed. Nothing here writes into the output folder."""

from __future__ import annotations

import ctypes
import ctypes.util
import html as htmllib
import json
import os
import re
import secrets
import threading
import time
import traceback
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from builder import ui
from builder.build import BuildOptions, BuildReport, Engine
from builder.checks.base import decode_html
from builder.checks.preview import FastChecks, mark_findings
from builder.checks.words import WordMatcher
from builder.config import SiteConfig, load_site_config
from builder.errors import BuildFailed, ZhuantiError
from builder.i18n import tr
from builder.lock import SiteLocked
from builder.manifest import MANIFEST_REL
from builder.search.index import FOLDER as INDEX_FOLDER

PREVIEW_DIR = "preview"  # under .zhuanti-cache/: never public/
CLIENT_PATH = "_zhuanti/"  # the reload channel and client script, under the served root
OVERLAY_ID = "zhuanti-overlay"
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
# Outputs that no open page shows (rewritten by most builds): a change there reloads nobody.
_BOOKKEEPING = ("sitemap.xml", ".zhuanti/", INDEX_FOLDER + "/")
MAX_LISTED = 500  # changed outputs named in a reload message; beyond this every page reloads


@dataclass
class Problem:
    """One thing the overlay shows: the file (relative to the site), line, message and what to do."""

    message: str
    file: str | None = None
    line: int | None = None
    where: str | None = None  # sheet / row / field of a data file
    hint: str | None = None
    level: str = "error"  # error: the rebuild failed; warning: it worked but something looks unfinished

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Outcome:
    """What one rebuild did, as the browser is told (``message()``)."""

    version: int
    ok: bool
    changed: list[str] = field(default_factory=list)  # outputs written or removed
    reload_all: bool = False
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    overlay: str = ""

    def message(self) -> dict:
        many = len(self.changed) > MAX_LISTED  # a site-wide change: every page reloads, no list needed
        return {"type": "reload" if self.ok else "error", "version": self.version,
                "changed": [] if many else self.changed, "all": self.reload_all or many, "overlay": self.overlay, "seconds": round(self.seconds, 4),
                "problems": [p.to_dict() for p in self.problems]}


class PreviewSession:
    """One site's preview. ``rebuild`` runs on the watcher thread (one at a time); ``page`` on the
    server's thread; they share only the ``outcome`` (replaced whole, never mutated)."""

    def __init__(self, root: Path, cfg: SiteConfig, *, now=None) -> None:
        self.root = root
        self.cfg = cfg
        self.output = cfg.cache_dir / PREVIEW_DIR
        self.engine = Engine(root, BuildOptions(output=self.output, preview=True, now=now))
        self.boot = secrets.token_hex(6)  # a restarted server has another: open pages reload
        self.reload_url: str | None = None  # where browsers reach the reload channel (None: beside the pages)
        self.rebuilds = 0  # builds after the first (tests and the terminal count them)
        self.last_changed: set[Path] = set()  # the source paths the last rebuild was given
        self.closing = False  # set when the server stops: a rebuild cut short by Ctrl-C is not a bug
        self.outcome = Outcome(0, ok=True)
        self._build_lock = threading.Lock()
        self._checks: tuple[tuple, FastChecks] | None = None  # server thread only
        self._findings: dict[str, list] = {}
        self._matcher: WordMatcher | None = None
        # What the output holds, kept up to date from each build's report (a scan of 10,000 pages
        # costs a second); replaced whole, so the server thread always sees a complete one.
        self._files: frozenset[str] = frozenset()
        self._sources: dict[str, str] = {}  # output page → its source file, from the manifest
        self._sources_read = 0  # bumped when _sources is replaced
        self._sources_stale = True  # the last rebuild may have changed which source makes which page

    # ---- rebuilding ------------------------------------------------------------------------
    def rebuild(self, changed: set[Path] | None = None) -> Outcome:
        """Bring the preview up to date after ``changed`` (None: the first build). A failure becomes
        the overlay and the last good pages stay served; only ``SiteLocked`` (another build or serve
        holds the site, which can happen on the first build only) is raised."""
        with self._build_lock:
            t0 = time.perf_counter()
            before = self.outcome
            problems: list[Problem] = []
            report: BuildReport | None = None
            try:
                report = self.engine.build(changed)
            except SiteLocked:
                raise  # another build or serve has the site: nothing to preview (only the first build)
            except ZhuantiError as exc:
                problems = [self.problem(e) for e in _flatten(exc)]
            except Exception as exc:  # noqa: BLE001 - a bug in a build must not end the preview
                if self.closing:  # Ctrl-C reached the build's worker processes too
                    return before
                ui.error(traceback.format_exc())
                problems = [Problem(tr("内部错误：{e}", "internal error: {e}", e=f"{type(exc).__name__}: {exc}"),
                                    hint=tr("这是 zhuanti 的缺陷，请把终端中的信息发给维护人员。",
                                            "this is a bug in zhuanti; send the terminal output to its maintainers."))]
            if changed is not None:
                self.rebuilds += 1
                self.last_changed = set(changed)
            version = before.version + 1
            if report is None:
                outcome = Outcome(version, ok=False, problems=problems, reload_all=False)
            else:
                if changed is not None and any(p.name == "site.toml" for p in changed):
                    self._reload_config()
                    self._matcher = None  # check.traditional_to_simplified may have changed
                if changed is not None and any("words" in p.parts for p in changed):
                    self._matcher = None
                self._track(report, first=changed is None or not self._files)
                # Only pages that were there before changed (none came, went or moved): the map of
                # sources is what it was, and reading the manifest again (10,000 pages) can wait.
                self._sources_stale = self._sources_stale or report.patched is None or bool(report.removed) or \
                    any(w.endswith(".html") and w not in self._sources for w in report.written)
                if changed is None:
                    self.read_sources()  # the first build: nobody is waiting yet
                warnings = self.warnings(report, changed or set())
                changed_out = sorted(set(report.written) | set(report.removed))
                shown = [c for c in changed_out if not c.startswith(_BOOKKEEPING)]
                assets = any(not c.endswith((".html", ".htm")) for c in shown)
                # After a failure every open page may be stale; a stylesheet or photo may show on any
                # page; a removed page breaks links elsewhere: all reload. Otherwise only changed pages.
                removed = any(not r.startswith(_BOOKKEEPING) for r in report.removed)
                outcome = Outcome(version, ok=True, changed=shown, problems=warnings,
                                  reload_all=not before.ok or assets or removed)
            outcome.seconds = time.perf_counter() - t0
            outcome.overlay = overlay_html(outcome.problems)
            self.outcome = outcome
            return outcome

    def problem(self, exc: ZhuantiError) -> Problem:
        return Problem(exc.message, self.shown(exc.path), exc.line, tr("，", ", ").join(exc.cell()) or None, exc.hint)

    def shown(self, path: str | None) -> str | None:
        """A path as staff see it: relative to the site folder."""
        if not path:
            return None
        p = Path(path)
        if not p.is_absolute():
            return path
        root = self.root.resolve()
        for candidate in (p, p.resolve()):  # a symbolic link named as itself (one to outside the site, refused)
            if candidate.is_relative_to(root):
                return candidate.relative_to(root).as_posix()
        return path

    def warnings(self, report: BuildReport, changed: set[Path]) -> list[Problem]:
        """What looks unfinished in the files just saved: an empty page, and the build's warnings about them."""
        out = []
        for path in sorted(changed):
            if path.suffix == ".md" and not _text(path).strip() and path.is_file():
                out.append(Problem(tr("文件是空的：页面没有标题和正文。如果还在保存，请稍候；否则请写入内容。",
                                      "the file is empty: the page has no title and no text. If it is still "
                                      "being saved, wait a moment; otherwise write its content."),
                                   self.shown(str(path)), level="warning"))
        names = {str(p) for p in changed} | {self.shown(str(p)) for p in changed}
        for w in report.warnings:
            head = w.split(":", 1)[0]
            if head in names:
                out.append(Problem(w.replace(str(self.root) + "/", ""), self.shown(head), level="warning"))
        return out

    def _track(self, report: BuildReport, first: bool) -> None:
        """Bring the list of output files up to date (scanned once, then from written/removed)."""
        if first:
            files = set()
            root = str(self.output)
            for folder, _dirs, names in os.walk(root):
                rel = os.path.relpath(folder, root).replace(os.sep, "/")
                prefix = "" if rel == "." else unicodedata.normalize("NFC", rel) + "/"
                files.update(prefix + unicodedata.normalize("NFC", n) for n in names)
        else:
            files = set(self._files)
            files.difference_update(unicodedata.normalize("NFC", r) for r in report.removed)
            files.update(unicodedata.normalize("NFC", w) for w in report.written)
        self._files = frozenset(files)

    def read_sources(self) -> None:
        """Re-read which source each output page comes from (the manifest) when the last rebuilds
        may have changed it; called after the browsers were told about a rebuild, so it never delays
        them. Until then the previous map is used."""
        if not self._sources_stale:
            return
        try:
            data = json.loads((self.output / MANIFEST_REL).read_text(encoding="utf-8"))
            pages = {p["path"]: p["source"] for p in data.get("pages", []) if isinstance(p, dict)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return
        self._sources = pages
        self._sources_stale = False
        self._sources_read += 1

    def _reload_config(self) -> None:
        try:
            self.cfg = load_site_config(self.root)
        except ZhuantiError:
            pass  # the build has said what is wrong with it; the checks keep the last good settings

    # ---- serving ---------------------------------------------------------------------------
    def page(self, rel: str, data: bytes) -> bytes:
        """A page of the output as the browser gets it: findings marked, the reload client and
        (while the last rebuild failed) the overlay added."""
        outcome = self.outcome
        html = decode_html(data)
        source = self._sources.get(rel)
        findings = self.findings(rel, html, outcome.version, source)
        source_text = None
        if source and not source.startswith(("#", "/")):
            try:
                source_text = (self.root / source.split("#", 1)[0]).read_text(encoding="utf-8", errors="replace")
            except OSError:
                source_text = None
        html = mark_findings(html, findings, source=source, source_text=source_text)
        return inject(html, rel, outcome, self.boot, self.reload_url).encode("utf-8")

    def findings(self, rel: str, html: str, version: int, source: str | None) -> list:
        """The page's findings, computed once per rebuild (one FastChecks per rebuild and word lists)."""
        words = self.matcher()
        key = (version, self._sources_read, id(words))
        if self._checks is None or self._checks[0] != key:
            self._findings.clear()
            self._checks = (key, FastChecks(self.output, site=self.cfg, matcher=words, files=self._files))
        found = self._findings.get(rel)
        if found is None:
            found = self._findings[rel] = self._checks[1].page(rel, html, source)
        return found

    def matcher(self) -> WordMatcher:
        if self._matcher is None:
            words = self.root / "site_src" / "words"
            self._matcher = WordMatcher.from_dir(words if words.is_dir() else None,
                                                 self.cfg.check.traditional_to_simplified)
        return self._matcher

    def close(self) -> None:
        self.engine.close()


def _libc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: its allocator is not the one that holds on
        return None


_malloc_trim = _libc_trim()


def release_memory() -> None:
    """Give the memory a rebuild freed back to the system. Python's objects of a rebuild are all
    freed (``tests/test_serve_memory.py``), but glibc keeps the freed pages of the watcher thread's
    arena: without this the preview grows by ~20 KB a save (75 → 92 MiB over 500 saves)."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def _text(path: Path) -> str:
    """A file's text, or "…" when it cannot be read (gone again, a folder): not an empty page."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "…"


def _flatten(exc: ZhuantiError) -> list[ZhuantiError]:
    if isinstance(exc, BuildFailed):
        return [e for inner in exc.errors for e in _flatten(inner)] or [exc]
    return [exc]


# ---- what is added to a served page -----------------------------------------------------------

def client_prefix(rel: str) -> str:
    """The relative way from a page back to the served root (pages work under any proxy prefix)."""
    return "../" * rel.count("/")


def inject(html: str, rel: str, outcome: Outcome, boot: str, reload_url: str | None = None,
           page: str | None = None) -> str:
    """``html`` (the output file ``rel``) with the reload client, and the overlay when there are
    problems, before ``</body>``. ``page`` is what the client compares with changed outputs
    (default ``rel``; "" for a page that does not exist yet: it reloads after every rebuild)."""
    prefix = client_prefix(rel)
    reload = reload_url or prefix + CLIENT_PATH
    script = (f'<script src="{_esc(prefix + CLIENT_PATH)}client.js" data-reload="{_esc(reload)}" '
              f'data-version="{outcome.version}" data-page="{_esc(rel if page is None else page)}" '
              f'data-boot="{_esc(boot)}"></script>')
    added = outcome.overlay + script
    ends = list(_BODY_END.finditer(html))
    at = ends[-1].start() if ends else len(html)
    return html[:at] + added + html[at:]


def _esc(text: object) -> str:
    return htmllib.escape("" if text is None else str(text), quote=True)


_OVERLAY_ERROR = ("position:fixed;inset:0;z-index:2147483646;background:rgba(30,0,0,.6);display:flex;"
                  "align-items:flex-start;justify-content:center;padding:6vh 12px;overflow:auto;"
                  "font:15px/1.6 system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;text-align:left")
_OVERLAY_WARNING = ("position:fixed;left:12px;bottom:12px;z-index:2147483646;max-width:min(560px,calc(100vw - 24px));"
                    "font:14px/1.6 system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;text-align:left")


def overlay_html(problems: list[Problem]) -> str:
    """The overlay for a failed rebuild (covers the page), or a small box for warnings ("" for none)."""
    if not problems:
        return ""
    failed = any(p.level == "error" for p in problems)
    items = []
    for p in problems:
        loc = ""
        if p.file:
            loc = p.file + (tr(" 第 {n} 行", ", line {n}", n=p.line) if p.line else "")
            if p.where:
                loc += tr("，", ", ") + p.where
        items.append(
            '<li style="margin:0 0 12px;padding:0;list-style:none">'
            + (f'<code style="display:block;font-weight:bold;color:#862e9c;word-break:break-all" '
               f'data-file="{_esc(p.file)}" data-line="{_esc(p.line or "")}">{_esc(loc)}</code>' if loc else "")
            + f'<div style="white-space:pre-wrap">{_esc(p.message)}</div>'
            + (f'<div style="color:#2b8a3e">{_esc(p.hint)}</div>' if p.hint else "")
            + "</li>")
    if failed:
        title = tr("构建失败：浏览器里仍是上次成功构建的页面", "build failed: the browser still shows the last good pages")
        foot = tr("改正后保存文件，本提示会自动消失。", "fix the file and save it: this message goes away by itself.")
        color, outer = "#e03131", _OVERLAY_ERROR
    else:
        title = tr("请检查刚保存的文件", "check the file you just saved")
        foot = tr("本提示在下次保存后更新。", "this note is updated when you save again.")
        color, outer = "#f08c00", _OVERLAY_WARNING
    return (f'<div id="{OVERLAY_ID}" data-level="{"error" if failed else "warning"}" '
            f'role="{"alertdialog" if failed else "status"}" aria-live="assertive" style="{outer}">'
            f'<div style="background:#fff;color:#212529;max-width:860px;width:100%;border-top:6px solid {color};'
            f'border-radius:6px;box-shadow:0 8px 30px rgba(0,0,0,.35);padding:16px 20px">'
            f'<h2 style="margin:0 0 12px;font-size:18px;color:{color}">{_esc(title)}</h2>'
            f'<ol style="margin:0;padding:0">{"".join(items)}</ol>'
            f'<p style="margin:8px 0 0;color:#666;font-size:13px">{_esc(foot)}</p></div></div>')
