"""The ``s3`` target: S3-compatible object storage (Huawei OBS, Aliyun OSS, Tencent COS, MinIO, AWS).

Live objects sit under ``prefix`` exactly as in ``public/``, each with Content-Type, Cache-Control
(HTML short, fingerprinted assets long, other assets a day) and its sha256 in ``x-amz-meta-sha256``.
What rollback needs is kept under the hidden ``<prefix>.zhuanti/``:

    .zhuanti/objects/<sha256>              every file of every kept release, stored once by content
    .zhuanti/releases/<id>.json, .files.json.gz   release records (release.py)
    .zhuanti/current                       the live release's id, written last
    .zhuanti/target.json, .zhuanti/lock    ownership marker and publish lock

Why content-addressed objects rather than bucket versioning: versioning must be switched on by the
bucket's owner, works differently per vendor (and not at all in some, e.g. ``rclone serve s3``),
and by itself cannot tell which versions form release N. Content addressing works on every S3
service, stores a file unchanged for a year once, restores by server-side copy, and retention is
plain deletion of objects no kept record names. Keep ``.zhuanti/`` out of public read (docs/publish.md).

A publish uploads the new content objects first (the bulk of the time; the live site is untouched
while it runs), then copies them server-side onto the live keys — assets, then HTML — then
deletes, then writes the record and ``current``. S3 has no atomic switch of many objects: during
the copies a reader can see new and old pages side by side, but never a page whose assets are
missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

from builder import ui
from builder.errors import ConfigError, PublishError
from builder.i18n import tr
from builder.publish import lock as locks
from builder.publish.localbuild import LocalBuild
from builder.publish.plan import LiveState, Plan
from builder.publish.progress import Transfer
from builder.publish.release import FileEntry, Release, dump_files, files_name, load_files, summary_name
from builder.publish.targets import S3Target
from builder.publish.verify import VerifyResult, compare

HIDDEN = ".zhuanti/"
MARKER = ".zhuanti/target.json"
CURRENT = ".zhuanti/current"
OBJECTS = ".zhuanti/objects/"
CREDENTIAL_ERRORS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken",
                     "ExpiredToken", "AuthorizationHeaderMalformed", "InvalidSecurity"}
TYPES = {".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript",
         ".mjs": "text/javascript", ".json": "application/json", ".xml": "application/xml",
         ".txt": "text/plain", ".svg": "image/svg+xml", ".webp": "image/webp", ".vtt": "text/vtt",
         ".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".mp4": "video/mp4",
         ".woff2": "font/woff2", ".woff": "font/woff", ".pdf": "application/pdf", ".ico": "image/x-icon"}
FINGERPRINT = re.compile(r"[.-][0-9a-f]{8,64}\.[A-Za-z0-9]+$")


def content_type(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    kind = TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    text = kind.startswith("text/") or kind in ("application/json", "application/xml", "image/svg+xml")
    return kind + "; charset=utf-8" if text else kind


def cache_control(target: S3Target, path: str) -> str:
    if path.endswith((".html", ".htm")):
        return target.cache_html
    if FINGERPRINT.search(path.rsplit("/", 1)[-1]):
        return target.cache_fingerprinted
    return target.cache_assets


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class S3Backend:
    def __init__(self, client, target: S3Target) -> None:
        self.client, self.target = client, target
        self.bucket, self.prefix = target.bucket, target.prefix
        self.label = target.name
        self.where = f"s3://{target.bucket}/{target.prefix}"
        self._records: dict[str, dict[str, FileEntry]] = {}  # release records read in this session

    # -- connection ----------------------------------------------------------------------------------
    @classmethod
    @contextlib.contextmanager
    def connect(cls, target: S3Target) -> Iterator[S3Backend]:
        import botocore.session
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            raise ConfigError(tr("缺少对象存储的访问密钥：请设置环境变量 AWS_ACCESS_KEY_ID 和 AWS_SECRET_ACCESS_KEY",
                                 "no object-storage credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                 "in the environment"), field=f"publish.{target.name}",
                              hint=tr("密钥只从环境变量读取（CI 中设为受保护的变量），不要写进 site.toml",
                                      "credentials come from the environment only (protected CI variables), "
                                      "never from site.toml"))
        session = botocore.session.get_session()
        # Timestamps are never used here; leaving them as text halves the cost of parsing listings.
        session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
        client = session.create_client(
            "s3", endpoint_url=target.endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
            aws_session_token=os.environ.get("AWS_SESSION_TOKEN") or None, region_name=target.region,
            config=Config(s3={"addressing_style": target.addressing_style}, connect_timeout=10, read_timeout=60,
                          retries={"max_attempts": 3, "mode": "standard"},
                          max_pool_connections=target.concurrency + 4))
        backend = cls(client, target)
        try:
            client.list_objects_v2(Bucket=target.bucket, Prefix=target.prefix + HIDDEN, MaxKeys=1)
            yield backend
        except ClientError as exc:
            raise backend._client_error(exc) from None
        except BotoCoreError as exc:
            raise PublishError(tr("与对象存储 {e} 的连接失败或中断：{x}；如果发布中断，在线内容的 HTML 未被部分替换前"
                                  "不会生效，重新运行即可", "the connection to the object storage {e} failed or was "
                                  "lost: {x}; run the command again to finish", e=target.endpoint, x=exc)) from None

    def _client_error(self, exc) -> Exception:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in CREDENTIAL_ERRORS or code == "403":
            return ConfigError(tr("对象存储拒绝了访问密钥（{c}）", "the object storage refused the credentials ({c})", c=code),
                               field="AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
                               hint=tr("检查环境变量 AWS_ACCESS_KEY_ID、AWS_SECRET_ACCESS_KEY 以及该密钥对桶 {b} 的权限",
                                       "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the key's rights on "
                                       "bucket {b}", b=self.bucket))
        if code in ("NoSuchBucket", "404"):
            return ConfigError(tr("存储桶 {b} 不存在", "bucket {b} does not exist", b=self.bucket),
                               field=f"publish.{self.label}.bucket")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return PublishError(tr("对象存储返回错误 {c}：{m}", "the object storage answered {c}: {m}", c=code,
                               m=exc.response.get("Error", {}).get("Message", "")),
                            hint=tr("服务端故障（自建存储磁盘满或配额用尽时也这样回答）；上传阶段出错时在线内容未被替换，"
                                    "修复后重新运行即可", "a failure of the storage service (a full disk or quota on "
                                    "self-hosted storage answers like this); if it happened while uploading, nothing "
                                    "live was replaced: run again once it is fixed") if status >= 500 else None)

    # -- primitives ----------------------------------------------------------------------------------
    def _get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def _put(self, key: str, data: bytes, **extra) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, **extra)

    def _list(self, sub: str = "") -> Iterator[dict]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + sub)
        for page in pages:
            for obj in page.get("Contents", []):
                obj["Rel"] = obj["Key"][len(self.prefix):]
                yield obj

    def _delete(self, keys: list[str]) -> None:
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            resp = self.client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": self.prefix + k} for k in chunk], "Quiet": True})
            if resp.get("Errors"):
                err = resp["Errors"][0]
                raise PublishError(tr("删除 {k} 失败：{e}", "deleting {k} failed: {e}", k=err.get("Key"),
                                      e=err.get("Message")))

    def _live(self) -> dict[str, dict]:
        """The live objects: the top level with a delimiter, then each top-level folder but the hidden
        one, so the content store (as many objects again) is never listed."""
        live: dict[str, dict] = {}
        folders = []
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix,
                                                                      Delimiter="/")
        for page in pages:
            for obj in page.get("Contents", []):
                obj["Rel"] = obj["Key"][len(self.prefix):]
                live[obj["Rel"]] = obj
            folders += [p["Prefix"][len(self.prefix):] for p in page.get("CommonPrefixes", [])]
        for folder in folders:
            if folder != HIDDEN:
                live.update((o["Rel"], o) for o in self._list(folder))
        return live

    def _parallel(self, items: Iterable, fn: Callable) -> None:
        with ThreadPoolExecutor(self.target.concurrency) as pool:
            futures = [pool.submit(fn, item) for item in items]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for f in done:
                if f.exception() is not None:
                    for other in futures:
                        other.cancel()
                    raise f.exception()

    # -- ownership and lock --------------------------------------------------------------------------
    def adopt(self, claim: bool = True) -> None:
        if self._get(MARKER) is not None:
            return
        found = [o["Rel"] for _, o in zip(range(6), self._list(), strict=False)]
        if found:
            shown = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
            raise ConfigError(
                tr("{w} 下有不是 zhuanti 放入的对象（{n}），拒绝改动", "{w} holds objects zhuanti did not put there "
                   "({n}): refusing to touch them", w=self.where, n=shown), field=f"publish.{self.label}.prefix",
                hint=tr("请换一个空的 prefix 或存储桶", "use an empty prefix or bucket"))
        if claim:
            self._put(MARKER, json.dumps({"tool": "zhuanti", "layout": "s3", "schema": 1}).encode())

    def require_ours(self) -> None:
        if self._get(MARKER) is None:
            raise ConfigError(tr("{w} 还没有 zhuanti 发布过的版本", "{w} holds no release published by zhuanti",
                                 w=self.where), field=f"publish.{self.label}",
                              hint=tr("先运行 zhuanti publish {t}", "run 'zhuanti publish {t}' first", t=self.label))

    @contextlib.contextmanager
    def lock(self, timeout: int) -> Iterator[None]:
        # S3 has no create-if-absent everywhere: read, write, read back. Two publishes starting in
        # the same instant could both pass; the read-back catches all but that instant.
        where = f"{self.where}{locks.LOCK_NAME}"
        old = self._get(locks.LOCK_NAME)
        if old is not None:
            reason = locks.stale_reason(old, timeout)
            if reason is None:
                raise locks.held_error(old, where)
            ui.warn(tr("发现过期的发布锁 {w}（{r}），已接管", "found a stale publish lock {w} ({r}); taking it over",
                       w=where, r=reason))
        mine = locks.lock_content()
        self._put(locks.LOCK_NAME, mine)
        if self._get(locks.LOCK_NAME) != mine:
            raise locks.held_error(self._get(locks.LOCK_NAME) or b"", where)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=self.prefix + locks.LOCK_NAME)

    # -- records -------------------------------------------------------------------------------------
    def current_id(self) -> str | None:
        data = self._get(CURRENT)
        return data.decode().strip() if data else None

    def releases(self) -> list[Release]:
        out = []
        for obj in self._list(".zhuanti/releases/"):
            if obj["Rel"].endswith(".json"):
                data = self._get(obj["Rel"])
                if data:
                    out.append(Release.from_json(data))
        return sorted(out, key=lambda r: r.order)

    def record_files(self, rid: str) -> dict[str, FileEntry]:
        if rid in self._records:
            return self._records[rid]
        data = self._get(files_name(rid))
        if data is None:
            raise PublishError(tr("发布记录缺失：{w}{f}", "release record missing: {w}{f}", w=self.where,
                                  f=files_name(rid)))
        self._records[rid] = load_files(data)
        return self._records[rid]

    # -- publish -------------------------------------------------------------------------------------
    def live_state(self, rid: str, files: dict[str, FileEntry]) -> LiveState:
        live = self._live()
        state = LiveState()
        for path, entry in files.items():
            obj = live.get(path)
            if obj is None or obj["Size"] != entry.size or _md5_differs(obj, entry):
                state.damaged.add(path)
        state.foreign = sorted(p for p in live if p not in files)
        return state

    def apply(self, build: LocalBuild, plan: Plan, release: Release, previous: str | None,
              transfer: Transfer) -> None:
        old = self.record_files(previous) if previous else {}
        uploads = plan.uploads
        stored = self._stored({f.sha256 for f in uploads})
        md5: dict[str, str] = {}

        def send(f: FileEntry) -> None:
            local = build.public / f.path
            md5[f.path] = _md5(local)
            if f.sha256 not in stored:
                with local.open("rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=self.prefix + OBJECTS + f.sha256, Body=body,
                                           ContentType=content_type(f.path), Metadata={"sha256": f.sha256})
            transfer.done(f.path, f.size)

        self._parallel(uploads, send)  # 1. content: the live site is untouched so far
        by_path = {f.path: f for f in uploads}
        self._go_live([f for f in uploads if not f.is_html], by_path)  # 2. assets, then HTML
        self._go_live([f for f in uploads if f.is_html], by_path)
        self._delete(plan.removals)  # 3. deletions last
        files = [FileEntry(f.path, f.sha256, f.size, md5.get(f.path) or _old_md5(old, f)) for f in plan.files]
        self._put(files_name(release.id), dump_files(files))  # 4. the record, then the pointer
        self._put(summary_name(release.id), release.summary_json(), ContentType="application/json")
        self._put(CURRENT, release.id.encode(), ContentType="text/plain")

    def _stored(self, wanted: set[str]) -> set[str]:
        """Which of these content objects the target already has: a HEAD each for a few (a
        republish), one listing for many (a first publish)."""
        if len(wanted) > 100:
            return {o["Rel"][len(OBJECTS):] for o in self._list(OBJECTS)} & wanted
        have: set[str] = set()

        def head(sha: str) -> None:
            if self._exists(OBJECTS + sha):
                have.add(sha)

        self._parallel(sorted(wanted), head)
        return have

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise

    def _go_live(self, files: list[FileEntry], entries: dict[str, FileEntry]) -> None:
        def copy(f: FileEntry) -> None:
            self.client.copy_object(
                Bucket=self.bucket, Key=self.prefix + f.path,
                CopySource={"Bucket": self.bucket, "Key": self.prefix + OBJECTS + f.sha256},
                MetadataDirective="REPLACE", ContentType=content_type(f.path),
                CacheControl=cache_control(self.target, f.path), Metadata={"sha256": f.sha256})

        self._parallel(files, copy)

    # -- rollback, retention, verify -----------------------------------------------------------------
    def activate(self, release: Release, files: dict[str, FileEntry], live_files: dict[str, FileEntry]) -> None:
        live = self._live()
        stored = {o["Rel"][len(OBJECTS):] for o in self._list(OBJECTS)}
        todo = [f for p, f in sorted(files.items())
                if p not in live or live[p]["Size"] != f.size or _md5_differs(live[p], f)]
        lost = [f.path for f in todo if f.sha256 not in stored]
        if lost:
            raise PublishError(tr("版本 {r} 的 {n} 个文件已不在 {w}（如 {f}），无法回滚到它",
                                  "{n} files of release {r} are gone from {w} (e.g. {f}): cannot go back to it",
                                  r=release.id, n=len(lost), w=self.where + OBJECTS, f=lost[0]))
        by_path = {f.path: f for f in todo}
        self._go_live([f for f in todo if not f.is_html], by_path)
        self._go_live([f for f in todo if f.is_html], by_path)
        self._delete(sorted(p for p in live if p in live_files and p not in files))
        self._put(CURRENT, release.id.encode(), ContentType="text/plain")

    def remove_release(self, rid: str) -> None:
        self._delete([files_name(rid), summary_name(rid)])

    def collect_garbage(self) -> int:
        """Delete content objects that no kept release names; returns how many."""
        wanted: set[str] = set()
        for rel in self.releases():
            wanted.update(f.sha256 for f in self.record_files(rel.id).values())
        unused = [o["Rel"] for o in self._list(OBJECTS) if o["Rel"][len(OBJECTS):] not in wanted]
        self._delete(unused)
        return len(unused)

    def verify(self, rid: str, files: dict[str, FileEntry]) -> VerifyResult:
        live = self._live()
        actual: dict[str, str] = {}
        for path, obj in live.items():
            entry = files.get(path)
            if entry is not None and entry.md5 and obj["Size"] == entry.size and _etag(obj) == entry.md5:
                actual[path] = entry.sha256
            elif entry is not None and obj["Size"] != entry.size:
                actual[path] = "size:" + str(obj["Size"])
            elif entry is not None:
                # ETag is not a plain MD5 on some services (multipart, server-side encryption): hash it.
                actual[path] = hashlib.sha256(self._get(path) or b"").hexdigest()
            else:
                actual[path] = ""
        return compare(rid, self.label, files, actual)


def _old_md5(old: dict[str, FileEntry], f: FileEntry) -> str:
    prev = old.get(f.path)
    return prev.md5 if prev is not None and prev.sha256 == f.sha256 else ""


def _etag(obj: dict) -> str:
    return str(obj.get("ETag", "")).strip('"')


def _md5_differs(obj: dict, entry: FileEntry) -> bool:
    """True when the ETag is a plain MD5 (single-part upload) and not the recorded one."""
    etag = _etag(obj)
    return bool(entry.md5) and bool(re.fullmatch(r"[0-9a-f]{32}", etag)) and etag != entry.md5
