"""``zhuanti publish | rollback | releases | verify TARGET``: one function per command."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

from builder import __version__, clock, ui
from builder.config import SiteConfig, load_site_config
from builder.errors import ConfigError, PublishError
from builder.i18n import tr
from builder.publish.localbuild import check_gate, load_build, newer_sources
from builder.publish.plan import human_bytes, make_plan
from builder.publish.progress import Transfer
from builder.publish.release import Release, expired, git_commit, new_release_id, who
from builder.publish.targets import DirTarget, S3Target, SshTarget, Target, load_target
from builder.publish.verify import verify_http


def site_now(cfg: SiteConfig) -> dt.datetime:
    """Now in the site's time zone (``ZHUANTI_NOW`` pins it in tests)."""
    return clock.now(cfg.timezone).replace(microsecond=0)


@contextlib.contextmanager
def open_backend(cfg: SiteConfig, target: Target) -> Iterator:
    """Connect to the target (host key, credentials checked here) and close it afterwards."""
    if isinstance(target, DirTarget):
        from builder.publish.folder import FolderBackend, LocalOps

        path = Path(target.path).expanduser()
        path = (path if path.is_absolute() else cfg.root / path).resolve()
        if path == cfg.output_dir or path.is_relative_to(cfg.output_dir) or cfg.output_dir.is_relative_to(path):
            raise ConfigError(tr("发布目录不能与构建输出目录 {o} 重叠", "the target folder must not overlap the build "
                                 "output {o}", o=cfg.output_dir), cfg.root / "site_src/site.toml",
                              field=f"publish.{target.name}.path")
        yield FolderBackend(LocalOps(path), target.name)
    elif isinstance(target, SshTarget):
        from builder.publish.ssh import ssh_backend

        with ssh_backend(target) as backend:
            yield backend
    else:
        assert isinstance(target, S3Target)
        from builder.publish.s3 import S3Backend

        with S3Backend.connect(target) as backend:
            yield backend


def publish_command(args, on_file=None) -> int:
    started = time.perf_counter()
    cfg = load_site_config(args.root)
    target = load_target(cfg, args.target)
    build = load_build(cfg)
    force = bool(getattr(args, "force", False))
    verdict = check_gate(cfg, build, force)
    if force and verdict != "pass":
        ui.error(tr("！！ --force：强制发布一个检查{v}的构建；这将记入发布记录 ！！",
                    "!! --force: publishing a build whose check {v}; this is recorded in the release !!",
                    v=tr("未通过", "failed") if verdict == "fail" else tr("未进行", "never ran")))
    newer = newer_sources(cfg, build)
    if newer:
        ui.warn(tr("注意：public/ 比源文件旧（{n} 个源文件在构建后被修改，如 {f}）；发布的是上次构建的结果",
                   "note: public/ is older than the sources ({n} source files changed after the build, e.g. {f}); "
                   "publishing the last build as it is", n=len(newer), f=newer[0].relative_to(cfg.root)))
    dry_run = bool(getattr(args, "dry_run", False))
    with open_backend(cfg, target) as backend:
        backend.adopt(claim=not dry_run)
        with (contextlib.nullcontext() if dry_run else backend.lock(target.lock_timeout)):
            current = backend.current_id()
            deployed = backend.record_files(current) if current else {}
            live = backend.live_state(current, deployed) if current else None
            plan = make_plan(build.files, deployed, live, bool(getattr(args, "prune_foreign", False)))
            if plan.repaired:
                ui.warn(tr("目标上有 {n} 个文件缺失或在发布后被改动（如 {f}），将重新发送；请用 zhuanti verify 检查是否被篡改",
                           "{n} files are missing on the target or were modified after they were published "
                           "(e.g. {f}); sending them again. Run 'zhuanti verify' to look for tampering",
                           n=len(plan.repaired), f=plan.repaired[0].path))
            if plan.kept_foreign:
                ui.warn(tr("目标上有 {n} 个不是 zhuanti 发布的文件（如 {f}），保留不动；加 --prune-foreign 可删除",
                           "{n} files on the target were not published by zhuanti (e.g. {f}); kept. "
                           "--prune-foreign removes them", n=len(plan.kept_foreign), f=plan.kept_foreign[0]))
            if dry_run:
                print(plan.describe())
                ui.summary(tr("演练：将发送 {n} 个文件（{b}），删除 {d} 个；没有发送任何内容",
                              "dry run: would send {n} files ({b}) and delete {d}; nothing was sent",
                              n=len(plan.uploads), b=human_bytes(plan.upload_bytes), d=len(plan.removals)))
                return 0
            plan.check_deletes(target.max_deletes, bool(getattr(args, "allow_deletes", False)))
            if plan.empty and current:
                ui.summary(tr("没有变化：版本 {r} 保持在线", "nothing changed: release {r} stays live", r=current))
                return 0
            now = site_now(cfg)
            existing = {r.id for r in backend.releases()}
            release = Release(
                id=new_release_id(now, existing), time=now.isoformat(), files=len(plan.files),
                bytes=sum(f.size for f in plan.files), git_commit=git_commit(cfg.root), who=who(), check=verdict,
                forced=force, build_manifest_sha=build.manifest_sha, built_at=build.built_at,
                tool_version=__version__, previous=current or "", foreign=plan.kept_foreign)
            with Transfer(tr("上传", "uploading"), len(plan.uploads), plan.upload_bytes, on_file) as transfer:
                backend.apply(build, plan, release, current, transfer)
            removed = _retention(backend, target, release.id, now)
    seconds = time.perf_counter() - started
    ui.summary(tr("已发布 {r} 到 {t}：发送 {n} 个文件（{b}），删除 {d} 个，未变 {u} 个；清理旧版本 {x} 个；用时 {s} 秒",
                  "published {r} to {t}: sent {n} files ({b}), deleted {d}, unchanged {u}; {x} old releases "
                  "removed; {s} s", r=release.id, t=target.name, n=len(plan.uploads), b=human_bytes(plan.upload_bytes),
                  d=len(plan.removals), u=plan.unchanged, x=len(removed), s=round(seconds, 2)))
    return 0


def _retention(backend, target: Target, live: str, now) -> list[Release]:
    removed = expired(backend.releases(), live, target.keep, target.keep_days, now)
    for rel in removed:
        backend.remove_release(rel.id)
    if removed:
        backend.collect_garbage()
    return removed


def rollback_command(args) -> int:
    cfg = load_site_config(args.root)
    target = load_target(cfg, args.target)
    with open_backend(cfg, target) as backend:
        backend.require_ours()
        with backend.lock(target.lock_timeout):
            current = backend.current_id()
            releases = backend.releases()
            wanted = getattr(args, "to", None)
            if wanted:
                chosen = next((r for r in releases if r.id == wanted), None)
                if chosen is None:
                    raise ConfigError(tr("目标 {t} 上没有版本 {r}", "target {t} has no release {r}", t=target.name,
                                         r=wanted), field="--to",
                                      hint=tr("可用的版本：{l}（zhuanti releases {t}）", "releases there: {l} "
                                              "(zhuanti releases {t})", l=", ".join(r.id for r in releases[-10:]),
                                              t=target.name))
            else:
                cur = next((r for r in releases if r.id == current), None)
                older = [r for r in releases if cur is None or r.order < cur.order]
                if not older:
                    raise PublishError(tr("目标 {t} 上没有比当前版本 {r} 更早的版本，无法回滚",
                                          "target {t} has no release older than the live one ({r}) to go back to",
                                          t=target.name, r=current))
                chosen = older[-1]
            if chosen.id == current:
                ui.summary(tr("版本 {r} 已经在线", "release {r} is already live", r=current))
                return 0
            files = backend.record_files(chosen.id)
            backend.activate(chosen, files, backend.record_files(current) if current else {})
            result = backend.verify(chosen.id, files)
    if not result.ok:
        print(result.to_text())
        ui.summary(tr("已回滚到 {r}，但它与发布记录不符：{c} 个被改动，{m} 个缺失，{u} 个多出",
                      "rolled back to {r}, but it differs from its record: {c} changed, {m} missing, {u} unexpected",
                      r=chosen.id, c=len(result.changed), m=len(result.missing), u=len(result.unexpected)), ok=False)
        return 1
    ui.summary(tr("已回滚 {t}：{o} → {r}（{n} 个文件，与发布记录逐字节一致）",
                  "rolled back {t}: {o} → {r} ({n} files, byte for byte as recorded)",
                  t=target.name, o=current or "-", r=chosen.id, n=len(files)))
    return 0


def releases_command(args) -> int:
    cfg = load_site_config(args.root)
    target = load_target(cfg, args.target)
    with open_backend(cfg, target) as backend:
        backend.require_ours()
        current = backend.current_id()
        releases = backend.releases()
    rows = [(("* " if r.id == current else "  ") + r.id, r.time, str(r.files), human_bytes(r.bytes),
             (r.git_commit[:12] + ("-dirty" if r.git_commit.endswith("-dirty") else "")) or "-", r.who or "-",
             ("--force" if r.forced else "") + ("" if r.hard_links else " copied")) for r in reversed(releases)]
    head = (tr("  版本", "  id"), tr("时间", "time"), tr("文件数", "files"), tr("大小", "bytes"),
            tr("git 提交", "git commit"), tr("发布人", "who"), "")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    ui.summary(tr("{t}：{n} 个版本，在线版本 {c}（* 标记）", "{t}: {n} releases, live: {c} (marked *)",
                  t=target.name, n=len(releases), c=current or "-"))
    return 0


def verify_command(args) -> int:
    cfg = load_site_config(args.root)
    target = load_target(cfg, args.target)
    url = getattr(args, "url", None)
    with open_backend(cfg, target) as backend:
        backend.require_ours()
        current = backend.current_id()
        if not current:
            raise PublishError(tr("目标 {t} 上没有在线版本", "target {t} has no live release", t=target.name))
        files = backend.record_files(current)
        result = verify_http(current, target.name, url, files) if url else backend.verify(current, files)
    if getattr(args, "format", "text") == "json":
        print(result.to_json(site_now(cfg).isoformat()), end="")
    elif not result.ok:
        print(result.to_text())
    ui.summary(tr("校验 {t} 的在线版本 {r}：{n} 个文件，{c} 个被改动，{m} 个缺失，{u} 个多出{e}",
                  "verified release {r} on {t}: {n} files, {c} changed, {m} missing, {u} unexpected{e}",
                  t=target.name, r=current, n=result.checked, c=len(result.changed), m=len(result.missing),
                  u=len(result.unexpected),
                  e=tr("，{x} 个无法获取", ", {x} could not be fetched", x=len(result.errors)) if result.errors else ""),
               ok=result.ok)
    return 0 if result.ok else 1
