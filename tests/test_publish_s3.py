"""Publishing to S3-compatible storage: a real ``rclone serve s3`` on 127.0.0.1 driven with boto3."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import botocore.session
import pytest

from tests.publish_helpers import (
    RcloneS3,
    edit_and_rebuild,
    grow_beyond_the_disk,
    pinned_now,  # noqa: F401 - autouse fixture
    public_tree,
    publish_killing_server,
    site_with_targets,
    small_disk,
    start_rclone,
    zhuanti,
)

BUCKET = "topics"


@pytest.fixture
def s3(tmp_path, monkeypatch):
    server = start_rclone(tmp_path, monkeypatch)
    yield server
    server.stop()


def s3_target(server: RcloneS3, prefix: str = "zt", extra: str = "") -> str:
    return (f'[publish.obs]\ntype = "s3"\nendpoint = "{server.endpoint}"\nbucket = "{BUCKET}"\n'
            f'prefix = "{prefix}"\nconcurrency = 4\n{extra}')


def live_objects(server: RcloneS3, prefix: str = "zt/") -> dict[str, bytes]:
    client = server.client()
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix):]
            if not rel.startswith(".zhuanti/"):
                out[rel] = client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
    return out


def record_requests(monkeypatch) -> list[tuple[str, str]]:
    """Every S3 request zhuanti sends, in order, as (operation, key)."""
    calls: list[tuple[str, str]] = []
    real = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        c = real(self, *args, **kwargs)
        c.meta.events.register("before-call.s3.*", lambda model, params, **_: calls.append(
            (model.name, params.get("url_path", "").split("/", 2)[-1])))
        return c

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    return calls


def test_publish_headers_order_edit_rollback(s3, tmp_path, capsys, monkeypatch):
    root = site_with_targets(tmp_path / "site", s3_target(s3))
    calls = record_requests(monkeypatch)
    rc, _, err = zhuanti(capsys, root, "publish", "obs")
    assert rc == 0, err
    first = live_objects(s3)
    assert first == public_tree(root)

    client = s3.client()
    head = client.head_object(Bucket=BUCKET, Key="zt/index.html")
    assert head["ContentType"] == "text/html; charset=utf-8" and head["CacheControl"] == "public, max-age=300"
    metadata = {k.lower(): v for k, v in head["Metadata"].items()}  # rclone capitalises metadata keys
    assert metadata["sha256"] == hashlib.sha256(first["index.html"]).hexdigest()
    css = client.head_object(Bucket=BUCKET, Key="zt/static/css/zhuanti.css")
    assert css["ContentType"] == "text/css; charset=utf-8" and css["CacheControl"] == "public, max-age=86400"
    pdf = client.head_object(Bucket=BUCKET, Key="zt/demo/policy/doc/file.pdf")
    assert pdf["ContentType"] == "application/pdf"

    # Order: content objects, then live assets, then live HTML, then the record, `current` last.
    live_puts = [key for op, key in calls if op == "CopyObject"]
    kinds = [k.endswith(".html") for k in live_puts]
    assert kinds == sorted(kinds) and any(kinds) and not all(kinds)
    writes = [(op, key) for op, key in calls if op in ("PutObject", "CopyObject")]
    assert writes[-1][1].endswith(".zhuanti/current")
    assert writes[-2][1].endswith(".json") and writes[-3][1].endswith(".files.json.gz")
    first_copy = next(i for i, (op, _) in enumerate(writes) if op == "CopyObject")
    assert all(".zhuanti/objects/" in key for _, key in writes[:first_copy] if not key.endswith("target.json")
               and not key.endswith("lock"))

    edit_and_rebuild(root, "topics/demo/news/a.md", "\n补充说明。\n")
    calls.clear()
    rc, _, err = zhuanti(capsys, root, "publish", "obs")
    assert rc == 0, err
    assert 1 <= int(err.split("sent ")[1].split(" files")[0]) <= 5
    assert live_objects(s3) == public_tree(root)
    assert 1 <= len([1 for op, _ in calls if op == "CopyObject"]) <= 5

    rc, out, _ = zhuanti(capsys, root, "releases", "obs")
    assert rc == 0 and len(out.splitlines()) == 3
    rc, _, err = zhuanti(capsys, root, "rollback", "obs")
    assert rc == 0, err
    assert live_objects(s3) == first  # byte for byte
    assert zhuanti(capsys, root, "verify", "obs")[0] == 0


def test_tamper_hand_added_and_verify_json(s3, tmp_path, capsys):
    root = site_with_targets(tmp_path / "site", s3_target(s3))
    assert zhuanti(capsys, root, "publish", "obs")[0] == 0
    client = s3.client()
    client.put_object(Bucket=BUCKET, Key="zt/demo/index.html", Body=b"<p>defaced</p>", ContentType="text/html")
    client.put_object(Bucket=BUCKET, Key="zt/MP_verify_x.txt", Body=b"x")
    client.delete_object(Bucket=BUCKET, Key="zt/sitemap.xml")
    rc, out, err = zhuanti(capsys, root, "verify", "obs", "--format", "json")
    report = json.loads(out)
    assert rc == 1 and report["changed"] == ["demo/index.html"] and report["missing"] == ["sitemap.xml"]
    assert report["unexpected"] == ["MP_verify_x.txt"] and report["ok"] is False

    edit_and_rebuild(root, "topics/demo/news/b.md", "\n更新。\n")
    rc, _, err = zhuanti(capsys, root, "publish", "obs")
    assert rc == 0 and "modified after they were published" in err and "were not published by zhuanti" in err
    objects = live_objects(s3)
    assert objects["MP_verify_x.txt"] == b"x" and objects["demo/index.html"] == (root / "public/demo/index.html").read_bytes()
    rc, out, _ = zhuanti(capsys, root, "verify", "obs", "--format", "json")
    assert rc == 1 and json.loads(out)["unexpected"] == ["MP_verify_x.txt"]
    edit_and_rebuild(root, "topics/demo/news/b.md", "\n再更新。\n")
    assert zhuanti(capsys, root, "publish", "obs", "--prune-foreign")[0] == 0
    assert "MP_verify_x.txt" not in live_objects(s3)
    assert zhuanti(capsys, root, "verify", "obs")[0] == 0


def test_foreign_prefix_is_refused(s3, tmp_path, capsys):
    s3.client().put_object(Bucket=BUCKET, Key="zt/index.html", Body=b"old site")
    root = site_with_targets(tmp_path / "site", s3_target(s3))
    rc, _, err = zhuanti(capsys, root, "publish", "obs")
    assert rc == 2 and "zhuanti did not put there" in err and "index.html" in err
    assert live_objects(s3) == {"index.html": b"old site"}


def test_wrong_and_missing_credentials(s3, tmp_path, capsys, monkeypatch):
    root = site_with_targets(tmp_path / "site", s3_target(s3))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
    rc, _, err = zhuanti(capsys, root, "publish", "obs")
    assert rc == 2 and "refused the credentials" in err and "wrong-secret-value" not in err
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    rc, _, err = zhuanti(capsys, root, "publish", "obs")
    assert rc == 2 and "AWS_SECRET_ACCESS_KEY" in err


def test_server_killed_mid_upload_then_rerun_finishes(s3, tmp_path, capsys):
    root = site_with_targets(tmp_path / "site", s3_target(s3))
    assert zhuanti(capsys, root, "publish", "obs")[0] == 0
    before = live_objects(s3)
    error = publish_killing_server(root, "obs", s3)
    assert "connection to the object storage" in str(error) and "run the command again" in str(error)
    s3.start()
    assert live_objects(s3) == before  # content objects went up first: the live site is untouched
    rc, _, err = zhuanti(capsys, root, "publish", "obs")
    assert rc == 0, err
    assert live_objects(s3) == public_tree(root)


def test_retention_keeps_a_year_and_collects_unused_objects(s3, tmp_path, capsys):
    root = site_with_targets(tmp_path / "site", s3_target(s3, extra="keep = 1\nkeep_days = 30\n"))
    assert zhuanti(capsys, root, "publish", "obs")[0] == 0
    edit_and_rebuild(root, "topics/demo/news/a.md", "\n一。\n")
    assert zhuanti(capsys, root, "publish", "obs")[0] == 0
    client = s3.client()
    releases = sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="zt/.zhuanti/releases/")["Contents"]
                      if o["Key"].endswith(".json"))
    assert len(releases) == 2
    # Make the first release 40 days old: past keep_days and beyond keep = 1, so the next publish removes it.
    key = releases[0]
    record = json.loads(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    old_time = (dt.datetime.fromisoformat(record["time"]) - dt.timedelta(days=40)).isoformat()
    client.put_object(Bucket=BUCKET, Key=key, Body=json.dumps({**record, "time": old_time}).encode())
    old_files = gzip.decompress(client.get_object(Bucket=BUCKET, Key=key.replace(".json", ".files.json.gz"))
                                ["Body"].read())
    old_page_sha = next(r[1] for r in json.loads(old_files) if r[0] == "demo/news/a/index.html")
    edit_and_rebuild(root, "topics/demo/news/a.md", "\n二。\n")
    rc, _, err = zhuanti(capsys, root, "publish", "obs")
    assert rc == 0 and "1 old releases removed" in err
    rc, out, _ = zhuanti(capsys, root, "releases", "obs")
    assert record["id"] not in out and len(out.splitlines()) == 3
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="zt/.zhuanti/objects/")["Contents"]}
    assert f"zt/.zhuanti/objects/{old_page_sha}" not in keys


def test_storage_full_leaves_the_live_objects(tmp_path, capsys, monkeypatch):
    with small_disk(tmp_path / "disk") as disk:
        s3 = start_rclone(disk, monkeypatch)
        try:
            root = site_with_targets(tmp_path / "site", s3_target(s3))
            assert zhuanti(capsys, root, "publish", "obs")[0] == 0
            before = live_objects(s3)
            grow_beyond_the_disk(root)
            rc, _, err = zhuanti(capsys, root, "publish", "obs")
            assert rc == 1 and "object storage answered" in err and "a full disk or quota" in err, err
            assert live_objects(s3) == before  # content objects go first: nothing live was replaced
            assert zhuanti(capsys, root, "verify", "obs")[0] == 0
        finally:
            s3.stop()
