"""The shipped sample site (photos and videos included) published to all three targets against the
real servers: publish, edit, republish, verify, tamper, roll back."""

from __future__ import annotations

import pytest

from builder.cli import main
from tests.publish_helpers import (
    live,
    pinned_now,  # noqa: F401 - autouse fixture
    public_tree,
    start_rclone,
    start_sshd,
    tree,
    zhuanti,
)
from tests.test_sample_site import sample  # noqa: F401 - the built sample site (module fixture)

pytestmark = pytest.mark.slow


def test_sample_site_to_dir_ssh_and_s3(sample, tmp_path, capsys, monkeypatch):  # noqa: F811
    root = sample["root"]
    sshd = start_sshd(tmp_path, monkeypatch)
    s3 = start_rclone(tmp_path, monkeypatch)
    try:
        toml = root / "site_src/site.toml"
        toml.write_text(toml.read_text(encoding="utf-8") + f"""
[publish.staging]
type = "dir"
path = "{tmp_path / 'www'}"

[publish.web]
type = "ssh"
host = "127.0.0.1"
port = {sshd.port}
user = "root"
path = "{tmp_path / 'remote'}"
identity_file = "{sshd.client_key}"

[publish.obs]
type = "s3"
endpoint = "{s3.endpoint}"
bucket = "topics"
prefix = "zhuanti"
""", encoding="utf-8")
        assert main(["--root", str(root), "build"]) == 0
        assert main(["--root", str(root), "check"]) == 0
        folders = {"staging": tmp_path / "www", "web": tmp_path / "remote"}
        for target in ("staging", "web", "obs"):
            rc, _, err = zhuanti(capsys, root, "publish", target)
            assert rc == 0, err
        first = {t: tree(live(f)) for t, f in folders.items()}
        assert first["staging"] == first["web"] == public_tree(root)
        assert any(p.endswith(".mp4") for p in first["web"]) and any(p.endswith(".webp") for p in first["web"])

        page = next(p for p in sorted((root / "topics").rglob("*.md")) if not p.name.startswith(("_", "index")))
        page.write_text(page.read_text(encoding="utf-8") + "\n补充说明。\n", encoding="utf-8")
        assert main(["--root", str(root), "build"]) == 0
        assert main(["--root", str(root), "check"]) == 0
        now = public_tree(root)
        differ = [p for p, data in now.items() if first["web"].get(p) != data]
        assert differ
        for target in ("staging", "web", "obs"):
            rc, _, err = zhuanti(capsys, root, "publish", target)
            assert rc == 0, err
            assert int(err.split("sent ")[1].split(" files")[0]) == len(differ)  # exactly the files that changed
            assert zhuanti(capsys, root, "verify", target)[0] == 0

        html = next(p for p in sorted(live(folders["web"]).rglob("index.html")))
        html.write_text(html.read_text(encoding="utf-8") + '<a href="https://casino.example" style="display:none">x</a>',
                        encoding="utf-8")
        s3.client().put_object(Bucket="topics", Key="zhuanti/index.html", Body=b"<p>defaced</p>")
        for target in ("web", "obs"):
            rc, out, _ = zhuanti(capsys, root, "verify", target)
            assert rc == 1 and "changed: " in out

        for target in ("staging", "obs"):
            rc, _, err = zhuanti(capsys, root, "rollback", target)
            assert rc == 0, err
        assert tree(live(folders["staging"])) == first["staging"]
    finally:
        sshd.stop()
        s3.stop()
