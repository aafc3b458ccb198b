"""User-facing language: Simplified Chinese by default, English with --lang en or ZHUANTI_LANG=en.

The choice lives in the environment (the CLI sets ZHUANTI_LANG from --lang) so that worker
processes inherit it. LANG is deliberately not consulted: servers often run an English locale.
"""

import os

SUPPORTED = ("zh", "en")


def current_language() -> str:
    lang = os.environ.get("ZHUANTI_LANG", "zh").strip().lower()
    return "en" if lang.startswith("en") else "zh"


def set_language(lang: str | None) -> None:
    if lang:
        os.environ["ZHUANTI_LANG"] = "en" if lang.lower().startswith("en") else "zh"


def tr(zh: str, en: str, /, **values: object) -> str:
    """Pick the message for the current language and fill in ``{name}`` placeholders."""
    text = en if current_language() == "en" else zh
    return text.format(**values) if values else text
