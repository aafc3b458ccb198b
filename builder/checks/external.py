"""External links (``check --external``): does every off-site URL still answer? ``ExternalLinkCheck``
collects URLs per page, then ``finish()`` runs one async HTTP pass (httpx) and reports
``link.external-dead``; a redirect that leaves the allowed domains, or a fetched title with
gambling/porn/ad words (an expired domain re-registered), is reported as ``link.external-domain``.

HEAD first, GET when the server refuses HEAD (403/405, and 400/404/501 from HEAD-hostile servers) and
to read the title of an HTML page (soft 404). Redirects are followed by hand, so loops and long chains
are findings. Each request has a timeout and one retry; each host has its own concurrency limit and
is given up after repeated timeouts; the whole pass has a deadline. Results that are not transient
are cached in sqlite under the cache folder for ``check.external_cache_hours``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html as htmllib
import re
import socket
import sqlite3
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from builder.checks.base import Finding, HtmlDoc, decode_html
from builder.checks.links import Locator, extract_links, shown
from builder.checks.urls import (
    MAX_URL_LENGTH,
    DomainPolicy,
    SiteOrigin,
    classify,
    find_keyword,
    keyword_category_name,
    normal_host,
)
from builder.config import CheckConfig, SiteConfig
from builder.errors import ConfigError
from builder.i18n import tr

CACHE_FILE = "external-links.sqlite"
USER_AGENT = "Mozilla/5.0 (compatible; zhuanti-linkcheck/0.1; +https://www.gov.cn/)"
TOTAL_CONNECTIONS = 32
TITLE_BYTES = 64 * 1024
RETRY_DELAY = 0.5
HOST_GIVE_UP = 3  # consecutive timeouts / refused connections after which a host's other URLs are not tried
HEAD_FALLBACK = frozenset({400, 403, 404, 405, 406, 429, 501})
OFFLINE_HOSTS = 3  # when this many different hosts all fail to connect, the fault is ours, not theirs
BLOCKED = frozenset({401, 403, 412, 429})  # the server refuses robots: unverifiable, not dead
_SOFT_404 = re.compile(r"页面不存在|页面未找到|找不到|无法找到|已删除|已失效|(?<!\d)404(?![\d号])|not\s+found", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one URL answered. ``reason`` is a code: ok, http, blocked, soft404, redirect-loop,
    redirects, timeout, dns, tls, connect, invalid, deadline."""

    reason: str
    status: int | None = None
    detail: str = ""
    final_url: str | None = None
    title: str | None = None
    left_allowed: str | None = None  # first redirect hop outside the allowed domains

    @property
    def ok(self) -> bool:
        return self.reason == "ok"

    @property
    def transient(self) -> bool:
        """Worth asking again on the next run rather than trusting the cache."""
        return self.reason in ("timeout", "dns", "connect", "blocked", "deadline") or (
            self.reason == "http" and (self.status or 0) >= 500)


class LinkCache:
    """sqlite cache of outcomes by URL; a broken or locked cache file only means no caching."""

    def __init__(self, path: Path, max_age_hours: float) -> None:
        self.max_age = max_age_hours * 3600
        self.db: sqlite3.Connection | None = None
        if self.max_age <= 0:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=5)
            self.db.execute("CREATE TABLE IF NOT EXISTS outcome (url TEXT PRIMARY KEY, checked REAL, reason TEXT, "
                            "status INTEGER, detail TEXT, final_url TEXT, title TEXT, left_allowed TEXT)")
        except (OSError, sqlite3.Error):
            self.close()

    def get(self, url: str) -> Outcome | None:
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT checked, reason, status, detail, final_url, title, left_allowed "
                                  "FROM outcome WHERE url = ?", (url,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or time.time() - row[0] > self.max_age:
            return None
        return Outcome(row[1], row[2], row[3] or "", row[4], row[5], row[6])

    def put(self, url: str, outcome: Outcome) -> None:
        if self.db is None or outcome.transient:
            return
        try:
            self.db.execute("INSERT OR REPLACE INTO outcome VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (url, time.time(), outcome.reason, outcome.status, outcome.detail, outcome.final_url,
                             outcome.title, outcome.left_allowed))
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self.db is not None:
            try:
                self.db.commit()
            except sqlite3.Error:
                pass
            finally:
                self.db.close()
                self.db = None


class ExternalLinkCheck:
    """link.external-dead: every off-site URL of the site, fetched once per run (or from the cache)."""

    def __init__(self, site: SiteConfig | None, cache_dir: Path) -> None:
        self.config = site.check if site is not None else CheckConfig()
        self.origin = SiteOrigin.of(site)
        self.policy = DomainPolicy.of(site)
        self.cache_path = Path(cache_dir) / CACHE_FILE
        self.exclude = []
        for pattern in self.config.external_exclude:
            try:
                self.exclude.append(re.compile(pattern))
            except re.error as exc:
                raise ConfigError(tr("check.external_exclude 中的正则表达式有误：{p}（{e}）",
                                     "check.external_exclude has a bad regular expression: {p} ({e})",
                                     p=pattern, e=exc),
                                  site.root / "site_src" / "site.toml" if site is not None else None,
                                  field="check.external_exclude",
                                  hint=tr("写成 Python 正则，例如 ^https://example\\.com/", "write a Python regular "
                                          "expression, e.g. ^https://example\\.com/")) from exc
        self.seen: dict[str, list[tuple[str, int | None]]] = {}  # URL → (page, line) of each page using it
        self.stats = {"urls": 0, "cached": 0, "fetched": 0}
        self.offline = False

    def page(self, doc: HtmlDoc) -> Iterable[Finding]:
        locator = Locator(doc)
        here: set[str] = set()
        for link in extract_links(doc):
            at = locator.find(link.raw)
            c = classify(link.raw, self.origin)
            if c.kind != "external" or c.parts.scheme.lower() not in ("http", "https", ""):
                continue
            url = c.url.split("#", 1)[0]
            if url.startswith("//"):
                url = ("https:" if self.origin.https else "http:") + url
            if url in here or len(url) > MAX_URL_LENGTH or any(p.search(url) for p in self.exclude):
                continue
            here.add(url)
            self.seen.setdefault(url, []).append((doc.rel, locator.line(at)))
        return ()

    def note(self) -> str:
        if not self.stats["urls"]:
            return ""
        if self.offline:
            return tr("外部链接：{n} 个，没有一个外部网站可以连接，本机可能没有网络；这些链接只记为警告",
                      "external links: {n}; no external site could be reached, this machine is probably "
                      "offline, so they are only warnings", n=self.stats["urls"])
        return tr("外部链接：{n} 个，其中 {c} 个取自缓存", "external links: {n}, {c} of them from the cache",
                  n=self.stats["urls"], c=self.stats["cached"])

    def finish(self) -> Iterable[Finding]:
        if not self.seen:
            return []
        cache = LinkCache(self.cache_path, self.config.external_cache_hours)
        try:
            outcomes: dict[str, Outcome] = {}
            todo = []
            for url in self.seen:
                cached = cache.get(url)
                if cached is not None:
                    outcomes[url] = cached
                else:
                    todo.append(url)
            self.stats.update(urls=len(self.seen), cached=len(outcomes), fetched=len(todo))
            if todo:
                fetched = _run_async(Fetcher(self.config, self.policy).run(todo))
                for url, outcome in fetched.items():
                    cache.put(url, outcome)
                outcomes.update(fetched)
                hosts = {urlsplit(url).hostname for url in todo}
                self.offline = len(hosts) >= OFFLINE_HOSTS and all(
                    o.reason in ("dns", "connect", "timeout") for o in fetched.values())
        finally:
            cache.close()
        findings = []
        for url, outcome in outcomes.items():
            for page, line in self.seen[url]:
                findings.extend(self._findings(url, outcome, page, line))
        return findings

    def _findings(self, url: str, outcome: Outcome, page: str, line: int | None) -> list[Finding]:
        out = []
        if outcome.left_allowed:
            out.append(Finding("link.external-domain", "warning", page, tr(
                "外部链接跳转到允许列表之外的域名 {h}（域名可能已易主）",
                "the external link redirects to {h}, outside the allowed domains (the domain may have changed "
                "hands)", h=outcome.left_allowed), line=line, target=shown(url), context=outcome.final_url))
        hit = find_keyword(outcome.title or "", short_words=False)
        if hit:
            out.append(Finding("link.external-domain", "error", page, tr(
                "外部链接页面的标题含有{c}类关键词“{w}”：{t}", "the title of the linked page contains the {c} "
                "keyword '{w}': {t}", c=keyword_category_name(hit[0]), w=hit[1], t=outcome.title),
                line=line, target=shown(url), suggestion=tr("删除此链接", "remove the link")))
        if outcome.ok:
            return out
        severity = {"blocked": "warning", "deadline": "info"}.get(outcome.reason, "error")
        if self.offline and outcome.reason in ("dns", "connect", "timeout"):
            severity = "warning"  # no site answered at all: this machine is offline, the links may be fine
        out.append(Finding("link.external-dead", severity, page, describe(outcome), line=line, target=shown(url),
                           context=outcome.final_url if outcome.final_url and outcome.final_url != url else None,
                           suggestion=_suggestion(outcome)))
        return out


# reason → (Chinese, English) message; {s} status, {t} page title, {d} detail
_MESSAGES = {
    "http": ("外部链接无法访问：HTTP {s}", "the external link is dead: HTTP {s}"),
    "blocked": ("外部网站拒绝了自动检查（HTTP {s}），请人工确认",
                "the external site refused the automatic check (HTTP {s}); check it by hand"),
    "soft404": ("外部链接返回 200，但页面标题表明页面不存在（软 404）：{t}",
                "the external link answers 200 but its title says the page does not exist (soft 404): {t}"),
    "redirect-loop": ("外部链接陷入重定向循环：{d}", "the external link redirects in a loop: {d}"),
    "redirects": ("外部链接重定向次数过多：{d}", "the external link redirects too many times: {d}"),
    "timeout": ("外部链接超时：{d}", "the external link timed out: {d}"),
    "dns": ("外部链接的域名无法解析（DNS 失败）：{d}", "the external link's domain does not resolve (DNS failure): {d}"),
    "tls": ("外部链接的 HTTPS 证书或加密连接有误（TLS 错误）：{d}",
            "the external link's HTTPS certificate or connection is broken (TLS error): {d}"),
    "connect": ("无法连接外部网站：{d}", "cannot connect to the external site: {d}"),
    "deadline": ("外部链接未检查：整体检查时限（check.external_deadline）已到",
                 "the external link was not checked: the overall deadline (check.external_deadline) was reached"),
    "invalid": ("外部链接地址无效：{d}", "the external link is not a valid URL: {d}"),
}


def describe(outcome: Outcome) -> str:
    """The reader's sentence for an outcome."""
    zh, en = _MESSAGES.get(outcome.reason, _MESSAGES["invalid"])
    return tr(zh, en, s=outcome.status, t=outcome.title, d=outcome.detail)


def _suggestion(outcome: Outcome) -> str:
    if outcome.reason in ("timeout", "connect", "blocked", "deadline"):
        return tr("稍后重新检查，或在浏览器中打开确认", "check again later, or open it in a browser")
    return tr("更新为有效地址，或删除此链接", "update the link to a working address, or remove it")


def _run_async(coro):
    """Run ``coro`` to completion, also when the caller is already inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Fetcher:
    """One async pass over a list of URLs."""

    def __init__(self, config: CheckConfig, policy: DomainPolicy) -> None:
        self.timeout = max(0.05, float(config.external_timeout))
        self.per_host = max(1, int(config.external_concurrency))
        self.deadline = max(0.1, float(config.external_deadline))
        self.max_redirects = max(0, int(config.external_max_redirects))
        self.policy = policy
        self._host_limits: dict[str, asyncio.Semaphore] = {}
        self._host_failures: dict[str, tuple[int, Outcome]] = {}

    async def run(self, urls: list[str]) -> dict[str, Outcome]:
        import httpx

        results: dict[str, Outcome] = {}
        limits = httpx.Limits(max_connections=TOTAL_CONNECTIONS, max_keepalive_connections=TOTAL_CONNECTIONS)
        total = asyncio.Semaphore(TOTAL_CONNECTIONS)
        headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                   "Accept-Language": "zh-CN,zh;q=0.9"}
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), limits=limits, headers=headers,
                                     follow_redirects=False) as client:
            tasks = {asyncio.create_task(self._one(client, total, url)): url for url in urls}
            done, pending = await asyncio.wait(tasks, timeout=self.deadline)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            for task, url in tasks.items():
                if task in done and not task.cancelled() and task.exception() is None:
                    results[url] = task.result()
                elif task in done and not task.cancelled():
                    results[url] = Outcome("invalid", detail=f"{type(task.exception()).__name__}: {task.exception()}")
                else:
                    results[url] = Outcome("deadline")
        return results

    async def _one(self, client, total: asyncio.Semaphore, url: str) -> Outcome:
        host = normal_host(urlsplit(url).hostname or "")
        limit = self._host_limits.setdefault(host, asyncio.Semaphore(self.per_host))
        async with limit:
            failures = self._host_failures.get(host)
            if failures and failures[0] >= HOST_GIVE_UP:
                first = failures[1]
                return Outcome(first.reason, first.status, tr(
                    "{d}（该网站已连续 {n} 次无响应，未再尝试）", "{d} (the site failed {n} times in a row; not tried "
                    "again)", d=first.detail, n=failures[0]))
            async with total:
                outcome = await self._fetch(client, url)
                if outcome.reason in ("timeout", "connect", "dns") or (outcome.reason == "http"
                                                                        and (outcome.status or 0) >= 500):
                    await asyncio.sleep(RETRY_DELAY)
                    outcome = await self._fetch(client, url)
            if outcome.reason in ("timeout", "connect", "dns"):
                failures = self._host_failures.get(host)  # other URLs of the host may have failed meanwhile
                count = (failures[0] if failures else 0) + 1
                self._host_failures[host] = (count, failures[1] if failures else outcome)
            else:
                self._host_failures.pop(host, None)
            return outcome

    async def _fetch(self, client, url: str) -> Outcome:
        outcome = await self._follow(client, "HEAD", url)
        if outcome.reason in ("http", "blocked") and outcome.status in HEAD_FALLBACK:
            return await self._follow(client, "GET", url)
        if outcome.ok and outcome.title == "":  # an HTML page: read its title (soft 404)
            return await self._follow(client, "GET", url)
        return outcome

    async def _follow(self, client, method: str, url: str) -> Outcome:
        chain = [url]
        current = url
        left_allowed = None
        start_allowed = self.policy.allows(urlsplit(url).hostname or "")
        for _ in range(self.max_redirects + 1):
            try:
                outcome, location = await asyncio.wait_for(self._request(client, method, current), self.timeout)
            except TimeoutError:
                return Outcome("timeout", detail=tr("{t} 秒内无响应", "no answer within {t} s", t=self.timeout),
                               final_url=current)
            except Exception as exc:  # noqa: BLE001 - every network failure becomes an outcome
                return _failure(exc, current)
            if location is None:
                return Outcome(outcome.reason, outcome.status, outcome.detail, current, outcome.title, left_allowed)
            nxt = urljoin(current, location)
            host = urlsplit(nxt).hostname or ""
            if start_allowed and left_allowed is None and not self.policy.allows(host):
                left_allowed = normal_host(host)
            if nxt in chain:
                return Outcome("redirect-loop", outcome.status, " → ".join([*chain, nxt]), current,
                               left_allowed=left_allowed)
            chain.append(nxt)
            current = nxt
        return Outcome("redirects", None, tr("超过 {n} 次：{c}", "more than {n}: {c}", n=self.max_redirects,
                                            c=" → ".join(chain)), current, left_allowed=left_allowed)

    async def _request(self, client, method: str, url: str) -> tuple[Outcome, str | None]:
        """One request: (outcome, redirect location or None). ``title`` is "" for an HTML page not yet read."""
        response = await client.send(client.build_request(method, url), stream=True)
        try:
            status = response.status_code
            location = response.headers.get("location")
            if 300 <= status < 400 and location:
                return Outcome("redirect", status), location
            if status in BLOCKED:
                return Outcome("blocked", status), None
            if status >= 400:
                return Outcome("http", status), None
            html = "html" in response.headers.get("content-type", "html").lower()
            if not html:
                return Outcome("ok", status), None
            if method == "HEAD":
                return Outcome("ok", status, title=""), None
            data = b""
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) >= TITLE_BYTES:
                    break
            title = page_title(data)
            if title and _SOFT_404.search(title):
                return Outcome("soft404", status, title=title), None
            return Outcome("ok", status, title=title), None
        finally:
            await response.aclose()


def page_title(data: bytes) -> str | None:
    m = _TITLE.search(decode_html(data))
    return re.sub(r"\s+", " ", htmllib.unescape(m.group(1))).strip()[:200] if m else None


def _failure(exc: BaseException, url: str) -> Outcome:
    """Name the cause of a network exception: DNS, TLS, refused, timeout or an invalid URL."""
    chain = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = str(chain[-1]) or type(chain[-1]).__name__
    names = {type(x).__name__ for x in chain}
    if any(isinstance(x, socket.gaierror) for x in chain):
        return Outcome("dns", detail=text, final_url=url)
    if any(isinstance(x, ssl.SSLError | ssl.CertificateError) for x in chain) or "SSL" in text or "certificate" in text:
        return Outcome("tls", detail=text, final_url=url)
    if any("Timeout" in n for n in names) or any(isinstance(x, TimeoutError) for x in chain):
        return Outcome("timeout", detail=text, final_url=url)
    if any(isinstance(x, OSError) for x in chain) or names & {"ConnectError", "ReadError", "RemoteProtocolError",
                                                              "WriteError", "NetworkError", "ProxyError"}:
        return Outcome("connect", detail=text, final_url=url)
    return Outcome("invalid", detail=f"{type(exc).__name__}: {text}", final_url=url)
