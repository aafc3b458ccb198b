"""The check runner: finds the pages, feeds every check, survives bad pages and broken checks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from builder.checks.base import Finding, HtmlDoc
from builder.checks.runner import CheckRun, find_page_names, find_pages, load_page, run_checks, run_with
from builder.errors import ConfigError
from tests.sitefactory import write_files

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{t}</title></head>
<body><h1>{t}</h1>
<p>{body}</p>
</body></html>
"""


write = write_files


class Recorder:
    """Records the pages it saw; flags every page whose text has 错字; one site-wide finding."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.finished = False

    def page(self, doc: HtmlDoc):
        self.seen.append(doc.rel)
        i = doc.html.find("错字")
        if i >= 0:
            yield Finding("word.typo", "warning", doc.rel, "错字", line=doc.line_of(i), target="错字")

    def finish(self):
        self.finished = True
        return [Finding("site.empty-column", "warning", "", f"saw {len(self.seen)}")]


class Explodes:
    """Raises on pages that contain BOOM (after yielding one finding), and in finish()."""

    def page(self, doc: HtmlDoc):
        yield Finding("link.broken", "error", doc.rel, "first")
        if "BOOM" in doc.html:
            raise ValueError("cannot handle this page")

    def finish(self):
        raise RuntimeError("finish broke")


def test_every_html_page_is_fed_to_every_check_and_finish_runs(tmp_path):
    write(tmp_path, {
        "index.html": PAGE.format(t="首页", body="正文"),
        "a/b.htm": PAGE.format(t="乙", body="这里有错字"),
        "a/c.HTML": PAGE.format(t="丙", body="正文"),
        "a/style.css": "body{}",
        ".zhuanti/manifest.html": PAGE.format(t="x", body="错字"),
        ".git/x.html": PAGE.format(t="x", body="错字"),
    })
    rec = Recorder()
    run = run_with(tmp_path, [rec])
    assert isinstance(run, CheckRun)
    assert sorted(rec.seen) == ["a/b.htm", "a/c.HTML", "index.html"]
    assert run.pages == 3 and sorted(run.page_list) == sorted(rec.seen)
    assert rec.finished
    typo = [f for f in run.findings if f.rule == "word.typo"]
    assert [(f.page, f.line) for f in typo] == [("a/b.htm", 3)]
    assert any(f.rule == "site.empty-column" and f.message == "saw 3" for f in run.findings)
    assert run.home_page == "index.html"
    assert set(run.timings) == {"Recorder"}


def test_empty_folder_gives_zero_pages_and_no_findings(tmp_path):
    run = run_with(tmp_path, [Recorder()])
    assert run.pages == 0
    assert [f.rule for f in run.findings] == ["site.empty-column"]  # finish still runs


def test_a_check_that_raises_on_one_page_does_not_stop_the_others(tmp_path):
    write(tmp_path, {
        "index.html": PAGE.format(t="首页", body="正文"),
        "bad.html": PAGE.format(t="坏", body="BOOM"),
        "z.html": PAGE.format(t="末", body="错字"),
    })
    rec = Recorder()
    run = run_with(tmp_path, [Explodes(), rec])
    assert sorted(rec.seen) == ["bad.html", "index.html", "z.html"]
    internal = [f for f in run.findings if f.rule == "check.internal-error"]
    assert {f.page for f in internal} == {"bad.html", ""}
    bad = next(f for f in internal if f.page == "bad.html")
    assert bad.severity == "error"
    assert "Explodes" in bad.message and "ValueError: cannot handle this page" in bad.message
    assert "finish broke" in next(f for f in internal if f.page == "").message
    # findings yielded before the exception are kept; the next check still ran on that page
    assert sum(1 for f in run.findings if f.rule == "link.broken") == 3
    assert any(f.rule == "word.typo" and f.page == "z.html" for f in run.findings)
    assert run.failed()


def test_a_setup_error_in_a_check_is_not_swallowed(tmp_path):
    write(tmp_path, {"index.html": PAGE.format(t="首页", body="正文")})

    class NeedsChromium:
        def page(self, doc):
            return ()

        def finish(self):
            raise ConfigError("找不到 Chromium")

    with pytest.raises(ConfigError, match="Chromium"):
        run_with(tmp_path, [NeedsChromium()])


def test_binary_file_named_html_is_reported_and_not_parsed(tmp_path):
    write(tmp_path, {
        "index.html": PAGE.format(t="首页", body="正文"),
        "photo.html": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        "blob.html": b"abc\x00\x01\x02" * 100,
    })
    rec = Recorder()
    run = run_with(tmp_path, [rec])
    assert rec.seen == ["index.html"]
    unreadable = {f.page: f for f in run.findings if f.rule == "check.unreadable"}
    assert set(unreadable) == {"photo.html", "blob.html"}
    assert "二进制" in unreadable["photo.html"].message
    assert run.pages == 3


def test_unreadable_file_is_a_finding(tmp_path):
    write(tmp_path, {"index.html": PAGE.format(t="首页", body="正文")})
    os.symlink(tmp_path / "gone.html", tmp_path / "dangling.html")
    (tmp_path / "folder.html").mkdir()  # a folder named like a page is not a page
    rec = Recorder()
    run = run_with(tmp_path, [rec])
    assert rec.seen == ["index.html"]
    [f] = [f for f in run.findings if f.rule == "check.unreadable"]
    assert f.page == "dangling.html" and "无法读取文件" in f.message


def test_broken_encoding_is_a_warning_and_the_page_is_still_checked(tmp_path):
    good = PAGE.format(t="乱码", body="这里有错字").encode("utf-8")
    broken = good.replace("乱码".encode(), b"\xff\xfe\xfd\xc3")
    write(tmp_path, {"bad.html": broken})
    rec = Recorder()
    run = run_with(tmp_path, [rec])
    assert rec.seen == ["bad.html"]
    [enc] = [f for f in run.findings if f.rule == "check.encoding"]
    assert enc.severity == "warning" and enc.line == 1 and "乱码" in enc.message
    assert any(f.rule == "word.typo" for f in run.findings)


def test_gb18030_and_utf16_pages_are_decoded(tmp_path):
    gbk = PAGE.replace("utf-8", "gbk").format(t="国标", body="这里有错字")
    write(tmp_path, {"gbk.html": gbk.encode("gb18030"),
                     "u16.html": PAGE.format(t="十六", body="这里有错字").encode("utf-16")})
    run = run_with(tmp_path, [Recorder()])
    assert {f.page for f in run.findings if f.rule == "word.typo"} == {"gbk.html", "u16.html"}
    assert not [f for f in run.findings if f.rule in ("check.encoding", "check.unreadable")]


def test_malformed_html_is_checked_without_error(tmp_path):
    write(tmp_path, {"m.html": "<html><body><div><p>未闭合<b>错字<table><tr><td>x</div></span><<>>&&#;"})

    class Parses:
        def page(self, doc):
            doc.tree.css("a")  # the selectolax tree copes with anything
            return ()

        def finish(self):
            return ()

    run = run_with(tmp_path, [Parses(), Recorder()])
    assert [f.rule for f in run.findings if f.page == "m.html"] == ["word.typo"]
    assert not [f for f in run.findings if f.rule.startswith("check.")]


def test_50_mb_page_is_checked_and_flagged_as_large(tmp_path):
    filler = "<p>这是一段很长的正文，用来把页面撑大。</p>\n" * 820_000
    write(tmp_path, {"big.html": PAGE.format(t="大", body="开头") + filler + "<p>结尾的错字</p>",
                     "small.html": PAGE.format(t="小", body="错字")})
    assert (tmp_path / "big.html").stat().st_size > 50_000_000
    run = run_with(tmp_path, [Recorder()])
    [large] = [f for f in run.findings if f.rule == "check.large-page"]
    assert large.page == "big.html" and "MB" in large.message
    assert {f.page for f in run.findings if f.rule == "word.typo"} == {"big.html", "small.html"}


def test_load_page_returns_doc_with_relative_path(tmp_path):
    write(tmp_path, {"x/y.html": PAGE.format(t="t", body="b")})
    doc, problems = load_page(tmp_path, tmp_path / "x/y.html")
    assert doc is not None and doc.rel == "x/y.html" and problems == []


def test_find_pages_is_sorted_and_skips_dot_folders(tmp_path):
    write(tmp_path, {"b.html": "", "a/z.htm": "", ".cache/q.html": "", "a/.hidden.html": "", "c.txt": ""})
    assert [p.relative_to(tmp_path).as_posix() for p in find_pages(tmp_path)] == ["a/z.htm", "b.html"]


def _walked(root: Path) -> list[Path]:
    """What find_pages found before it scanned folders itself: os.walk, then sorted Paths."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder) / n for n in files if n.lower().endswith((".html", ".htm")) and not n.startswith(".")]
    return sorted(found)


def test_find_page_names_finds_what_os_walk_finds_in_path_order(tmp_path):
    # "a-c" sorts before "a/…" as a string ("-" < "/") but after it part by part, as Paths compare.
    write(tmp_path, {"a-c.html": "", "a/b.html": "", "a/b/c.HTM": "", "a.b/x.html": "", "A/y.html": "",
                     "a/.git/z.html": "", "a/.x.html": "", "a/x.html.txt": "", "z/目录/页.html": "",
                     "index.html": "", "dir.html/inner.html": ""})
    (tmp_path / "real").mkdir()
    write(tmp_path / "real", {"r.html": ""})
    (tmp_path / "linked").symlink_to(tmp_path / "real", target_is_directory=True)  # not followed, as os.walk
    (tmp_path / "alias.html").symlink_to(tmp_path / "index.html")
    (tmp_path / "broken.html").symlink_to(tmp_path / "missing.html")  # listed: the runner reports it
    write(tmp_path, {"cafe\u0301/e\u0301.html": "", "empty/.keep": "", ".zhuanti/manifest.json": "{}"})
    (tmp_path / "empty-dir").mkdir()
    names = find_page_names(tmp_path)
    assert [tmp_path / n for n in names] == find_pages(tmp_path) == _walked(tmp_path)
    assert names.index("a/b/c.HTM") < names.index("a-c.html")
    assert "linked/r.html" not in names and "real/r.html" in names and "broken.html" in names
    assert "cafe\u0301/e\u0301.html" in names  # opened as named on disk
    # what the link check would list by walking the folder itself (names in NFC, dot-folders too)
    from builder.checks.links import LinkCheck
    from builder.checks.runner import walk_folder

    listing, links = walk_folder(tmp_path), LinkCheck(tmp_path, None, None)
    assert listing.files == links._scan() and listing.dirs == links._dirs
    assert "caf\u00e9/\u00e9.html" in listing.files and "empty-dir" in listing.dirs
    assert ".zhuanti/manifest.json" in listing.files


def test_find_page_names_skips_unreadable_folders(tmp_path):
    write(tmp_path, {"ok.html": "", "locked/p.html": ""})
    (tmp_path / "locked").chmod(0)
    try:
        if os.access(tmp_path / "locked", os.R_OK):
            pytest.skip("running as a user who can read any folder")
        assert find_page_names(tmp_path) == ["ok.html"]
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_jobs_below_one_is_bad_usage(tmp_path):
    with pytest.raises(ConfigError, match="--jobs"):
        run_with(tmp_path, [], jobs=0)


def test_home_page_falls_back_to_index_htm(tmp_path):
    write(tmp_path, {"index.htm": PAGE.format(t="首页", body="错字")})
    run = run_with(tmp_path, [Recorder()])
    assert run.home_page == "index.htm"
    assert run.summary()["home_by_rule"] == {"word.typo": 1}


def test_run_checks_uses_the_real_families(tmp_path):
    """run_checks wires the families the SPEC names; veto notes come from site.veto_notes."""
    write(tmp_path, {
        "index.html": PAGE.format(t="首页", body='<a href="missing.html">缺失</a>'),
        "a.html": PAGE.format(t="甲", body='敏感词测试<div style="display:none"><a href="https://bet.example.com/">x</a></div>'),
    })
    words = tmp_path / "site" / "site_src" / "words"
    words.mkdir(parents=True)
    (words / "sensitive.txt").write_text("敏感词测试\n", encoding="utf-8")
    from builder.config import SiteConfig

    site = SiteConfig(root=tmp_path / "site")
    run = run_checks(tmp_path, site=site, manifest=None, external=False, browser=False,
                     cache_dir=tmp_path / "cache", jobs=None)
    assert set(run.timings) == {"LinkCheck", "HiddenLinkCheck", "WordCheck", "SiteCheck"}
    rules = {(f.rule, f.page) for f in run.findings}
    assert {("link.broken", "index.html"), ("link.hidden", "a.html"), ("word.sensitive", "a.html"),
            ("site.identity", "index.html")} <= rules
    assert any("敏感词 1 处" in n for n in run.notes)
    assert run.messages == []


# ---------------------------------------------------------------- worker processes


class CrashesInWorker:
    """Kills its worker process on a page that says CRASH (never in the main process)."""

    def page(self, doc: HtmlDoc):
        import multiprocessing

        if "CRASH" in doc.html and multiprocessing.parent_process() is not None:
            os._exit(3)
        i = doc.html.find("错字")
        if i >= 0:
            yield Finding("word.typo", "warning", doc.rel, "错字", line=doc.line_of(i), target="错字")

    def finish(self):
        # the same site-wide finding from every worker counts once
        return [Finding("word.list", "warning", "words/typos.txt", "空行", line=3)]


def make_recorders():
    return [Recorder()]


def make_crashers():
    return [CrashesInWorker()]


def many_pages(root: Path, n: int, special: dict[int, str] | None = None) -> Path:
    special = special or {}
    return write(root, {f"p{i:03d}.html": PAGE.format(t=f"第{i}页", body=special.get(i, "正文"))
                        for i in range(n)})


@pytest.fixture(params=["fork", "spawn"])
def start(request, monkeypatch):
    """Both ways of starting workers: fork (Linux, one thread) and spawn (threads, other systems)."""
    from builder.checks import runner

    monkeypatch.setattr(runner, "start_method", lambda: request.param)
    return request.param


def test_worker_processes_find_the_same_as_one_process(tmp_path, start):
    many_pages(tmp_path, 120, {7: "错字", 80: "又一个错字"})
    one = run_with(tmp_path, make_recorders, jobs=1)
    two = run_with(tmp_path, make_recorders, jobs=2)
    assert one.pages == two.pages == 120
    assert [f for f in two.findings if f.rule == "word.typo"] == [f for f in one.findings if f.rule == "word.typo"]
    # each worker finished its own share; identical site-wide findings of several workers count once
    assert [f.message for f in two.findings if f.rule == "site.empty-column"] == ["saw 60"]
    assert two.page_list == one.page_list


def test_real_families_in_workers_find_the_same_as_one_process(tmp_path, start):
    """The workers take the folder's listing from the parent and attach source lines themselves:
    the findings (sources and their lines included) are those of one process."""
    from builder.config import SiteConfig

    site_root = tmp_path / "site"
    out = site_root / "public"
    pages, manifest_pages = {}, []
    for i in range(120):
        body = f'<a href="p{(i + 1) % 120:03d}.html">下一页</a>'
        if i % 17 == 0:
            body += f'<a href="gone{i}.html">缺失</a>敏感词测试'
        pages[f"p{i:03d}.html"] = PAGE.format(t=f"第{i}页", body=body)
        source = f"topics/t/p{i:03d}.md"
        write(site_root, {source: f"---\ntitle: 第{i}页\n---\n\n正文\n\n[缺失](gone{i}.md) 敏感词测试\n"})
        manifest_pages.append({"path": f"p{i:03d}.html", "source": source})
    pages["static/.hidden/x.css"] = "p{}"
    write(out, pages)
    words = site_root / "site_src" / "words"
    words.mkdir(parents=True)
    (words / "sensitive.txt").write_text("敏感词测试\n", encoding="utf-8")
    site = SiteConfig(root=site_root)
    manifest = {"pages": manifest_pages}
    runs = [run_checks(out, site=site, manifest=manifest, external=False, browser=False,
                       cache_dir=tmp_path / "cache", jobs=jobs) for jobs in (1, 2)]
    assert runs[0].findings == runs[1].findings
    broken = [f for f in runs[1].findings if f.rule == "link.broken"]
    assert len(broken) == 8 and all(f.source_line == 7 and f.source.startswith("topics/t/") for f in broken)


@pytest.mark.parametrize("expect", [120, 10_000, 1, None])
def test_workers_started_before_the_walk_find_the_same(tmp_path, expect):
    """Workers may start before the folder is walked (``expect_pages``) and get their shares after;
    a wrong guess of the page count only changes how many processes there are, never the findings."""
    many_pages(tmp_path, 120, {7: "错字", 80: "又一个错字"})
    one = run_with(tmp_path, make_recorders, jobs=1)
    for jobs in (2, None):
        run = run_with(tmp_path, make_recorders, jobs=jobs, expect_pages=expect)
        assert [f for f in run.findings if f.rule == "word.typo"] == [f for f in one.findings
                                                                        if f.rule == "word.typo"]
        assert run.page_list == one.page_list


def test_workers_started_early_stop_when_the_walk_is_interrupted(tmp_path, monkeypatch):
    import multiprocessing

    from builder.checks import runner

    many_pages(tmp_path, 120)

    def interrupted(root):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "walk_folder", interrupted)
    monkeypatch.setattr(runner, "start_method", lambda: "fork")
    with pytest.raises(KeyboardInterrupt):
        run_with(tmp_path, make_recorders, jobs=2, expect_pages=120)
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("zhuanti-check")]


def test_a_worker_that_dies_costs_one_page_not_the_run(tmp_path, start):
    many_pages(tmp_path, 120, {10: "CRASH", 11: "错字", 119: "错字"})
    run = run_with(tmp_path, make_crashers, jobs=2)
    assert run.pages == 120
    [crash] = [f for f in run.findings if f.rule == "check.internal-error"]
    assert crash.page == "p010.html" and "工作进程意外退出" in crash.message
    assert {f.page for f in run.findings if f.rule == "word.typo"} == {"p011.html", "p119.html"}
    assert [f.rule for f in run.findings if f.page == "words/typos.txt"] == ["word.list"]


def test_small_folders_and_instances_stay_in_one_process(tmp_path):
    from builder.checks.runner import worker_count

    assert worker_count(None, 10) == 1
    assert worker_count(4, 120) == 2  # at least 50 pages per worker
    assert worker_count(1, 100_000) == 1
    assert worker_count(None, 100_000) >= 1


def test_workers_fork_only_from_a_process_with_one_thread(monkeypatch):
    import threading

    from builder.checks.runner import start_method

    if not sys.platform.startswith("linux"):
        assert start_method() == "spawn"
        return
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert start_method() == "fork"
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # e.g. a progress bar or a server thread
    assert start_method() == "spawn"


@pytest.mark.parametrize("data", [
    "<p>中文页面</p>".encode(), b"\xef\xbb\xbf<p>\xe4\xb8\xad</p>", "<p>中文</p>".encode("utf-16"),
    "<meta charset=gb18030><p>中文</p>".encode("gb18030"), b"<meta charset=utf-8><p>\xe4\xb8</p>", b"", b"plain",
    b"<p>\xed\xa0\x80</p>"])
def test_pages_parsed_from_their_bytes_read_as_from_their_text(tmp_path, data):
    from builder.checks.base import _decode_other, decode_html_utf8

    text, utf8 = decode_html_utf8(data)
    assert text == _decode_other(data)  # decode_html as it was
    if utf8 is not None:
        assert utf8 == text.encode("utf-8")
    from_bytes = HtmlDoc(tmp_path, tmp_path / "p.html", text, utf8=utf8)
    from_text = HtmlDoc(tmp_path, tmp_path / "p.html", text)
    assert from_bytes.tree.html == from_text.tree.html
    assert [n.text() for n in from_bytes.tree.css("p")] == [n.text() for n in from_text.tree.css("p")]
