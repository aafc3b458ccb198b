"""Terminal output: one rich console on stderr for progress and messages, stdout for reports."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@lru_cache(maxsize=1)
def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _quiet() -> bool:
    return os.environ.get("ZHUANTI_QUIET") == "1"


@contextmanager
def progress(description: str, total: int | None) -> Iterator:
    """A progress bar on stderr; ``advance(n=1)`` is yielded. Silent when stderr is not a terminal."""
    console = err_console()
    if _quiet() or not console.is_terminal:
        yield lambda n=1: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def say(message: str, style: str | None = None) -> None:
    err_console().print(message, style=style, markup=False)


def warn(message: str) -> None:
    say(message, style="yellow")


def error(message: str) -> None:
    say(message, style="bold red")


def summary(message: str, ok: bool = True) -> None:
    """The one-line summary every command ends with."""
    err_console().print(message, style="bold green" if ok else "bold red", markup=False)
    sys.stderr.flush()
