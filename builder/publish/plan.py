"""The publish plan: build manifest vs the deployed release's record (by sha256), corrected by what
is really on the target (missing or modified files are sent again; foreign files are kept or pruned).

Order (Hugo deploy's): assets before the HTML that needs them, deletions last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from builder.errors import PublishError
from builder.i18n import tr
from builder.publish.release import FileEntry


@dataclass
class LiveState:
    """What the target really holds for its current release (beyond what the record says)."""

    damaged: set[str] = field(default_factory=set)    # recorded files missing or modified on the target
    foreign: list[str] = field(default_factory=list)  # files on the target that no release put there


@dataclass
class Plan:
    added: list[FileEntry] = field(default_factory=list)
    changed: list[FileEntry] = field(default_factory=list)
    repaired: list[FileEntry] = field(default_factory=list)  # same in the build, damaged on the target
    deleted: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)          # foreign files removed (--prune-foreign)
    kept_foreign: list[str] = field(default_factory=list)
    unchanged: int = 0
    files: list[FileEntry] = field(default_factory=list)     # the whole new release

    @property
    def uploads(self) -> list[FileEntry]:
        """Files to send, assets first, then HTML (a page never points at a file not yet there)."""
        todo = self.added + self.changed + self.repaired
        return sorted(todo, key=lambda f: (f.is_html, f.path))

    @property
    def upload_bytes(self) -> int:
        return sum(f.size for f in self.uploads)

    @property
    def removals(self) -> list[str]:
        return self.deleted + self.pruned

    @property
    def empty(self) -> bool:
        return not (self.uploads or self.removals)

    def check_deletes(self, max_deletes: int, allow: bool) -> None:
        n = len(self.removals)
        if n > max_deletes and not allow:
            raise PublishError(
                tr("本次发布要删除 {n} 个文件，超过上限 max_deletes = {m}，已停止（什么都没有发送）",
                   "this publish would delete {n} files, more than max_deletes = {m}: stopped (nothing was sent)",
                   n=n, m=max_deletes),
                hint=tr("先用 --dry-run 查看要删除的文件；确认无误后加 --allow-deletes 重新运行",
                        "look at the list with --dry-run; when it is right, run again with --allow-deletes"))

    def describe(self, limit: int = 20) -> str:
        lines = [tr("新增 {a}，修改 {c}，修复 {r}，删除 {d}，清除外来文件 {p}，未变 {u}；发送 {b}",
                    "added {a}, changed {c}, repaired {r}, deleted {d}, foreign pruned {p}, unchanged {u}; "
                    "sending {b}", a=len(self.added), c=len(self.changed), r=len(self.repaired),
                    d=len(self.deleted), p=len(self.pruned), u=self.unchanged, b=human_bytes(self.upload_bytes))]
        for label, items in ((tr("新增", "added"), [f.path for f in self.added]),
                             (tr("修改", "changed"), [f.path for f in self.changed]),
                             (tr("修复", "repaired"), [f.path for f in self.repaired]),
                             (tr("删除", "deleted"), self.deleted),
                             (tr("清除外来文件", "foreign, pruned"), self.pruned),
                             (tr("外来文件（保留）", "foreign, kept"), self.kept_foreign)):
            for path in items[:limit]:
                lines.append(f"  {label}: {path}")
            if len(items) > limit:
                lines.append("  " + tr("{l}：另有 {n} 个", "{l}: {n} more", l=label, n=len(items) - limit))
        return "\n".join(lines)


def make_plan(build: dict[str, FileEntry], deployed: dict[str, FileEntry] | None, live: LiveState | None,
              prune_foreign: bool) -> Plan:
    deployed = deployed or {}
    live = live or LiveState()
    plan = Plan(files=sorted(build.values(), key=lambda f: f.path))
    for path, entry in build.items():
        old = deployed.get(path)
        if old is None:
            plan.added.append(entry)
        elif old.sha256 != entry.sha256:
            plan.changed.append(entry)
        elif path in live.damaged:
            plan.repaired.append(entry)
        else:
            plan.unchanged += 1
    plan.deleted = sorted(p for p in deployed if p not in build)
    foreign = sorted(p for p in live.foreign if p not in build)
    if prune_foreign:
        plan.pruned = foreign
    else:
        plan.kept_foreign = foreign
    for bucket in (plan.added, plan.changed, plan.repaired):
        bucket.sort(key=lambda f: f.path)
    return plan


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
