"""--external: a real HTTP server on 127.0.0.1 answers ok, 404, 405-on-HEAD, redirects, loops, soft 404s
and never; every dead link is a link.external-dead finding with a clear reason, and nothing hangs."""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from builder.checks import external
from builder.checks.base import HtmlDoc
from builder.checks.external import CACHE_FILE, ExternalLinkCheck, page_title
from builder.config import CheckConfig, SiteConfig


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _route(self, head: bool):
        server = self.server
        server.hits[(self.command, self.path)] += 1
        html = {"Content-Type": "text/html; charset=utf-8"}
        path = self.path
        if path == "/ok":
            return self._send(200, "<html><title>正常页面</title></html>".encode(), html, head)
        if path == "/pdf":
            return self._send(200, b"%PDF-1.4", {"Content-Type": "application/pdf"}, head)
        if path == "/missing":
            return self._send(404, b"gone", html, head)
        if path == "/nohead":
            if head:
                return self._send(405, b"", html, head)
            return self._send(200, b"<title>ok</title>", html)
        if path == "/r1":
            return self._send(302, b"", {"Location": "/r2"}, head)
        if path == "/r2":
            return self._send(301, b"", {"Location": f"http://127.0.0.1:{server.server_port}/ok"}, head)
        if path == "/loop1":
            return self._send(302, b"", {"Location": "/loop2"}, head)
        if path == "/loop2":
            return self._send(302, b"", {"Location": "/loop1"}, head)
        if path == "/away":
            return self._send(302, b"", {"Location": f"http://localhost:{server.server_port}/ok"}, head)
        if path == "/soft404":
            return self._send(200, "<html><head><title>页面不存在 - 某某网</title></head></html>".encode(), html, head)
        if path == "/casino":
            return self._send(200, "<title>澳门葡京 真人娱乐</title>".encode(), html, head)
        if path == "/forbidden":
            return self._send(403, b"waf", html, head)
        if path == "/error":
            return self._send(503, b"busy", html, head)
        if path.startswith("/hang"):
            server.release.wait(10)  # answers only when the test ends
            return None
        return self._send(404, b"", html, head)

    def do_HEAD(self):
        self._route(head=True)

    def do_GET(self):
        self._route(head=False)


@pytest.fixture(autouse=True)
def quick_retry(monkeypatch):
    monkeypatch.setattr(external, "RETRY_DELAY", 0.05)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # clients that give up on /hang reset the connection
        pass


@pytest.fixture
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.hits = Counter()
    httpd.release = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


def site(**check) -> SiteConfig:
    check.setdefault("external_timeout", 2.0)
    check.setdefault("allowed_domains", ["127.0.0.1", "gov.cn"])
    return SiteConfig(base_url="https://www.example.gov.cn/", check=CheckConfig(**check))


def run(tmp_path, urls: list[str], cfg: SiteConfig | None = None, pages: int = 1):
    root = tmp_path / "public"
    root.mkdir(exist_ok=True)
    check = ExternalLinkCheck(cfg or site(), tmp_path / "cache")
    for n in range(pages):
        links = "\n".join(f'<a href="{u}">链接{i}</a>' for i, u in enumerate(urls))
        path = root / f"p{n}.html"
        path.write_text(f"<!doctype html><html><head><title>t</title></head><body>\n{links}\n</body></html>",
                        encoding="utf-8")
        assert list(check.page(HtmlDoc.load(root, path))) == []
    return check, list(check.finish())


def by_target(findings):
    return {f.target: f for f in findings}


def test_dead_and_living_links(tmp_path, server):
    base = f"http://127.0.0.1:{server.server_port}"
    urls = [f"{base}/ok", f"{base}/pdf", f"{base}/missing", f"{base}/nohead", f"{base}/r1", f"{base}/loop1",
            f"{base}/soft404", f"{base}/ok#frag"]
    _, findings = run(tmp_path, urls)
    found = by_target(findings)
    assert set(found) == {f"{base}/missing", f"{base}/loop1", f"{base}/soft404"}
    assert all(f.rule == "link.external-dead" and f.severity == "error" for f in findings)
    assert "HTTP 404" in found[f"{base}/missing"].message
    assert found[f"{base}/missing"].line == 4 and found[f"{base}/missing"].page == "p0.html"
    assert "重定向循环" in found[f"{base}/loop1"].message and "/loop2" in found[f"{base}/loop1"].message
    assert "软 404" in found[f"{base}/soft404"].message and "页面不存在" in found[f"{base}/soft404"].message
    # 405 on HEAD fell back to GET; the soft-404 page was read with GET
    assert server.hits[("HEAD", "/nohead")] >= 1 and server.hits[("GET", "/nohead")] >= 1
    assert server.hits[("GET", "/pdf")] == 0  # not HTML: HEAD is enough


def test_every_page_using_a_dead_link_is_named(tmp_path, server):
    url = f"http://127.0.0.1:{server.server_port}/missing"
    _, findings = run(tmp_path, [url, url], pages=3)
    assert sorted(f.page for f in findings) == ["p0.html", "p1.html", "p2.html"]
    assert server.hits[("HEAD", "/missing")] == 1 and server.hits[("GET", "/missing")] == 1


def test_too_many_redirects(tmp_path, server):
    url = f"http://127.0.0.1:{server.server_port}/r1"
    _, findings = run(tmp_path, [url], site(external_max_redirects=1))
    (f,) = findings
    assert "重定向次数过多" in f.message


def test_redirect_out_of_the_allowed_domains(tmp_path, server):
    url = f"http://127.0.0.1:{server.server_port}/away"
    _, findings = run(tmp_path, [url])
    (f,) = findings
    assert (f.rule, f.severity) == ("link.external-domain", "warning") and "localhost" in f.message


def test_title_with_gambling_words(tmp_path, server):
    url = f"http://127.0.0.1:{server.server_port}/casino"
    (f,) = run(tmp_path, [url])[1]
    assert (f.rule, f.severity) == ("link.external-domain", "error") and "葡京" in f.message


def test_waf_refusal_is_a_warning_and_server_error_is_retried(tmp_path, server):
    base = f"http://127.0.0.1:{server.server_port}"
    found = by_target(run(tmp_path, [f"{base}/forbidden", f"{base}/error"])[1])
    assert found[f"{base}/forbidden"].severity == "warning" and "403" in found[f"{base}/forbidden"].message
    assert found[f"{base}/error"].severity == "error" and "503" in found[f"{base}/error"].message
    assert server.hits[("GET", "/error")] == 0 and server.hits[("HEAD", "/error")] == 2  # one retry


def test_hanging_host_is_bounded_by_the_timeout(tmp_path, server):
    base = f"http://127.0.0.1:{server.server_port}"
    _, findings = run(tmp_path, [f"{base}/hang", f"{base}/ok"], site(external_timeout=0.6))
    (f,) = findings
    assert f.target == f"{base}/hang" and "超时" in f.message and f.severity == "error"


def test_a_host_that_keeps_timing_out_is_given_up(tmp_path, server):
    base = f"http://127.0.0.1:{server.server_port}"
    urls = [f"{base}/hang{i}" for i in range(8)]
    _, findings = run(tmp_path, urls, site(external_timeout=0.2, external_concurrency=1))
    assert len(findings) == 8 and all("超时" in f.message for f in findings)
    assert sum("未再尝试" in f.message for f in findings) == 5
    assert sum(n for (m, p), n in server.hits.items() if p.startswith("/hang")) <= 6  # 3 URLs × (try + retry)


def test_overall_deadline(tmp_path, server):
    base = f"http://127.0.0.1:{server.server_port}"
    _, findings = run(tmp_path, [f"{base}/hang"], site(external_timeout=30, external_deadline=0.3))
    (f,) = findings
    assert f.severity == "info" and "external_deadline" in f.message


def test_tls_error(tmp_path, server):
    url = f"https://127.0.0.1:{server.server_port}/ok"  # a plain-HTTP server addressed with https://
    (f,) = run(tmp_path, [url])[1]
    assert "TLS" in f.message and f.severity == "error"


def test_dns_failure_and_refused_connection(tmp_path, server):
    found = by_target(run(tmp_path, ["http://no-such-host.invalid/", "http://127.0.0.1:1/"], site(
        allowed_domains=["invalid", "127.0.0.1"]))[1])
    assert "DNS" in found["http://no-such-host.invalid/"].message
    assert "无法连接" in found["http://127.0.0.1:1/"].message


def test_results_are_cached_between_runs(tmp_path, server):
    base = f"http://127.0.0.1:{server.server_port}"
    urls = [f"{base}/ok", f"{base}/missing", f"{base}/error"]
    check, first = run(tmp_path, urls)
    assert (tmp_path / "cache" / CACHE_FILE).is_file()
    hits = dict(server.hits)
    check, second = run(tmp_path, urls)
    assert sorted(f.target for f in second) == sorted(f.target for f in first)
    new_hits = {k: n - hits.get(k, 0) for k, n in server.hits.items() if n - hits.get(k, 0)}
    assert set(new_hits) == {("HEAD", "/error")}  # transient failures are asked again, the rest comes from cache
    assert "缓存" in check.note()
    # max age 0 disables the cache
    run(tmp_path, urls, site(external_cache_hours=0))
    assert server.hits[("HEAD", "/ok")] == hits[("HEAD", "/ok")] + 1


def test_corrupt_cache_file_only_disables_caching(tmp_path, server):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / CACHE_FILE).write_bytes(b"this is not sqlite" * 100)
    (f,) = run(tmp_path, [f"http://127.0.0.1:{server.server_port}/missing"])[1]
    assert "404" in f.message


def test_only_external_http_links_are_collected(tmp_path):
    check, findings = run(tmp_path, ["/local/", "mailto:a@b.cn", "https://www.example.gov.cn/own-host",
                                     "javascript:;", "ftp://x.example.com/"])
    assert findings == [] and check.seen == {}


def test_exclude_patterns_and_bad_urls(tmp_path, server):
    base = f"http://127.0.0.1:{server.server_port}"
    cfg = site(external_exclude=[r"/missing$"])
    check, findings = run(tmp_path, [f"{base}/missing", "http://xn--/", "https://x.example.com/" + "a" * 100_000],
                          cfg)
    (f,) = findings
    assert f.target == "http://xn--/" and "无效" in f.message


def test_english_message(tmp_path, server, monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    (f,) = run(tmp_path, [f"http://127.0.0.1:{server.server_port}/missing"])[1]
    assert "the external link is dead: HTTP 404" in f.message


def test_page_title_decoding():
    assert page_title("<title>\n 页面 &amp; 标题 </title>".encode("gb18030")) == "页面 & 标题"
    assert page_title(b"<html>no title") is None


def test_no_network_at_all_is_said_once_and_only_warned(tmp_path):
    urls = ["http://a.invalid/", "http://b.invalid/", "http://c.invalid/x"]
    check, findings = run(tmp_path, urls, site(allowed_domains=["invalid"]))
    assert len(findings) == 3 and all(f.severity == "warning" and "DNS" in f.message for f in findings)
    assert "没有网络" in check.note()


def test_bad_exclude_pattern_is_a_config_error(tmp_path):
    from builder.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        ExternalLinkCheck(site(external_exclude=["(unclosed"]), tmp_path / "cache")
    assert err.value.field == "check.external_exclude" and "(unclosed" in err.value.message
