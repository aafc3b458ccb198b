"""The preview's HTTP side (tornado): the output folder — confined to it, pages decorated on the
way out — the reload client, and the reload channels; started and stopped cleanly."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import signal
import socket
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import tornado.httpserver
import tornado.web

from builder.content.loader import theme_dir
from builder.i18n import tr
from builder.serve.channels import CHANNELS, EventChannel, Hub, PollChannel, SocketChannel
from builder.serve.session import CLIENT_PATH, Outcome, PreviewSession, inject, release_memory
from builder.serve.watch import SourceFilter, Watcher, watched_folders

HTML_SUFFIXES = (".html", ".htm")
# mimetypes on Linux guesses .ts as Qt translations and may not know .webp/.vtt/.m3u8.
_TYPES = {".ts": "video/mp2t", ".m3u8": "application/vnd.apple.mpegurl", ".vtt": "text/vtt; charset=utf-8",
          ".webp": "image/webp", ".mp4": "video/mp4", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml"}


def confined(root: str, path: str) -> bool:
    """Whether ``path``, symlinks resolved, is ``root`` or inside it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


class OutputFiles(tornado.web.StaticFileHandler):
    """Files of the preview output. Never anything outside it: ``..`` (also percent-encoded, which
    the router has decoded by now), NUL, backslashes and symlinks that lead out are all 404."""

    def initialize(self, session: PreviewSession) -> None:  # type: ignore[override]
        super().initialize(path=str(session.output), default_filename="index.html")
        self.session = session

    def parse_url_path(self, url_path: str) -> str:
        if "\x00" in url_path or "\\" in url_path or ".." in url_path.split("/"):
            raise tornado.web.HTTPError(404)
        return super().parse_url_path(url_path)

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if not confined(root, absolute_path):
            raise tornado.web.HTTPError(404)
        path = super().validate_absolute_path(root, absolute_path)
        if path is not None and not confined(root, path):  # index.html itself a link out
            raise tornado.web.HTTPError(404)
        return path

    async def get(self, path: str, include_body: bool = True) -> None:
        self.path = self.parse_url_path(path)
        absolute = self.validate_absolute_path(self.root, self.get_absolute_path(self.root, self.path))
        if absolute is None:
            return  # redirected to the folder URL
        self.absolute_path = absolute
        if not absolute.endswith(HTML_SUFFIXES):
            await super().get(path, include_body)
            return
        try:
            data = Path(absolute).read_bytes()
        except OSError as exc:  # replaced between the check and the read (a rebuild): try again later
            raise tornado.web.HTTPError(404) from exc
        body = self.session.page(Path(os.path.relpath(absolute, self.root)).as_posix(), data)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        if include_body:
            self.write(body)
        else:
            self.set_header("Content-Length", len(body))

    def compute_etag(self) -> str | None:
        # By size and modification time: tornado's default hashes each file once per process and
        # would answer 304 with the old photo after a rebuild replaced it. Pages: no validator.
        path = getattr(self, "absolute_path", None)
        if not path or path.endswith(HTML_SUFFIXES) or self.get_status() != 200:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        return f'"{st.st_size:x}-{st.st_mtime_ns:x}"'

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")

    def get_content_type(self) -> str:
        suffix = os.path.splitext(self.absolute_path or "")[1].lower()
        return _TYPES.get(suffix) or mimetypes.guess_type(self.absolute_path or "")[0] or "application/octet-stream"

    def write_error(self, status_code: int, **kwargs) -> None:
        not_found_page(self, status_code)


class NotFound(tornado.web.RequestHandler):
    def prepare(self) -> None:
        raise tornado.web.HTTPError(404)

    def write_error(self, status_code: int, **kwargs) -> None:
        not_found_page(self, status_code)


def not_found_page(handler: tornado.web.RequestHandler, status_code: int) -> None:
    """A small page in the staff's language, with the reload client: it turns into the page as soon
    as a rebuild makes it (and shows the overlay while the build is failing)."""
    session: PreviewSession | None = getattr(handler, "session", None) or handler.application.settings.get("session")
    title = tr("页面不存在", "page not found") if status_code == 404 else tr("无法显示", "cannot be shown")
    text = tr("预览中没有这个地址。新建的页面保存后会自动出现在这里。",
              "the preview has no page at this address. A new page appears here by itself once it is saved.")
    html = (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            f'<body style="font:16px/1.6 system-ui,sans-serif;margin:10vh auto;max-width:40em;padding:0 1em">'
            f'<h1>{status_code} {title}</h1><p>{text}</p></body></html>')
    if session is not None and status_code == 404:
        base = handler.application.settings.get("base_path", "/")
        path = handler.request.path
        rel = path[len(base):] if path.startswith(base) else ""
        html = inject(html, rel, session.outcome, session.boot, session.reload_url, page="")
    handler.set_header("Content-Type", "text/html; charset=utf-8")
    handler.set_header("Cache-Control", "no-store")
    handler.finish(html)


class ClientScript(tornado.web.RequestHandler):
    def initialize(self, script: bytes) -> None:
        self.script = script

    def get(self) -> None:
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.write(self.script)


def client_script() -> bytes:
    return resources.files("builder.serve").joinpath("client.js").read_bytes()


def make_app(session: PreviewSession, hub: Hub, *, base_path: str = "/",
             channels: tuple[str, ...] = CHANNELS) -> tornado.web.Application:
    prefix = re.escape(base_path) + re.escape(CLIENT_PATH)
    routes: list = [(prefix + "client.js", ClientScript, {"script": client_script()})]
    for name, handler in (("ws", SocketChannel), ("sse", EventChannel), ("poll", PollChannel)):
        if name in channels:  # a channel left out answers 404, as a proxy that blocks it would
            routes.append((prefix + {"ws": "ws", "sse": "events", "poll": "poll"}[name], handler, {"hub": hub}))
    if base_path != "/":
        routes.append((re.escape(base_path.rstrip("/")), tornado.web.RedirectHandler, {"url": base_path}))
    routes.append((re.escape(base_path) + "(.*)", OutputFiles, {"session": session}))
    return tornado.web.Application(routes, default_handler_class=NotFound, session=session, base_path=base_path,
                                   websocket_ping_interval=20, compress_response=False, serve_traceback=False,
                                   log_function=_log)


def _log(handler: tornado.web.RequestHandler) -> None:
    """Only server faults reach the terminal (a missing favicon is not the staff's concern)."""
    if handler.get_status() >= 500:
        tornado.web.app_log.error("%d %s", handler.get_status(), handler._request_summary())


class PreviewServer:
    """Serves a session on bound sockets, rebuilds on changes, until ``stop()`` (or SIGINT/SIGTERM)."""

    def __init__(self, session: PreviewSession, sockets: list[socket.socket], *, base_path: str = "/",
                 channels: tuple[str, ...] = CHANNELS, step_ms: int | None = None,
                 on_rebuild: Callable[[Outcome], None] | None = None) -> None:
        self.session = session
        self.sockets = sockets
        self.base_path = base_path
        self.channels = channels
        self.step_ms = step_ms
        self.on_rebuild = on_rebuild
        self.loop: asyncio.AbstractEventLoop | None = None
        self.hub = Hub(session.boot, session.outcome.version)
        self.watcher: Watcher | None = None
        self._stopped: asyncio.Event | None = None
        self.started = threading.Event()

    def run(self, install_signals: bool = True) -> None:
        asyncio.run(self._main(install_signals))

    def stop(self) -> None:
        """Thread-safe and signal-safe."""
        loop, stopped = self.loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)

    async def _main(self, install_signals: bool) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        app = make_app(self.session, self.hub, base_path=self.base_path, channels=self.channels)
        server = tornado.httpserver.HTTPServer(app, xheaders=False)
        server.add_sockets(self.sockets)
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.loop.add_signal_handler(sig, self._stopped.set)
        session = self.session
        extra = [theme_dir(session.cfg)]
        ignored = [session.output, session.cfg.cache_dir, session.cfg.output_dir]
        kwargs = {"step_ms": self.step_ms} if self.step_ms else {}
        self.watcher = Watcher(watched_folders(session.root, extra), SourceFilter(session.root, ignored),
                               self._changed, **kwargs)
        self.watcher.start()
        self.started.set()
        try:
            await self._stopped.wait()
        finally:
            self.session.closing = True
            self.watcher.stop()
            server.stop()
            self.hub.close()
            try:
                await asyncio.wait_for(server.close_all_connections(), 2)
            except TimeoutError:
                pass
            if install_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    self.loop.remove_signal_handler(sig)
            await asyncio.to_thread(self.watcher.join, 5)

    def _changed(self, paths: set[Path]) -> None:
        """On the watcher thread: rebuild, then tell the browsers (on the server's loop)."""
        outcome = self.session.rebuild(paths)
        if self.on_rebuild is not None:
            self.on_rebuild(outcome)
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self.hub.publish, outcome.message())
            except RuntimeError:
                pass  # the loop closed meanwhile: the server is stopping
        if outcome.ok:
            self.session.read_sources()  # after the browsers were told: it never delays them
        release_memory()
