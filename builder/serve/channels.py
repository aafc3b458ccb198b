"""The reload channel, three ways: WebSocket, then Server-Sent Events, then long-polling, so a
browser behind a proxy that blocks one still gets reloads. Every message carries a version; a
client says the last version it saw (``since``) and gets what it missed, merged into one message."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from urllib.parse import urlsplit

import tornado.web
import tornado.websocket
from tornado.iostream import StreamClosedError

KEEP_ALIVE_S = 15  # an SSE comment this often keeps proxies from closing an idle stream
POLL_WAIT_S = 25  # a long-poll answers at least this often (below common proxy timeouts)
CHANNELS = ("ws", "sse", "poll")


class Hub:
    """The messages of the last rebuilds and the clients listening. Lives on the server's event
    loop: other threads hand messages over with ``loop.call_soon_threadsafe(hub.publish, m)``."""

    KEEP = 64

    def __init__(self, boot: str, version: int = 0) -> None:
        self.boot = boot
        self.version = version
        self.messages: deque[dict] = deque(maxlen=self.KEEP)
        self.listeners: set = set()  # callables taking a message (None: the server is stopping)
        self.closed = False

    def hello(self) -> dict:
        return {"type": "hello", "boot": self.boot, "version": self.version}

    def publish(self, message: dict) -> None:
        self.version = message["version"]
        self.messages.append(message)
        for listener in list(self.listeners):
            listener(message)

    def since(self, version: int) -> dict | None:
        """What a client that saw ``version`` missed, as one message (None: nothing)."""
        newer = [m for m in self.messages if m["version"] > version]
        if not newer:
            return None
        latest = dict(newer[-1])
        if latest["type"] == "reload":
            complete = newer[0]["version"] == version + 1 and version > 0
            latest["all"] = not complete or any(m["all"] or m["type"] == "error" for m in newer)
            latest["changed"] = sorted({c for m in newer for c in m.get("changed", ())})
        return latest

    def close(self) -> None:
        self.closed = True
        for listener in list(self.listeners):
            listener(None)
        self.listeners.clear()


def _since(handler: tornado.web.RequestHandler) -> int:
    raw = handler.request.headers.get("Last-Event-ID") or handler.get_argument("since", "0")
    try:
        return max(0, int(raw))
    except ValueError:
        return 0


class SocketChannel(tornado.websocket.WebSocketHandler):
    def initialize(self, hub: Hub) -> None:
        self.hub = hub

    def check_origin(self, origin: str) -> bool:
        """Only pages of this preview may listen (another site's page in the same browser may not);
        behind a proxy the page's host arrives as X-Forwarded-Host."""
        host = urlsplit(origin).netloc.lower()
        allowed = {self.request.host.lower(), self.request.headers.get("X-Forwarded-Host", "").lower()}
        return bool(host) and host in allowed

    def open(self) -> None:
        self.send(self.hub.hello())
        missed = self.hub.since(_since(self))
        if missed:
            self.send(missed)
        self.hub.listeners.add(self.send)

    def send(self, message: dict | None) -> None:
        if message is None:
            self.close()
            return
        try:
            self.write_message(json.dumps(message, ensure_ascii=False))
        except tornado.websocket.WebSocketClosedError:
            self.hub.listeners.discard(self.send)

    def on_message(self, message) -> None:
        pass  # clients only listen

    def on_close(self) -> None:
        self.hub.listeners.discard(self.send)


class EventChannel(tornado.web.RequestHandler):
    """Server-Sent Events: one long response; the browser's EventSource reconnects by itself and
    sends Last-Event-ID, so nothing is missed across a reconnect."""

    def initialize(self, hub: Hub) -> None:
        self.hub = hub
        self.queue: asyncio.Queue = asyncio.Queue()

    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")  # nginx: do not hold the stream back
        self.hub.listeners.add(self.queue.put_nowait)
        try:
            self.event(self.hub.hello())
            missed = self.hub.since(_since(self))
            if missed:
                self.event(missed)
            await self.flush()
            while not self.hub.closed:
                try:
                    message = await asyncio.wait_for(self.queue.get(), KEEP_ALIVE_S)
                except TimeoutError:
                    self.write(": keep-alive\n\n")
                else:
                    if message is None:
                        break
                    self.event(message)
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            self.hub.listeners.discard(self.queue.put_nowait)

    def event(self, message: dict) -> None:
        head = f"id: {message['version']}\n" if message.get("type") != "hello" else "retry: 1000\n"
        self.write(head + "data: " + json.dumps(message, ensure_ascii=False) + "\n\n")

    def on_connection_close(self) -> None:
        self.queue.put_nowait(None)


class PollChannel(tornado.web.RequestHandler):
    """Long-polling: answers at once with what the client missed, else when the next rebuild is
    done (or after POLL_WAIT_S with nothing). Works through any proxy that passes plain requests."""

    def initialize(self, hub: Hub) -> None:
        self.hub = hub
        self.waiter: asyncio.Future | None = None
        self.gone = False

    async def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        since = _since(self)
        message = self.hub.since(since)
        # The first request of a client (?hello=1) is answered at once, so it knows the channel works;
        # so is a client ahead of us (served by an earlier run of the server: hello → reload).
        first = self.get_argument("hello", "") == "1"
        if message is None and not first and since <= self.hub.version and not self.hub.closed:
            loop = asyncio.get_running_loop()
            self.waiter = loop.create_future()

            def wake(m: dict | None, waiter=self.waiter) -> None:
                if not waiter.done():
                    waiter.set_result(m)

            self.hub.listeners.add(wake)
            try:
                message = await asyncio.wait_for(self.waiter, POLL_WAIT_S)
            except (TimeoutError, asyncio.CancelledError):
                message = None
            finally:
                self.hub.listeners.discard(wake)
        if self.gone:
            return
        self.write({"hello": self.hub.hello(), "message": message})

    def on_connection_close(self) -> None:
        self.gone = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
