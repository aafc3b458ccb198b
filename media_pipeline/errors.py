"""The pipeline's own error types. The build maps them to its ContentError/ConfigError
(``builder/media.py``); the pipeline itself knows nothing of the build."""

from __future__ import annotations

from pathlib import Path

from media_pipeline.i18n import tr


class MediaError(Exception):
    """A photo, video, caption or sidecar cannot be processed: what, where (file, line, field) and what to do."""

    def __init__(self, message: str, path: Path | str | None = None, *, line: int | None = None,
                 field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.hint = hint

    def __reduce__(self):
        # Errors travel back from worker processes: keep every field, not just the message.
        return (_rebuild, (type(self), self.__dict__))

    def location(self) -> str:
        if not self.path:
            return ""
        text = self.path + (f":{self.line}" if self.line else "")
        if self.field:
            text += ", " + tr("字段 “{f}”", "field '{f}'", f=self.field)
        return text

    def __str__(self) -> str:
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        return text + ("\n  " + self.hint if self.hint else "")


class MediaConfigError(MediaError):
    """A media setting (``[media]`` in the site's configuration) has a value that cannot work."""


class MediaFailed(MediaError):
    """Several files failed; every other one was processed and cached. ``errors`` lists them,
    ``report`` (when set) says what else was done."""

    def __init__(self, errors: list[MediaError], report=None) -> None:
        super().__init__(tr("{n} 个媒体文件出错", "{n} media file(s) failed", n=len(errors)))
        self.errors = errors
        self.report = report

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def _rebuild(cls: type, state: dict) -> MediaError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, state.get("message", ""))
    exc.__dict__.update(state)
    return exc
