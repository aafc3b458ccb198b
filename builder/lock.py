"""One build (or serve) per site at a time: ``.zhuanti-cache/lock``.

The lock is an ``flock`` on the file, so the kernel releases it when its holder dies however it
dies; the file also says who holds it (pid, command, since when) for the message a second build
prints. A lock file whose process is gone is stale and simply taken over.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
from pathlib import Path

from builder.errors import ZhuantiError
from builder.i18n import tr
from media_pipeline.cache import pid_alive  # one liveness test for every lock file

LOCK_NAME = "lock"


class SiteLocked(ZhuantiError):
    """Another zhuanti build or serve is working on this site (exit code 1: nothing was done)."""

    exit_code = 1


class SiteLock:
    def __init__(self, cache_dir: Path, command: str | None = None) -> None:
        self.path = cache_dir / LOCK_NAME
        self.command = command or " ".join(["zhuanti", *sys.argv[1:]])
        self.fd: int | None = None
        self.took_over: dict | None = None  # the stale holder's details, when there was one

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> SiteLock:
        if self.fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            info = self.holder()
            raise SiteLocked(
                tr("另一个 zhuanti 进程正在处理这个站点（进程 {pid}，命令 “{cmd}”，开始于 {since}）",
                   "another zhuanti process is working on this site (pid {pid}, command '{cmd}', since {since})",
                   pid=info.get("pid", "?"), cmd=info.get("command", "?"), since=info.get("since", "?")),
                self.path, hint=tr("请等它结束（或停止 zhuanti serve）后再试。",
                                   "wait for it to finish (or stop zhuanti serve) and try again.")) from None
        previous = self.holder()
        pid = previous.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and previous.get("host") == socket.gethostname() \
                and not pid_alive(pid):
            self.took_over = previous
        info = {"pid": os.getpid(), "command": self.command, "host": socket.gethostname(),
                "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info, ensure_ascii=False).encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> SiteLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
