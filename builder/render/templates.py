"""Jinja2 environments: template lookup topic override → themes/<theme>/ → built-in default.

Autoescape is always on. A template's digest covers every template it extends or includes, so the
build state knows exactly which pages a template edit touches.
"""

from __future__ import annotations

import hashlib
import sys
import traceback
from pathlib import Path

import jinja2
import jinja2.meta

from builder.content.loader import theme_dir
from builder.errors import TemplateError
from builder.i18n import tr
from builder.render.theme import THEME_FILTERS
from builder.resources import builtin_theme_dir


class Templates:
    """One Jinja2 environment per lookup chain (the site's, and each topic with overrides)."""

    def __init__(self, site_cfg, globals_: dict | None = None, filters: dict | None = None) -> None:
        self.cfg = site_cfg
        self.theme = theme_dir(site_cfg) / "templates"
        self.builtin = builtin_theme_dir("default") / "templates"
        self.globals = globals_ or {}
        self.filters = filters or {}
        self._envs: dict[str, jinja2.Environment] = {}
        self._digests: dict[tuple[str, str], str] = {}

    def search_path(self, topic_dir: Path | None) -> list[str]:
        paths = []
        if topic_dir is not None and (topic_dir / "templates").is_dir():
            paths.append(str(topic_dir / "templates"))
        for p in (self.theme, self.builtin):
            if p.is_dir() and str(p) not in paths:
                paths.append(str(p))
        return paths

    def env(self, topic_dir: Path | None = None) -> jinja2.Environment:
        key = str(topic_dir / "templates") if topic_dir is not None and (topic_dir / "templates").is_dir() else ""
        env = self._envs.get(key)
        if env is None:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(self.search_path(topic_dir)),
                autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
                auto_reload=False,
            )
            env.globals.update(self.globals)
            env.filters.update(THEME_FILTERS)
            env.filters.update(self.filters)
            self._envs[key] = env
        return env

    def get(self, name: str, topic_dir: Path | None, page_source: str) -> jinja2.Template:
        try:
            return self.env(topic_dir).get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(tr("模板语法错误：{m}", "template syntax error: {m}", m=exc.message),
                                exc.filename or name, line=exc.lineno,
                                hint=tr("检查 {{ }}、{% %} 是否成对，块是否闭合（{% endblock %} 等）。",
                                        "check that {{ }} and {% %} are paired and blocks are closed.")) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(
                tr("找不到模板 “{n}”（页面 {p} 需要它）", "template '{n}' not found (needed by {p})", n=exc.name, p=page_source),
                page_source, hint=tr("查找位置：{s}", "looked in: {s}", s=", ".join(self.search_path(topic_dir)))
            ) from None

    def digest(self, name: str, topic_dir: Path | None) -> str:
        """Hash of a template and everything it extends/includes/imports (statically named)."""
        env = self.env(topic_dir)
        key = (str(topic_dir), name)
        if key in self._digests:
            return self._digests[key]
        h = hashlib.sha256()
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            try:
                source, filename, _ = env.loader.get_source(env, current)
            except jinja2.TemplateNotFound:
                h.update(f"missing:{current}".encode())
                continue
            h.update(f"{current}\0{filename}\0".encode() + source.encode())
            try:
                refs = jinja2.meta.find_referenced_templates(env.parse(source))
            except jinja2.TemplateSyntaxError:
                continue  # reported when the template is loaded for rendering
            todo.extend(r for r in refs if r)
        self._digests[key] = h.hexdigest()
        return self._digests[key]

    def render(self, template: jinja2.Template, context: dict, page_source: str) -> str:
        try:
            return template.render(context)
        except TemplateError:
            raise
        except Exception as exc:
            filename, line = _template_frame(exc)
            raise TemplateError(tr("渲染模板出错：{e}（页面 {p}）", "template failed: {e} (page {p})", e=exc, p=page_source),
                                filename or template.filename or template.name, line=line) from None


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """Jinja2 rewrites tracebacks so template frames carry the template's file and line."""
    frames = traceback.extract_tb(sys.exc_info()[2] or exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename.endswith((".html", ".xml", ".j2", ".jinja")):
            return frame.filename, frame.lineno
    return None, None
