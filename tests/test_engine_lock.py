"""One build or serve per site at a time; what killed builds leave behind is finished or removed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from builder import output
from builder.build import BuildOptions, Engine, build_site
from builder.lock import SiteLocked
from tests.engine_support import clean_reference, diff, tree
from tests.sitefactory import BASIC, md, write_site

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def pinned_manifest_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")


def zhuanti(root, *args, **kw):
    env = {**os.environ, "ZHUANTI_LANG": "zh", "PYTHONPATH": REPO}
    return subprocess.run([sys.executable, "-m", "builder.cli", "--root", str(root), *args], capture_output=True,
                          text=True, env=env, timeout=300, **kw)


def test_a_second_build_while_one_holds_the_site_says_who_and_exits_1(tmp_path):
    write_site(tmp_path, BASIC)
    with Engine(tmp_path) as engine:  # what zhuanti serve holds while it runs
        engine.build()
        done = zhuanti(tmp_path, "build")
        assert done.returncode == 1, done.stderr
        assert "另一个 zhuanti 进程正在处理这个站点" in done.stderr
        assert f"进程 {os.getpid()}" in done.stderr
        with pytest.raises(SiteLocked):
            build_site(tmp_path, BuildOptions())
    assert zhuanti(tmp_path, "build").returncode == 0  # released by close()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    write_site(tmp_path, BASIC)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / ".zhuanti-cache/lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": dead.pid, "command": "zhuanti build", "host": socket.gethostname(),
                                "since": "2026-01-01 00:00:00 UTC"}), encoding="utf-8")
    report = build_site(tmp_path, BuildOptions())
    assert any(str(dead.pid) in n for n in report.notes), report.notes
    assert (tmp_path / "public/demo/news/a/index.html").is_file()


def test_a_build_killed_while_rendering_is_cleaned_up_by_the_next_one(tmp_path):
    files = dict(BASIC)
    for i in range(600):
        files[f"topics/demo/news/p{i:03}.md"] = md(f"第{i}篇", "正文。" * 50, date="2026-01-01")
    write_site(tmp_path, files)
    assert zhuanti(tmp_path, "build", "--jobs", "1").returncode == 0
    good = tree(tmp_path / "public")
    (tmp_path / "site_src/site.toml").write_text(
        (tmp_path / "site_src/site.toml").read_text(encoding="utf-8").replace("1100000088", "1100000099"),
        encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": REPO}
    proc = subprocess.Popen([sys.executable, "-m", "builder.cli", "--root", str(tmp_path), "build", "--jobs", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(tmp_path.glob(".public.staging-*/demo/news/*/index.html")):
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(tmp_path.glob(".public.staging-*")), "the build was killed before it staged anything"
    assert tree(tmp_path / "public") == good  # killed mid-render: public/ untouched
    done = zhuanti(tmp_path, "build", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.glob(".public.*"))
    status, result, ref = clean_reference(tmp_path, tmp_path / "ref")
    assert status == "ok", result
    got = tree(tmp_path / "public")
    assert got == ref, diff(got, ref)


def test_a_build_killed_while_moving_files_into_place_is_finished_by_the_next_run(tmp_path, monkeypatch):
    write_site(tmp_path, BASIC)
    build_site(tmp_path, BuildOptions())
    for name in ("a", "b", "c"):
        path = tmp_path / f"topics/demo/news/{name}.md"
        path.write_text(path.read_text(encoding="utf-8").replace("正文。", "新正文。").replace("内容。", "新内容。"),
                        encoding="utf-8")
    real_replace = os.replace
    moved = []

    def dying_replace(src, dst):
        if ".public.staging-" in str(src) and "journal" not in str(src):
            if len(moved) == 1:
                raise SystemExit("killed")  # as if SIGKILLed after the first file moved
            moved.append(dst)
        return real_replace(src, dst)

    monkeypatch.setattr(output.os, "replace", dying_replace)
    monkeypatch.setattr(output.Sink, "abort", lambda self: None)  # a killed process cleans nothing up
    with pytest.raises(SystemExit):
        build_site(tmp_path, BuildOptions())
    monkeypatch.undo()
    os.environ["SOURCE_DATE_EPOCH"] = "1767225600"
    (staging,) = tmp_path.glob(".public.staging-*")
    assert (staging / output.JOURNAL).is_file()  # committed: the next run finishes it
    report = build_site(tmp_path, BuildOptions())
    assert any("中断" in n or "interrupted" in n for n in report.notes), report.notes
    assert not list(tmp_path.glob(".public.*"))
    status, result, ref = clean_reference(tmp_path, tmp_path / "ref")
    got = tree(tmp_path / "public")
    assert got == ref, diff(got, ref)


def test_leftover_old_output_folders_are_removed(tmp_path):
    write_site(tmp_path, BASIC)
    (tmp_path / ".public.old-12345/x").mkdir(parents=True)
    (tmp_path / ".public.staging-99999/demo").mkdir(parents=True)
    report = build_site(tmp_path, BuildOptions())
    assert not list(tmp_path.glob(".public.*"))
    assert len([n for n in report.notes if "12345" in n or "99999" in n]) == 2
