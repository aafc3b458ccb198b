"""Jinja2 environments: template lookup topic override → themes/<theme>/ → built-in default.

Autoescape is always on. A template's digest covers every template it extends or includes, so the
build state knows exactly which pages a template edit touches.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import traceback
from pathlib import Path

import jinja2
from jinja2.loaders import split_template_path

from builder.config import confine
from builder.content.loader import theme_dir
from builder.deps import TRACKED
from builder.errors import TemplateError, ZhuantiError
from builder.i18n import tr
from builder.render.payload import StoredBody
from builder.render.theme import THEME_FILTERS
from builder.resources import builtin_theme_dir

REFERENCE = re.compile(r"\{%[-+]?\s*(?:extends|include|import|from)\s+(.*?)\s*[-+]?%\}", re.S)
LITERAL = re.compile(r"""^(?:"([^"\\]*)"|'([^'\\]*)')(?:\s+(?:ignore\s+missing|with\s+context|without\s+context|import\b.*|as\b.*))*$""",
                     re.S)


def referenced(source: str) -> list[str] | None:
    """Templates a template names in extends/include/import/from; None when one is computed at
    render time (a variable, a list, an expression). Cheaper than parsing, and errs on the safe side:
    anything that is not a plain string literal counts as computed."""
    names = []
    for m in REFERENCE.finditer(source):
        lit = LITERAL.match(m.group(1).strip())
        if lit is None:
            return None
        names.append(lit.group(1) if lit.group(1) is not None else lit.group(2))
    return names


class RecordingEnvironment(jinja2.Environment):
    """Every attribute a template reads of a page, column or topic is recorded as a dependency of
    the output being rendered (``Templates.recorder``, set by the renderer around each page)."""

    owner: Templates

    def getattr(self, obj, attribute):
        # Jinja2's Environment.getattr, inlined: this runs for every ``a.b`` of every page.
        try:
            value = getattr(obj, attribute)
        except AttributeError:
            try:
                value = obj[attribute]
            except (TypeError, LookupError, AttributeError):
                value = self.undefined(obj=obj, name=attribute)
        if isinstance(obj, TRACKED):
            if value.__class__ is StoredBody:  # a render worker's page body, read when needed
                value = value.load()
            rec = self.owner.recorder
            if rec is not None:
                rec.read(obj, attribute, value)
        return value

    def getitem(self, obj, argument):
        value = super().getitem(obj, argument)
        if isinstance(obj, TRACKED) and isinstance(argument, str):
            if value.__class__ is StoredBody:
                value = value.load()
            rec = self.owner.recorder
            if rec is not None:
                rec.read(obj, argument, value)
        return value


class ConfinedLoader(jinja2.FileSystemLoader):
    """Jinja2's FileSystemLoader that refuses a template file of the site (a theme's or a topic's)
    whose real path, symbolic links followed, is outside the site root. Templates are code the
    build runs and their text is published, so ``detail.html -> /etc/passwd`` is a ConfigError
    naming the file, as a symbolic link to outside the site is for the folders
    (``builder.config.confine``). A search path outside the site — a theme that comes with zhuanti,
    in the installed package (``bounds`` None) — is not the site's to confine."""

    def __init__(self, searchpath: list[str], bounds: list[Path | None], root: Path) -> None:
        super().__init__(searchpath)
        self.bounds = [os.path.join(os.path.realpath(b), "") if b is not None else None for b in bounds]
        self.root = root
        # Files found inside their bound. An environment lives until a template file changes
        # (the engine makes new Templates then), so a link changed later is seen by the next one.
        self.checked: set[str] = set()

    def get_source(self, environment, template):
        pieces = split_template_path(template)
        for folder, bound in zip(self.searchpath, self.bounds, strict=True):
            path = os.path.join(folder, *pieces)
            if os.path.isfile(path):  # the file FileSystemLoader is about to read
                if bound is not None and path not in self.checked:
                    if not os.path.realpath(path).startswith(bound):
                        p = Path(path)
                        confine(Path(bound), p, p, p.relative_to(self.root).as_posix() if p.is_relative_to(self.root) else path)
                    self.checked.add(path)
                break
        return super().get_source(environment, template)


class Templates:
    """One Jinja2 environment per lookup chain (the site's, and each topic with overrides).

    Kept warm between builds by the engine (compiled templates are cached per environment); a new
    instance is made when a template file changes.
    """

    def __init__(self, site_cfg, globals_: dict | None = None, filters: dict | None = None) -> None:
        self.cfg = site_cfg
        self.theme = theme_dir(site_cfg) / "templates"
        self.builtin = builtin_theme_dir("default") / "templates"
        self.globals = globals_ or {}
        self.filters = filters or {}
        self._envs: dict[str, jinja2.Environment] = {}
        self._digests: dict[tuple[str, str], str] = {}
        self.recorder = None  # builder.deps.Recorder of the output being rendered
        # Compiled templates survive between runs (keyed by Jinja2 on the template's source).
        self.bytecode_cache = jinja2.FileSystemBytecodeCache(str(_mkdir(site_cfg.cache_dir / "templates")))

    def search_path(self, topic_dir: Path | None) -> list[str]:
        paths = []
        if topic_dir is not None and (topic_dir / "templates").is_dir():
            paths.append(str(topic_dir / "templates"))
        for p in (self.theme, self.builtin):
            if p.is_dir() and str(p) not in paths:
                paths.append(str(p))
        return paths

    def bound(self, folder: Path) -> Path | None:
        """Where the templates of ``folder`` must really be: the site root for a folder of the site
        (``builder.config.check_confined`` keeps the theme's there); None for a theme that comes
        with zhuanti."""
        return self.cfg.root if folder.is_relative_to(self.cfg.root) else None

    def env(self, topic_dir: Path | None = None) -> jinja2.Environment:
        key = str(topic_dir / "templates") if topic_dir is not None and (topic_dir / "templates").is_dir() else ""
        env = self._envs.get(key)
        if env is None:
            paths = self.search_path(topic_dir)
            env = RecordingEnvironment(
                loader=ConfinedLoader(paths, [self.bound(Path(p)) for p in paths], self.cfg.root),
                autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
                auto_reload=False, bytecode_cache=self.bytecode_cache,
            )
            env.owner = self
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

    def exists(self, name: str, topic_dir: Path | None) -> bool:
        """Whether the lookup chain (topic → theme → built-in) has a template of this name."""
        env = self.env(topic_dir)
        try:
            env.loader.get_source(env, name)
        except jinja2.TemplateNotFound:
            return False
        return True

    def digest(self, name: str, topic_dir: Path | None) -> str:
        """Hash of a template and everything it extends/includes/imports (every template of the
        lookup chain when a name is computed at render time)."""
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
            refs = referenced(source)
            if refs is None:  # {% include some_variable %}: any template of the chain may be read
                refs = env.list_templates()
            todo.extend(refs)
        self._digests[key] = h.hexdigest()
        return self._digests[key]

    def render(self, template: jinja2.Template, context: dict, page_source: str) -> str:
        try:
            return template.render(context)
        except ZhuantiError:  # a template error, or an included template refused by ConfinedLoader
            raise
        except Exception as exc:
            filename, line = _template_frame(exc)
            raise TemplateError(tr("渲染模板出错：{e}（页面 {p}）", "template failed: {e} (page {p})", e=exc, p=page_source),
                                filename or template.filename or template.name, line=line) from None


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """Jinja2 rewrites tracebacks so template frames carry the template's file and line."""
    frames = traceback.extract_tb(sys.exc_info()[2] or exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename.endswith((".html", ".xml", ".j2", ".jinja")):
            return frame.filename, frame.lineno
    return None, None
