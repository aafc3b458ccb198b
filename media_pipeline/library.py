"""``MediaLibrary``: the build's entry point to the media pipeline (process, look up, publish).

Publishing layout, next to where the source file would have been published (``url_dir``):
a photo ``a/photo.jpg`` becomes ``a/photo-480.jpg``, ``a/photo-480.webp``, … (one pair per
width); a video ``a/clip.mov`` becomes the folder ``a/clip/`` with ``720p.mp4``…, ``poster.jpg``,
``poster.webp``, ``hls/…`` and ``captions.zh.vtt``. Originals are never published: a photo may
carry EXIF/GPS, and a video's original is the large, unplayable one.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from media_pipeline import media_kind
from media_pipeline.cache import INDEX_FILE, MediaCache, SourceHashes, cache_key, file_sha256
from media_pipeline.catalog import Sidecar, load_sidecar
from media_pipeline.config import MediaItem, MediaSettings
from media_pipeline.errors import MediaError, MediaFailed
from media_pipeline.executor import MediaTask, error_from, run_tasks
from media_pipeline.html import DEFAULT_SIZES, image_html, video_html
from media_pipeline.i18n import tr
from media_pipeline.images import ImageOutputs, ImageParams, ImageRendition, read_size

__all__ = ["MediaFailed", "MediaItem", "MediaLibrary", "MediaReport", "MediaSettings"]


def _published_stem(source: Path, output: str, kind: str, folder: _Folder) -> str:
    """The output name's stem, plus the extension when a sibling would claim the same names
    (``photo.jpg`` beside ``photo.png``; ``clip.mov`` beside a ``clip/`` folder or ``clip.md``)."""
    out = PurePosixPath(output)
    stem = source.stem
    clash = folder.media_stems.get(stem, 0) > 1
    if kind == "video":
        clash = clash or stem in folder.names or stem + ".md" in folder.names
    return f"{out.stem}-{out.suffix.lstrip('.').lower()}" if clash else out.stem


@dataclass(frozen=True)
class _Folder:
    """What the library needs to know about a source folder, valid while its mtime is unchanged."""

    mtime_ns: int
    names: frozenset[str]
    media_stems: dict[str, int]  # stem → how many photos/videos have it
    has_captions: bool  # any .vtt/.srt file (only then can a video here have captions)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


def _norm(path: Path | str) -> Path:
    """Absolute and normalised, without resolving symlinks (resolve() costs a syscall per part)."""
    return Path(os.path.abspath(path))


@dataclass
class _Entry:
    """What photo and video entries share: the cache entry and where it is published."""

    source: Path
    key: str
    dir: Path  # the cache entry's folder
    outputs: Any  # ImageOutputs | media_pipeline.video.VideoOutputs
    url_dir: str  # folder of the published renditions under public/ ("" = the root)
    stem: str
    sidecar: Sidecar | None = None

    @property
    def width(self) -> int:
        return self.outputs.width

    @property
    def height(self) -> int:
        return self.outputs.height

    def main_name(self, quoted: bool = False) -> str:
        """The rendition a link to "the photo"/"the video" should open: the largest one."""
        name = self._main()
        return quote(name, safe="/") if quoted else name

    def page_html(self, alt: str, page_url: str, sizes: str = DEFAULT_SIZES) -> str:
        """The snippet for a page at directory URL ``page_url`` (renditions linked relative to it);
        an empty ``alt`` falls back to the sidecar's title."""
        if not alt and self.sidecar:
            alt = self.sidecar.title
        return self.html(alt, url_prefix(page_url, self.url_dir), sizes)

    def snippet_key(self) -> str:
        """Everything ``page_html`` is made of besides its arguments: the renditions (``key``), the
        folder and names they are published under, and the sidecar fields the snippet shows (the
        title as the fallback alt text, the photographer's credit). Equal keys, equal snippets: a
        build compares it with the last one to know which pages to render again."""
        side = self.sidecar or Sidecar()
        return "\0".join((self.key, self.url_dir, self.stem, side.title, side.photographer))


@dataclass
class ImageEntry(_Entry):
    """A processed photo: its renditions in the cache and the names they are published under."""

    kind: str = "image"

    def name(self, r: ImageRendition) -> str:
        """Published file name of a rendition, relative to ``url_dir``."""
        return f"{self.stem}-{r.width}.{r.file.rsplit('.', 1)[-1]}"

    def files(self) -> list[tuple[str, str]]:
        """(file in the cache, output path under public/) for every rendition."""
        folder = str(self.dir)
        return [(os.path.join(folder, r.file), _join(self.url_dir, self.name(r))) for r in self.outputs.renditions]

    def rendition_paths(self) -> list[str]:
        """Output paths of the renditions, original format then WebP, widest first."""
        ordered = [*reversed(self.outputs.fallback), *reversed(self.outputs.webp)]
        return [_join(self.url_dir, self.name(r)) for r in ordered]

    def _main(self) -> str:
        return self.name(self.outputs.fallback[-1])

    def poster_path(self) -> str | None:
        return None

    def html(self, alt: str, url_prefix: str, sizes: str = DEFAULT_SIZES) -> str:
        return image_html(self, alt, url_prefix, sizes)


@dataclass
class VideoEntry(_Entry):
    """A transcoded video: its folder of renditions in the cache, published as ``<url_dir>/<stem>/``."""

    files_in_entry: list[str] = field(default_factory=list)
    kind: str = "video"

    @property
    def duration(self) -> float:
        return self.outputs.duration

    def name(self, rel: str) -> str:
        return f"{self.stem}/{rel}"

    def files(self) -> list[tuple[str, str]]:
        """(file in the cache, output path under public/) for every file of the entry."""
        folder = str(self.dir)
        return [(os.path.join(folder, rel), _join(self.url_dir, self.name(rel))) for rel in self.files_in_entry]

    def rendition_paths(self) -> list[str]:
        """Output paths of the MP4 ladder (best first), then the HLS master playlist if any."""
        out = [_join(self.url_dir, self.name(r.path.as_posix())) for r in self.outputs.renditions]
        if self.outputs.hls:
            out.append(_join(self.url_dir, self.name(self.outputs.hls.as_posix())))
        return out

    def _main(self) -> str:
        return self.name(self.outputs.renditions[0].path.as_posix())

    def poster_path(self) -> str:
        return _join(self.url_dir, self.name(self.outputs.poster_jpg.as_posix()))

    def html(self, alt: str, url_prefix: str, sizes: str = DEFAULT_SIZES) -> str:
        return video_html(self, alt, url_prefix)


MediaEntry = ImageEntry | VideoEntry


def url_prefix(page_url: str, url_dir: str) -> str:
    """How a page at directory URL ``page_url`` reaches the folder ``url_dir`` ("" = beside it)."""
    start = "/" + page_url.strip("/")
    rel = posixpath.relpath("/" + url_dir.strip("/"), start)
    return "" if rel == "." else quote(rel + "/", safe="/#?=&%:~+-_.!*'()")


def _join(url_dir: str, name: str) -> str:
    return f"{url_dir}/{name}" if url_dir else name


@dataclass
class MediaReport:
    """What one ``process`` call did."""

    transcoded: list[str] = field(default_factory=list)  # videos made now (site-relative sources)
    converted: list[str] = field(default_factory=list)  # photos made now
    reused: list[str] = field(default_factory=list)  # found in the cache
    failed: list[MediaError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # "file: remark" about files processed now
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def line(self) -> str:
        return tr("媒体：转码视频 {v} 个，处理图片 {i} 个，复用缓存 {r} 个，失败 {f} 个（{s:.1f} 秒）",
                  "media: {v} video(s) transcoded, {i} photo(s) processed, {r} reused from the cache, "
                  "{f} failed ({s:.1f} s)", v=len(self.transcoded), i=len(self.converted), r=len(self.reused),
                  f=len(self.failed), s=self.seconds)


class MediaLibrary:
    """Photos and videos of one site: processed into the shared cache, looked up, published.

    One instance may live as long as a preview server: everything it remembers is checked
    against the file's (size, mtime, inode) or the folder's mtime before it is used.
    """

    def __init__(self, settings: MediaSettings) -> None:
        self.settings = settings
        self.root = Path(settings.root)
        self.cache = MediaCache(Path(settings.cache_dir))
        self.hashes = SourceHashes(self.cache.root / INDEX_FILE)
        self.image_params = ImageParams.from_config(settings)
        self._video_params = None
        self._results: dict[Path, tuple[tuple | None, dict]] = {}  # source → (signature, cache result)
        self._folders: dict[Path, _Folder] = {}
        self._sidecars: dict[Path, tuple[tuple | None, Sidecar | MediaError]] = {}

    # ---- keys ---------------------------------------------------------------------------
    @property
    def video_params(self):
        if self._video_params is None:
            from media_pipeline.video import VideoParams

            self._video_params = VideoParams.from_config(self.settings, self.settings.config_file)
        return self._video_params

    def _task(self, source: Path, sha: str) -> MediaTask:
        kind = media_kind(source)
        if kind == "image":
            params = dataclasses.asdict(self.image_params)
            key = cache_key("image", sha, self.image_params.key())
        else:
            from media_pipeline.video import find_captions

            params = dataclasses.asdict(self.video_params)
            captions = find_captions(source, self.root) if self._folder(source.parent).has_captions else None
            # A caption file beside the video is part of its output, so it is part of the key.
            extra = f"captions={file_sha256(captions)}" if captions else ""
            key = cache_key("video", sha, self.video_params.key(), extra)
        return MediaTask(kind, str(source), key, params, label=self.rel(source),
                         extra={"source_name": source.name, "source_sha256": sha}, within=str(self.root))

    def _folder(self, folder: Path) -> _Folder:
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            return _Folder(0, frozenset(), {}, False)
        known = self._folders.get(folder)
        if known is not None and known.mtime_ns == mtime:
            return known
        try:
            names = frozenset(os.listdir(folder))
        except OSError:
            names = frozenset()
        stems: dict[str, int] = {}
        for name in names:
            if media_kind(name):
                stem = os.path.splitext(name)[0]
                stems[stem] = stems.get(stem, 0) + 1
        info = _Folder(mtime, names, stems, any(n.lower().endswith((".vtt", ".srt")) for n in names))
        self._folders[folder] = info
        return info

    def sidecar(self, source: Path) -> Sidecar | None:
        """The source's sidecar (parsed once per version of the file); MediaError when broken."""
        source = _norm(source)
        name = source.name + ".yaml"
        if name not in self._folder(source.parent).names:
            return None
        path = source.parent / name
        sig = _signature(path)
        known = self._sidecars.get(path)
        if known is None or known[0] != sig:
            try:
                # A sidecar linked to outside the site is not followed (the build has said so).
                value: Sidecar | MediaError = (load_sidecar(source) or Sidecar()) if self._inside(path) else Sidecar()
            except MediaError as exc:
                value = exc
            known = (sig, value)
            self._sidecars[path] = known
        if isinstance(known[1], MediaError):
            e = known[1]
            raise MediaError(e.message, e.path, line=e.line, field=e.field, hint=e.hint)
        return known[1]

    def _inside(self, path: Path) -> bool:
        """Whether ``path``, symbolic links followed, is in the site."""
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(self.root))

    def rel(self, path: Path | str) -> str:
        p = Path(path)
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            try:
                return p.resolve().relative_to(self.root).as_posix()
            except (ValueError, OSError):
                return str(p)

    def relative_error(self, exc: MediaError) -> MediaError:
        """The same error with its path relative to the site root (as users see their files)."""
        if exc.path and Path(exc.path).is_absolute():
            exc.path = self.rel(exc.path)
        return exc

    # ---- processing ---------------------------------------------------------------------
    def process(self, sources: list[Path], jobs: int | None = None, *, executor=None, video_executor=None,
                raise_errors: bool = True) -> MediaReport:
        """Make sure every source has its renditions in the cache (``report.line()`` sums it up).

        A file that fails never stops the others: all are processed (and cached), then the
        failures are raised together as ``MediaFailed``.
        """
        started = time.perf_counter()
        report = MediaReport()
        self.cache.clean()
        wanted: list[Path] = []
        for s in dict.fromkeys(_norm(p) for p in sources):
            if media_kind(s) is None:
                report.failed.append(MediaError(tr("不是受支持的图片或视频格式", "not a supported photo or video format"),
                                                self.rel(s)))
                continue
            try:
                self.sidecar(s)
            except MediaError as exc:  # the file itself is still processed
                report.failed.append(self.relative_error(exc))
            wanted.append(s)
        signatures = {s: _signature(s) for s in wanted}
        hashes, errors = self.hashes.hash_many(wanted)
        report.failed.extend(self.relative_error(e) for e in errors)
        tasks: list[MediaTask] = []
        copies: dict[str, list[Path]] = {}  # key → further sources with the same content
        for s in wanted:
            if s not in hashes:
                continue
            task = self._task(s, hashes[s])
            hit = self.cache.get(task.key)
            if hit is not None:
                self._results[s] = (signatures[s], hit)
                report.reused.append(self.rel(s))
            elif task.key in copies:
                copies[task.key].append(s)  # processed once, for the first of them
            else:
                copies[task.key] = []
                tasks.append(task)
        if tasks:
            for task, result in zip(tasks, run_tasks(tasks, self.cache.root, jobs, executor, video_executor),
                                    strict=True):
                source = Path(task.source)
                if result.get("ok"):
                    self._results[source] = (signatures[source], result["result"])
                    notes = [*result.get("notes", ()), self._note(source, result["result"])]
                    report.notes.extend(f"{self.rel(source)}: {n}" for n in notes if n)
                    (report.transcoded if task.kind == "video" else report.converted).append(self.rel(source))
                    for copy in copies[task.key]:
                        self._results[copy] = (signatures[copy], result["result"])
                        report.reused.append(self.rel(copy))
                else:
                    report.failed.append(self.relative_error(error_from(result)))
                    for copy in copies[task.key]:
                        err = error_from(result)
                        err.path = copy
                        report.failed.append(self.relative_error(err))
        report.seconds = time.perf_counter() - started
        if report.failed and raise_errors:
            raise MediaFailed(report.failed, report)
        return report

    @staticmethod
    def _note(source: Path, result: dict) -> str | None:
        if result.get("kind") != "video":
            return None
        from media_pipeline.probe import container_mismatch

        return container_mismatch(source, result.get("outputs", {}).get("container", ""))

    # ---- lookup -------------------------------------------------------------------------
    def lookup(self, source: Path, output: str | None = None) -> MediaEntry | None:
        """The processed entry of ``source`` (None when it is not in the cache); ``output`` is
        where the build publishes the source (its renditions go beside it; by default: the
        source's own path under the site root)."""
        s = _norm(source)
        return self.lookup_many({s: output or self.rel(s)}).get(s)

    def lookup_many(self, outputs: dict[Path, str] | list[MediaItem] | list[Path]) -> dict[Path, MediaEntry]:
        """Entries of every source found in the cache, keyed by the absolute source path.
        ``outputs`` maps each source to where the build publishes it, or lists items (or bare
        sources, published under their own path)."""
        if isinstance(outputs, list):
            outputs = {i.source: i.output for i in outputs} if outputs and isinstance(outputs[0], MediaItem) \
                else {p: self.rel(_norm(p)) for p in outputs}
        outputs = {_norm(k): v for k, v in outputs.items()}
        wanted = list(outputs)
        found: dict[Path, dict] = {}
        missing = []
        for s in wanted:
            known = self._results.get(s)
            if known is not None and known[0] == _signature(s):
                found[s] = known[1]
            elif media_kind(s):
                missing.append(s)
        if missing:
            signatures = {s: _signature(s) for s in missing}
            hashes, _ = self.hashes.hash_many(missing)
            for s, sha in hashes.items():
                try:
                    hit = self.cache.get(self._task(s, sha).key)
                except MediaError:
                    hit = None
                if hit is not None:
                    self._results[s] = (signatures[s], hit)
                    found[s] = hit
        return {s: self._entry(s, found[s], outputs[s]) for s in wanted if s in found}

    def _entry(self, source: Path, result: dict, output: str) -> MediaEntry:
        url_dir = str(PurePosixPath(output).parent)
        url_dir = "" if url_dir == "." else url_dir
        try:
            sidecar = self.sidecar(source)
        except MediaError:
            sidecar = None  # reported by process()
        folder = Path(result["dir"])
        listing = self._folder(source.parent)
        if result["kind"] == "image":
            return ImageEntry(source, result["key"], folder, ImageOutputs.from_dict(result["outputs"]), url_dir,
                              _published_stem(source, output, "image", listing), sidecar=sidecar)
        from media_pipeline.video import VideoOutputs

        return VideoEntry(source, result["key"], folder, VideoOutputs.from_dict(result["outputs"]), url_dir,
                          _published_stem(source, output, "video", listing), sidecar=sidecar,
                          files_in_entry=list(result.get("files", [])))

    def measure(self, source: Path) -> tuple[int, int, float | None]:
        """(width, height, duration) read from the file itself, for files not processed yet."""
        if media_kind(source) == "image":
            w, h = read_size(Path(source), self.image_params)
            return w, h, None
        from media_pipeline.probe import probe

        info = probe(Path(source))
        return info.width, info.height, info.duration

    # ---- output -------------------------------------------------------------------------
    def html(self, source: Path, alt: str, url_prefix: str, output: str | None = None,
             sizes: str = DEFAULT_SIZES) -> str | None:
        """The page snippet for ``source`` (None when it has not been processed). An empty
        ``alt`` falls back to the sidecar's title."""
        entry = self.lookup(source, output)
        if entry is None:
            return None
        if not alt and entry.sidecar:
            alt = entry.sidecar.title
        return entry.html(alt, url_prefix, sizes)

    def page_html(self, source: Path, alt: str, page_url: str, output: str | None = None,
                  sizes: str = DEFAULT_SIZES) -> str | None:
        """``html`` for a page at directory URL ``page_url`` (e.g. ``demo/news/a/``): the
        renditions are linked relative to the page, like every other link the build writes."""
        entry = self.lookup(source, output)
        return entry.page_html(alt, page_url, sizes) if entry is not None else None

    def publish_into(self, out_root: Path, source: Path, output: str | None = None) -> list[str]:
        """Hard-link (or copy) the renditions of ``source`` into ``out_root``; returns the output
        paths written. The original file is never published."""
        entry = self.lookup(source, output)
        if entry is None:
            raise MediaError(tr("图片或视频尚未处理，无法发布", "the photo or video has not been processed"),
                             self.rel(source), hint=tr("请先运行 zhuanti media 或 zhuanti build。",
                                                       "run 'zhuanti media' or 'zhuanti build' first."))
        written = []
        root = str(out_root)
        made: set[str] = set()
        for cached, out_path in entry.files():
            dest = os.path.join(root, out_path)
            parent = os.path.dirname(dest)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            try:
                _link(cached, dest)
            except FileNotFoundError:
                raise MediaError(tr("缓存中的文件丢失：{f}", "a file is missing from the cache: {f}", f=cached),
                                 self.rel(source), hint=tr("请删除 .zhuanti-cache/media 后重新运行。",
                                                           "delete .zhuanti-cache/media and run again.")) from None
            written.append(out_path)
        return written


def _link(cached: str, dest: str) -> None:
    """Hard link (no copy, no extra disk); a copy across filesystems or where links are refused."""
    try:
        os.link(cached, dest)
    except FileExistsError:
        os.unlink(dest)
        _link(cached, dest)
    except FileNotFoundError:
        raise
    except OSError:
        shutil.copyfile(cached, dest)
