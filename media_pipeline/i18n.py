"""The pipeline's user-facing language, read from the same ZHUANTI_LANG the CLI sets (worker
processes inherit it). Kept here so that media_pipeline depends on nothing of ``builder``."""

from __future__ import annotations

import os


def tr(zh: str, en: str, /, **values: object) -> str:
    """Chinese by default, English when ZHUANTI_LANG starts with "en"; ``{name}`` filled in."""
    text = en if os.environ.get("ZHUANTI_LANG", "zh").strip().lower().startswith("en") else zh
    return text.format(**values) if values else text
