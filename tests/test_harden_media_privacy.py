"""Issue 9, items 1, 3 and 11: no photo is published raw (GPS), draft media stay private, the
pipeline depends on nothing of the build, and PNG colour keys stay transparent."""

from __future__ import annotations

import ast
import io
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from builder.build import BuildOptions, build_site
from builder.errors import BuildFailed
from builder.resources import builtin_theme_dir
from media_pipeline.images import ImageParams, process_image
from tests.sitefactory import SITE_TOML, md, write_site

REPO = Path(__file__).resolve().parents[1]
GPS_IFD = 0x8825
SITE = 'theme = "{theme}"\n' + SITE_TOML + "\n[media]\nimage_widths = [40, 80]\n"


def gps_image(fmt: str, size=(120, 80)) -> bytes:
    """A real photo in ``fmt`` whose EXIF holds a GPS position (Tiananmen), made with Pillow."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, fmt, exif=exif.tobytes())
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD), "the sample must carry GPS"
    return data


def has_gps(path: Path) -> bool:
    import pillow_heif

    pillow_heif.register_heif_opener()
    with Image.open(path) as im:
        return bool(im.getexif().get_ifd(GPS_IFD)) or b"GPS" in path.read_bytes()


def published_images(public: Path) -> list[Path]:
    out = []
    for p in public.rglob("*"):
        if p.is_file() and not p.name.endswith((".html", ".xml", ".json", ".css", ".js", ".txt")):
            try:
                with Image.open(p):
                    out.append(p)
            except Exception:  # noqa: BLE001 - not an image
                continue
    return out


def _theme(root: Path) -> None:
    shutil.copytree(builtin_theme_dir() if callable(builtin_theme_dir) else builtin_theme_dir,
                    root / "themes" / "mine")


# ---------------------------------------------------------------- item 1: GPS never published

@pytest.mark.parametrize("name,fmt", [("iphone.heic", "HEIF"), ("iphone.HEIF", "HEIF"), ("camera.avif", "AVIF"),
                                      ("scan.jfif", "JPEG"), ("scan.jpe", "JPEG")])
def test_photos_under_every_photo_extension_go_through_the_pipeline(tmp_path, name, fmt):
    write_site(tmp_path, {
        "topics/expo/index.md": md("摄影展", f"![现场]({name})"),
        f"topics/expo/{name}": gps_image(fmt),
        f"site_src/assets/banner{Path(name).suffix}": gps_image(fmt),
    }, SITE.format(theme="default"))
    build_site(tmp_path, BuildOptions())
    public = tmp_path / "public"
    assert not (public / "expo" / name).exists() and not (public / "assets" / f"banner{Path(name).suffix}").exists()
    images = published_images(public)
    stems = {p.name for p in images}
    assert f"{Path(name).stem}-80.webp" in stems and "banner-80.webp" in stems
    assert not [p for p in images if has_gps(p)]
    html = (public / "expo" / "index.html").read_text(encoding="utf-8")
    assert "<picture" in html and name not in html


def test_a_theme_photo_with_gps_is_published_without_its_metadata(tmp_path):
    write_site(tmp_path, {"topics/expo/index.md": md("摄影展")}, SITE.format(theme="mine"))
    _theme(tmp_path)
    static = tmp_path / "themes/mine/static/img"
    static.mkdir(parents=True, exist_ok=True)
    (static / "hero.jpg").write_bytes(gps_image("JPEG", (200, 100)))
    png = io.BytesIO()
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0)}
    Image.new("RGBA", (16, 16), (0, 0, 255, 128)).save(png, "PNG", exif=exif.tobytes())
    (static / "badge.png").write_bytes(png.getvalue())
    Image.new("RGB", (8, 8), "white").save(static / "plain.png")  # nothing to strip: published as it is
    build_site(tmp_path, BuildOptions())
    out = tmp_path / "public/static/img"
    for name in ("hero.jpg", "badge.png"):
        assert (out / name).is_file() and not has_gps(out / name), name
    with Image.open(out / "hero.jpg") as im:
        assert im.size == (200, 100) and im.format == "JPEG" and not len(im.getexif())
    with Image.open(out / "badge.png") as im:
        assert im.getpixel((0, 0)) == (0, 0, 255, 128)  # pixels untouched, alpha kept
    assert (out / "plain.png").read_bytes() == (static / "plain.png").read_bytes()


def test_a_photo_under_a_name_that_is_not_a_photo_fails_the_build_naming_it(tmp_path):
    write_site(tmp_path, {
        "topics/expo/index.md": md("摄影展", "[原图](files/IMG_0001.dat)"),
        "topics/expo/files/IMG_0001.dat": gps_image("JPEG"),
    }, SITE.format(theme="default"))
    with pytest.raises(BuildFailed) as err:
        build_site(tmp_path, BuildOptions())
    text = str(err.value)
    assert "topics/expo/files/IMG_0001.dat" in text and "JPEG" in text and ".dat" in text
    assert not (tmp_path / "public").exists()


# ---------------------------------------------------------------- item 3: drafts and the one-way dependency

def test_a_draft_bundle_photo_is_not_on_the_public_media_page(tmp_path):
    write_site(tmp_path, {
        "topics/expo/index.md": md("摄影展"),
        "topics/expo/news/_index.md": md("新闻"),
        "topics/expo/news/public/index.md": md("公开", "![公开照片](open.jpg)", date="2026-01-01"),
        "topics/expo/news/public/open.jpg": gps_image("JPEG"),
        "topics/expo/news/public/open.jpg.yaml": "title: 公开的照片\n",
        "topics/expo/news/secret/index.md": md("内部", "![](plan.jpg)", date="2026-01-02", draft="true"),
        "topics/expo/news/secret/plan.jpg": gps_image("JPEG"),
        "topics/expo/news/secret/plan.jpg.yaml": "title: 未公开的方案图\n",
    }, SITE.format(theme="default"))
    build_site(tmp_path, BuildOptions())
    media_page = (tmp_path / "public/expo/media/index.html").read_text(encoding="utf-8")
    assert "公开的照片" in media_page
    assert "未公开的方案图" not in media_page and "plan" not in media_page
    assert not list((tmp_path / "public").rglob("plan*"))
    build_site(tmp_path, BuildOptions(drafts=True))  # asked for: then it is listed
    assert "未公开的方案图" in (tmp_path / "public/expo/media/index.html").read_text(encoding="utf-8")


def test_no_module_of_media_pipeline_imports_builder():
    offenders = []
    for path in sorted((REPO / "media_pipeline").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}:{node.lineno} {n}" for n in names if n == "builder" or n.startswith("builder.")]
    assert not offenders


def test_media_pipeline_works_with_builder_unimportable(tmp_path):
    """Import every pipeline module and process a photo while ``import builder`` fails."""
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "builder" or name.startswith("builder."):
            raise ImportError("builder is blocked")
sys.meta_path.insert(0, Block())
import importlib, pkgutil, media_pipeline
for m in pkgutil.iter_modules(media_pipeline.__path__):
    importlib.import_module("media_pipeline." + m.name)
from pathlib import Path
from PIL import Image
from media_pipeline.config import MediaSettings
from media_pipeline.library import MediaLibrary
root = Path({str(tmp_path)!r})
Image.new("RGB", (90, 60), "red").save(root / "a.jpg")
lib = MediaLibrary(MediaSettings(root=root, cache_dir=root / "cache", image_widths=[40]))
report = lib.process([root / "a.jpg"], jobs=1)
assert report.converted == ["a.jpg"], report
assert "builder" not in sys.modules
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_bad_media_setting_is_a_config_error_of_the_build(tmp_path):
    from builder.errors import ConfigError

    write_site(tmp_path, {"topics/expo/index.md": md("摄影展", "![](v.mp4)"), "topics/expo/v.mp4": b"x"},
               SITE.format(theme="default") + 'video_preset = "warp-speed"\n')
    with pytest.raises(ConfigError, match="media.video_preset") as err:  # exit 2, naming the file
        build_site(tmp_path, BuildOptions())
    assert err.value.path.endswith("site_src/site.toml")


# ---------------------------------------------------------------- item 11: colour-key transparency

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, colour_type: int, depth: int, row: bytes, trns: bytes) -> bytes:
    """A one-row PNG with a tRNS colour key, written byte by byte (Pillow cannot write 16-bit RGB)."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, 1, depth, colour_type, 0, 0, 0))
            + _chunk(b"tRNS", trns) + _chunk(b"IDAT", zlib.compress(b"\0" + row)) + _chunk(b"IEND", b""))


KEYED = {
    "rgb8": _png(2, 2, 8, bytes([10, 20, 30, 255, 255, 255]), struct.pack(">3H", 10, 20, 30)),
    "grey8": _png(2, 0, 8, bytes([7, 200]), struct.pack(">H", 7)),
    "grey16": _png(2, 0, 16, struct.pack(">2H", 0x0102, 0xFFF0), struct.pack(">H", 0x0102)),
    "rgb16": _png(2, 2, 16, struct.pack(">6H", 0x1234, 0x5678, 0x9ABC, 0xFFFF, 0, 0),
                  struct.pack(">3H", 0x1234, 0x5678, 0x9ABC)),
}


@pytest.mark.parametrize("name", sorted(KEYED))
def test_png_colour_key_transparency_survives(tmp_path, name):
    src = tmp_path / f"{name}.png"
    src.write_bytes(KEYED[name])
    outputs = process_image(src, tmp_path / "out", ImageParams(widths=(2,)))
    assert outputs.has_alpha and outputs.format == "png"
    for r in outputs.renditions:
        with Image.open(tmp_path / "out" / r.file) as im:
            rgba = im.convert("RGBA")
            assert rgba.getpixel((0, 0))[3] == 0, (r.file, "the keyed pixel must be transparent")
            assert rgba.getpixel((1, 0))[3] == 255, (r.file, "the other pixel stays opaque")
