"""The build to publish: ``public/`` and its manifest, the check gate, and the "older than the
sources" warning. Nothing here rebuilds or imports the build's internals."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from builder.checks import store
from builder.config import SiteConfig
from builder.errors import ConfigError, PublishError
from builder.i18n import tr
from builder.manifest import MANIFEST_REL, load_manifest
from builder.publish.release import FileEntry

SOURCE_FOLDERS = ("site_src", "topics", "themes")


@dataclass
class LocalBuild:
    public: Path
    manifest_sha: str
    built_at: str
    tool_version: str
    files: dict[str, FileEntry]

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files.values())


def load_build(cfg: SiteConfig) -> LocalBuild:
    """``public/`` as the manifest describes it; ConfigError when there is no build to publish."""
    public = cfg.output_dir
    manifest = load_manifest(public)
    if manifest is None:
        raise ConfigError(
            tr("没有可发布的构建结果：{p} 不存在或不是 zhuanti 构建的（缺少 {m}）",
               "nothing to publish: {p} does not exist or was not built by zhuanti (no {m})",
               p=public, m=MANIFEST_REL),
            hint=tr("请先运行 zhuanti build，再运行 zhuanti check，然后发布",
                    "run 'zhuanti build', then 'zhuanti check', then publish"))
    files: dict[str, FileEntry] = {}
    for row in manifest.get("files") or []:
        rel = str(row.get("path", ""))
        parts = rel.split("/")
        if not rel or rel.startswith("/") or ".." in parts or "" in parts or parts[0] == ".zhuanti":
            raise ConfigError(tr("构建清单中有不安全的路径 {r}", "the build manifest names an unsafe path {r}", r=rel),
                              public / MANIFEST_REL, hint=tr("请重新构建（zhuanti build --clean）",
                                                             "rebuild with 'zhuanti build --clean'"))
        files[rel] = FileEntry(rel, str(row["sha256"]), int(row["size"]))
    changed = []
    base = str(public) + "/"
    for f in files.values():
        try:
            if os.stat(base + f.path).st_size != f.size:
                changed.append(f.path)
        except OSError:
            changed.append(f.path)
    if changed:
        raise PublishError(
            tr("public/ 在构建之后被改动，与构建清单不符（{n} 个文件，如 {f}）",
               "public/ was changed after the build and no longer matches its manifest ({n} files, e.g. {f})",
               n=len(changed), f=changed[0]),
            public, hint=tr("请重新运行 zhuanti build 和 zhuanti check", "run 'zhuanti build' and 'zhuanti check' again"))
    return LocalBuild(public=public, manifest_sha=store.manifest_sha(public) or "",
                      built_at=str(manifest.get("built_at", "")), tool_version=str(manifest.get("version", "")),
                      files=files)


def check_gate(cfg: SiteConfig, build: LocalBuild, force: bool) -> str:
    """The verdict of the last ``zhuanti check`` of this exact build: "pass", "fail" or "unchecked".
    Anything but "pass" stops the publish unless ``force``."""
    verdict = store.last_verdict(cfg.cache_dir, build.manifest_sha) or "unchecked"
    if verdict == "pass" or force:
        return verdict
    if verdict == "fail":
        raise PublishError(tr("这次构建的最近一次检查发现了错误，拒绝发布",
                              "the last check of this build found errors: refusing to publish"),
                           hint=tr("请修正后重新运行 zhuanti build 和 zhuanti check；确需发布时加 --force（会记入发布记录）",
                                   "fix them, run 'zhuanti build' and 'zhuanti check' again; to publish anyway use "
                                   "--force (recorded in the release)"))
    raise PublishError(tr("这次构建还没有检查过，拒绝发布", "this build has not been checked: refusing to publish"),
                       hint=tr("请先运行 zhuanti check；确需发布时加 --force（会记入发布记录）",
                               "run 'zhuanti check' first; to publish anyway use --force (recorded in the release)"))


def newer_sources(cfg: SiteConfig, build: LocalBuild) -> list[Path]:
    """Source files modified after the build (a hint that public/ is stale, never a refusal).

    "After the build" is the manifest file's modification time: ``built_at`` can be older on
    purpose (SOURCE_DATE_EPOCH) or newer than the file (a pinned or skewed clock). A rebuild that
    finds nothing to change leaves the manifest as it was, so touched-but-unchanged sources are
    still named here."""
    built = (build.public / MANIFEST_REL).stat().st_mtime
    newer: list[Path] = []

    def walk(folder: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for e in entries:
            if e.name.startswith("."):
                continue
            if e.is_dir(follow_symlinks=False):
                walk(e.path)
            elif e.stat().st_mtime > built + 1:
                newer.append(Path(e.path))

    for folder in SOURCE_FOLDERS:
        walk(str(cfg.root / folder))
    return sorted(newer)
