"""The ``ssh`` target: release folders on a server, driven over one verified SSH connection.

paramiko holds the control connection: it checks the host key against ``known_hosts`` (refusing
unknown and changed keys, never trusting on first use), authenticates with the key named by
``identity_file`` / ``$ZHUANTI_SSH_KEY`` (or ssh-agent), reads and writes the records over SFTP and
runs the few POSIX commands the release folders need (``cp -al``, ``find``, ``sha256sum``, ``rm``).
Files go over rsync run through OpenSSH with the same known_hosts file, key and strict checking
(``transfer = "rsync"``, the default: see bench/publish.py), or over paramiko's SFTP
(``transfer = "sftp"``, or when rsync is missing on either side).

The server needs a POSIX shell with GNU coreutils/findutils (every mainstream Linux distribution,
including Kylin and UOS); rsync is optional.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shlex
import shutil
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import paramiko

from builder import ui
from builder.errors import ConfigError, PublishError
from builder.i18n import tr
from builder.publish.folder import FolderBackend, FolderOps
from builder.publish.progress import Transfer
from builder.publish.release import FileEntry
from builder.publish.targets import SshTarget

# Errors that mean the connection went away (server killed, network cut, timeout).
CONNECTION_ERRORS = (paramiko.SSHException, EOFError, ConnectionError, TimeoutError, socket.timeout)


class _UnknownHost(Exception):
    def __init__(self, name: str, key: paramiko.PKey) -> None:
        super().__init__(name)
        self.name, self.key = name, key


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client, hostname, key):  # noqa: D102 - paramiko's hook
        raise _UnknownHost(hostname, key)


def fingerprint(key: paramiko.PKey) -> str:
    """As OpenSSH prints it: ``SHA256:…`` (base64 without padding)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def known_hosts_file(target: SshTarget) -> Path:
    return Path(target.known_hosts).expanduser() if target.known_hosts else Path.home() / ".ssh" / "known_hosts"


def key_file(target: SshTarget) -> Path | None:
    """The private key to log in with; None means ssh-agent. Its content is never read here."""
    name, field = target.identity_file, f"publish.{target.name}.identity_file"
    if not name and os.environ.get("ZHUANTI_SSH_KEY"):
        name, field = os.environ["ZHUANTI_SSH_KEY"], "ZHUANTI_SSH_KEY"
    if not name:
        if os.environ.get("SSH_AUTH_SOCK"):
            return None
        raise ConfigError(tr("没有 SSH 登录密钥", "no SSH key to log in with"), field=f"publish.{target.name}",
                          hint=tr("在目标中设置 identity_file，或用环境变量 ZHUANTI_SSH_KEY 指定私钥文件（CI 中用“文件”类型的变量），"
                                  "或启动 ssh-agent", "set identity_file in the target, or name the private key file "
                                  "in $ZHUANTI_SSH_KEY (a 'file' variable in CI), or run ssh-agent"))
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(tr("SSH 私钥文件不存在：{p}", "the SSH key file does not exist: {p}", p=path), field=field)
    return path


def _host_id(target: SshTarget) -> str:
    return target.host if target.port == 22 else f"[{target.host}]:{target.port}"


def connect(target: SshTarget) -> paramiko.SSHClient:
    """A connection whose host key is known and unchanged; ConfigError (exit 2) otherwise."""
    known = known_hosts_file(target)
    key = key_file(target)
    client = paramiko.SSHClient()
    if known.is_file():
        try:
            client.load_host_keys(str(known))
        except (OSError, paramiko.SSHException) as exc:
            raise ConfigError(tr("无法读取 known_hosts：{e}", "cannot read known_hosts: {e}", e=exc), known) from exc
    client.set_missing_host_key_policy(_RefuseUnknown())
    host_id, port_opt = _host_id(target), (f"-p {target.port} " if target.port != 22 else "")
    try:
        client.connect(target.host, port=target.port, username=target.user,
                       key_filename=str(key) if key else None, look_for_keys=False, allow_agent=key is None,
                       timeout=target.timeout, banner_timeout=target.timeout, auth_timeout=target.timeout)
    except _UnknownHost as exc:
        client.close()
        raise ConfigError(
            tr("服务器 {h} 的主机密钥不在 {k} 中（指纹 {f}），拒绝连接",
               "the host key of {h} is not in {k} (fingerprint {f}): refusing to connect",
               h=host_id, k=known, f=fingerprint(exc.key)),
            field=f"publish.{target.name}.host",
            hint=tr("向服务器管理员核对指纹（在服务器上运行 ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub），"
                    "一致后添加：ssh-keyscan {p}{host} >> {k}",
                    "check the fingerprint with the server's administrator (on the server: ssh-keygen -lf "
                    "/etc/ssh/ssh_host_ed25519_key.pub), then add it: ssh-keyscan {p}{host} >> {k}",
                    p=port_opt, host=target.host, k=known)) from None
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise ConfigError(
            tr("服务器 {h} 的主机密钥与 {k} 中记录的不同（记录 {o}，现在 {n}）：可能有人冒充服务器，拒绝连接",
               "the host key of {h} differs from the one in {k} (recorded {o}, offered {n}): someone may be "
               "impersonating the server; refusing to connect",
               h=host_id, k=known, o=fingerprint(exc.expected_key), n=fingerprint(exc.key)),
            field=f"publish.{target.name}.host",
            hint=tr("若服务器确实重装或更换了密钥，先向管理员核对新指纹，再运行 ssh-keygen -R '{h}' -f {k}，然后 "
                    "ssh-keyscan {p}{host} >> {k}",
                    "if the server really was reinstalled, check the new fingerprint with its administrator, "
                    "run ssh-keygen -R '{h}' -f {k}, then ssh-keyscan {p}{host} >> {k}",
                    h=host_id, k=known, p=port_opt, host=target.host)) from None
    except paramiko.PasswordRequiredException:
        client.close()
        raise ConfigError(tr("SSH 私钥 {p} 有口令保护，无法在无人值守时使用", "the SSH key {p} is protected by a "
                             "passphrase and cannot be used unattended", p=key),
                          hint=tr("请把它加入 ssh-agent，或为发布单独生成一个无口令的部署密钥",
                                  "add it to ssh-agent, or make a separate deploy key without passphrase")) from None
    except paramiko.AuthenticationException:
        client.close()
        raise ConfigError(tr("以 {u} 登录 {h} 被拒绝：密钥不对或未授权",
                             "{h} refused the login as {u}: wrong key or not authorised", u=target.user, h=host_id),
                          field=f"publish.{target.name}.user",
                          hint=tr("检查 user 和密钥（{k}）；服务器上该用户的 ~/.ssh/authorized_keys 中要有对应的公钥",
                                  "check user and the key ({k}); its public key must be in that user's "
                                  "~/.ssh/authorized_keys on the server", k=key or "ssh-agent")) from None
    except (paramiko.SSHException, OSError) as exc:
        client.close()
        raise PublishError(tr("无法连接 {h}：{e}", "cannot connect to {h}: {e}", h=host_id, e=exc),
                           hint=tr("检查 host、port 和网络", "check host, port and the network")) from None
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(15)
    return client


@contextlib.contextmanager
def ssh_backend(target: SshTarget) -> Iterator[FolderBackend]:
    key = key_file(target)
    if target.transfer == "rsync" and key is not None and key.stat().st_mode & 0o077:
        raise ConfigError(tr("SSH 私钥 {p} 的权限过宽，OpenSSH（rsync 传输）会拒绝使用它",
                             "the SSH key {p} is readable by others; OpenSSH (the rsync transfer) refuses such keys",
                             p=key), field=f"publish.{target.name}.identity_file",
                          hint=tr("运行 chmod 600 {p}", "run chmod 600 {p}", p=key))
    client = connect(target)
    ops = SshOps(client, target)
    try:
        yield FolderBackend(ops, target.name)
    except CONNECTION_ERRORS as exc:
        raise connection_lost(target, str(exc) or exc.__class__.__name__) from None
    finally:
        client.close()


def connection_lost(target: SshTarget, detail: str) -> PublishError:
    return PublishError(tr("与 {h} 的连接中断：{e}；在线版本未切换，重新运行即可",
                           "the connection to {h} was lost: {e}; the live release was not switched, "
                           "run the command again", h=_host_id(target), e=detail))


class SshOps(FolderOps):
    def __init__(self, client: paramiko.SSHClient, target: SshTarget) -> None:
        self.client, self.target = client, target
        self.root = target.path.rstrip("/") or "/"
        self.where = f"{target.user}@{target.host}:{self.root}"
        self._sftp: paramiko.SFTPClient | None = None

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = self.client.open_sftp()
        return self._sftp

    def _abs(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def run(self, command: str, stdin: bytes | None = None, what: str = "") -> bytes:
        """Run a shell command on the server; PublishError with its stderr when it fails."""
        chan_in, out, err = self.client.exec_command(command)
        if stdin:
            chan_in.write(stdin)
        chan_in.channel.shutdown_write()
        data, errors = out.read(), err.read()
        if out.channel.recv_exit_status() != 0:
            raise self._fail(what or command, errors.decode("utf-8", "replace").strip())
        return data

    def _fail(self, what: str, errors: str) -> PublishError:
        if not self._alive():
            return connection_lost(self.target, errors)
        return _remote_error(what, errors, self.where)

    # -- FolderOps ---------------------------------------------------------------------------------
    def entries(self, rel: str) -> list[str] | None:
        try:
            return self.sftp.listdir(self._abs(rel))
        except FileNotFoundError:
            return None

    def read(self, rel: str) -> bytes | None:
        try:
            with self.sftp.open(self._abs(rel), "rb") as f:
                f.prefetch()
                return f.read()
        except FileNotFoundError:
            return None
        except OSError as exc:  # a folder, or unreadable
            if self._exists(rel):
                raise PublishError(tr("无法读取 {p}：{e}", "cannot read {p}: {e}", p=self._abs(rel), e=exc)) from exc
            return None

    def _exists(self, rel: str) -> bool:
        try:
            self.sftp.lstat(self._abs(rel))
            return True
        except FileNotFoundError:
            return False

    def write(self, rel: str, data: bytes) -> None:
        path = self._abs(rel)
        tmp = path + ".tmp-zhuanti"
        try:
            with self.sftp.open(tmp, "wb") as f:
                f.write(data)
            self.sftp.posix_rename(tmp, path)
        except OSError as exc:
            raise self._fail(tr("写入 {p}", "writing {p}", p=path), str(exc)) from exc

    def create_exclusive(self, rel: str, data: bytes) -> bool:
        try:
            with self.sftp.open(self._abs(rel), "wbx") as f:
                f.write(data)
            return True
        except OSError:
            if self._exists(rel):
                return False
            raise

    def remove(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.sftp.remove(self._abs(rel))

    def makedirs(self, rel: str) -> None:
        self.run(f"mkdir -p {shlex.quote(self._abs(rel))}")

    def readlink(self, rel: str) -> str | None:
        try:
            return self.sftp.readlink(self._abs(rel))
        except OSError:
            return None

    def mtime(self, rel: str) -> float | None:
        try:
            return float(self.sftp.stat(self._abs(rel)).st_mtime or 0)
        except OSError:
            return None

    def list_files(self, rel: str) -> dict[str, tuple[int, float]]:
        folder = shlex.quote(self._abs(rel))
        raw = self.run(f"if [ -d {folder} ]; then cd {folder} && find . -type f -printf '%P\\0%s\\0%T@\\0'; fi",
                       what=tr("列出 {p}", "listing {p}", p=self._abs(rel)))
        parts = raw.split(b"\0")
        out = {}
        for i in range(0, len(parts) - 2, 3):
            out[parts[i].decode("utf-8", "surrogateescape")] = (int(parts[i + 1]), float(parts[i + 2]))
        return out

    def sizes(self, base: str, paths: list[str]) -> dict[str, int]:
        if len(paths) > 50:  # one listing beats a round trip per file
            return super().sizes(base, paths)
        out = {}
        for rel in paths:
            with contextlib.suppress(FileNotFoundError):
                out[rel] = int(self.sftp.stat(f"{self._abs(base)}/{rel}").st_size or 0)
        return out

    def clone_tree(self, src: str, dst: str) -> bool:
        s, d = shlex.quote(self._abs(src)), shlex.quote(self._abs(dst))
        try:
            self.run(f"cp -al {s} {d}", what="cp -al")
            return True
        except PublishError as exc:
            if _is_disk_full(str(exc)):
                raise
        # No hard links on this file system (some network shares) or past a link limit: copy.
        self.run(f"rm -rf {d} && cp -a {s} {d}", what="cp -a")
        return False

    def remove_files(self, base: str, paths: list[str]) -> None:
        if paths:
            self.run(f"cd {shlex.quote(self._abs(base))} && xargs -0 rm -f --",
                     stdin=b"\0".join(p.encode() for p in paths), what="rm")

    def upload(self, public: Path, base: str, files: list[FileEntry], transfer: Transfer) -> None:
        if not files:
            return
        if self.target.transfer == "rsync":
            missing = self._rsync_missing()
            if not missing:
                return self._upload_rsync(public, base, files, transfer)
            ui.warn(tr("{w} 上没有 rsync，改用 SFTP 传输（较慢）", "no rsync {w}: sending over SFTP instead (slower)",
                       w=missing))
        self._upload_sftp(public, base, files, transfer)

    def _rsync_missing(self) -> str:
        if not shutil.which("rsync") or not shutil.which("ssh"):
            return tr("本机", "on this machine")
        try:
            self.run("command -v rsync >/dev/null")
        except PublishError:
            return tr("服务器", "on the server")
        return ""

    def ssh_command(self) -> list[str]:
        """OpenSSH with the same strictness as the control connection (BatchMode: never prompts)."""
        known = known_hosts_file(self.target)
        key = key_file(self.target)
        cmd = ["ssh", "-F", "/dev/null", "-p", str(self.target.port), "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}",
               "-o", "GlobalKnownHostsFile=/dev/null", "-o", f"ConnectTimeout={int(self.target.timeout)}",
               "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3", "-l", self.target.user]
        if key is not None:
            cmd += ["-i", str(key), "-o", "IdentitiesOnly=yes"]
        return cmd

    def _upload_rsync(self, public: Path, base: str, files: list[FileEntry], transfer: Transfer) -> None:
        host = f"[{self.target.host}]" if ":" in self.target.host else self.target.host
        sizes = {f.path: f.size for f in files}
        # One run for assets and HTML: nothing in the partial release is live before the switch, so
        # the order inside it does not matter (and rsync sorts its list anyway); a second run would
        # cost a second SSH handshake.
        # --ignore-times: every listed file differs by sha256 from the live one; rsync's own quick check
        # (size and modification time) could skip one whose old copy has the same size and second.
        cmd = ["rsync", "-8", "-p", "--ignore-times", "--chmod=D755,F644", "--files-from=-", "--from0",
               "--out-format=%n",
               "-e", shlex.join(self.ssh_command()), f"{public}/", f"{host}:{self._abs(base)}/"]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin and proc.stdout and proc.stderr
        errors: list[bytes] = []
        drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        drain.start()
        proc.stdin.write(b"\0".join(f.path.encode() for f in files))
        proc.stdin.close()
        for line in proc.stdout:
            name = line.decode("utf-8", "surrogateescape").rstrip("\n")
            if name in sizes:
                transfer.done(name, sizes[name])
        code = proc.wait()
        drain.join()
        text = b"".join(errors).decode("utf-8", "replace").strip()
        if code == 0:
            return
        if not _is_disk_full(text) and self._alive() and self._free_bytes(base) < sum(sizes.values()):
            text = "No space left on device" + (f" ({text})" if text else "")
        if _is_disk_full(text):
            raise _remote_error("rsync", text, self.where)
        if code in (12, 30, 35, 255) or not self._alive():  # protocol stream / timeouts / ssh itself
            raise connection_lost(self.target, f"rsync exit {code}: {text}")
        raise self._fail(f"rsync exit {code}", text)

    def _alive(self) -> bool:
        transport = self.client.get_transport()
        return transport is not None and transport.is_active()

    def _free_bytes(self, rel: str) -> int:
        """Space left where ``rel`` lives (rsync does not always say why the receiver stopped)."""
        try:
            out = self.run(f"df -Pk {shlex.quote(self._abs(rel))} | tail -n 1").split()
            return int(out[3]) * 1024
        except (PublishError, IndexError, ValueError, *CONNECTION_ERRORS):
            return 1 << 62

    def _upload_sftp(self, public: Path, base: str, files: list[FileEntry], transfer: Transfer) -> None:
        dest = self._abs(base)
        folders = sorted({f.path.rsplit("/", 1)[0] for f in files if "/" in f.path})
        if folders:
            self.run(f"cd {shlex.quote(dest)} && xargs -0 mkdir -p --", stdin=b"\0".join(d.encode() for d in folders),
                     what="mkdir")
        sftp = self.sftp
        for f in files:
            remote = f"{dest}/{f.path}"
            tmp = remote + ".tmp-zhuanti"
            try:
                sftp.put(str(public / f.path), tmp, confirm=False)
                sftp.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
                sftp.posix_rename(tmp, remote)  # replaces the hard link, never writes through it
            except OSError as exc:
                raise self._fail(tr("上传 {p}", "uploading {p}", p=f.path), str(exc)) from exc
            transfer.done(f.path, f.size)

    def rename(self, src: str, dst: str) -> None:
        self.sftp.posix_rename(self._abs(src), self._abs(dst))

    def switch_link(self, link: str, target: str) -> None:
        tmp = self._abs(link + ".tmp-zhuanti")
        with contextlib.suppress(FileNotFoundError):
            self.sftp.remove(tmp)
        self.sftp.symlink(target, tmp)
        self.sftp.posix_rename(tmp, self._abs(link))  # rename(2) over the old link: atomic

    def remove_tree(self, rel: str) -> None:
        self.run(f"rm -rf {shlex.quote(self._abs(rel))}", what="rm -rf")

    def hash_files(self, rel: str) -> dict[str, str]:
        folder = shlex.quote(self._abs(rel))
        raw = self.run(f"cd {folder} && find . -type f -printf '%P\\0' | xargs -0 -r sha256sum -z --",
                       what="sha256sum")
        out = {}
        for item in raw.split(b"\0"):
            if item:
                digest, _, name = item.partition(b"  ")
                out[name.decode("utf-8", "surrogateescape")] = digest.decode()
        return out


def _is_disk_full(text: str) -> bool:
    return "No space left on device" in text or "Disk quota exceeded" in text


def _remote_error(what: str, errors: str, where: str) -> PublishError:
    if _is_disk_full(errors):
        return PublishError(tr("服务器磁盘已满：{w}（{e}）；在线版本未受影响",
                               "the server's disk is full: {w} ({e}); the live release is unchanged",
                               w=where, e=errors.splitlines()[-1] if errors else ""),
                            hint=tr("请清理空间或减少 keep/keep_days 后重新发布",
                                    "free some space (or lower keep/keep_days) and publish again"))
    return PublishError(tr("服务器上的操作失败（{c}）：{e}", "a command failed on the server ({c}): {e}",
                           c=what, e=errors or "?"), hint=tr("目标：{w}", "target: {w}", w=where))
