"""One error type per failure family; the CLI turns them into messages and exit codes."""

from __future__ import annotations

from pathlib import Path

from builder.i18n import tr


class ZhuantiError(Exception):
    """A failure the user can act on. ``exit_code`` follows SPEC: 1 = ran and failed, 2 = bad usage/config."""

    exit_code = 1

    def __init__(self, message: str, path: Path | str | None = None, *, line: int | None = None,
                 row: int | None = None, field: str | None = None, sheet: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.row = row
        self.field = field
        self.sheet = sheet
        self.hint = hint

    def __reduce__(self):
        # Errors travel back from worker processes; keep every field, not just the message.
        return (_rebuild, (type(self), self.__dict__))

    def location(self) -> str:
        """``file:line`` / ``file, sheet S, row R, field F`` in the user's language."""
        if not self.path:
            return ""
        return ", ".join([_shown(self.path) + (f":{self.line}" if self.line else ""), *self.cell()])

    def cell(self) -> list[str]:
        """Where in a data file: sheet, row (as Excel numbers them), field — those that are known."""
        parts = []
        if self.sheet:
            parts.append(tr("工作表 {s}", "sheet {s}", s=self.sheet))
        if self.row:
            parts.append(tr("第 {r} 行", "row {r}", r=self.row))
        if self.field and not self.path.endswith(self.field):  # "site_src/assets" names itself already
            parts.append(tr("字段 “{f}”", "field '{f}'", f=self.field))
        return parts

    def __str__(self) -> str:
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        if self.hint:
            text += "\n  " + self.hint
        return text


def _shown(path: str) -> str:
    """Paths under the current folder are shown relative to it, as users type them."""
    try:
        p = Path(path)
        return p.relative_to(Path.cwd()).as_posix() if p.is_absolute() else path
    except ValueError:
        return path


def _rebuild(cls: type, state: dict) -> ZhuantiError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, state.get("message", ""))
    exc.__dict__.update(state)
    return exc


class ConfigError(ZhuantiError):
    """site.toml / topic.toml / command-line problems (exit 2)."""

    exit_code = 2


class ContentError(ZhuantiError):
    """A content source (Markdown, data file, template) cannot be built."""


class TemplateError(ContentError):
    """A template is missing or broken."""


class MediaError(ZhuantiError):
    """A photo or video cannot be processed."""


class PublishError(ZhuantiError):
    """Publishing, rollback or verification failed."""


class BuildFailed(ZhuantiError):
    """Several errors were collected during a build; each is reported, then the build stops."""

    def __init__(self, errors: list[ZhuantiError]) -> None:
        super().__init__(tr("构建失败：{n} 个错误", "build failed: {n} error(s)", n=len(errors)))
        self.errors = errors
        # a configuration error among them (topic.toml, stale_after …) makes it a usage error: exit 2
        self.exit_code = 2 if any(isinstance(e, ConfigError) for e in errors) else 1

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)
