"""Run media jobs on any ``concurrent.futures.Executor``, with progress bars and per-file failures.

Jobs are top-level functions taking and returning plain data, and they write into the cache
themselves, so any Executor can run them (a distributed one needs the cache on a shared
filesystem). By default photos go to a process pool (Pillow's decode/resize/encode is CPU work in
this interpreter) and videos to a thread pool: each video thread only drives an ffmpeg
subprocess, which is the process doing the work, so its progress callbacks reach the bars
directly. ``--jobs N`` means N photo processes and N video threads. When a video runs
on an executor that is not in this process, its progress travels through a
``multiprocessing.Manager`` queue drained by a thread here.

``executor`` may also be a string: ``"local"`` (the pools above) or ``"dask://HOST[:PORT]"``, a
Dask distributed scheduler (default port 8786). Dask's ``Client.get_executor()`` is a
``concurrent.futures.Executor``, so the same jobs run on its workers unchanged. Sources and the
cache travel through a shared folder: every worker must see the site folder at the same path
(checked before any job is sent), and the content-hash cache stays the single truth. Videos on
Dask report no per-file progress (only the overall bar moves).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
import warnings
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from media_pipeline.cache import MediaCache
from media_pipeline.errors import MediaConfigError, MediaError
from media_pipeline.i18n import tr
from media_pipeline.images import ImageParams, process_image, warning_text

# File-name stem of photo renditions inside a cache entry (published names come from the source).
CACHE_IMAGE_STEM = "image"
DASK_SCHEME = "dask://"
DASK_PORT = 8786  # the Dask scheduler's default
DASK_CONNECT_SECONDS = 10


@dataclass(frozen=True)
class MediaTask:
    """One job: process ``source`` into the cache entry ``key``."""

    kind: str  # "image" | "video"
    source: str
    key: str
    params: dict
    label: str = ""
    extra: dict = field(default_factory=dict)  # stored in result.json as is
    within: str | None = None  # the site root: a caption file linked to outside it is not taken


class SerialExecutor(Executor):
    """Runs each job in this process when it is submitted (``--jobs 1``; also handy in tests)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
            if isinstance(exc, KeyboardInterrupt):
                raise
        return future


# ---------------------------------------------------------------- jobs (run in workers)

def _error(source: str, exc: BaseException) -> dict:
    if isinstance(exc, MediaError):
        return {"ok": False, "source": source,
                "error": {"message": exc.message, "path": exc.path or source, "line": exc.line, "hint": exc.hint}}
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"ok": False, "source": source,
            "error": {"message": tr("处理时出现意外错误：{e}", "unexpected error while processing: {e}", e=detail),
                      "path": source, "line": None, "hint": None}}


def image_job(source: str, cache_root: str, key: str, params: dict, extra: dict | None = None) -> dict:
    """Process one photo into cache entry ``key``; returns ``{"ok": True, "result": …}`` or an error."""
    cache = MediaCache(Path(cache_root))
    staging = cache.staging(key)
    try:
        # Pillow's warnings would reach the screen in English and without the file's name: they
        # travel back with the result and are said as notes naming the file.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outputs = process_image(Path(source), staging, ImageParams(**params), stem=CACHE_IMAGE_STEM)
        result = cache.commit(key, staging, {"kind": "image", "outputs": outputs.to_dict(), **(extra or {})})
        notes = list(dict.fromkeys(warning_text(str(w.message)) for w in caught))
        return {"ok": True, "source": source, "result": result, "notes": notes}
    except Exception as exc:  # noqa: BLE001 - every failure becomes plain data for the caller
        cache.discard(staging)
        return _error(source, exc)
    except BaseException:
        cache.discard(staging)
        raise


def video_job(source: str, cache_root: str, key: str, params: dict, extra: dict | None = None,
              progress: Any = None, task_id: int = 0, within: str | None = None) -> dict:
    """Transcode one video into cache entry ``key``. ``progress.put((task_id, fraction))`` if given."""
    from media_pipeline.video import VideoParams, transcode

    cache = MediaCache(Path(cache_root))
    staging = cache.staging(key)

    def on_progress(fraction: float) -> None:
        if progress is not None:
            progress.put((task_id, fraction))

    try:
        outputs = transcode(Path(source), staging, VideoParams(**params), on_progress, within=within)
        result = cache.commit(key, staging, {"kind": "video", "outputs": outputs.to_dict(), **(extra or {})})
        return {"ok": True, "source": source, "result": result}
    except Exception as exc:  # noqa: BLE001
        cache.discard(staging)
        return _error(source, exc)
    except BaseException:
        cache.discard(staging)
        raise


# ---------------------------------------------------------------- progress display

class _Bars:
    """One overall bar plus one bar per running video, on the shared stderr console."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.lock = threading.Lock()
        self.progress = None
        self.tasks: dict[int, Any] = {}
        self.finished: set[int] = set()  # a late progress message must not bring a bar back

    def __enter__(self) -> _Bars:
        from rich.console import Console

        console = Console(stderr=True, highlight=False)
        if os.environ.get("ZHUANTI_QUIET") == "1" or not console.is_terminal or not self.total:
            return self
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=True)
        self.progress.start()
        self.overall = self.progress.add_task(tr("处理媒体", "processing media"), total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self) -> None:
        if self.progress is not None:
            self.progress.advance(self.overall)

    def video(self, task_id: int, label: str, fraction: float) -> None:
        if self.progress is None:
            return
        with self.lock:
            if task_id in self.finished:
                return
            if task_id not in self.tasks:
                self.tasks[task_id] = self.progress.add_task("  " + label, total=100)
            self.progress.update(self.tasks[task_id], completed=round(fraction * 100))

    def video_done(self, task_id: int) -> None:
        if self.progress is None:
            return
        with self.lock:
            self.finished.add(task_id)
            bar = self.tasks.pop(task_id, None)
            if bar is not None:
                self.progress.remove_task(bar)


class _DirectSink:
    """Progress for jobs running in this process: ``put`` updates the bar at once."""

    def __init__(self, bars: _Bars, labels: dict[int, str]) -> None:
        self.bars = bars
        self.labels = labels

    def put(self, item: tuple[int, float]) -> None:
        task_id, fraction = item
        self.bars.video(task_id, self.labels.get(task_id, ""), fraction)


def dask_address(spec: str | None, source: str | Path | None = "--executor", field: str = "--executor") -> str | None:
    """The scheduler address (``tcp://host:port``) an executor setting names, None for ``local``.

    ``source`` names where the setting came from (site.toml or --executor) in the error message.
    """
    if spec is None or spec in ("", "local"):
        return None
    hostport = spec[len(DASK_SCHEME):].rstrip("/") if spec.startswith(DASK_SCHEME) else ""
    host, colon, port = hostport.rpartition(":")
    if not colon:
        host, port = hostport, str(DASK_PORT)
    if not host or "/" in host or not port.isdigit() or not 0 < int(port) < 65536:
        raise MediaConfigError(tr("无法识别的执行器 “{s}”", "unknown executor '{s}'", s=spec), source,
                          field=field, hint=tr("可用：local，或 dask://调度器主机:8786",
                                                    "use local, or dask://SCHEDULER-HOST:8786"))
    return f"tcp://{host}:{port}"


def _missing_on_worker(paths: list[str], writable: str) -> list[str]:
    """Runs on every Dask worker: the paths it cannot see (and the cache folder if it cannot write)."""
    missing = [p for p in paths if not os.path.exists(p)]
    if not os.access(writable, os.W_OK):
        missing.append(writable)
    return missing


def _dask_run(tasks: list[MediaTask], cache_root: Path, address: str) -> list[dict]:
    try:
        from distributed import Client
    except ImportError:
        raise MediaConfigError(tr("使用 Dask 执行器需要安装 distributed", "the Dask executor needs the 'distributed' package"),
                          hint="pip install 'zhuanti[dask]'") from None
    try:
        client = Client(address, timeout=DASK_CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise MediaConfigError(tr("连接不上 Dask 调度器 {a}：{e}", "cannot reach the Dask scheduler {a}: {e}", a=address, e=exc),
                          hint=tr("请先在调度器主机上运行 dask scheduler，并检查主机名、端口和防火墙。",
                                  "start `dask scheduler` on that host first; check the host name, port and firewall.")
                          ) from None
    try:
        Path(cache_root).mkdir(parents=True, exist_ok=True)
        seen = client.run(_missing_on_worker, sorted({t.source for t in tasks}), str(cache_root))
        if not seen:
            raise MediaConfigError(tr("Dask 调度器 {a} 没有可用的 worker", "the Dask scheduler {a} has no workers", a=address),
                              hint=tr("请在各台机器上运行 dask worker {a}", "run `dask worker {a}` on each machine", a=address))
        for worker, missing in sorted(seen.items()):
            if missing:
                raise MediaConfigError(
                    tr("Dask worker {w} 看不到 {p}（另有 {n} 个路径）", "Dask worker {w} cannot see {p} ({n} more path(s))",
                       w=worker, p=missing[0], n=len(missing) - 1),
                    hint=tr("所有 worker 必须以相同路径挂载站点目录（共享文件夹，如 NFS），缓存目录须可写。",
                            "every worker must mount the site folder at the same path (a shared folder such as NFS), "
                            "with the cache folder writable."))
        pool = client.get_executor(pure=False)
        return run_tasks(tasks, cache_root, executor=pool, video_executor=pool)
    finally:
        client.close()


def _in_process(executor: Executor) -> bool:
    return isinstance(executor, SerialExecutor | ThreadPoolExecutor)


def _is_dask(executor: Executor) -> bool:
    return type(executor).__module__.startswith("distributed")


# Below this many source bytes of photos in one run, starting worker processes (a forkserver, then
# an interpreter and Pillow in each) costs more than the photos take in this process.
POOL_MIN_BYTES = 8_000_000


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def default_jobs(jobs: int | None) -> int:
    return max(1, jobs if jobs else (os.cpu_count() or 1))


def _mp_context():
    # forkserver: children are forked from a clean server, never from this process while its
    # threads (video jobs, the progress display) may hold locks.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _process_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=_mp_context())


def run_tasks(tasks: list[MediaTask], cache_root: Path, jobs: int | None = None,
              executor: Executor | str | None = None, video_executor: Executor | None = None) -> list[dict]:
    """Run every task (failures included) and return one plain result dict per task, in order.

    ``executor`` runs photos (default: a process pool of ``jobs`` workers, or in-process for one
    job); ``video_executor`` runs videos (default: ``jobs`` threads, each driving ffmpeg). A string
    ``executor`` is a setting: ``local`` or ``dask://HOST[:PORT]`` (photos and videos on Dask).
    """
    if isinstance(executor, str):
        address = dask_address(executor)
        if address is not None and tasks:
            return _dask_run(tasks, cache_root, address)
        executor = None
    jobs = default_jobs(jobs)
    images = [(i, t) for i, t in enumerate(tasks) if t.kind == "image"]
    videos = [(i, t) for i, t in enumerate(tasks) if t.kind == "video"]
    results: list[dict | None] = [None] * len(tasks)
    owned: list[Executor] = []
    if images and executor is None:
        small = sum(_size(t.source) for _, t in images) < POOL_MIN_BYTES
        executor = SerialExecutor() if jobs == 1 or len(images) == 1 or small \
            else _process_pool(min(jobs, len(images)))
        owned.append(executor)
    if videos and video_executor is None:
        video_executor = SerialExecutor() if jobs == 1 else ThreadPoolExecutor(min(jobs, len(videos)),
                                                                               thread_name_prefix="zhuanti-video")
        owned.append(video_executor)
    manager = None
    drain: threading.Thread | None = None
    remote_queue = None
    root = str(cache_root)
    labels = {i: t.label or Path(t.source).name for i, t in videos}
    try:
        with _Bars(len(tasks)) as bars:
            def finished(index: int, future: Future) -> None:
                task = tasks[index]
                try:
                    results[index] = future.result()
                except BaseException as exc:  # noqa: BLE001 - a dead worker fails its file only
                    results[index] = _error(task.source, exc)
                if task.kind == "video":
                    bars.video_done(index)
                bars.advance()

            futures: list[Future] = []
            if videos:
                if _is_dask(video_executor):  # other machines: no way back for per-file progress
                    sink = None
                elif _in_process(video_executor):
                    sink: Any = _DirectSink(bars, labels)
                else:
                    manager = _mp_context().Manager()
                    remote_queue = manager.Queue()
                    sink = remote_queue
                    local = _DirectSink(bars, labels)

                    def pump() -> None:
                        while True:
                            try:
                                item = remote_queue.get()
                            except (EOFError, OSError):
                                return
                            if item is None:
                                return
                            local.put(item)

                    drain = threading.Thread(target=pump, name="zhuanti-video-progress", daemon=True)
                    drain.start()
            # Videos first: they are the long jobs, and their threads start at once beside the
            # photo processes.
            for i, t in videos:
                f = video_executor.submit(video_job, t.source, root, t.key, t.params, t.extra, sink, i, t.within)
                f.add_done_callback(lambda fut, i=i: finished(i, fut))
                futures.append(f)
            for i, t in images:
                f = executor.submit(image_job, t.source, root, t.key, t.params, t.extra)
                f.add_done_callback(lambda fut, i=i: finished(i, fut))
                futures.append(f)
            for f in futures:
                try:
                    f.result()
                except BaseException as exc:  # noqa: BLE001 - already recorded by finished()
                    if isinstance(exc, KeyboardInterrupt):
                        raise
    except BaseException:
        for ex in owned:
            ex.shutdown(wait=False, cancel_futures=True)
        owned = []
        raise
    finally:
        for ex in owned:
            ex.shutdown(wait=True)
        if remote_queue is not None:
            remote_queue.put(None)
            if drain is not None:
                drain.join(timeout=5)
        if manager is not None:
            manager.shutdown()
    return [r if r is not None else _error(t.source, RuntimeError("no result")) for r, t in zip(results, tasks,
                                                                                              strict=True)]


def error_from(result: dict) -> MediaError:
    """The MediaError a failed job result describes."""
    e = result["error"]
    return MediaError(e["message"], e.get("path") or result.get("source"), line=e.get("line"), hint=e.get("hint"))

