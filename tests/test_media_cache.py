"""The media cache, the hash index, the job executor and MediaLibrary.process/lookup/publish."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from builder.config import load_site_config
from builder.media import library_for
from media_pipeline import cache as cache_mod
from media_pipeline import executor as executor_mod
from media_pipeline.cache import RESULT_FILE, MediaCache, SourceHashes, cache_key
from media_pipeline.errors import MediaError, MediaFailed
from media_pipeline.executor import MediaTask, SerialExecutor, run_tasks
from media_pipeline.images import ImageParams
from tests.sitefactory import write_site

SITE = """
title = "测试"
[media]
image_widths = [40, 80]
video_heights = [120]
video_preset = "ultrafast"
"""


def _photo(path: Path, size=(120, 90), colour="red") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _site(tmp_path: Path, files: dict | None = None):
    write_site(tmp_path, files or {}, SITE)
    return load_site_config(tmp_path)


# ---------------------------------------------------------------- the cache itself

def test_key_depends_on_content_kind_params_and_extra():
    k = cache_key("image", "a" * 64, "p1")
    assert k == cache_key("image", "a" * 64, "p1")
    assert len({k, cache_key("image", "b" * 64, "p1"), cache_key("video", "a" * 64, "p1"),
                cache_key("image", "a" * 64, "p2"), cache_key("image", "a" * 64, "p1", "captions=x")}) == 5


def test_commit_writes_result_last_and_moves_the_folder_into_place(tmp_path):
    cache = MediaCache(tmp_path / "media")
    staging = cache.staging("k1")
    (staging / "a.jpg").write_bytes(b"x")
    (staging / "hls").mkdir()
    (staging / "hls" / "seg.ts").write_bytes(b"y")
    assert cache.get("k1") is None
    result = cache.commit("k1", staging, {"kind": "image"})
    assert not staging.exists()
    assert result["files"] == ["a.jpg", "hls/seg.ts"]
    got = cache.get("k1")
    assert got["kind"] == "image" and Path(got["dir"]) == tmp_path / "media" / "k1"


def test_folder_without_result_json_is_never_trusted_and_is_cleaned(tmp_path):
    cache = MediaCache(tmp_path / "media")
    half = cache.entry_dir("k2")
    half.mkdir(parents=True)
    (half / "image-40.jpg").write_bytes(b"half-written")
    assert cache.get("k2") is None
    cache.clean()
    assert not half.exists()


def test_commit_replaces_a_broken_leftover(tmp_path):
    cache = MediaCache(tmp_path / "media")
    cache.entry_dir("k3").mkdir(parents=True)
    (cache.entry_dir("k3") / "junk").write_bytes(b"x")
    staging = cache.staging("k3")
    (staging / "good.jpg").write_bytes(b"ok")
    cache.commit("k3", staging, {"kind": "image"})
    assert sorted(p.name for p in cache.entry_dir("k3").iterdir()) == ["good.jpg", RESULT_FILE]


def test_entry_with_a_missing_rendition_is_a_miss(tmp_path):
    cache = MediaCache(tmp_path / "media")
    staging = cache.staging("k4")
    (staging / "a.jpg").write_bytes(b"x")
    cache.commit("k4", staging, {"kind": "image"})
    (cache.entry_dir("k4") / "a.jpg").unlink()
    assert cache.get("k4") is None


def test_result_json_from_another_layout_version_is_ignored(tmp_path):
    cache = MediaCache(tmp_path / "media")
    staging = cache.staging("k5")
    cache.commit("k5", staging, {"kind": "image"})
    path = cache.entry_dir("k5") / RESULT_FILE
    data = json.loads(path.read_text())
    data["layout"] = -1
    path.write_text(json.dumps(data))
    assert cache.get("k5") is None


def test_clean_removes_staging_of_dead_processes_only(tmp_path):
    cache = MediaCache(tmp_path / "media")
    mine = cache.staging("k6")
    proc = subprocess.Popen(["true"])
    proc.wait()
    dead = cache.root / ".tmp" / f"k7.{proc.pid}.abcd1234"
    dead.mkdir()
    (dead / "partial.mp4").write_bytes(b"x")
    cache.clean()
    assert mine.exists()
    assert not dead.exists()


# ---------------------------------------------------------------- hash index

def test_unchanged_files_are_not_read_again(tmp_path, monkeypatch):
    a = _photo(tmp_path / "a.png")
    b = _photo(tmp_path / "b.png", colour="blue")
    index = SourceHashes(tmp_path / "idx.sqlite")
    first, errors = index.hash_many([a, b])
    assert not errors and first[a] != first[b]
    read: list[Path] = []
    real = cache_mod.file_sha256
    monkeypatch.setattr(cache_mod, "file_sha256", lambda p: read.append(p) or real(p))
    again, _ = SourceHashes(tmp_path / "idx.sqlite").hash_many([a, b])
    assert again == first and read == []
    _photo(a, colour="green")
    os.utime(a, ns=(1, 1))  # a different mtime
    changed, _ = SourceHashes(tmp_path / "idx.sqlite").hash_many([a, b])
    assert read == [a] and changed[a] != first[a] and changed[b] == first[b]


def test_damaged_index_is_rebuilt(tmp_path):
    a = _photo(tmp_path / "a.png")
    db = tmp_path / "idx.sqlite"
    db.write_bytes(b"this is not sqlite" * 100)
    hashes, errors = SourceHashes(db).hash_many([a])
    assert not errors and len(hashes[a]) == 64


def test_missing_file_is_an_error_not_a_crash(tmp_path):
    hashes, errors = SourceHashes(tmp_path / "idx.sqlite").hash_many([tmp_path / "gone.jpg"])
    assert hashes == {} and errors[0].path == str(tmp_path / "gone.jpg")


# ---------------------------------------------------------------- executor

def _tasks(tmp_path: Path, names: list[str]) -> list[MediaTask]:
    params = {"widths": (40,), "jpeg_quality": 80, "webp_quality": 70, "max_pixels": 10_000_000}
    out = []
    for i, name in enumerate(names):
        out.append(MediaTask("image", str(tmp_path / name), f"key{i}", params, label=name))
    return out


@pytest.mark.parametrize("jobs", [1, 2])
def test_one_failing_photo_never_stops_the_others(tmp_path, jobs):
    _photo(tmp_path / "a.jpg")
    (tmp_path / "bad.jpg").write_text("not an image")
    _photo(tmp_path / "c.jpg")
    results = run_tasks(_tasks(tmp_path, ["a.jpg", "bad.jpg", "c.jpg"]), tmp_path / "cache", jobs=jobs)
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["error"]["path"] == str(tmp_path / "bad.jpg")
    assert "不是图片" in results[1]["error"]["message"]
    cache = MediaCache(tmp_path / "cache")
    assert cache.get("key0") and cache.get("key2") and cache.get("key1") is None
    assert list((tmp_path / "cache" / ".tmp").iterdir()) == []
    json.dumps(results)  # plain data all the way


def test_any_executor_can_run_the_jobs(tmp_path):
    _photo(tmp_path / "a.jpg")
    _photo(tmp_path / "b.jpg")
    with ThreadPoolExecutor(2) as pool:
        results = run_tasks(_tasks(tmp_path, ["a.jpg", "b.jpg"]), tmp_path / "cache", executor=pool)
    assert all(r["ok"] for r in results)


def test_serial_executor_returns_done_futures():
    fut = SerialExecutor().submit(lambda x: x * 2, 21)
    assert fut.done() and fut.result() == 42
    boom = SerialExecutor().submit(lambda: 1 / 0)
    assert isinstance(boom.exception(), ZeroDivisionError)


def test_interrupted_job_leaves_nothing_a_later_run_would_trust(tmp_path, monkeypatch):
    _photo(tmp_path / "a.jpg")

    def dies_halfway(src, out_dir, params, stem=None):
        (out_dir / f"{stem}-40.jpg").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(executor_mod, "process_image", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        run_tasks(_tasks(tmp_path, ["a.jpg"]), tmp_path / "cache", jobs=1)
    cache = MediaCache(tmp_path / "cache")
    assert cache.get("key0") is None
    assert not cache.entry_dir("key0").exists()
    monkeypatch.undo()
    assert run_tasks(_tasks(tmp_path, ["a.jpg"]), tmp_path / "cache", jobs=1)[0]["ok"]
    with Image.open(cache.entry_dir("key0") / "image-40.jpg") as im:
        assert im.width == 40


# ---------------------------------------------------------------- MediaLibrary

def test_process_caches_then_reuses_and_never_processes_twice(tmp_path, monkeypatch):
    site = _site(tmp_path)
    a = _photo(tmp_path / "topics/t/a.jpg")
    b = _photo(tmp_path / "topics/t/图片/现场 照片.png", colour="blue")
    lib = library_for(site)
    report = lib.process([a, b], jobs=1)
    assert sorted(report.converted) == ["topics/t/a.jpg", "topics/t/图片/现场 照片.png"] and not report.reused
    calls = []
    monkeypatch.setattr(executor_mod, "process_image", lambda *a, **k: calls.append(a))
    again = library_for(site).process([a, b], jobs=1)
    assert sorted(again.reused) == sorted(report.converted) and not again.converted and calls == []
    # the same photo under another name is the same cache entry
    c = tmp_path / "topics/t/copy.jpg"
    c.write_bytes(a.read_bytes())
    third = library_for(site).process([c], jobs=1)
    assert third.reused == ["topics/t/copy.jpg"] and calls == []


def test_changed_settings_make_new_renditions(tmp_path):
    site = _site(tmp_path)
    a = _photo(tmp_path / "topics/t/a.jpg", size=(200, 100))
    library_for(site).process([a], jobs=1)
    site.media.image_widths = [60]
    report = library_for(site).process([a], jobs=1)
    assert report.converted == ["topics/t/a.jpg"]
    assert [r.width for r in library_for(site).lookup(a).outputs.fallback] == [60]


def test_failures_are_raised_together_after_everything_else_is_cached(tmp_path):
    site = _site(tmp_path, {"topics/t/b.png.yaml": "title: [broken\n"})
    good = _photo(tmp_path / "topics/t/a.jpg")
    side = _photo(tmp_path / "topics/t/b.png")
    text = tmp_path / "topics/t/text.jpg"
    text.write_text("hello")
    empty = tmp_path / "topics/t/empty.png"
    empty.write_bytes(b"")
    lib = library_for(site)
    with pytest.raises(MediaFailed) as err:
        lib.process([good, side, text, empty], jobs=2)
    assert isinstance(err.value, MediaError)  # the pipeline's own type: builder/media.py maps it
    paths = sorted(e.path for e in err.value.errors)
    assert paths == ["topics/t/b.png.yaml", "topics/t/empty.png", "topics/t/text.jpg"]
    assert all(isinstance(e, MediaError) for e in err.value.errors)
    assert lib.lookup(good) is not None and lib.lookup(side) is not None  # sidecar broken, photo fine
    assert sorted(err.value.report.converted) == ["topics/t/a.jpg", "topics/t/b.png"]


def test_publish_copies_renditions_never_the_original(tmp_path):
    site = _site(tmp_path)
    src = _photo(tmp_path / "topics/t/图片/现场 照片.jpg", size=(100, 50))
    lib = library_for(site)
    lib.process([src], jobs=1)
    out = tmp_path / "public"
    written = lib.publish_into(out, src, "t/图片/现场-照片.jpg")  # where the build publishes it
    assert sorted(written) == ["t/图片/现场-照片-40.jpg", "t/图片/现场-照片-40.webp", "t/图片/现场-照片-80.jpg",
                               "t/图片/现场-照片-80.webp"]
    assert not (out / "t/图片/现场 照片.jpg").exists() and not (out / "t/图片/现场-照片.jpg").exists()
    # a page bundle with a slug publishes next to the page's URL instead
    assert lib.publish_into(out, src, "t/col/页面/现场-照片.jpg")[0].startswith("t/col/页面/现场-照片-")


def test_publish_of_unprocessed_file_says_what_to_do(tmp_path):
    site = _site(tmp_path)
    src = _photo(tmp_path / "topics/t/a.jpg")
    with pytest.raises(MediaError, match="zhuanti media"):
        library_for(site).publish_into(tmp_path / "public", src)


def test_same_stem_photos_in_one_folder_get_distinct_names(tmp_path):
    site = _site(tmp_path)
    a = _photo(tmp_path / "topics/t/photo.jpg")
    b = _photo(tmp_path / "topics/t/photo.png", colour="blue")
    lib = library_for(site)
    lib.process([a, b], jobs=1)
    names_a = {p for _, p in lib.lookup(a, "t/photo.jpg").files()}
    names_b = {p for _, p in lib.lookup(b, "t/photo.png").files()}
    assert not names_a & names_b
    assert "t/photo-jpg-40.webp" in names_a and "t/photo-png-40.webp" in names_b


def test_lookup_of_unknown_or_unprocessed_file_is_none(tmp_path):
    site = _site(tmp_path)
    src = _photo(tmp_path / "topics/t/a.jpg")
    lib = library_for(site)
    assert lib.lookup(src) is None
    assert lib.lookup(tmp_path / "topics/t/readme.txt") is None
    assert lib.html(src, "说明", "") is None


def test_entry_is_found_from_a_fresh_library_after_processing(tmp_path):
    site = _site(tmp_path)
    src = _photo(tmp_path / "site_src/assets/banner.jpg", size=(90, 30))
    library_for(site).process([src], jobs=1)
    entry = library_for(site).lookup(src, "assets/banner.jpg")
    assert entry.url_dir == "assets" and (entry.width, entry.height) == (90, 30)
    assert [r.width for r in entry.outputs.fallback] == [40, 80]  # 90 > the top rung: not added


def test_image_params_follow_the_site_config(tmp_path):
    site = _site(tmp_path)
    assert library_for(site).image_params == ImageParams(widths=(40, 80), jpeg_quality=85, webp_quality=80,
                                                          max_pixels=site.media.max_image_pixels)


def test_identical_files_in_one_run_are_processed_once(tmp_path, monkeypatch):
    site = _site(tmp_path)
    a = _photo(tmp_path / "topics/t/a.jpg")
    b = tmp_path / "topics/t/b.jpg"
    b.write_bytes(a.read_bytes())
    report = library_for(site).process([a, b], jobs=1)
    assert report.converted == ["topics/t/a.jpg"] and report.reused == ["topics/t/b.jpg"]
    bad = tmp_path / "topics/t/bad.jpg"
    bad.write_text("x")
    bad2 = tmp_path / "topics/t/bad2.jpg"
    bad2.write_text("x")
    report = library_for(site).process([bad, bad2], jobs=1, raise_errors=False)
    assert sorted(e.path for e in report.failed) == ["topics/t/bad.jpg", "topics/t/bad2.jpg"]
