"""Release folders (``dir`` and ``ssh`` targets): ``releases/<id>/`` and a ``current`` symlink.

Layout under the target's ``path`` (the web server's root is ``<path>/current``)::

    current -> releases/<id>          switched by renaming a new symlink over it (atomic)
    releases/<id>/…                   one full tree per release; unchanged files hard-linked
    .zhuanti/target.json              marks the folder as zhuanti's (a folder without it is refused)
    .zhuanti/releases/<id>.json …     release records (see release.py)
    .zhuanti/lock                     the publish lock

A publish clones the live release into ``releases/.partial-<id>`` (hard links; where the file
system cannot link — some network shares, or a link-count limit — files are copied, the release
records it and a warning says so), removes deleted files, sends new and changed ones (written to
a temporary name and renamed, which breaks the link instead of writing through it into the older
release), checks every size, renames the folder to ``releases/<id>``, writes the record and only
then switches ``current``. Anything that fails before the switch leaves the live release as it was;
the partial folder is removed then, or by the next run.

``FolderOps`` is the small set of file operations this needs; ``LocalOps`` does them here, the SSH
target (ssh.py) on a server.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from builder import ui
from builder.errors import ConfigError, PublishError
from builder.i18n import tr
from builder.publish import lock as locks
from builder.publish.localbuild import LocalBuild
from builder.publish.plan import LiveState, Plan
from builder.publish.progress import Transfer
from builder.publish.release import FileEntry, Release, dump_files, files_name, load_files, summary_name
from builder.publish.verify import VerifyResult, compare

MARKER = ".zhuanti/target.json"
PARTIAL = ".partial-"


class FolderOps(ABC):
    """File operations relative to the target's root (POSIX paths)."""

    where: str  # the root as users name it, for messages

    @abstractmethod
    def entries(self, rel: str) -> list[str] | None:
        """Names in a folder; None when it does not exist."""

    @abstractmethod
    def read(self, rel: str) -> bytes | None: ...

    @abstractmethod
    def write(self, rel: str, data: bytes) -> None:
        """Write atomically (temporary name + rename)."""

    @abstractmethod
    def create_exclusive(self, rel: str, data: bytes) -> bool:
        """Create a file that must not exist yet; False when it exists."""

    @abstractmethod
    def remove(self, rel: str) -> None: ...

    @abstractmethod
    def makedirs(self, rel: str) -> None: ...

    @abstractmethod
    def readlink(self, rel: str) -> str | None: ...

    @abstractmethod
    def mtime(self, rel: str) -> float | None: ...

    @abstractmethod
    def list_files(self, rel: str) -> dict[str, tuple[int, float]]:
        """Every regular file under ``rel`` → (size, mtime), paths relative to ``rel``."""

    def sizes(self, base: str, paths: list[str]) -> dict[str, int]:
        """Sizes of these files under ``base`` (absent ones left out)."""
        return {p: st[0] for p, st in self.list_files(base).items()}

    @abstractmethod
    def clone_tree(self, src: str, dst: str) -> bool:
        """Copy folder ``src`` to a new ``dst`` with hard links; False when files had to be copied."""

    @abstractmethod
    def remove_files(self, base: str, paths: list[str]) -> None: ...

    @abstractmethod
    def upload(self, public: Path, base: str, files: list[FileEntry], transfer: Transfer) -> None:
        """Send ``files`` from ``public`` into folder ``base`` in the given order."""

    @abstractmethod
    def rename(self, src: str, dst: str) -> None: ...

    @abstractmethod
    def switch_link(self, link: str, target: str) -> None:
        """Point symlink ``link`` at ``target`` atomically (new link, renamed over the old)."""

    @abstractmethod
    def remove_tree(self, rel: str) -> None: ...

    @abstractmethod
    def hash_files(self, rel: str) -> dict[str, str]:
        """Every regular file under ``rel`` → sha256."""


class FolderBackend:
    """The release-folder algorithm over some FolderOps."""

    def __init__(self, ops: FolderOps, label: str) -> None:
        self.ops = ops
        self.label = label

    # -- ownership and lock ---------------------------------------------------------------------
    def adopt(self, claim: bool = True) -> None:
        """Make sure the folder is zhuanti's (or empty, then claim it unless ``claim`` is False, as in a
        dry run); refuse anything else."""
        names = self.ops.entries("")
        if names is not None and ".zhuanti" in names and self.ops.read(MARKER) is not None:
            return
        if names:
            shown = ", ".join(sorted(names)[:5]) + (" …" if len(names) > 5 else "")
            raise ConfigError(
                tr("发布目录 {w} 里有不是 zhuanti 放入的文件（{n}），拒绝改动它",
                   "the target folder {w} holds files zhuanti did not put there ({n}): refusing to touch it",
                   w=self.ops.where, n=shown),
                field=f"publish.{self.label}.path",
                hint=tr("请把 path 指向一个空目录或新目录，并把网站服务器的根目录设为 <path>/current",
                        "point path at an empty or new folder and the web server's root at <path>/current"))
        if not claim:
            return
        self.ops.makedirs("releases")
        self.ops.makedirs(".zhuanti/releases")
        self.ops.write(MARKER, json.dumps({"tool": "zhuanti", "layout": "releases", "schema": 1}).encode())

    def require_ours(self) -> None:
        if self.ops.read(MARKER) is None:
            raise ConfigError(tr("{w} 还没有 zhuanti 发布过的版本", "{w} holds no release published by zhuanti",
                                 w=self.ops.where), field=f"publish.{self.label}.path",
                              hint=tr("先运行 zhuanti publish {t}", "run 'zhuanti publish {t}' first", t=self.label))

    @contextlib.contextmanager
    def lock(self, timeout: int) -> Iterator[None]:
        where = f"{self.ops.where}/{locks.LOCK_NAME}"
        content = locks.lock_content()
        if not self.ops.create_exclusive(locks.LOCK_NAME, content):
            old = self.ops.read(locks.LOCK_NAME) or b""
            reason = locks.stale_reason(old, timeout)
            if reason is None:
                raise locks.held_error(old, where)
            ui.warn(tr("发现过期的发布锁 {w}（{r}），已接管", "found a stale publish lock {w} ({r}); taking it over",
                       w=where, r=reason))
            self.ops.remove(locks.LOCK_NAME)
            if not self.ops.create_exclusive(locks.LOCK_NAME, content):
                raise locks.held_error(self.ops.read(locks.LOCK_NAME) or b"", where)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, PublishError):
                self.ops.remove(locks.LOCK_NAME)

    # -- records ----------------------------------------------------------------------------------
    def current_id(self) -> str | None:
        link = self.ops.readlink("current")
        if not link:
            return None
        return link.rstrip("/").rsplit("/", 1)[-1]

    def release(self, rid: str) -> Release | None:
        data = self.ops.read(summary_name(rid))
        return Release.from_json(data) if data else None

    def releases(self) -> list[Release]:
        names = self.ops.entries(".zhuanti/releases") or []
        out = []
        for name in names:
            if name.endswith(".json") and not name.endswith(".files.json"):
                rel = self.release(name[: -len(".json")])
                if rel is not None:
                    out.append(rel)
        return sorted(out, key=lambda r: r.order)

    def record_files(self, rid: str) -> dict[str, FileEntry]:
        data = self.ops.read(files_name(rid))
        if data is None:
            raise PublishError(tr("发布记录缺失：{w}/{f}", "release record missing: {w}/{f}",
                                  w=self.ops.where, f=files_name(rid)))
        return load_files(data)

    # -- publish ----------------------------------------------------------------------------------
    def live_state(self, rid: str, files: dict[str, FileEntry]) -> LiveState:
        """Recorded files missing, resized or modified after the release was written; foreign files."""
        present = self.ops.list_files(f"releases/{rid}")
        written = self.ops.mtime(summary_name(rid)) or float("inf")
        state = LiveState()
        for path, entry in files.items():
            got = present.get(path)
            if got is None or got[0] != entry.size or got[1] > written + 1:
                state.damaged.add(path)
        state.foreign = sorted(p for p in present if p not in files)
        return state

    def apply(self, build: LocalBuild, plan: Plan, release: Release, previous: str | None,
              transfer: Transfer) -> None:
        self.clean_partials()
        partial = f"releases/{PARTIAL}{release.id}"
        try:
            if previous:
                release.hard_links = self.ops.clone_tree(f"releases/{previous}", partial)
                if not release.hard_links:
                    ui.warn(tr("目标文件系统不支持硬链接：未变的文件被完整复制（占用更多空间）",
                               "the target's file system cannot hard-link: unchanged files were copied "
                               "(more disk space used)"))
                self.ops.remove_files(partial, plan.removals)
            else:
                self.ops.makedirs(partial)
            self.ops.upload(build.public, partial, plan.uploads, transfer)
            self._check_sizes(partial, plan)
            self.ops.rename(partial, f"releases/{release.id}")
        except BaseException:
            with contextlib.suppress(Exception):
                self.ops.remove_tree(partial)
            raise
        self.write_record(release, plan.files)
        self.ops.switch_link("current", f"releases/{release.id}")

    def write_record(self, release: Release, files: list[FileEntry]) -> None:
        self.ops.write(files_name(release.id), dump_files(files))
        self.ops.write(summary_name(release.id), release.summary_json())

    def _check_sizes(self, partial: str, plan: Plan) -> None:
        # The clone is all-or-error and its files were checked against the record before; the
        # files sent are the ones to check.
        uploads = plan.uploads
        present = self.ops.sizes(partial, [f.path for f in uploads])
        bad = [f.path for f in uploads if present.get(f.path, -1) != f.size]
        if bad:
            raise PublishError(tr("上传后核对失败：{n} 个文件大小不符或缺失（如 {f}），未切换版本",
                                  "after the upload {n} files are missing or have the wrong size (e.g. {f}); "
                                  "the live release was not switched", n=len(bad), f=bad[0]),
                               hint=tr("请重新运行发布", "run the publish again"))

    def clean_partials(self) -> None:
        for name in self.ops.entries("releases") or []:
            if name.startswith(PARTIAL):
                self.ops.remove_tree(f"releases/{name}")

    # -- rollback, retention, verify --------------------------------------------------------------
    def activate(self, release: Release, files: dict[str, FileEntry], live: dict[str, FileEntry]) -> None:
        if self.ops.entries(f"releases/{release.id}") is None:
            raise PublishError(tr("版本 {r} 的文件夹已不在目标上", "the folder of release {r} is gone from the target",
                                  r=release.id))
        self.ops.switch_link("current", f"releases/{release.id}")

    def remove_release(self, rid: str) -> None:
        self.ops.remove_tree(f"releases/{rid}")
        for name in (files_name(rid), summary_name(rid)):
            self.ops.remove(name)

    def collect_garbage(self) -> int:
        """Nothing to collect: a release folder goes with its files (shared inodes stay while linked)."""
        return 0

    def verify(self, rid: str, files: dict[str, FileEntry]) -> VerifyResult:
        return compare(rid, self.label, files, self.ops.hash_files(f"releases/{rid}"))


class LocalOps(FolderOps):
    """A local or mounted folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = str(root)

    def _p(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def entries(self, rel: str) -> list[str] | None:
        try:
            return os.listdir(self._p(rel))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read(self, rel: str) -> bytes | None:
        try:
            return self._p(rel).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def write(self, rel: str, data: bytes) -> None:
        path = self._p(rel)
        tmp = path.with_name(path.name + ".tmp-zhuanti")
        with _disk_errors(self.where):
            tmp.write_bytes(data)
            os.replace(tmp, path)

    def create_exclusive(self, rel: str, data: bytes) -> bool:
        try:
            fd = os.open(self._p(rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return True

    def remove(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._p(rel).unlink()

    def makedirs(self, rel: str) -> None:
        with _disk_errors(self.where):
            self._p(rel).mkdir(parents=True, exist_ok=True)

    def readlink(self, rel: str) -> str | None:
        try:
            return os.readlink(self._p(rel))
        except (FileNotFoundError, OSError):
            return None

    def mtime(self, rel: str) -> float | None:
        try:
            return self._p(rel).stat().st_mtime
        except OSError:
            return None

    def list_files(self, rel: str) -> dict[str, tuple[int, float]]:
        out: dict[str, tuple[int, float]] = {}

        def walk(folder: str, prefix: str) -> None:
            with os.scandir(folder) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        walk(e.path, prefix + e.name + "/")
                    elif e.is_file(follow_symlinks=False):
                        st = e.stat(follow_symlinks=False)
                        out[prefix + e.name] = (st.st_size, st.st_mtime)

        if self._p(rel).is_dir():
            walk(str(self._p(rel)), "")
        return out

    def sizes(self, base: str, paths: list[str]) -> dict[str, int]:
        out = {}
        for rel in paths:
            with contextlib.suppress(OSError):
                out[rel] = os.stat(self._p(f"{base}/{rel}")).st_size
        return out

    def clone_tree(self, src: str, dst: str) -> bool:
        source, dest = self._p(src), self._p(dst)
        if shutil.which("cp") and subprocess.run(["cp", "-al", "--", str(source), str(dest)],
                                                 capture_output=True).returncode == 0:
            return True  # GNU cp: the tree of hard links in one process, ten times faster than a loop here
        shutil.rmtree(dest, ignore_errors=True)
        linked = True
        with _disk_errors(self.where):
            for dirpath, _dirs, names in os.walk(source):
                out = dest / os.path.relpath(dirpath, source)
                out.mkdir(parents=True, exist_ok=True)
                for name in names:
                    s, d = os.path.join(dirpath, name), out / name
                    if os.path.islink(s):
                        os.symlink(os.readlink(s), d)
                        continue
                    try:
                        os.link(s, d)
                    except OSError as exc:
                        if exc.errno not in (errno.EPERM, errno.EMLINK, errno.EXDEV, errno.ENOTSUP, errno.EACCES):
                            raise
                        linked = False
                        shutil.copy2(s, d)
        return linked

    def remove_files(self, base: str, paths: list[str]) -> None:
        for rel in paths:
            self.remove(f"{base}/{rel}")

    def upload(self, public: Path, base: str, files: list[FileEntry], transfer: Transfer) -> None:
        dest = self._p(base)
        with _disk_errors(self.where):
            for f in files:
                target = dest / f.path
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".tmp-zhuanti")
                shutil.copyfile(public / f.path, tmp)
                os.replace(tmp, target)
                transfer.done(f.path, f.size)

    def rename(self, src: str, dst: str) -> None:
        os.replace(self._p(src), self._p(dst))

    def switch_link(self, link: str, target: str) -> None:
        tmp = self._p(link + ".tmp-zhuanti")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(target, tmp)
        os.replace(tmp, self._p(link))

    def remove_tree(self, rel: str) -> None:
        shutil.rmtree(self._p(rel), ignore_errors=True)

    def hash_files(self, rel: str) -> dict[str, str]:
        out = {}
        for path in self.list_files(rel):
            h = hashlib.sha256()
            with open(self._p(f"{rel}/{path}"), "rb") as f:
                for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                    h.update(chunk)
            out[path] = h.hexdigest()
        return out


@contextlib.contextmanager
def _disk_errors(where: str) -> Iterator[None]:
    """Turn a full or read-only target into a message (the live release is untouched)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise PublishError(tr("目标磁盘已满：{w}（{e}）；当前版本未受影响",
                                  "the target's disk is full: {w} ({e}); the live release is unchanged",
                                  w=where, e=exc.strerror),
                               hint=tr("请清理空间或减少 keep/keep_days 后重新发布",
                                       "free some space (or lower keep/keep_days) and publish again")) from exc
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise PublishError(tr("无法写入目标 {w}：{e}", "cannot write to the target {w}: {e}", w=where, e=exc),
                               hint=tr("检查目录权限", "check the folder's permissions")) from exc
        raise
