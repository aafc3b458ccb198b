"""Publishing to a ``dir`` target: releases, hard links, atomic switch, rollback, tamper, foreign
files, the check gate, the deletion cap, the lock and a full disk."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from builder.cli import main
from builder.publish import lock as locks
from tests.publish_helpers import (
    edit_and_rebuild,
    grow_beyond_the_disk,
    live,
    pinned_now,  # noqa: F401 - autouse fixture
    public_tree,
    site_with_targets,
    small_disk,
    tree,
    zhuanti,
)


def dir_target(www: Path, extra: str = "") -> str:
    return f'[publish.staging]\ntype = "dir"\npath = "{www}"\n{extra}'


@pytest.fixture
def site(tmp_path) -> tuple[Path, Path]:
    www = tmp_path / "www"
    return site_with_targets(tmp_path / "site", dir_target(www)), www


def test_publish_edit_republish_rollback(site, capsys):
    root, www = site
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 0, err
    first = live(www)
    assert (www / "current").is_symlink() and os.readlink(www / "current").startswith("releases/")
    assert tree(first) == public_tree(root)
    n = len(public_tree(root))
    assert "published" in err and f"sent {n} files" in err

    edit_and_rebuild(root, "topics/demo/news/a.md", "\n补充说明。\n")
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 0, err
    second = live(www)
    assert second != first and tree(second) == public_tree(root)
    sent = int(err.split("sent ")[1].split(" files")[0])
    assert 1 <= sent <= 5
    # Unchanged files are hard links into the previous release; the changed one is a new inode
    # and the previous release still holds its old bytes.
    css = "static/css/zhuanti.css"
    assert (first / css).stat().st_ino == (second / css).stat().st_ino
    page = "demo/news/a/index.html"
    assert (first / page).stat().st_ino != (second / page).stat().st_ino
    assert "补充说明" not in (first / page).read_text() and "补充说明" in (second / page).read_text()

    rc, out, err = zhuanti(capsys, root, "releases", "staging")
    assert rc == 0
    lines = out.splitlines()
    assert lines[1].startswith("* " + second.name) and lines[2].strip().startswith(first.name)
    assert f" {n} " in lines[1] and "@" in lines[1]  # file count, who

    before_rollback = tree(first)
    rc, _, err = zhuanti(capsys, root, "rollback", "staging")
    assert rc == 0, err
    assert live(www) == first and tree(first) == before_rollback
    assert "byte for byte" in err
    rc, _, err = zhuanti(capsys, root, "rollback", "staging", "--to", second.name)
    assert rc == 0 and live(www) == second
    rc, _, err = zhuanti(capsys, root, "rollback", "staging", "--to", "20000101-000000")
    assert rc == 2 and "has no release 20000101-000000" in err


def test_unchanged_build_makes_no_release_and_dry_run_sends_nothing(site, capsys):
    root, www = site
    rc, out, err = zhuanti(capsys, root, "publish", "staging", "--dry-run")
    assert rc == 0 and f"added {len(public_tree(root))}," in out and "nothing was sent" in err
    assert not www.exists() or not (www / "current").exists()
    assert zhuanti(capsys, root, "publish", "staging")[0] == 0
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 0 and "nothing changed" in err
    assert len(list((www / "releases").iterdir())) == 1


def test_record_says_who_what_and_never_credentials(site, capsys, monkeypatch):
    root, www = site
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value-never-written")
    monkeypatch.setenv("ZHUANTI_SSH_KEY", "/nonexistent/key-path-never-written")
    monkeypatch.setenv("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv("GITLAB_USER_LOGIN", "zhangsan")
    assert zhuanti(capsys, root, "publish", "staging")[0] == 0
    record = json.loads(next((www / ".zhuanti/releases").glob("*[0-9].json")).read_text())
    assert record["git_commit"].startswith("0123456789") and record["who"].startswith("zhangsan@")
    assert record["check"] == "pass" and record["forced"] is False and record["files"] == len(public_tree(root))
    for path in www.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"s3cr3t-value" not in data and b"key-path-never" not in data


def test_gate_refuses_failed_and_unchecked_builds_force_is_recorded(tmp_path, capsys):
    www = tmp_path / "www"
    root = site_with_targets(tmp_path / "site", dir_target(www), check=False)
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 1 and "has not been checked" in err and "zhuanti check" in err
    # A broken link makes the check fail: publishing is refused until --force.
    (root / "topics/demo/news/c.md").write_text("---\ntitle: 丙\ndate: 2026-01-01\n---\n\n[坏链接](../nowhere/index.html)\n",
                                               encoding="utf-8")
    assert main(["--root", str(root), "build"]) == 0
    assert main(["--root", str(root), "check"]) == 1
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 1 and "last check of this build found errors" in err and "--force" in err
    assert not (www / "current").exists()
    rc, _, err = zhuanti(capsys, root, "publish", "staging", "--force")
    assert rc == 0 and "--force" in err and "failed" in err
    record = json.loads(next((www / ".zhuanti/releases").glob("*[0-9].json")).read_text())
    assert record["forced"] is True and record["check"] == "fail"
    rc, out, _ = zhuanti(capsys, root, "releases", "staging")
    assert "--force" in out


def test_no_build_and_stale_build_are_named(tmp_path, capsys):
    www = tmp_path / "www"
    root = site_with_targets(tmp_path / "site", dir_target(www))
    src = root / "topics/demo/news/b.md"
    later = (root / "public/.zhuanti/manifest.json").stat().st_mtime + 100
    os.utime(src, (later, later))
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 0 and "public/ is older than the sources" in err and "topics/demo/news/b.md" in err
    import shutil

    shutil.rmtree(root / "public")
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 2 and "nothing to publish" in err and "zhuanti build" in err


def test_foreign_folder_is_refused(tmp_path, capsys):
    www = tmp_path / "www"
    (www / "old-site").mkdir(parents=True)
    (www / "index.html").write_text("someone else's site")
    root = site_with_targets(tmp_path / "site", dir_target(www))
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 2 and "zhuanti did not put there" in err and "index.html" in err
    assert (www / "index.html").read_text() == "someone else's site" and not (www / "releases").exists()


def test_hand_added_and_tampered_files(site, capsys):
    root, www = site
    assert zhuanti(capsys, root, "publish", "staging")[0] == 0
    rel = live(www)
    (rel / "baidu_verify_abc.html").write_text("verification")     # added by hand
    (rel / "demo/index.html").write_text("<p>defaced</p>")          # tampered in place (same inode)
    (rel / "static/js/media-filter.js").unlink()                    # removed
    rc, out, err = zhuanti(capsys, root, "verify", "staging")
    assert rc == 1
    assert "changed: demo/index.html" in out and "missing: static/js/media-filter.js" in out
    assert "unexpected (not in the release): baidu_verify_abc.html" in out
    assert "1 changed, 1 missing, 1 unexpected" in err
    rc, out, _ = zhuanti(capsys, root, "verify", "staging", "--format", "json")
    report = json.loads(out)
    assert report["ok"] is False and report["summary"] == {"changed": 1, "missing": 1, "unexpected": 1, "errors": 0}
    assert report["changed"] == ["demo/index.html"] and report["release"] == rel.name

    # Republish (a new edit): damaged files are sent again, the hand-added file is kept.
    edit_and_rebuild(root, "topics/demo/news/b.md", "\n更新。\n")
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 0 and "modified after they were published" in err and "were not published by zhuanti" in err
    new = live(www)
    assert (new / "baidu_verify_abc.html").read_text() == "verification"
    assert (new / "demo/index.html").read_bytes() == (root / "public/demo/index.html").read_bytes()
    rc, out, _ = zhuanti(capsys, root, "verify", "staging")
    assert rc == 1 and out.strip() == "unexpected (not in the release): baidu_verify_abc.html"
    # --prune-foreign removes it.
    edit_and_rebuild(root, "topics/demo/news/b.md", "\n再更新。\n")
    rc, _, err = zhuanti(capsys, root, "publish", "staging", "--prune-foreign")
    assert rc == 0 and not (live(www) / "baidu_verify_abc.html").exists()
    assert zhuanti(capsys, root, "verify", "staging")[0] == 0


def test_deletions_are_capped(tmp_path, capsys):
    www = tmp_path / "www"
    root = site_with_targets(tmp_path / "site", dir_target(www, "max_deletes = 2\n"))
    assert zhuanti(capsys, root, "publish", "staging")[0] == 0
    for name in ("a", "b", "c"):
        (root / f"topics/demo/news/{name}.md").unlink()
    assert main(["--root", str(root), "build"]) == 0
    main(["--root", str(root), "check"])
    rc, _, err = zhuanti(capsys, root, "publish", "staging", "--force")
    assert rc == 1 and "more than max_deletes = 2" in err and "--allow-deletes" in err
    assert len(list((www / "releases").iterdir())) == 1
    rc, out, _ = zhuanti(capsys, root, "publish", "staging", "--force", "--dry-run")
    assert "deleted: demo/news/a/index.html" in out
    rc, _, err = zhuanti(capsys, root, "publish", "staging", "--force", "--allow-deletes")
    assert rc == 0 and not (live(www) / "demo/news/a/index.html").exists()


def test_lock_held_is_refused_stale_lock_is_taken_over(site, capsys):
    root, www = site
    assert zhuanti(capsys, root, "publish", "staging")[0] == 0
    edit_and_rebuild(root, "topics/demo/news/a.md", "\n新内容。\n")
    lock = www / locks.LOCK_NAME
    # A live holder: our parent process (pytest's parent, certainly alive) on this machine.
    lock.write_bytes(json.dumps({"host": os.uname().nodename, "pid": os.getppid(), "who": "lisi@ci",
                                 "since": 9e12}).encode())
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 1 and "another publish is running" in err and "lisi@ci" in err
    # A holder that is gone: a finished process's PID.
    gone = subprocess.Popen(["true"])
    gone.wait()
    lock.write_bytes(json.dumps({"host": os.uname().nodename, "pid": gone.pid, "who": "lisi@ci",
                                 "since": 9e12}).encode())
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 0 and "stale publish lock" in err and not lock.exists()


def test_stale_reason_by_age_and_other_machine():
    old = json.dumps({"host": "other-runner", "pid": 1, "who": "x", "since": 1000.0}).encode()
    assert locks.stale_reason(old, timeout=3600, now=1000.0 + 100) is None
    assert locks.stale_reason(old, timeout=3600, now=1000.0 + 4000) is not None
    assert locks.stale_reason(b"garbage", timeout=3600) is not None


def test_full_disk_leaves_the_live_release(tmp_path, capsys):
    with small_disk(tmp_path / "www") as www:
        root = site_with_targets(tmp_path / "site", dir_target(www))
        assert zhuanti(capsys, root, "publish", "staging")[0] == 0
        first = live(www)
        before = tree(first)
        grow_beyond_the_disk(root)
        rc, _, err = zhuanti(capsys, root, "publish", "staging")
        assert rc == 1 and "disk is full" in err and "live release is unchanged" in err
        assert live(www) == first and tree(first) == before
        assert not [p for p in (www / "releases").iterdir() if p.name.startswith(".partial-")]
        assert zhuanti(capsys, root, "verify", "staging")[0] == 0


def test_where_hard_links_are_impossible_files_are_copied(site, capsys, monkeypatch):
    root, www = site
    assert zhuanti(capsys, root, "publish", "staging")[0] == 0
    first = live(www)
    edit_and_rebuild(root, "topics/demo/news/a.md", "\n补充。\n")

    def no_links(src, dst, **kwargs):  # as on a share or file system without hard links
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr("builder.publish.folder.shutil.which", lambda name: None)  # no GNU cp -al either
    rc, _, err = zhuanti(capsys, root, "publish", "staging")
    assert rc == 0 and "cannot hard-link" in err
    second = live(www)
    assert tree(second) == public_tree(root)
    css = "static/css/zhuanti.css"
    assert (first / css).stat().st_ino != (second / css).stat().st_ino
    rc, out, _ = zhuanti(capsys, root, "releases", "staging")
    assert "copied" in out.splitlines()[1]
