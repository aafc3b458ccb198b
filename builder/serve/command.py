"""``zhuanti serve``: check the options, bind the port, build once, serve until Ctrl-C."""

from __future__ import annotations

import errno
import ipaddress
import socket
from urllib.parse import urlsplit

import tornado.netutil

from builder import ui
from builder.config import load_site_config
from builder.errors import ConfigError
from builder.i18n import tr
from builder.serve.channels import CHANNELS
from builder.serve.session import Outcome, PreviewSession

DEFAULT_PORT = 8000
VIA = {"auto": CHANNELS, "sse": ("sse", "poll"), "poll": ("poll",)}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_path_of(value: str | None) -> str:
    """``--base-path``: the path prefix a reverse proxy keeps in front of the pages (``/preview/``)."""
    path = (value or "/").strip()
    if "://" in path or "?" in path or "#" in path or ".." in path.split("/") or "\\" in path:
        raise ConfigError(tr("--base-path 只能是路径，例如 /preview/", "--base-path must be a path such as /preview/"),
                          "--base-path")
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


def reload_url_of(value: str | None) -> str | None:
    """``--reload-url``: where browsers reach the reload channel when a proxy puts it elsewhere."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("", "http", "https", "ws", "wss") or parts.query or parts.fragment:
        raise ConfigError(tr("--reload-url 必须是 http(s):// 地址或以 / 开头的路径",
                             "--reload-url must be an http(s):// URL or a path starting with /"), "--reload-url")
    if parts.scheme in ("ws", "wss"):
        value = ("https" if parts.scheme == "wss" else "http") + value[len(parts.scheme):]
    elif not parts.scheme and not value.startswith("/"):
        raise ConfigError(tr("--reload-url 必须是 http(s):// 地址或以 / 开头的路径",
                             "--reload-url must be an http(s):// URL or a path starting with /"), "--reload-url")
    return value.rstrip("/") + "/"


def bind(host: str, port: int) -> list[socket.socket]:
    """The listening sockets; a port in use is a usage error naming a free one to try."""
    if not 0 <= port <= 65535:
        raise ConfigError(tr("端口必须在 0–65535 之间：{p}", "the port must be between 0 and 65535: {p}", p=port), "--port")
    try:
        return tornado.netutil.bind_sockets(port, address=host, reuse_port=False)
    except socket.gaierror as exc:
        raise ConfigError(tr("无法识别的地址 {h}：{e}", "unknown host {h}: {e}", h=host, e=exc.strerror), "--host") from exc
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            free = free_port(host, port)
            raise ConfigError(
                tr("端口 {p} 已被占用（也许另一个 zhuanti serve 正在运行）", "port {p} is already in use "
                   "(perhaps another zhuanti serve is running)", p=port), "--port",
                hint=tr("换一个端口，例如：zhuanti serve --port {f}", "use another port, e.g. zhuanti serve --port {f}",
                        f=free)) from exc
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ConfigError(tr("没有权限使用端口 {p}（1024 以下的端口需要管理员权限）",
                                 "no permission to use port {p} (ports below 1024 need administrator rights)",
                                 p=port), "--port", hint=tr("例如：--port {d}", "e.g. --port {d}", d=DEFAULT_PORT)) from exc
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(tr("本机没有地址 {h}", "this machine has no address {h}", h=host), "--host") from exc
        raise


def free_port(host: str, start: int) -> int:
    """The first port after ``start`` that can be bound now (0 when none of the next 50 can)."""
    for port in range(start + 1, min(start + 51, 65536)):
        try:
            for s in tornado.netutil.bind_sockets(port, address=host, reuse_port=False):
                s.close()
            return port
        except OSError:
            continue
    return 0


def address(sockets: list[socket.socket], host: str, base_path: str) -> str:
    port = sockets[0].getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{base_path}"


def serve_command(args) -> int:
    from builder.serve.server import PreviewServer

    cfg = load_site_config(args.root)
    base_path = base_path_of(args.base_path)
    reload_url = reload_url_of(args.reload_url)
    if not is_loopback(args.host):
        ui.warn(tr("警告：预览将对网络开放（--host {h}）。预览包含草稿和未发布页面，只应在可信网络中使用。",
                   "warning: the preview is open to the network (--host {h}). It shows drafts and unpublished "
                   "pages: use it on a trusted network only.", h=args.host))
    sockets = bind(args.host, args.port)
    session = PreviewSession(args.root, cfg)  # the first build takes the site's lock (SiteLocked: exit 1)
    session.reload_url = reload_url
    try:
        ui.say(tr("首次构建预览…", "first build of the preview…"))
        report_outcome(session.rebuild(None), first=True)
        server = PreviewServer(session, sockets, base_path=base_path, channels=VIA[args.reload_via],
                               on_rebuild=report_outcome)
        ui.say(tr("预览地址：{u}  （保存文件后页面自动刷新；按 Ctrl-C 停止）",
                  "preview at {u}  (pages reload when you save; Ctrl-C stops)", u=address(sockets, args.host, base_path)),
               style="bold")
        server.run()
    finally:
        for s in sockets:
            s.close()
        session.close()
    ui.summary(tr("预览已停止：共重建 {n} 次", "preview stopped after {n} rebuild(s)", n=session.rebuilds))
    return 0


def report_outcome(outcome: Outcome, first: bool = False) -> None:
    """One line per rebuild in the terminal (the browser shows the details)."""
    if not outcome.ok:
        for p in outcome.problems:
            loc = (p.file or "") + (f":{p.line}" if p.line else "")
            ui.error((loc + ": " if loc else "") + p.message)
        ui.error(tr("构建失败（{t:.2f} 秒）：浏览器中显示错误，改正后自动恢复",
                    "build failed ({t:.2f}s): the browser shows the error; it recovers when the file is fixed",
                    t=outcome.seconds))
        return
    for p in outcome.problems:
        ui.warn((p.file + ": " if p.file else "") + p.message)
    if first:
        ui.say(tr("构建完成（{t:.2f} 秒）", "built in {t:.2f}s", t=outcome.seconds))
    else:
        ui.say(tr("已重建（{t:.2f} 秒）：{n} 个文件有变化", "rebuilt in {t:.2f}s: {n} file(s) changed",
                  t=outcome.seconds, n=len(outcome.changed)))
