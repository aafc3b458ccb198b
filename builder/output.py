"""The output folder: written through a staging folder next to it, committed with a journal.

A failed build removes its staging folder and leaves the previous public/ as it was; a killed
build is finished (or its staging folder removed) by the next run, see ``Sink`` and ``recover``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
from pathlib import Path

from builder.errors import ConfigError
from builder.i18n import tr
from builder.manifest import MANIFEST_REL

RENAME_EXCHANGE = 2
AT_FDCWD = -100


def check_output_folder(root: Path, public: Path) -> None:
    """Refuse an output folder that would overwrite sources or a folder zhuanti did not make."""
    config = root / "site_src" / "site.toml"
    protected = [root, root / "site_src", root / "topics", root / "themes"]
    if any(public == p or p.is_relative_to(public) or public.is_relative_to(p) for p in protected[1:]) or public == root:
        raise ConfigError(tr("输出目录 {p} 会覆盖源文件", "output folder {p} would overwrite sources", p=public), config,
                          field="output", hint=tr("请使用单独的目录，如 output = \"public\"。",
                                                  "use a folder of its own, e.g. output = \"public\"."))
    if public.exists() and not public.is_dir():
        raise ConfigError(tr("输出路径 {p} 不是目录", "output path {p} is not a folder", p=public), config, field="output")
    if public.is_dir() and any(public.iterdir()) and not (public / MANIFEST_REL).is_file():
        raise ConfigError(
            tr("输出目录 {p} 里已有不是 zhuanti 生成的文件，为免丢失未覆盖它",
               "output folder {p} holds files zhuanti did not make; not overwriting them", p=public), config,
            field="output", hint=tr("请移走这些文件，或在 site.toml 中换一个 output 目录。",
                                    "move those files away, or set another output folder in site.toml."))


class Sink:
    """Where a build writes. Everything is first written into a staging folder next to the output
    (same file system); ``commit`` then moves it into place. Before ``commit`` the output folder is
    untouched, so a failed build leaves it as it was.

    ``journal=True`` (``zhuanti build``): before the first file moves, the list of moves and removals
    is written into the staging folder; a build killed while moving is finished by the next run
    (``recover``), so public/ never stays a mix of two builds. When every output was written again
    (a first or clean build) the folders are swapped atomically instead.
    ``journal=False`` (the preview of ``zhuanti serve``): files are replaced one by one in place.
    """

    def __init__(self, public: Path, journal: bool = True) -> None:
        self.public = public
        self.journal = journal
        self.staging = public.parent / f".{public.name}.staging-{os.getpid()}"
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir(parents=True)
        self.written: list[str] = []

    def path(self, rel: str) -> Path:
        target = self.staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, rel: str, data: bytes) -> os.stat_result:
        target = self.path(rel)
        target.write_bytes(data)
        self.written.append(rel)
        return target.stat()

    def place(self, rel: str, source: Path, link: bool) -> Path:
        """Copy (or hard-link, for media renditions from the cache) a file into the output."""
        target = self.path(rel)
        if link:
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
        else:
            shutil.copyfile(source, target)
        self.written.append(rel)
        return target

    def commit(self, removed: list[str], complete: bool) -> None:
        """Make the staged files the output. ``complete``: the staging folder holds every output."""
        if not self.public.exists():
            os.rename(self.staging, self.public)
            return
        if complete and self.journal:
            swap_in(self.staging, self.public)
            return
        moves = sorted(self.written, key=lambda r: r == MANIFEST_REL)  # the manifest goes in last
        if self.journal:
            tmp = self.staging / (JOURNAL + ".tmp")
            tmp.write_text(json.dumps({"moves": moves, "removed": removed}, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.staging / JOURNAL)  # from here on the build is committed
        apply(self.staging, self.public, moves, removed)
        shutil.rmtree(self.staging, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


JOURNAL = ".zhuanti-journal.json"


def apply(staging: Path, public: Path, moves: list[str], removed: list[str]) -> None:
    """Move staged files into place and delete removed outputs; safe to repeat after a kill."""
    made: set[Path] = set()
    for rel in moves:
        src = staging / rel
        if not src.exists():
            continue  # moved before the previous run was killed
        target = public / rel
        if target.parent not in made:
            if target.parent.is_file() or target.parent.is_symlink():
                target.parent.unlink()
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(src, target)
    folders = set()
    for rel in removed:
        target = public / rel
        try:
            target.unlink()
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            shutil.rmtree(target, ignore_errors=True)
        folders.update(target.parents)
    for folder in sorted((f for f in folders if f.is_relative_to(public) and f != public),
                         key=lambda f: len(f.parts), reverse=True):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass


def recover(public: Path) -> list[str]:
    """Finish or undo what killed builds left next to ``public`` (call with the site lock held).
    Returns a note per folder dealt with."""
    notes = []
    parent = public.parent
    if not parent.is_dir():
        return notes
    for leftover in sorted(parent.glob(f".{public.name}.staging-*")):
        journal = leftover / JOURNAL
        if journal.is_file() and public.is_dir():
            try:
                data = json.loads(journal.read_text(encoding="utf-8"))
                apply(leftover, public, list(data["moves"]), list(data["removed"]))
                notes.append(tr("已完成上次被中断的构建（{p}）", "finished a build that was interrupted ({p})", p=leftover.name))
            except (OSError, ValueError, KeyError, TypeError):
                notes.append(tr("无法完成 {p} 中被中断的构建，将完整重建", "could not finish the interrupted build in {p};"
                                " rebuilding", p=leftover.name))
                (public / MANIFEST_REL).unlink(missing_ok=True)
        else:
            notes.append(tr("已清理被中断构建的临时目录 {p}", "removed the staging folder of an interrupted build ({p})",
                            p=leftover.name))
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in sorted(parent.glob(f".{public.name}.old-*")):
        shutil.rmtree(leftover, ignore_errors=True)
        notes.append(tr("已清理旧输出目录 {p}", "removed the old output folder {p}", p=leftover.name))
    return notes


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False when the system cannot."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0


def swap_in(staging: Path, public: Path) -> None:
    """Make ``staging`` the new ``public`` with no moment where public/ is half-written."""
    if not public.exists():
        os.rename(staging, public)
        return
    if _exchange(staging, public):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous build
        return
    old = public.parent / f".{public.name}.old-{os.getpid()}"
    os.rename(public, old)
    os.rename(staging, public)
    shutil.rmtree(old, ignore_errors=True)
