"""Publishing over SSH to a real OpenSSH server on 127.0.0.1 (started here, stopped by its PID):
rsync and SFTP transfers, host-key checking, credentials, a server killed mid-upload, a full disk."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.publish_helpers import (
    Sshd,
    edit_and_rebuild,
    grow_beyond_the_disk,
    live,
    pinned_now,  # noqa: F401 - autouse fixture
    public_tree,
    publish_killing_server,
    site_with_targets,
    small_disk,
    start_sshd,
    tree,
    zhuanti,
)


@pytest.fixture
def sshd(tmp_path, monkeypatch):
    server = start_sshd(tmp_path, monkeypatch)
    yield server
    server.stop()


def ssh_target(server: Sshd, remote: Path, extra: str = "") -> str:
    return (f'[publish.web]\ntype = "ssh"\nhost = "127.0.0.1"\nport = {server.port}\nuser = "root"\n'
            f'path = "{remote}"\n{extra}')


def keyed(server: Sshd, remote: Path, extra: str = "") -> str:
    return ssh_target(server, remote, f'identity_file = "{server.client_key}"\n{extra}')


@pytest.mark.parametrize("transfer", ["rsync", "sftp"])
def test_publish_edit_rollback_tamper_verify(sshd, tmp_path, capsys, transfer):
    www = tmp_path / "remote" / "www"
    root = site_with_targets(tmp_path / "site", keyed(sshd, www, f'transfer = "{transfer}"\n'))
    rc, _, err = zhuanti(capsys, root, "publish", "web")
    assert rc == 0, err
    first = live(www)
    expected_first = tree(first)
    assert expected_first == public_tree(root)

    edit_and_rebuild(root, "topics/demo/news/a.md", "\n补充说明。\n")
    rc, _, err = zhuanti(capsys, root, "publish", "web")
    assert rc == 0, err
    second = live(www)
    assert second != first and tree(second) == public_tree(root)
    assert 1 <= int(err.split("sent ")[1].split(" files")[0]) <= 5
    css = "static/css/zhuanti.css"
    assert (first / css).stat().st_ino == (second / css).stat().st_ino  # hard-linked on the server
    assert (second / "demo/news/a/index.html").stat().st_mode & 0o444 == 0o444  # readable by the web server

    rc, out, _ = zhuanti(capsys, root, "releases", "web")
    assert rc == 0 and out.splitlines()[1].startswith("* " + second.name)

    rc, _, err = zhuanti(capsys, root, "rollback", "web")
    assert rc == 0, err
    assert live(www) == first and tree(first) == expected_first
    assert zhuanti(capsys, root, "rollback", "web", "--to", second.name)[0] == 0 and live(www) == second

    (second / "demo/index.html").write_text("<p>defaced</p>")  # in place: the inode both releases share
    (second / "hidden-link.html").write_text('<a href="https://casino.example">x</a>')
    rc, out, err = zhuanti(capsys, root, "verify", "web")
    assert rc == 1 and "changed: demo/index.html" in out and "unexpected (not in the release): hidden-link.html" in out
    # Rolling back cannot undo an in-place edit of a hard-linked file; it says so instead of claiming success.
    rc, out, err = zhuanti(capsys, root, "rollback", "web")
    assert rc == 1 and "changed: demo/index.html" in out and "differs from its record" in err
    # Publishing again sends the damaged file anew (a new inode); the hand-added file was only in the
    # release rolled away from.
    edit_and_rebuild(root, "topics/demo/news/b.md", "\n更新。\n")
    rc, _, err = zhuanti(capsys, root, "publish", "web")
    assert rc == 0 and "modified after they were published" in err
    assert (live(www) / "demo/index.html").read_bytes() == (root / "public/demo/index.html").read_bytes()
    assert zhuanti(capsys, root, "verify", "web")[0] == 0


def test_unknown_host_key_is_refused_with_how_to_add(sshd, tmp_path, capsys):
    sshd.known_hosts.write_text("")
    root = site_with_targets(tmp_path / "site", keyed(sshd, tmp_path / "remote"))
    rc, _, err = zhuanti(capsys, root, "publish", "web")
    assert rc == 2
    assert f"[127.0.0.1]:{sshd.port} is not in {sshd.known_hosts}" in err and "SHA256:" in err
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> {sshd.known_hosts}" in err
    assert not (tmp_path / "remote").exists()


def test_changed_host_key_is_refused(sshd, tmp_path, capsys):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    other = (tmp_path / "other.pub").read_text().split()
    sshd.known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}\n")
    root = site_with_targets(tmp_path / "site", keyed(sshd, tmp_path / "remote"))
    rc, _, err = zhuanti(capsys, root, "publish", "web")
    assert rc == 2 and "differs from the one in" in err and "ssh-keygen -R" in err


def test_hashed_known_hosts_named_by_the_target_and_key_from_environment(sshd, tmp_path, capsys, monkeypatch):
    own = tmp_path / "deploy_known_hosts"
    own.write_text(sshd.known_hosts.read_text())
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(own)], check=True, capture_output=True)  # hashed names
    assert "127.0.0.1" not in own.read_text()
    sshd.known_hosts.write_text("")  # the user's file knows nothing: only the target's file is used
    monkeypatch.setenv("ZHUANTI_SSH_KEY", str(sshd.client_key))
    root = site_with_targets(tmp_path / "site", ssh_target(sshd, tmp_path / "remote", f'known_hosts = "{own}"\n'))
    rc, _, err = zhuanti(capsys, root, "publish", "web")
    assert rc == 0, err
    assert zhuanti(capsys, root, "verify", "web")[0] == 0


def test_wrong_key_and_missing_key(sshd, tmp_path, capsys, monkeypatch):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "stranger")], check=True)
    root = site_with_targets(tmp_path / "site", ssh_target(sshd, tmp_path / "remote",
                                                           f'identity_file = "{tmp_path / "stranger"}"\n'))
    rc, _, err = zhuanti(capsys, root, "publish", "web")
    assert rc == 2 and "refused the login as root" in err and "authorized_keys" in err
    assert "PRIVATE KEY" not in err
    root2 = site_with_targets(tmp_path / "site2", ssh_target(sshd, tmp_path / "remote"))
    rc, _, err = zhuanti(capsys, root2, "publish", "web")
    assert rc == 2 and "no SSH key" in err and "ZHUANTI_SSH_KEY" in err


def test_bad_ssh_config_values_are_named(sshd, tmp_path, capsys):
    root = site_with_targets(tmp_path / "site", keyed(sshd, tmp_path / "remote", 'transfer = "ftp"\n'))
    rc, _, err = zhuanti(capsys, root, "publish", "web")
    assert rc == 2 and "publish.web.transfer" in err and "rsync or sftp" in err


@pytest.mark.parametrize("transfer", ["rsync", "sftp"])
def test_server_killed_mid_upload_then_rerun_finishes(sshd, tmp_path, capsys, transfer):
    www = tmp_path / "remote" / "www"
    root = site_with_targets(tmp_path / "site", keyed(sshd, www, f'transfer = "{transfer}"\n'))
    assert zhuanti(capsys, root, "publish", "web")[0] == 0
    first = live(www)
    before = tree(first)
    error = publish_killing_server(root, "web", sshd)
    assert "connection to [127.0.0.1]:" in str(error) and "was not switched" in str(error)
    assert live(www) == first and tree(first) == before  # the previous release still serves

    sshd.start()
    rc, _, err = zhuanti(capsys, root, "publish", "web")
    assert rc == 0, err
    assert tree(live(www)) == public_tree(root)
    assert not [p for p in (www / "releases").iterdir() if p.name.startswith(".partial-")]


def test_server_disk_full(sshd, tmp_path, capsys):
    with small_disk(tmp_path / "remote") as www:
        root = site_with_targets(tmp_path / "site", keyed(sshd, www))
        assert zhuanti(capsys, root, "publish", "web")[0] == 0
        first = live(www)
        grow_beyond_the_disk(root)
        rc, _, err = zhuanti(capsys, root, "publish", "web")
        assert rc == 1 and "disk is full" in err, err
        assert live(www) == first
        assert zhuanti(capsys, root, "verify", "web")[0] == 0
