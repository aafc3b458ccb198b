"""Upload progress: files done / total, bytes done / total and the transfer rate, on stderr.

Thread-safe (S3 uploads run in a pool). ``on_file`` lets callers (tests, the benchmark) watch each
finished file; it is what a test uses to kill a server in the middle of an upload."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from builder import ui


class Transfer:
    def __init__(self, description: str, files: int, total_bytes: int,
                 on_file: Callable[[str, int], None] | None = None) -> None:
        self.description = description
        self.files_total, self.bytes_total = files, total_bytes
        self.files_done = self.bytes_done = 0
        self.on_file = on_file
        self._lock = threading.Lock()
        self._bar: Progress | None = None

    def __enter__(self) -> Transfer:
        console = ui.err_console()
        if os.environ.get("ZHUANTI_QUIET") != "1" and console.is_terminal and self.files_total:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), TimeElapsedColumn(), console=console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self._label(), total=self.bytes_total or 1)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _label(self) -> str:
        return f"{self.description} {self.files_done}/{self.files_total}"

    def done(self, path: str, size: int) -> None:
        with self._lock:
            self.files_done += 1
            self.bytes_done += size
            if self._bar is not None:
                self._bar.update(self._task, advance=size, description=self._label())
        if self.on_file is not None:
            self.on_file(path, size)
