"""Target configuration (each bad value named with its key), the plan's order, retention, and
verify over HTTP."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import os
import threading
from pathlib import Path

import pytest

from builder.publish.plan import LiveState, make_plan
from builder.publish.release import FileEntry, Release, expired
from builder.publish.s3 import cache_control, content_type
from builder.publish.targets import S3Target
from builder.publish.verify import page_urls
from tests.publish_helpers import (
    pinned_now,  # noqa: F401 - autouse fixture
    site_with_targets,
    zhuanti,
)


@pytest.mark.parametrize(("table", "message"), [
    ('type = "ftp"\npath = "/x"', "publish.t.type"),
    ('type = "dir"', "path (the folder to publish into) is missing"),
    ('type = "dir"\npath = "/x"\nkepe = 3', "did you mean 'publish.t.keep'?"),
    ('type = "dir"\npath = "/x"\nkeep = "many"', "'publish.t.keep' must be int"),
    ('type = "dir"\npath = "/x"\nkeep = 0', "keep must be at least 1"),
    ('type = "dir"\npath = "/x"\nmax_deletes = -1', "max_deletes must not be negative"),
    ('type = "ssh"\nhost = "h"\nuser = "u"\npath = "rel/path"', "must be absolute"),
    ('type = "ssh"\nhost = "h"\npath = "/x"', "user (the login name) is missing"),
    ('type = "ssh"\nhost = "h"\nuser = "u"\npath = "/x"\nport = 70000', "port must be between 1 and 65535"),
    ('type = "s3"\nendpoint = "obs.example.gov.cn"\nbucket = "b1b"', "endpoint must be an http(s):// address"),
    ('type = "s3"\nendpoint = "https://obs.example.gov.cn"\nbucket = "Bad_Bucket"', "bucket must be 3-63"),
    ('type = "s3"\nendpoint = "https://o"\nbucket = "bbb"\naws_secret_access_key = "x"', "unknown setting"),
])
def test_bad_target_values_are_named(tmp_path, capsys, table, message):
    root = site_with_targets(tmp_path / "site", f"[publish.t]\n{table}\n", check=False)
    rc, _, err = zhuanti(capsys, root, "publish", "t")
    assert rc == 2 and message in err and "site.toml" in err


def test_unknown_target_name_suggests_the_closest(tmp_path, capsys):
    root = site_with_targets(tmp_path / "site", '[publish.staging]\ntype = "dir"\npath = "/tmp/x"\n', check=False)
    rc, _, err = zhuanti(capsys, root, "publish", "stagin")
    assert rc == 2 and "no publish target 'stagin'" in err and "did you mean 'staging'?" in err
    rc, _, err = zhuanti(capsys, root, "releases", "staging")
    assert rc == 2 and "holds no release published by zhuanti" in err


def test_dir_target_must_not_overlap_the_output(tmp_path, capsys):
    root = site_with_targets(tmp_path / "site", '[publish.t]\ntype = "dir"\npath = "public/www"\n')
    rc, _, err = zhuanti(capsys, root, "publish", "t")
    assert rc == 2 and "must not overlap the build output" in err


def entry(path: str, sha: str = "a" * 64, size: int = 1) -> FileEntry:
    return FileEntry(path, sha, size)


def test_plan_sends_assets_before_html_and_deletes_last():
    build = {p: entry(p) for p in ("index.html", "a/index.html", "css/site.css", "img/x.webp", "same.js")}
    deployed = {"same.js": entry("same.js"), "old/index.html": entry("old/index.html"),
                "index.html": entry("index.html", "b" * 64)}
    plan = make_plan(build, deployed, LiveState(foreign=["by-hand.txt"]), prune_foreign=False)
    assert [f.path for f in plan.uploads] == ["css/site.css", "img/x.webp", "a/index.html", "index.html"]
    assert [f.path for f in plan.changed] == ["index.html"] and plan.deleted == ["old/index.html"]
    assert plan.kept_foreign == ["by-hand.txt"] and plan.pruned == [] and plan.unchanged == 1
    pruned = make_plan(build, deployed, LiveState(foreign=["by-hand.txt"], damaged={"same.js"}), prune_foreign=True)
    assert pruned.removals == ["old/index.html", "by-hand.txt"] and [f.path for f in pruned.repaired] == ["same.js"]


def test_retention_needs_both_rules():
    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    def rel(i: int, days: int) -> Release:
        return Release(id=f"r{i:02}", time=(now - dt.timedelta(days=days)).isoformat())

    releases = [rel(1, 400), rel(2, 380), rel(3, 200), rel(4, 10), rel(5, 1)]
    assert [r.id for r in expired(releases, "r05", keep=2, keep_days=365, now=now)] == ["r02", "r01"]
    assert [r.id for r in expired(releases, "r05", keep=10, keep_days=365, now=now)] == []
    assert [r.id for r in expired(releases, "r01", keep=1, keep_days=0, now=now)] == ["r04", "r03", "r02"]


def test_headers_by_kind():
    target = S3Target(type="s3", endpoint="https://o", bucket="bbb")
    assert cache_control(target, "a/index.html") == "public, max-age=300"
    assert cache_control(target, "assets/app.3f9a8c2d1e.js") == "public, max-age=31536000, immutable"
    assert cache_control(target, "static/css/zhuanti.css") == "public, max-age=86400"
    assert content_type("x/clip.mp4") == "video/mp4" and content_type("a.vtt") == "text/vtt; charset=utf-8"
    assert content_type("中文/图片.webp") == "image/webp"


def test_page_urls_are_directory_urls():
    urls = page_urls("https://www.example.gov.cn/zhuanti", {p: entry(p) for p in ("index.html", "专题/a/index.html",
                                                                                  "static/x.css")})
    assert urls == {"index.html": "https://www.example.gov.cn/zhuanti/",
                    "专题/a/index.html": "https://www.example.gov.cn/zhuanti/%E4%B8%93%E9%A2%98/a/",
                    "static/x.css": "https://www.example.gov.cn/zhuanti/static/x.css"}


@pytest.fixture
def web_server(tmp_path):
    """Serves <tmp>/www/current over HTTP on 127.0.0.1, as nginx would with root …/current."""
    www = tmp_path / "www"

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def translate_path(self, path):
            self.directory = os.path.realpath(www / "current")
            return super().translate_path(path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_verify_over_http(web_server, tmp_path, capsys):
    www, url = web_server
    root = site_with_targets(tmp_path / "site", f'[publish.staging]\ntype = "dir"\npath = "{www}"\n')
    assert zhuanti(capsys, root, "publish", "staging")[0] == 0
    rc, out, err = zhuanti(capsys, root, "verify", "staging", "--url", url, "--format", "json")
    assert rc == 0, err
    files = len(json.loads((root / "public/.zhuanti/manifest.json").read_text())["files"])
    assert json.loads(out)["checked"] == files and json.loads(out)["source"] == url
    current = Path(os.path.realpath(www / "current"))
    (current / "demo/news/b/index.html").write_text("<p>暗链</p>")
    (current / "sitemap.xml").unlink()
    rc, out, err = zhuanti(capsys, root, "verify", "staging", "--url", url)
    assert rc == 1 and "changed: demo/news/b/index.html" in out and "missing: sitemap.xml" in out
    rc, _, err = zhuanti(capsys, root, "verify", "staging", "--url", "ftp://x")
    assert rc == 2 and "--url must start with http://" in err
