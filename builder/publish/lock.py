"""One publish per target at a time: a lock file on the target saying who holds it since when.

A lock is stale when its process is gone (same machine) or when it is older than the target's
``lock_timeout`` (another machine: a CI runner killed mid-publish never comes back to remove it)."""

from __future__ import annotations

import json
import os
import socket
import time

from builder.errors import PublishError
from builder.i18n import tr
from builder.lock import pid_alive  # the build lock's liveness test, shared
from builder.publish.release import who

LOCK_NAME = ".zhuanti/lock"


def lock_content() -> bytes:
    return json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "who": who(),
                       "since": time.time()}).encode()


def stale_reason(content: bytes, timeout: int, now: float | None = None) -> str | None:
    """Why the lock with this content is stale, or None while its holder may still be working."""
    now = time.time() if now is None else now
    try:
        info = json.loads(content)
        host, pid, since = str(info["host"]), int(info["pid"]), float(info["since"])
    except (ValueError, KeyError, TypeError):
        return tr("锁文件内容无法识别", "the lock file is unreadable")
    if host == socket.gethostname() and pid == os.getpid():
        # This very process: an earlier attempt failed and could not remove it (connection lost).
        return tr("本进程上次失败的发布留下的锁", "left by an earlier failed attempt of this process")
    if host == socket.gethostname() and not pid_alive(pid):
        return tr("持有锁的进程 {p} 已不存在", "the process {p} that held it is gone", p=pid)
    if now - since > timeout:
        return tr("锁已持有 {s} 秒，超过 lock_timeout = {t}", "it is {s} s old, more than lock_timeout = {t}",
                  s=int(now - since), t=timeout)
    return None


def held_error(content: bytes, where: str) -> PublishError:
    try:
        info = json.loads(content)
        holder = f"{info.get('who')} (pid {info.get('pid')}, " + time.strftime(
            "%Y-%m-%d %H:%M:%S", time.localtime(float(info.get("since", 0)))) + ")"
    except (ValueError, TypeError):
        holder = "?"
    return PublishError(tr("另一个发布正在进行：{h} 持有锁 {w}", "another publish is running: {h} holds the lock {w}",
                           h=holder, w=where),
                        hint=tr("等它结束后再运行；若确定它已中断，删除该锁文件即可",
                                "wait for it to finish; if you are sure it died, delete that lock file"))
