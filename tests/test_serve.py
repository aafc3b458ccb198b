"""zhuanti serve: the preview server on 127.0.0.1, its watcher, rebuilds, overlay, findings, the
reload channels, the paths it refuses, and how it starts and stops. Real server, real files,
real inotify; waits are generous deadlines on events, never timing assertions."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import pytest
from selectolax.lexbor import LexborHTMLParser
from sitefactory import BASIC, md, write_site

from builder.cli import main
from builder.config import load_site_config
from builder.serve.channels import CHANNELS, Hub
from builder.serve.command import bind
from builder.serve.server import PreviewServer
from builder.serve.session import OVERLAY_ID, Outcome, PreviewSession
from builder.serve.watch import SourceFilter, is_scratch

WAIT = 60  # seconds: a deadline for something that normally takes well under one


def eventually(check, what: str, timeout: float = WAIT):
    """Poll ``check`` until it returns something truthy (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Preview:
    """A running ``zhuanti serve`` in this process (server thread + watcher thread)."""

    root: Path
    session: PreviewSession
    server: PreviewServer
    thread: threading.Thread
    port: int
    base_path: str = "/"
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
        """GET a raw path (sent exactly as written: no client-side normalisation)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        try:
            conn.request("GET", path, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode("utf-8", errors="replace")
        finally:
            conn.close()

    def page(self, path: str) -> LexborHTMLParser:
        status, _, body = self.get(self.base_path + path)
        assert status == 200, (path, status)
        return LexborHTMLParser(body)

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def wait_rebuilds(self, n: int) -> Outcome:
        eventually(lambda: len(self.outcomes) >= n, f"{n} rebuild(s)")
        return self.outcomes[n - 1]

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(WAIT)
        for s in self.server.sockets:
            s.close()
        self.session.close()


def start_preview(root: Path, *, channels=CHANNELS, base_path: str = "/", step_ms: int | None = None,
                  reload_url: str | None = None) -> Preview:
    session = PreviewSession(root, load_site_config(root))
    session.reload_url = reload_url
    # On a thread of its own, as serve does it: the browser tests' thread runs Playwright's event loop,
    # and a build may run one (the search index) itself.
    first = threading.Thread(target=session.rebuild)
    first.start()
    first.join()
    assert session.outcome.ok, [p.to_dict() for p in session.outcome.problems]
    sockets = bind("127.0.0.1", 0)
    outcomes: list[Outcome] = []
    server = PreviewServer(session, sockets, base_path=base_path, channels=channels, step_ms=step_ms,
                           on_rebuild=outcomes.append)
    thread = threading.Thread(target=server.run, kwargs={"install_signals": False}, daemon=True)
    thread.start()
    eventually(lambda: server.started.is_set() and server.watcher and server.watcher.ready.is_set(), "the server")
    return Preview(root, session, server, thread, sockets[0].getsockname()[1], base_path, outcomes)


@contextmanager
def previews(tmp_path: Path):
    """Yields ``start(files=BASIC, **options)``, which starts a preview of a new site; all are stopped at the end."""
    running: list[Preview] = []

    def start(files: dict | None = None, **options) -> Preview:
        root = write_site(tmp_path / f"site{len(running)}", BASIC if files is None else files)
        p = start_preview(root, **options)
        running.append(p)
        return p

    try:
        yield start
    finally:
        for p in running:
            p.stop()


@pytest.fixture
def preview(tmp_path):
    with previews(tmp_path) as start:
        yield start


def finding(tree: LexborHTMLParser, rule: str):
    return tree.css(f'[data-zhuanti-finding="{rule}"]:not(li)')


# ---------------------------------------------------------------- serving


def test_pages_are_served_unminified_with_the_client_and_public_is_untouched(preview):
    p = preview()
    status, headers, body = p.get("/demo/news/a/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Cache-Control"] == "no-store"
    assert body.count("\n") > 20  # one element a line, so findings have real line numbers
    script = LexborHTMLParser(body).css_first("script[data-reload]")
    assert script.attributes["src"] == "../../../_zhuanti/client.js"  # relative: works under any proxy prefix
    assert script.attributes["data-page"] == "demo/news/a/index.html"
    # written under .zhuanti-cache/preview/, never public/, and the files hold no client
    assert not (p.root / "public").exists()
    on_disk = (p.session.output / "demo/news/a/index.html").read_text(encoding="utf-8")
    assert "_zhuanti/client.js" not in on_disk and "data-zhuanti-finding" not in on_disk
    status, headers, js = p.get("/_zhuanti/client.js")
    assert status == 200 and "EventSource" in js and headers["Content-Type"].startswith("text/javascript")


def test_a_folder_url_without_slash_redirects_and_unknown_pages_are_a_friendly_404(preview):
    p = preview()
    status, headers, _ = p.get("/demo")
    assert status == 301 and headers["Location"] == "/demo/"
    status, _, body = p.get("/demo/nothing-here/")
    assert status == 404 and "页面不存在" in body
    # the 404 page listens for rebuilds too (a page being written appears by itself)
    script = LexborHTMLParser(body).css_first("script[data-reload]")
    assert script.attributes["data-page"] == "" and script.attributes["src"] == "../../_zhuanti/client.js"


@pytest.mark.parametrize("raw", [
    "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/demo/..%2f..%2f..%2f..%2fetc/passwd", "/demo/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/..%5c..%5cetc%5cpasswd", "/demo/%00/index.html", "//etc/passwd",
])
def test_no_path_leads_outside_the_output(preview, raw):
    p = preview()
    status, _, body = p.get(raw)
    assert status in (400, 403, 404) and "root:" not in body


def test_symlinks_out_of_the_output_are_not_followed(preview, tmp_path):
    p = preview()
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "index.html").write_text("<p>TOP-SECRET</p>", encoding="utf-8")
    (secret / "key.txt").write_text("TOP-SECRET", encoding="utf-8")
    (p.session.output / "leak").symlink_to(secret)
    (p.session.output / "leak.txt").symlink_to(secret / "key.txt")
    (p.session.output / "demo/inner").mkdir()
    (p.session.output / "demo/inner/index.html").symlink_to(secret / "index.html")
    for path in ("/leak/", "/leak/key.txt", "/leak.txt", "/demo/inner/", "/demo/inner/index.html"):
        status, _, body = p.get(path)
        assert status in (403, 404) and "TOP-SECRET" not in body, path
    # a link that stays inside the output is fine
    (p.session.output / "same.css").symlink_to(p.session.output / "static/css/zhuanti.css")
    assert p.get("/same.css")[0] == 200


def test_assets_are_revalidated_by_size_and_time_not_a_stale_hash(preview):
    p = preview()
    status, headers, _ = p.get("/static/css/zhuanti.css")
    etag = headers["Etag"]
    assert status == 200 and p.get("/static/css/zhuanti.css", {"If-None-Match": etag})[0] == 304
    target = p.session.output / "static/css/zhuanti.css"
    target.write_text(target.read_text(encoding="utf-8") + "\n/* changed */\n", encoding="utf-8")
    status, _, body = p.get("/static/css/zhuanti.css", {"If-None-Match": etag})
    assert status == 200 and "changed" in body


def test_base_path_and_reload_url_for_a_reverse_proxy(preview):
    p = preview(base_path="/preview/", reload_url="https://cms.example.gov.cn/preview-live/")
    assert p.get("/preview/demo/news/a/")[0] == 200
    assert p.get("/demo/news/a/")[0] == 404
    assert p.get("/preview")[1].get("Location") == "/preview/"
    script = p.page("demo/news/a/").css_first("script[data-reload]")
    assert script.attributes["data-reload"] == "https://cms.example.gov.cn/preview-live/"
    assert script.attributes["src"] == "../../../_zhuanti/client.js"
    [hello] = read_events(p.port, "/preview/_zhuanti/events", 1)  # the channel lives under the prefix
    assert hello["boot"] == p.session.boot
    assert p.get("/preview/_zhuanti/client.js")[0] == 200


# ---------------------------------------------------------------- rebuilds


def test_an_edit_rebuilds_and_the_page_shows_it(preview):
    p = preview()
    p.write("topics/demo/news/a.md", md("甲新闻（修订）", "链接到[乙](b.md#小节)。", date="2026-01-03"))
    outcome = p.wait_rebuilds(1)
    assert outcome.ok and "demo/news/a/index.html" in outcome.changed
    assert p.page("demo/news/a/").css_first("h1").text().strip() == "甲新闻（修订）"
    assert p.session.rebuilds == 1


def test_broken_front_matter_shows_the_overlay_keeps_the_last_good_page_and_recovers(preview):
    p = preview()
    p.write("topics/demo/news/a.md", "---\ntitle: [甲新闻\ndate: 2026-01-03\n---\n正文\n")
    outcome = p.wait_rebuilds(1)
    assert not outcome.ok
    tree = p.page("demo/news/a/")
    assert tree.css_first("h1").text().strip() == "甲新闻"  # the last good page is still served
    overlay = tree.css_first(f"#{OVERLAY_ID}")
    assert overlay.attributes["data-level"] == "error"
    code = overlay.css_first("code")
    assert code.attributes["data-file"] == "topics/demo/news/a.md" and code.attributes["data-line"]
    assert "topics/demo/news/a.md 第" in overlay.text() and "YAML" in overlay.text()
    # every page shows it, and the server is still there
    assert p.page("").css_first(f"#{OVERLAY_ID}") is not None
    p.write("topics/demo/news/a.md", md("甲新闻（改好了）", "正文。", date="2026-01-03"))
    outcome = p.wait_rebuilds(2)
    assert outcome.ok and outcome.reload_all and outcome.overlay == ""
    tree = p.page("demo/news/a/")
    assert tree.css_first(f"#{OVERLAY_ID}") is None and "改好了" in tree.css_first("h1").text()


def test_an_empty_file_is_pointed_out_and_the_server_survives(preview):
    p = preview()
    p.write("topics/demo/news/c.md", "")
    outcome = p.wait_rebuilds(1)
    overlay = p.page("demo/news/c/").css_first(f"#{OVERLAY_ID}")
    assert overlay is not None and overlay.attributes["data-level"] == "warning"
    assert "文件是空的" in overlay.text() and "topics/demo/news/c.md" in overlay.text()
    assert outcome.ok
    p.write("topics/demo/news/c.md", md("丙新闻", date="2026-01-01"))
    p.wait_rebuilds(2)
    assert p.page("demo/news/c/").css_first(f"#{OVERLAY_ID}") is None


def test_a_bad_row_in_a_data_file_is_shown_with_its_row_and_field(preview):
    index = ("---\ntitle: 行政许可结果\ndata: records.csv\nslug_field: 许可编号\ntitle_field: 项目名称\n"
             "required: [许可编号, 项目名称]\n---\n")
    p = preview({**BASIC, "topics/demo/xuke/_index.md": index,
                 "topics/demo/xuke/records.csv": "许可编号,项目名称\nA-1,甲项目\n"})
    assert p.page("demo/xuke/a-1/").css_first("h1") is not None
    p.write("topics/demo/xuke/records.csv", "许可编号,项目名称\nA-1,甲项目\nA-2,\n")
    assert not p.wait_rebuilds(1).ok
    overlay = p.page("demo/xuke/a-1/").css_first(f"#{OVERLAY_ID}")
    assert "topics/demo/xuke/records.csv" in overlay.text() and "第 3 行" in overlay.text()
    assert "字段 “项目名称”" in overlay.text()


def test_the_overlay_speaks_english_with_lang_en(preview, monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    p = preview()
    p.write("topics/demo/news/a.md", "---\ntitle: [broken\n---\n")
    p.wait_rebuilds(1)
    overlay = p.page("demo/news/a/").css_first(f"#{OVERLAY_ID}")
    assert "build failed" in overlay.text() and "topics/demo/news/a.md, line" in overlay.text()


def test_deleting_a_linked_page_marks_the_broken_link_on_the_pages_that_link_to_it(preview):
    p = preview()
    assert not finding(p.page("demo/news/a/"), "link.broken")
    (p.root / "topics/demo/news/b.md").unlink()
    outcome = p.wait_rebuilds(1)
    assert outcome.ok and "demo/news/b/index.html" in outcome.changed and outcome.reload_all
    assert p.get("/demo/news/b/")[0] == 404
    tree = p.page("demo/news/a/")
    [link] = finding(tree, "link.broken")
    assert link.tag == "a" and "b.md" in link.attributes["href"] and link.attributes["title"]
    [item] = tree.css('#zhuanti-findings li[data-zhuanti-finding="link.broken"]')
    assert "topics/demo/news/a.md" in item.text() and "第 6 行" in item.text()  # the source file and line


def test_a_link_to_a_page_not_written_yet_is_marked_until_the_page_exists(preview):
    p = preview()
    p.write("topics/demo/news/c.md", md("丙新闻", "见[新页](fresh.md)。", date="2026-01-01"))
    p.wait_rebuilds(1)
    assert finding(p.page("demo/news/c/"), "link.broken")
    p.write("topics/demo/news/fresh.md", md("新页", date="2026-01-05"))
    p.wait_rebuilds(2)
    tree = p.page("demo/news/c/")
    assert not finding(tree, "link.broken") and tree.css_first('a[href="../fresh/"]') is not None


def test_renaming_a_column_folder_moves_its_pages(preview):
    p = preview()
    (p.root / "topics/demo/policy").rename(p.root / "topics/demo/rules")
    outcome = p.wait_rebuilds(1)
    assert outcome.ok and {"demo/policy/index.html", "demo/rules/index.html"} <= set(outcome.changed)
    assert p.get("/demo/policy/")[0] == 404
    assert p.page("demo/rules/doc/").css_first("h1").text().strip() == "捆绑页面"
    assert p.page("demo/").css_first('a[href="rules/"]') is not None


def test_a_burst_of_200_changes_is_one_rebuild(preview):
    # A quiet period of 500 ms closes a batch (50 ms by default): generous for a loaded test machine.
    p = preview(step_ms=500)
    staged = p.root / "staged"  # outside the watched folders
    staged.mkdir()
    for i in range(200):
        (staged / f"n{i:03d}.md").write_text(md(f"批量{i}", date="2026-02-01"), encoding="utf-8")
    for i in range(200):  # as a copy or a checkout lands them: 200 files in a burst
        (staged / f"n{i:03d}.md").rename(p.root / f"topics/demo/news/n{i:03d}.md")
    outcome = p.wait_rebuilds(1)
    assert outcome.ok and "demo/news/n199/index.html" in outcome.changed
    assert len(p.session.last_changed) == 200
    time.sleep(1)  # let any straggling batch arrive: there must be none
    assert p.session.rebuilds == 1 and len(p.outcomes) == 1


@pytest.mark.parametrize("name", [".a.md.swp", ".a.md.swx", "a.md~", ".#a.md", "#a.md#", "4913", ".~lock.表.xlsx#",
                                  "~$表.xlsx", ".goutputstream-AB12CD", "a.md.tmp"])
def test_editor_scratch_files_are_recognised(name):
    assert is_scratch(name)


@pytest.mark.parametrize("name", ["a.md", "4913.md", "photo.jpg", "_index.md", "topic.toml", "notes~x.md"])
def test_content_files_are_not_scratch(name):
    assert not is_scratch(name)


def test_our_own_folders_are_not_watched(tmp_path):
    f = SourceFilter(tmp_path, [tmp_path / "public"])
    assert f.wanted(tmp_path / "topics/a/b.md")
    for p in ("public/index.html", ".zhuanti-cache/preview/x.html", "topics/a/.git/x", "topics/.zhuanti/x"):
        assert not f.wanted(tmp_path / p), p


def test_editor_scratch_files_do_not_rebuild(preview):
    p = preview()
    for name in (".a.md.swp", "a.md~", ".#a.md", "4913"):
        p.write(f"topics/demo/news/{name}", "scratch")
    real = p.write("topics/demo/news/a.md", md("甲新闻（保存）", date="2026-01-03"))
    p.wait_rebuilds(1)
    time.sleep(0.5)  # a scratch-only batch arriving late would show as a second rebuild
    assert p.session.rebuilds == 1 and p.session.last_changed == {real}


def test_a_photo_added_while_serving_is_processed_and_the_page_shows_it(preview):
    from PIL import Image

    p = preview()
    p.write("topics/demo/news/a.md", md("甲新闻", "现场照片：\n\n![现场](../images/site.jpg)\n", date="2026-01-03"))
    p.wait_rebuilds(1)
    [broken] = finding(p.page("demo/news/a/"), "link.broken")  # not there yet: marked, not a failed build
    assert broken.tag == "img"
    photo = p.root / "topics/demo/images/site.jpg"
    photo.parent.mkdir(parents=True)
    Image.new("RGB", (320, 240), "#c92a2a").save(photo.with_suffix(".tmp.jpg"), "JPEG")
    photo.with_suffix(".tmp.jpg").rename(photo)  # as a copy tool does: written, then renamed into place
    outcome = eventually(lambda: next((o for o in p.outcomes[1:] if o.ok and "demo/news/a/index.html" in o.changed),
                                      None), "the rebuild with the photo")
    tree = p.page("demo/news/a/")
    assert tree.css_first("picture source[type='image/webp']") is not None
    assert not finding(tree, "link.broken")
    img = tree.css_first("picture img")
    assert p.get(urljoin("/demo/news/a/", img.attributes["src"]))[0] == 200
    assert outcome.reload_all  # new renditions: every open page may show them


# ---------------------------------------------------------------- findings in the page


def test_a_typo_from_the_word_list_is_marked_in_the_page_with_its_source_line(preview):
    wrong, right = typo()
    p = preview()
    p.write("topics/demo/news/c.md", md("丙新闻", f"第一段。\n\n我们{wrong}认真落实。", date="2026-01-01"))
    p.wait_rebuilds(1)
    tree = p.page("demo/news/c/")
    [mark] = finding(tree, "word.typo")
    assert mark.tag == "mark" and mark.text() == wrong and right in mark.attributes["title"]
    [item] = tree.css('#zhuanti-findings li[data-zhuanti-finding="word.typo"]')
    assert "源文件 topics/demo/news/c.md 第 8 行" in item.text()


def test_findings_follow_the_word_lists(preview):
    p = preview()
    p.write("topics/demo/news/c.md", md("丙新闻", "这里有一个测试禁用词。", date="2026-01-01"))
    p.wait_rebuilds(1)
    assert not finding(p.page("demo/news/c/"), "word.sensitive")
    p.write("site_src/words/sensitive.txt", "测试禁用词\n")
    p.wait_rebuilds(2)
    assert finding(p.page("demo/news/c/"), "word.sensitive")


def typo() -> tuple[str, str]:
    """The first entry of the shipped typo list (site_src/words/typos.txt)."""
    path = Path(__file__).resolve().parents[1] / "site_src/words/typos.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            wrong, right = line.split("\t")[:2]
            return wrong.strip(), right.strip()
    raise AssertionError("no typo in site_src/words/typos.txt")


def test_drafts_and_scheduled_pages_carry_a_badge(preview):
    files = {**BASIC, "topics/demo/news/d.md": md("丁草稿", draft="true", date="2026-01-05"),
             "topics/demo/news/e.md": md("戊预告", publish_at="2999-01-01 09:00", date="2026-01-04")}
    p = preview(files)
    assert p.page("demo/news/d/").css_first("[data-preview-badge]").text().strip().startswith("草稿")
    badge = p.page("demo/news/e/").css_first("[data-preview-badge]")
    assert badge.attributes["data-preview-badge"] == "scheduled" and "定时发布" in badge.text()
    assert "2999-01-01 09:00" in badge.text()
    assert p.page("demo/news/a/").css_first("[data-preview-badge]") is None


# ---------------------------------------------------------------- the reload channel


def test_hub_merges_what_a_client_missed():
    hub = Hub("boot")
    hub.publish({"type": "reload", "version": 2, "changed": ["a/index.html"], "all": False, "overlay": ""})
    hub.publish({"type": "reload", "version": 3, "changed": ["b/index.html"], "all": False, "overlay": ""})
    assert hub.since(3) is None
    assert hub.since(2)["changed"] == ["b/index.html"] and not hub.since(2)["all"]
    merged = hub.since(1)
    assert merged["version"] == 3 and merged["changed"] == ["a/index.html", "b/index.html"] and not merged["all"]
    assert hub.since(0)["all"]  # older than anything kept: reload whatever the page is
    hub.publish({"type": "error", "version": 4, "changed": [], "all": False, "overlay": "<div>x</div>"})
    hub.publish({"type": "reload", "version": 5, "changed": [], "all": True, "overlay": ""})
    assert hub.since(3)["all"] and hub.since(3)["overlay"] == ""


def test_a_site_wide_change_reloads_every_page_without_listing_them():
    few = Outcome(2, ok=True, changed=["a/index.html"]).message()
    assert few["changed"] == ["a/index.html"] and not few["all"]
    many = Outcome(3, ok=True, changed=[f"p{i}/index.html" for i in range(5000)]).message()
    assert many["changed"] == [] and many["all"]


def read_events(port: int, path: str, count: int) -> list[dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    conn.request("GET", path)
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream")
    events = []
    while len(events) < count:
        line = r.fp.readline().decode()
        if line.startswith("data: "):
            events.append(json.loads(line[6:]))
    conn.close()
    return events


def test_server_sent_events_deliver_hello_and_the_rebuild(preview):
    p = preview()
    got: list = []
    reader = threading.Thread(target=lambda: got.extend(read_events(p.port, "/_zhuanti/events?since=1", 2)))
    reader.start()
    eventually(lambda: p.server.hub.listeners, "the event stream to connect")
    p.write("topics/demo/news/a.md", md("甲新闻 SSE", date="2026-01-03"))
    reader.join(WAIT)
    hello, message = got
    assert hello["type"] == "hello" and hello["boot"] == p.session.boot
    assert message["type"] == "reload" and "demo/news/a/index.html" in message["changed"]


def test_long_polling_answers_at_once_with_what_was_missed_and_waits_otherwise(preview):
    p = preview()
    status, _, body = p.get("/_zhuanti/poll?since=1&hello=1")  # a client's first request: answered at once
    assert status == 200 and json.loads(body) == {"hello": p.server.hub.hello(), "message": None}
    p.write("topics/demo/news/a.md", md("甲新闻 poll", date="2026-01-03"))
    p.wait_rebuilds(1)
    status, _, body = p.get("/_zhuanti/poll?since=1")
    data = json.loads(body)
    assert status == 200 and data["message"]["version"] == 2 and data["hello"]["version"] == 2
    answer: list = []
    waiter = threading.Thread(target=lambda: answer.append(p.get("/_zhuanti/poll?since=2")))
    waiter.start()
    eventually(lambda: p.server.hub.listeners, "the poll to wait")
    p.write("site_src/about.md", md("关于本站"))
    waiter.join(WAIT)
    assert json.loads(answer[0][2])["message"]["version"] == 3


def upgrade(port: int, origin: str, forwarded_host: str | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": origin}
    if forwarded_host:
        headers["X-Forwarded-Host"] = forwarded_host
    conn.request("GET", "/_zhuanti/ws", headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def test_the_websocket_refuses_pages_of_other_sites(preview):
    p = preview()
    assert upgrade(p.port, f"http://127.0.0.1:{p.port}") == 101
    assert upgrade(p.port, "https://evil.example") == 403
    assert upgrade(p.port, "https://cms.example.gov.cn", forwarded_host="cms.example.gov.cn") == 101


def test_a_channel_left_out_answers_404_like_a_blocking_proxy(preview):
    p = preview(channels=("sse", "poll"))
    assert p.get("/_zhuanti/ws")[0] == 404
    status, _, body = p.get("/_zhuanti/poll?since=99")
    assert status == 200


# ---------------------------------------------------------------- the command


def held_port() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def test_a_port_in_use_says_so_and_suggests_another(tmp_path, capsys):
    root = write_site(tmp_path / "site", BASIC)
    with held_port() as busy:
        port = busy.getsockname()[1]
        code = main(["--root", str(root), "serve", "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 2 and f"端口 {port} 已被占用" in err
    suggested = int(re.search(r"--port (\d+)", err).group(1))
    assert suggested != port
    with socket.socket() as s:
        s.bind(("127.0.0.1", suggested))  # the suggestion was free


def test_another_host_warns_before_serving(tmp_path, capsys):
    root = write_site(tmp_path / "site", BASIC)
    with held_port() as busy:
        code = main(["--root", str(root), "serve", "--host", "0.0.0.0", "--port", str(busy.getsockname()[1])])
    err = capsys.readouterr().err
    assert code == 2 and "预览将对网络开放" in err


def test_a_second_serve_of_the_same_site_says_who_holds_it(preview, capsys):
    p = preview()
    code = main(["--root", str(p.root), "serve", "--port", "0"])
    err = capsys.readouterr().err
    assert code == 1 and "另一个 zhuanti 进程正在处理这个站点" in err and "Traceback" not in err
    assert p.get("/demo/")[0] == 200  # the first one goes on


def test_bad_options_are_usage_errors(tmp_path, capsys):
    root = write_site(tmp_path / "site", BASIC)
    assert main(["--root", str(root), "serve", "--port", "70000"]) == 2
    assert main(["--root", str(root), "serve", "--base-path", "https://x/"]) == 2
    assert main(["--root", str(root), "serve", "--reload-url", "ftp://x/"]) == 2
    assert main(["--root", str(tmp_path / "not-a-site"), "serve"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_ctrl_c_stops_the_server_cleanly(tmp_path):
    root = write_site(tmp_path / "site", BASIC)
    env = {**os.environ, "ZHUANTI_QUIET": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "builder.cli", "--root", str(root), "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=Path(__file__).resolve().parents[1])
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        line = eventually(lambda: next((x for x in lines if "预览地址" in x), None), "the server to start")
        port = int(re.search(r"127\.0\.0\.1:(\d+)/", line).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        conn.request("GET", "/demo/")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(WAIT)
    err = "".join(lines)
    assert "预览已停止" in err and "Traceback" not in err
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # the port is free again
