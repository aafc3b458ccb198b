"""``[publish.<name>]`` tables of site.toml as typed target configs, one dataclass per ``type``.

The dataclasses are the schema (as builder.config's are): every key is typed, unknown keys are named
with the closest valid one, and each bad value is reported with its ``publish.<name>.<key>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from builder.config import SiteConfig, build_dataclass, closest
from builder.errors import ConfigError
from builder.i18n import tr


@dataclass
class CommonTarget:
    """Keys every target type has."""

    type: str = ""
    keep: int = 10                 # at least this many newest releases are kept …
    keep_days: int = 365           # … and every release younger than this (the one-year backup rule)
    max_deletes: int = 256         # more deletions than this need --allow-deletes
    lock_timeout: int = 3600       # seconds after which another machine's lock counts as stale

    name: str = field(default="", metadata={"internal": True})  # the table's name, set by load_target


@dataclass
class DirTarget(CommonTarget):
    """``type = "dir"``: a local or mounted folder holding ``current`` and ``releases/``."""

    path: str = ""


@dataclass
class SshTarget(CommonTarget):
    """``type = "ssh"``: a server reached over SSH, same layout as ``dir``."""

    host: str = ""
    port: int = 22
    user: str = ""
    path: str = ""
    identity_file: str = ""        # else the file named by $ZHUANTI_SSH_KEY, else ssh-agent
    known_hosts: str = ""          # else ~/.ssh/known_hosts
    transfer: str = "rsync"        # "rsync" (rsync over OpenSSH) or "sftp" (paramiko)
    timeout: float = 30.0          # connect timeout, seconds


@dataclass
class S3Target(CommonTarget):
    """``type = "s3"``: S3-compatible object storage (OBS, OSS, COS, MinIO, AWS)."""

    endpoint: str = ""
    bucket: str = ""
    prefix: str = ""
    region: str = "us-east-1"
    addressing_style: str = "path"  # "path" or "virtual"
    cache_html: str = "public, max-age=300"
    cache_assets: str = "public, max-age=86400"
    cache_fingerprinted: str = "public, max-age=31536000, immutable"
    concurrency: int = 16


TYPES: dict[str, type[CommonTarget]] = {"dir": DirTarget, "ssh": SshTarget, "s3": S3Target}
Target = DirTarget | SshTarget | S3Target


def load_target(cfg: SiteConfig, name: str) -> Target:
    """The typed config of target ``name``; ConfigError (exit 2) naming the key for any bad value."""
    source = cfg.root / "site_src" / "site.toml"
    if name not in cfg.publish:
        guess = closest(name, cfg.publish)
        known = ", ".join(sorted(cfg.publish)) or tr("（无）", "(none)")
        raise ConfigError(
            tr("site.toml 中没有发布目标 “{n}”", "no publish target '{n}' in site.toml", n=name), source,
            hint=(tr("是否想写 “{g}”？", "did you mean '{g}'?", g=guess) if guess else
                  tr("已配置的目标：{k}。在 site.toml 中添加 [publish.{n}]，见 docs/publish.md",
                     "configured targets: {k}. Add a [publish.{n}] table to site.toml (see docs/publish.md)",
                     k=known, n=name)))
    table = cfg.publish[name]
    prefix = f"publish.{name}."
    kind = table.get("type")
    if kind not in TYPES:
        raise ConfigError(tr("发布目标的 type 应为 dir、ssh 或 s3，实际是 {v!r}",
                             "a publish target's type must be dir, ssh or s3, got {v!r}", v=kind),
                          source, field=prefix + "type")
    target = build_dataclass(TYPES[kind], table, source, prefix=prefix)
    target.name = name
    _validate(target, source, prefix)
    return target


def _validate(t: Target, source: Path, prefix: str) -> None:
    def bad(key: str, zh: str, en: str) -> ConfigError:
        return ConfigError(tr(zh, en), source, field=prefix + key)

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", t.name):
        raise ConfigError(tr("发布目标名只能包含字母、数字、_ . -", "a target name may hold only letters, digits, _ . -"),
                          source, field=prefix.rstrip("."))
    if t.keep < 1:
        raise bad("keep", "keep 至少为 1（当前版本总要保留）", "keep must be at least 1 (the live release is always kept)")
    if t.keep_days < 0:
        raise bad("keep_days", "keep_days 不能为负数", "keep_days must not be negative")
    if t.max_deletes < 0:
        raise bad("max_deletes", "max_deletes 不能为负数", "max_deletes must not be negative")
    if t.lock_timeout < 60:
        raise bad("lock_timeout", "lock_timeout 至少 60 秒", "lock_timeout must be at least 60 seconds")
    if isinstance(t, DirTarget | SshTarget):
        if not t.path:
            raise bad("path", "缺少 path（发布目录）", "path (the folder to publish into) is missing")
        if isinstance(t, SshTarget) and not t.path.startswith("/"):
            raise bad("path", "SSH 目标的 path 必须是绝对路径（以 / 开头）",
                      "an ssh target's path must be absolute (start with /)")
    if isinstance(t, SshTarget):
        if not t.host:
            raise bad("host", "缺少 host（服务器地址）", "host (the server's address) is missing")
        if not t.user:
            raise bad("user", "缺少 user（登录用户名）", "user (the login name) is missing")
        if not 0 < t.port < 65536:
            raise bad("port", "port 应在 1–65535 之间", "port must be between 1 and 65535")
        if t.transfer not in ("rsync", "sftp"):
            raise bad("transfer", "transfer 只能是 rsync 或 sftp", "transfer must be rsync or sftp")
    if isinstance(t, S3Target):
        if not re.match(r"^https?://[^/\s]+", t.endpoint):
            raise bad("endpoint", "endpoint 应为 http(s):// 开头的地址，例如 https://obs.example.gov.cn",
                      "endpoint must be an http(s):// address, e.g. https://obs.example.gov.cn")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", t.bucket):
            raise bad("bucket", "bucket 应为 3–63 个小写字母、数字、. 或 -",
                      "bucket must be 3-63 lowercase letters, digits, '.' or '-'")
        if t.prefix.startswith("/") or ".." in t.prefix.split("/"):
            raise bad("prefix", "prefix 不能以 / 开头，也不能包含 ..", "prefix must not start with / nor contain ..")
        if t.prefix and not t.prefix.endswith("/"):
            t.prefix += "/"
        if t.addressing_style not in ("path", "virtual"):
            raise bad("addressing_style", "addressing_style 只能是 path 或 virtual",
                      "addressing_style must be path or virtual")
        if t.concurrency < 1:
            raise bad("concurrency", "concurrency 至少为 1", "concurrency must be at least 1")
