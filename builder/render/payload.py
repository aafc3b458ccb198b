"""What render worker processes receive: the site without its page bodies, and where to read each.

Workers start fresh (``multiprocessing`` "spawn": no copy of the build process's memory, the same
on every Python version and platform) and get the site pickled once. Page bodies are most of a
site's size, and a worker needs only the bodies of the pages it renders, so they go into one file
(``write_bodies``) and each page carries a ``StoredBody`` — its place in that file — instead. The
body is read when the page renders (``body_of``), or when a template reads ``p.body`` of another
page (``builder.render.templates``): a ``StoredBody`` is not a string, so code that forgot to load
it fails loudly instead of rendering an empty page.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
from pathlib import Path

from builder.content.model import Page

_files: dict[str, int] = {}  # body file → descriptor (one per worker process)


class StoredBody:
    """A page body kept in the body file: ``size`` UTF-8 bytes at ``offset``."""

    __slots__ = ("path", "offset", "size")

    def __init__(self, path: str, offset: int, size: int) -> None:
        self.path = path
        self.offset = offset
        self.size = size

    def __reduce__(self):
        return StoredBody, (self.path, self.offset, self.size)

    def load(self) -> str:
        fd = _files.get(self.path)
        if fd is None:
            fd = _files[self.path] = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        data = os.pread(fd, self.size, self.offset)
        if len(data) != self.size:
            raise OSError(f"{self.path}: page body cut short ({len(data)} of {self.size} bytes)")
        return data.decode("utf-8")


def body_of(page: Page) -> str:
    body = page.body
    return body.load() if body.__class__ is StoredBody else body


def close_files() -> None:
    for fd in _files.values():
        os.close(fd)
    _files.clear()


class _Pickler(pickle.Pickler):
    """Pickles pages with their body replaced by its ``StoredBody`` (the page itself is untouched)."""

    def __init__(self, file, stored: dict[int, StoredBody]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.stored = stored

    def reducer_override(self, obj):
        if obj.__class__ is Page:
            stored = self.stored.get(id(obj))
            if stored is not None:
                state = dict(obj.__dict__)
                state["body"] = stored
                return copyreg.__newobj__, (Page,), state
        return NotImplemented


def write_bodies(pages: list[Page], path: Path) -> dict[int, StoredBody]:
    """Write every non-empty body into ``path``; id(page) → where its body is."""
    stored: dict[int, StoredBody] = {}
    offset = 0
    name = str(path)
    with open(path, "wb") as f:
        for page in pages:
            if page.body and id(page) not in stored and isinstance(page.body, str):
                data = page.body.encode("utf-8")
                f.write(data)
                stored[id(page)] = StoredBody(name, offset, len(data))
                offset += len(data)
    return stored


def dumps(value, stored: dict[int, StoredBody]) -> bytes:
    """``pickle.dumps(value)`` with the bodies in ``stored`` left out."""
    buf = io.BytesIO()
    _Pickler(buf, stored).dump(value)
    return buf.getvalue()
