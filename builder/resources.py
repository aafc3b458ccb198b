"""Folders shipped inside the package: the default theme and the default word lists."""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def package_dir(package: str, *parts: str) -> Path:
    """A data package's folder on disk (zhuanti is installed unzipped, so this is a real path)."""
    return Path(str(importlib.resources.files(package))).joinpath(*parts)


def builtin_theme_dir(name: str = "default") -> Path:
    return package_dir("zhuanti_themes", name)


def default_words_dir() -> Path:
    return package_dir("zhuanti_words")
