"""What the preview watches: the site's sources (topics/, site_src/, the theme), never editors'
scratch files or zhuanti's own output and cache; bursts of changes arrive as one batch."""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from builder import ui
from builder.i18n import tr

WATCHED = ("topics", "site_src", "themes")
# Editors' scratch files: vim swap (.swp/.swo …) and its write test "4913", backups "x~", Emacs locks
# ".#x" and autosaves "#x#", LibreOffice/Office locks, gedit/Kate temporaries, partial downloads.
_SCRATCH = re.compile(
    r"""(\.sw[a-px]$|\.swpx$|~$|^\.\#|^\#.*\#$|^4913$|^\.~lock\..*\#$|^~\$|^\.goutputstream-|\.kate-swp$|\.tmp$|\.temp$|"""
    r"""\.part$|\.crdownload$|^\.DS_Store$|^Thumbs\.db$|^desktop\.ini$|\.py[cod]$)""",
    re.IGNORECASE)
_IGNORED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".idea", ".vscode"})
STEP_MS = 50  # a change is reported once no further change arrived for this long (a burst is one batch)
MAX_WAIT_MS = 1600  # … but never later than this after the first change of a burst


def is_scratch(name: str) -> bool:
    """An editor's temporary, swap, lock or backup file (never content)."""
    return bool(_SCRATCH.search(name))


class SourceFilter:
    """watchfiles filter: content under the watched folders, minus scratch files and our own folders."""

    def __init__(self, root: Path, ignored: Iterable[Path] = ()) -> None:
        self.root = root.resolve()
        self.ignored = [p.resolve() for p in ignored]

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        return self.wanted(Path(path))

    def wanted(self, path: Path) -> bool:
        if is_scratch(path.name):
            return False
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            rel = None  # a theme folder outside the site
        parts = rel.parts if rel is not None else path.parts
        if any(p in _IGNORED_DIRS or p.startswith(".zhuanti") for p in parts):
            return False
        return not any(path == d or path.is_relative_to(d) for d in self.ignored)


def watched_folders(root: Path, extra: Iterable[Path] = ()) -> list[Path]:
    """The folders to watch that exist (a theme folder outside the site is watched too)."""
    folders = [root / name for name in WATCHED]
    for p in extra:
        if not any(p == f or p.is_relative_to(f) for f in folders):
            folders.append(p)
    return [f for f in folders if f.is_dir()]


class Watcher(threading.Thread):
    """Calls ``on_change(paths)`` with each batch of changed source files, one batch at a time:
    changes made while ``on_change`` runs (a rebuild) arrive together as the next batch."""

    def __init__(self, folders: list[Path], watch_filter: SourceFilter,
                 on_change: Callable[[set[Path]], None], *, step_ms: int = STEP_MS) -> None:
        super().__init__(name="zhuanti-watch", daemon=True)
        self.folders = folders
        self.filter = watch_filter
        self.on_change = on_change
        self.step_ms = step_ms
        self.stop_event = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        if not self.folders:
            self.ready.set()
            return
        try:
            changes = watchfiles.watch(*self.folders, watch_filter=self.filter, step=self.step_ms,
                                       debounce=max(MAX_WAIT_MS, self.step_ms * 4), stop_event=self.stop_event,
                                       raise_interrupt=False, rust_timeout=500, yield_on_timeout=True)
            for batch in changes:
                self.ready.set()  # the first (timeout) round trip: the watches are in place
                if self.stop_event.is_set():
                    break
                if batch:
                    try:
                        self.on_change({Path(p) for _change, p in batch})
                    except Exception:  # noqa: BLE001 - one bad batch must not stop the watching
                        ui.error(traceback.format_exc())
        except Exception as exc:  # noqa: BLE001 - the preview keeps serving; say why it stopped watching
            ui.error(tr("无法继续监视文件变化：{e}。请重新启动 zhuanti serve。",
                        "cannot watch for changes any more: {e}. Restart zhuanti serve.", e=exc))
        finally:
            self.ready.set()

    def stop(self) -> None:
        self.stop_event.set()
